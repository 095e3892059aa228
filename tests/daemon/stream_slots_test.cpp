// Who may take a place among the /metrics bodies sent at once
// (api/stream_slots.hpp): the rules alone, without sockets.
#include "api/stream_slots.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using crosscheck::api::k_max_streams;
using crosscheck::api::k_streams_for_tokens;
using crosscheck::api::k_streams_per_client;
using crosscheck::api::stream_client_key;
using crosscheck::api::StreamClient;
using crosscheck::api::StreamSlots;

StreamClient anonymous(const std::string& address) {
  return {address, "", false};
}
StreamClient token(const std::string& address, const std::string& name) {
  return {address, name, false};
}

}  // namespace

TEST_CASE("a client's key is its address without the port, an IPv6 one by its /64",
          "[api][metrics]") {
  CHECK(stream_client_key(anonymous("192.0.2.7:41000")) == "192.0.2.7");
  CHECK(stream_client_key(anonymous("192.0.2.7:41001")) == "192.0.2.7");
  CHECK(stream_client_key(anonymous("[2001:db8:1:2:aaaa::1]:5000")) == "2001:db8:1:2::/64");
  CHECK(stream_client_key(anonymous("[2001:db8:1:2:ffff:ffff:ffff:ffff]:5000")) ==
        "2001:db8:1:2::/64");
  CHECK(stream_client_key(anonymous("[2001:db8:1:3::1]:5000")) == "2001:db8:1:3::/64");
  CHECK(stream_client_key(anonymous("[::ffff:192.0.2.7]:5000")) == "192.0.2.7");
  CHECK(stream_client_key(anonymous("[fe80::1%eth0]:5000")) == "fe80::/64");
  CHECK(stream_client_key(anonymous("[::1]:5000")) == "::/64");
  CHECK(stream_client_key(anonymous("unknown")) == "unknown");
  // A token holder is counted by its token, wherever it connects from.
  CHECK(stream_client_key(token("192.0.2.7:41000", "prometheus")) == "token:prometheus");
}

TEST_CASE("anonymous clients leave the kept places to token holders, each client 2 at most",
          "[api][metrics]") {
  StreamSlots slots;
  std::vector<StreamClient> held;
  const auto take = [&](const StreamClient& client) {
    const bool taken = slots.take(client, true);
    if (taken) {
      held.push_back(client);
    }
    return taken;
  };
  // Two a client, from three hosts: the places open to anyone.
  for (const char* host : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    CHECK(take(anonymous(std::string(host) + ":1")));
    CHECK(take(anonymous(std::string(host) + ":2")));
  }
  CHECK(slots.taken() == k_max_streams - k_streams_for_tokens);
  CHECK_FALSE(take(anonymous("192.0.2.4:1")));
  // IPv6 addresses of one /64 are one client.
  CHECK_FALSE(take(anonymous("[2001:db8::1]:1")));
  // The kept places go to token holders, two a token.
  CHECK(take(token("192.0.2.4:1", "prometheus")));
  CHECK(take(token("192.0.2.4:2", "prometheus")));
  CHECK(slots.taken() == k_max_streams);
  CHECK_FALSE(take(token("192.0.2.5:1", "other")));
  // A place given back by an anonymous client is open to anyone again.
  slots.give_back(held.front());
  CHECK(take(anonymous("192.0.2.4:1")));
  // Token holders may take the places open to anyone too, two a token.
  slots.give_back(held.at(1));
  slots.give_back(held.at(2));
  CHECK(slots.taken() == k_max_streams - 2);
  CHECK(take(token("192.0.2.5:1", "other")));
  CHECK(take(token("192.0.2.5:2", "other")));
  CHECK_FALSE(take(token("192.0.2.5:3", "other")));
  CHECK(slots.taken() == k_max_streams);
}

TEST_CASE("one address holds 2 places, one IPv6 /64 too", "[api][metrics]") {
  StreamSlots slots;
  CHECK(slots.take(anonymous("[2001:db8:0:1::a]:1"), true));
  CHECK(slots.take(anonymous("[2001:db8:0:1::b]:1"), true));
  CHECK_FALSE(slots.take(anonymous("[2001:db8:0:1::c]:1"), true));
  CHECK(slots.take(anonymous("[2001:db8:0:2::c]:1"), true));  // another /64
  CHECK(slots.taken() == 3);
  CHECK(k_streams_per_client == 2);
}

TEST_CASE("without any token configured every place is open to anyone", "[api][metrics]") {
  StreamSlots slots;
  for (std::size_t i = 0; i < k_max_streams; ++i) {
    CHECK(slots.take(anonymous("192.0.2." + std::to_string(i) + ":1"), false));
  }
  CHECK_FALSE(slots.take(anonymous("192.0.2.200:1"), false));
  CHECK(slots.taken() == k_max_streams);
}

TEST_CASE("HTTP/1.0 bodies, made whole, are sent one at a time", "[api][metrics]") {
  StreamSlots slots;
  const StreamClient whole{"192.0.2.1:1", "", true};
  CHECK(slots.take(whole, true));
  CHECK_FALSE(slots.take({"192.0.2.2:1", "", true}, true));
  CHECK_FALSE(slots.take({"192.0.2.2:1", "prometheus", true}, true));
  CHECK(slots.take(anonymous("192.0.2.2:1"), true));  // chunked ones are not held back
  slots.give_back(whole);
  CHECK(slots.take({"192.0.2.2:1", "", true}, true));
  CHECK(slots.taken() == 2);
}
