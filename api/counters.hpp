// What the API server has seen, by class (crosscheck_api_* on /metrics).
// A plain value: the server keeps atomics and hands out copies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace crosscheck::api {

// Why a TLS handshake on the API port was refused (api.tls).
enum class TlsRefusal : std::uint8_t {
  NoClientCertificate,  // mTLS: the client sent none
  UnknownCa,            // its chain does not lead to client_ca_file
  Expired,              // its certificate is past notAfter
  FingerprintMismatch,  // its leaf is not in client_fingerprints
  NotTls,               // plain HTTP (or a proxy CONNECT) to the TLS port
  Handshake,            // anything else (no shared cipher, TLS 1.1, garbage)
  Timeout,              // no finished handshake within k_tls_handshake_timeout
  // An open connection whose certificate the client-auth settings of a
  // reload no longer admit: closed before its next request.
  Revoked,
};
constexpr std::size_t k_tls_refusal_kinds = 8;

// "no_client_certificate", "unknown_ca", "expired", "fingerprint_mismatch",
// "not_tls", "handshake", "timeout", "revoked": the reason label on /metrics
// and in the log.
std::string_view to_string(TlsRefusal reason);

// The server never logs; these are how an operator sees what it refused.
struct ApiCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections: 503 and close
  // Closed at the cap to make room: it had waited longest without a byte
  // of its next request.
  std::uint64_t connections_evicted = 0;
  std::uint64_t requests = 0;  // complete requests routed
  std::uint64_t responses_2xx = 0;
  std::uint64_t responses_3xx = 0;
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
  std::uint64_t malformed_requests = 0;  // unparseable HTTP: 400 and close
  std::uint64_t oversized_headers = 0;   // 431
  std::uint64_t oversized_bodies = 0;    // 413
  std::uint64_t timeouts = 0;            // a connection too slow to send or take
  std::uint64_t io_errors = 0;           // resets and other socket errors
  std::uint64_t accept_errors = 0;       // e.g. out of file descriptors
  std::uint64_t watch_refused = 0;       // SnapshotHub::k_max_waiters reached: 503
  std::uint64_t action_timeouts = 0;     // ApiActions did not complete in time: 504
  std::uint64_t internal_errors = 0;     // an exception caught in a handler
  // Refused TLS handshakes, indexed by TlsRefusal.
  std::array<std::uint64_t, k_tls_refusal_kinds> tls_refusals{};
  // The serving certificate's notAfter (unix seconds); 0 without api.tls.
  std::int64_t tls_certificate_not_after = 0;
  // Requests refused for their credentials (router.hpp AuthRefusal).
  std::uint64_t auth_missing = 0;             // 401, no Authorization header
  std::uint64_t auth_invalid = 0;             // 401, no configured token matches
  std::uint64_t auth_insufficient_scope = 0;  // 403, the token lacks the scope
  std::uint64_t auth_disabled = 0;            // 403, no token holds the scope
};

}  // namespace crosscheck::api
