// The typed result of one reach check (a TCP connect or an HTTP(S) request
// to one resolved address): how it ended, at which step and why, as values.
// The human detail is rendered from those values; nothing downstream reads
// it to decide anything. Plain values; no I/O.
#pragma once

#include "consensus/types.hpp"

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::net {
enum class TlsRefusal : std::uint8_t;  // net/http_client.hpp
}  // namespace crosscheck::net

namespace crosscheck::probes {

// Why a reach check did not end up, one value per way it can fail; each maps
// onto one `class` label of crosscheck_probes_total (snapshot/probe_stats).
enum class ReachFailure : std::uint8_t {
  None,               // up
  ConnectRefused,     // the address answered the connect with a reset
  ConnectTimeout,     // no connection before the deadline
  ConnectOther,       // unreachable, reset, another connect error
  TlsSetup,           // the TLS session could not be prepared (SNI, verification)
  TlsHandshake,       // the handshake failed
  TlsCertificate,     // the certificate did not verify, for another cause than these three
  TlsUnknownCa,       // its chain leads to no trusted CA, or it is self-signed
  TlsExpired,         // it has expired, or is not yet valid
  TlsWrongName,       // it does not name the host (or IP) asked for
  HttpStatus,         // a status outside expect_status
  HttpRedirect,       // a redirect not followed: other origin, bad Location, too many
  HttpBody,           // the body does not contain / match expect_body
  HttpTimeout,        // the request or the response timed out
  HttpOther,          // closed early, an invalid response
  Observer,           // this host could not probe: bind, route, sockets, start-up
  ObserverBodyCheck,  // the body expectation could not run on this body
  // Protocol checks (redis, postgres, mysql; layer App):
  AppRole,       // it serves, in another role (a replica where a primary is needed)
  AppReadOnly,   // it refuses writes (read_only, in recovery, a read-only transaction)
  AppLag,        // a replica lags over max_replica_lag, or its replication is down
  AppError,      // an error answer: not ready (loading, starting up), full, protocol error
  AppTimeout,    // connected, and no answer by the deadline
  ObserverAuth,  // our credentials were refused or cannot be read: this oracle's problem
};

// Up for None, ObserverError for the Observer kinds, Down otherwise.
consensus::Outcome outcome_of(ReachFailure failure);
// The step a failure belongs to: Connect, Tls, Http or App (None when up).
consensus::Layer layer_of(ReachFailure failure);

struct TlsInfo {
  std::string version;                                  // "TLSv1.3"
  std::optional<int> cert_days_left;                    // days until the leaf certificate expires
  std::optional<consensus::WallTime> cert_not_after{};  // the leaf certificate's notAfter
};

// A notAfter from the TLS layer as the engine's time.
std::optional<consensus::WallTime> wall_time(
    std::optional<std::chrono::sys_time<std::chrono::milliseconds>> at);

struct ReachResult {
  ReachFailure failure = ReachFailure::None;
  std::string detail;  // "tcp: connected to 192.0.2.5:5432", "connect: ... refused"
  double latency_ms = 0;
  int http_status = 0;         // HTTP: the last status read, 0 when none was
  std::size_t body_bytes = 0;  // HTTP: body bytes judged
  std::optional<TlsInfo> tls;  // HTTPS: set once a handshake succeeded

  consensus::Outcome outcome() const { return outcome_of(failure); }
  consensus::Layer layer() const { return layer_of(failure); }
  bool up() const { return failure == ReachFailure::None; }
  bool observer_error() const { return outcome() == consensus::Outcome::ObserverError; }
};

// `detail` as one line of printable ASCII, at most k_max_detail bytes:
// control bytes (a server's ESC, CR, NUL) become '?', the rest is cut with
// "...". What a server says reaches logs, storage and terminals.
constexpr std::size_t k_max_detail = 512;
std::string printable_detail(std::string_view detail);

// A result whose detail the caller rendered for `failure`.
ReachResult reach_result(ReachFailure failure, std::string detail);

// A failed connect to `where` ("192.0.2.5:443"), rendered from its kind:
// "connect: 192.0.2.5:443 timed out", "connect: 192.0.2.5:443 connection
// refused", "observer: cannot connect from this host to 192.0.2.5:443 network
// unreachable". `reason` is the error's short description.
ReachResult connect_failed(ReachFailure failure, std::string_view where, std::string_view reason);

// A failed TLS step, rendered from its kind: "tls: setup failed: X",
// "tls: handshake failed: X", "tls: certificate verify failed (X)".
ReachResult tls_failed(ReachFailure failure, std::string_view reason);

// A certificate the verification refused, typed by why: TlsUnknownCa,
// TlsExpired, TlsWrongName, else TlsCertificate; the detail is
// "tls: certificate verify failed (REASON)".
ReachResult certificate_refused(net::TlsRefusal refusal, std::string_view reason);

// The kind of a connect that failed with `ec` (`deadline_passed`: our timer
// fired first): ConnectTimeout, Observer (this host's fault), ConnectRefused
// or ConnectOther.
ReachFailure connect_failure(const boost::system::error_code& ec, bool deadline_passed);

}  // namespace crosscheck::probes
