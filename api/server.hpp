// The REST API's HTTP/1.1 server (Boost.Beast, hidden behind this light
// header). Sessions only do I/O: every request goes to handle_request(), writes
// to ApiActions. It runs on its own io_context and thread; it never logs.
#pragma once

#include "api/actions.hpp"
#include "api/counters.hpp"
#include "api/router.hpp"
#include "base/expected.hpp"
#include "config/api_tokens.hpp"
#include "config/tls_files.hpp"
#include "config/types.hpp"
#include "snapshot/hub.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {
class Clock;
}

namespace crosscheck::peers {
class PeerVerifier;
}  // namespace crosscheck::peers

namespace crosscheck::net {
class VerdictSigner;
}  // namespace crosscheck::net

namespace crosscheck::api {

// A request header block larger than this is answered 431, a body larger than
// this 413; both close the connection.
constexpr std::size_t k_api_header_limit = std::size_t{8} * 1024;
constexpr std::size_t k_api_body_limit = std::size_t{64} * 1024;
// Connections served at once. At the cap a newcomer takes the place of a
// connection still in its TLS handshake (the oldest), else of the one that
// has waited longest without sending a byte of its next request (evicted:
// closed; never one with bytes of a request received, buffered or being
// answered); only when every connection is mid-request or mid-answer is it
// answered 503 (Retry-After: 1) and closed. Why evict: 4,000
// idle sockets (a leaky pool, a scan) must not lock out the failover script
// that asks next; an idle keep-alive closed by the server is ordinary HTTP.
constexpr std::size_t k_default_max_connections = 4096;
// File descriptors kept for everything but API connections (probes in
// flight, storage, peers, escalation sinks, logs): the cap is never above
// the open-files limit minus this (see api_connection_cap).
constexpr std::size_t k_api_fd_reserve = 512;
// How long a connection may wait before the first byte of a request (fresh,
// or idle between requests), and how long it may take to take our answer.
constexpr std::chrono::milliseconds k_default_idle_timeout{30'000};
// How long a body sent in parts (GET /metrics) may take to send, whole
// (each part also within the idle timeout): a scraper reading 256 KiB every
// 29 s would otherwise hold its snapshot and its slot for hours at 100,000
// targets.
constexpr std::chrono::milliseconds k_default_max_stream_time{120'000};
// An HTTP/1.0 /metrics body (made whole before it is sent: HTTP/1.0 has no
// chunks) larger than this is refused with 505: what one such request
// costs the server's thread and memory stays bounded.
constexpr std::size_t k_default_max_whole_body = std::size_t{64} * 1024 * 1024;
// How long a TLS handshake may take, from accept to its last message. Why
// short and its own: a client that opens connections and never finishes a
// handshake (slowloris on TLS) must not hold slots for a request's time;
// a real handshake takes a few round trips.
constexpr std::chrono::milliseconds k_tls_handshake_timeout{5'000};
// How long a request may take from its first byte to its last (header block
// and body, one deadline, not one per read): a client sending a byte a second
// is cut off here.
constexpr std::chrono::milliseconds k_default_request_timeout{10'000};
// How long the service may take over an acknowledge or override (a recheck
// has its own deadline); past it plus a grace the client gets 504.
constexpr std::chrono::milliseconds k_write_action_deadline{10'000};

// A refused TLS handshake, for the daemon to log (the server never logs).
struct TlsRefusalEvent {
  TlsRefusal reason = TlsRefusal::Handshake;
  std::string peer;    // "192.0.2.7:51234"
  std::string detail;  // OpenSSL's words: "certificate has expired"
};

// Who may call what: the configured tokens (config::read_api_tokens) and
// whether reads need one.
struct ApiAuth {
  std::vector<config::ApiToken> tokens;
  bool read_requires_token = false;

  // The scopes some token holds: a route whose scope none holds is
  // answered 403 (no credential could ever be right, so 401 would mislead).
  config::ScopeSet configured() const;
};

struct ApiServerOptions {
  config::Endpoint listen;
  // Writes need "Authorization: Bearer <token>" of a token with the route's
  // scope; reads too when auth.read_requires_token.
  ApiAuth auth;
  // Checks GET /v1/peer/votes signatures (keys replaceable while serving);
  // nullptr: no peers configured, the route answers 401.
  std::shared_ptr<peers::PeerVerifier> peers;
  // Signs every answer to /v1/verdicts... (api.signing_key); nullptr: unsigned.
  std::shared_ptr<const net::VerdictSigner> signer;
  std::size_t max_connections = k_default_max_connections;
  std::chrono::milliseconds idle_timeout = k_default_idle_timeout;
  std::chrono::milliseconds request_timeout = k_default_request_timeout;
  std::chrono::milliseconds handshake_timeout = k_tls_handshake_timeout;  // tests shorten it
  std::chrono::milliseconds max_watch_wait = k_max_watch_wait;            // tests shorten it
  std::chrono::milliseconds max_stream_time = k_default_max_stream_time;  // tests shorten it
  std::size_t max_whole_body = k_default_max_whole_body;                  // tests shorten it
  // Time for gates (valid_until on the wall clock, stable_for on the
  // monotonic one), overrides and peer votes' age; nullptr means the system clock.
  const consensus::Clock* clock = nullptr;
  // api.tls's files: the server speaks only TLS (1.2 or later); nullopt
  // serves plain HTTP.
  std::optional<config::ServerTlsFiles> tls;
  // Called on the server thread for each refused handshake; must not block.
  std::function<void(const TlsRefusalEvent&)> on_tls_refusal;
};

class ApiServer {
 public:
  // `hub` and `actions` must outlive the server.
  ApiServer(ApiServerOptions options, snapshot::SnapshotHub& hub, ApiActions& actions);
  // stop()s.
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  ApiServer(ApiServer&&) = delete;
  ApiServer& operator=(ApiServer&&) = delete;

  // Binds and listens on options.listen and starts the server thread; an
  // Error when it cannot (address in use, not ours, already started).
  Status start();
  // Closes the listener and every connection, forgets pending watches and
  // joins the thread. Idempotent; ApiActions completing later are dropped.
  void stop();

  // The address actually bound (port 0 resolved); meaningful after start().
  config::Endpoint bound_endpoint() const;
  ApiCounters counters() const;
  // Replaces the verdict signer (a config reload, key rotation); any
  // thread. nullptr stops signing.
  void set_signer(std::shared_ptr<const net::VerdictSigner> signer);
  // Replaces the certificates (a reload): new connections use them, open
  // ones keep theirs; when the client checks changed (client CA, pins, mTLS
  // on or off) an open connection's certificate is checked again before
  // its next request and the connection closed if it no longer passes. An Error, and nothing
  // changed, when OpenSSL refuses them or the server was started without TLS. Any thread.
  Status set_tls(const config::ServerTlsFiles& files);
  // Replaces the tokens (a config reload, a rotation); any thread.
  void set_auth(ApiAuth auth);
  std::size_t active_connections() const;
  // The connection cap in force: options.max_connections bounded by the
  // open-files limit at start() (api_connection_cap).
  std::size_t max_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The connection cap for `requested` under an open-files soft limit of
// `open_files`: at most open_files - k_api_fd_reserve, with at most half the
// limit reserved when it is small, and at least 1. 65536 -> requested (4096);
// 1024 -> 512; 256 -> 128.
std::size_t api_connection_cap(std::size_t requested, std::uint64_t open_files);

// True when `authorization` is "Bearer <token>" (scheme case-insensitive).
// Compares SHA-256 digests with CRYPTO_memcmp: the time taken says nothing
// about how much of the token, or its length, a guess got right.
bool bearer_token_matches(std::string_view authorization, std::string_view token);

// The index in `tokens` of the one `authorization` presents, or nullopt.
// Compares against every token, never stopping early, so the time taken
// does not tell which token a guess came near.
std::optional<std::size_t> match_bearer_token(std::string_view authorization,
                                              const std::vector<config::ApiToken>& tokens);

}  // namespace crosscheck::api
