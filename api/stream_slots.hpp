// The places of GET /metrics bodies being sent at once (each holds the
// snapshot it reads): who may take one. Pure: no sockets, no Beast; the
// session (api/session_write.cpp) takes a place before it sends a body in
// parts and gives it back once, when the body ends or the session does.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::api {

// At most k_max_streams bodies at once; more are answered 503 with
// Retry-After. When some token is configured, k_streams_for_tokens of them
// are kept for requests with a valid bearer token (those without one hold
// at most the rest; token holders share the kept ones). One client (a
// token by its name; without one, an address, IPv6 by its /64) holds at
// most k_streams_per_client. HTTP/1.0 bodies are made whole before they
// are sent (no chunks): at most k_max_whole_streams of them at once.
constexpr std::size_t k_max_streams = 8;
constexpr std::size_t k_streams_for_tokens = 2;
constexpr std::size_t k_streams_per_client = 2;
constexpr std::size_t k_max_whole_streams = 1;
static_assert(k_streams_for_tokens < k_max_streams);

// Who asks for a place.
struct StreamClient {
  std::string address;    // the peer as "a.b.c.d:port" or "[v6]:port" (api/session.cpp)
  std::string principal;  // the valid token's name; empty without one
  bool whole = false;     // HTTP/1.0: the body is made whole first
};

// The key one client's places are counted under: "token:<name>" for a
// token holder; otherwise the address without its port, an IPv6 address
// cut to its /64 (a host holds the whole /64; link-local ones of every
// interface share fe80::/64), an IPv4-mapped one as its IPv4 address.
std::string stream_client_key(const StreamClient& client);

// A place taken: what giving it back needs, fixed when it was taken.
struct StreamPlace {
  std::string key;
  bool anonymous = true;
  bool whole = false;
};

// Locked: a session's destructor gives its place back wherever it runs.
class StreamSlots {
 public:
  // Takes a place for `client`; nullopt when the rules leave none.
  // `tokens_configured`: whether any API token exists (without one, no
  // place is kept for token holders).
  std::optional<StreamPlace> take(const StreamClient& client, bool tokens_configured);
  // Gives back a place take() returned; never throws (a destructor calls it).
  void give_back(const StreamPlace& place) noexcept;

  std::size_t taken() const;

  // HTTP/1.0 bodies past the whole-body limit: once one overflowed, a
  // snapshot of at least as many targets is refused at once (505) instead
  // of being made again up to the limit for nothing, until the process
  // ends (fewer targets are tried again).
  bool whole_known_too_large(std::size_t targets) const;
  void whole_overflowed(std::size_t targets);

 private:
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::size_t anonymous_ = 0;  // of total_, taken without a token
  std::size_t whole_ = 0;
  std::optional<std::size_t>
      overflow_targets_;  // the fewest targets an HTTP/1.0 body overflowed at
  std::map<std::string, std::size_t, std::less<>> by_client_;
};

}  // namespace crosscheck::api
