// Who may take a place among the /metrics bodies sent at once
// (api/stream_slots.hpp): the rules alone, without sockets.
#include "api/stream_slots.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

using crosscheck::api::k_max_streams;
using crosscheck::api::k_streams_for_tokens;
using crosscheck::api::stream_client_key;
using crosscheck::api::StreamClient;
using crosscheck::api::StreamPlace;
using crosscheck::api::StreamSlots;

StreamClient anonymous(const std::string& address) {
  return {address, "", false};
}
StreamClient token(const std::string& address, const std::string& name) {
  return {address, name, false};
}

// The places taken, to give back.
struct Holder {
  bool take(const StreamClient& client, bool tokens_configured = true) {
    auto place = slots.take(client, tokens_configured);
    if (place) {
      held.push_back(*place);
    }
    return place.has_value();
  }
  void give_back(std::size_t index) { slots.give_back(held.at(index)); }

  StreamSlots slots;
  std::vector<StreamPlace> held;
};

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
  // Odd strings are keys as they are, never an error.
  CHECK(stream_client_key(anonymous("unknown")) == "unknown");
  CHECK(stream_client_key(anonymous("")).empty());
  CHECK(stream_client_key(anonymous("[")) == "[");
  // A token holder is counted by its token, wherever it connects from.
  CHECK(stream_client_key(token("192.0.2.7:41000", "prometheus")) == "token:prometheus");
}

TEST_CASE("anonymous clients leave the kept places to token holders, who share them",
          "[api][metrics]") {
  Holder h;
  // Two a client, from three hosts: the places open to anyone.
  for (const char* host : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    CHECK(h.take(anonymous(std::string(host) + ":1")));
    CHECK(h.take(anonymous(std::string(host) + ":2")));
  }
  CHECK(h.slots.taken() == k_max_streams - k_streams_for_tokens);
  CHECK_FALSE(h.take(anonymous("192.0.2.4:1")));
  // The kept places go to token holders, any token.
  CHECK(h.take(token("192.0.2.4:1", "prometheus")));
  CHECK(h.take(token("192.0.2.4:2", "script")));
  CHECK(h.slots.taken() == k_max_streams);
  CHECK_FALSE(h.take(token("192.0.2.5:1", "other")));  // all 8 taken
  // A place given back by an anonymous client is open to anyone again.
  h.give_back(0);
  CHECK(h.take(anonymous("192.0.2.4:1")));
  // Token holders may take places open to anyone too.
  h.give_back(1);
  h.give_back(2);
  CHECK(h.slots.taken() == k_max_streams - 2);
  CHECK(h.take(token("192.0.2.5:1", "other")));
  CHECK(h.take(token("192.0.2.5:2", "other")));
  CHECK(h.slots.taken() == k_max_streams);
}

TEST_CASE("one client holds 2 places at most: an address, an IPv6 /64, a token", "[api][metrics]") {
  Holder h;
  CHECK(h.take(anonymous("192.0.2.1:1")));
  CHECK(h.take(anonymous("192.0.2.1:2")));
  CHECK_FALSE(h.take(anonymous("192.0.2.1:3")));
  CHECK(h.take(anonymous("[2001:db8:0:1::a]:1")));
  CHECK(h.take(anonymous("[2001:db8:0:1::b]:1")));
  CHECK_FALSE(h.take(anonymous("[2001:db8:0:1::c]:1")));  // the same /64
  CHECK(h.take(anonymous("[2001:db8:0:2::c]:1")));        // another one
  // A token's third, from anywhere, while places are free.
  CHECK(h.take(token("192.0.2.9:1", "prometheus")));
  CHECK(h.take(token("198.51.100.1:1", "prometheus")));
  CHECK(h.slots.taken() == 7);
  CHECK_FALSE(h.take(token("198.51.100.2:1", "prometheus")));
  CHECK(h.take(token("198.51.100.2:1", "other")));
  // Its places come back as it gives them back.
  h.give_back(5);
  CHECK(h.take(token("198.51.100.2:2", "prometheus")));
}

TEST_CASE("without any token configured every place is open to anyone", "[api][metrics]") {
  Holder h;
  for (std::size_t i = 0; i < k_max_streams; ++i) {
    CHECK(h.take(anonymous("192.0.2." + std::to_string(i) + ":1"), false));
  }
  CHECK_FALSE(h.take(anonymous("192.0.2.200:1"), false));
  CHECK(h.slots.taken() == k_max_streams);
}

TEST_CASE("HTTP/1.0 bodies, made whole, are sent one at a time", "[api][metrics]") {
  Holder h;
  CHECK(h.take({"192.0.2.1:1", "", true}));
  CHECK_FALSE(h.take({"192.0.2.2:1", "", true}));
  CHECK_FALSE(h.take({"192.0.2.2:1", "prometheus", true}));
  CHECK(h.take(anonymous("192.0.2.2:1")));  // chunked ones are not held back
  h.give_back(0);
  CHECK(h.take({"192.0.2.2:1", "", true}));
  CHECK(h.slots.taken() == 2);
}

TEST_CASE("after an HTTP/1.0 body overflowed, as many targets or more are refused at once",
          "[api][metrics]") {
  StreamSlots slots;
  CHECK_FALSE(slots.whole_known_too_large(1'000'000));  // nothing overflowed yet
  slots.whole_overflowed(12'000);
  CHECK(slots.whole_known_too_large(12'000));
  CHECK(slots.whole_known_too_large(50'000));
  CHECK_FALSE(slots.whole_known_too_large(11'999));  // fewer are tried again
  slots.whole_overflowed(11'000);                    // and may lower the bar
  CHECK(slots.whole_known_too_large(11'000));
  slots.whole_overflowed(13'000);  // never raises it
  CHECK(slots.whole_known_too_large(11'500));
}
