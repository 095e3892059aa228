// The REST API's pure part (STYLE.md "The API"): one parsed HTTP request and
// an immutable Snapshot in, an answer (or a write / long-poll for the server
// to carry out) out. No I/O, no clock reads, no locks, never throws on input.
#pragma once

#include "api/actions.hpp"
#include "config/config.hpp"
#include "consensus/gate.hpp"
#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace crosscheck::peers {
struct PeerAuth;
}  // namespace crosscheck::peers

namespace crosscheck::api {

struct MetricsSources;

// GET /v1/audit?limit=N: default and largest N.
constexpr std::size_t k_default_audit_limit = 100;
constexpr std::size_t k_max_audit_limit = 1000;
// Longest /v1/watch wait, whatever `timeout` asks for.
constexpr std::chrono::milliseconds k_max_watch_wait{30'000};
// POST /v1/verdicts/{t}/recheck?timeout=...: default and cap.
constexpr std::chrono::milliseconds k_default_recheck_deadline{5'000};
constexpr std::chrono::milliseconds k_max_recheck_deadline{10'000};
// GET /v1/verdicts/{t}/history?limit=N: largest N.
constexpr std::size_t k_max_history_limit = 1000;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What the router needs of an HTTP request. The server fills the token
// fields: `principal` and `granted` from the constant-time match of the
// Authorization header against every configured token, `configured` and
// `read_requires_token` from the API's token setup.
struct ApiRequest {
  std::string method;         // "GET", "POST", "PUT", "DELETE", ...
  std::string target;         // path and query as sent: "/v1/verdicts/db%2Da?expect=healthy"
  std::string authorization;  // the Authorization header, "" when absent
  std::string if_none_match;  // the If-None-Match header, "" when absent
  std::string body;
  // The verified client certificate's subject (RFC 2253, "CN=failover-bot,O=ops")
  // when api.tls requires one (mTLS); "" otherwise.
  std::string client_subject;
  std::string client_address;        // the peer, "127.0.0.1:50312" (the audit log's "from")
  std::string principal;             // the authenticated token's name, "" when none matched
  config::ScopeSet granted;          // that token's scopes
  config::ScopeSet configured;       // the scopes some configured token holds
  bool read_requires_token = false;  // GETs need scope read (not /healthz, /readyz)
  // The server's counters and process figures, which a snapshot does not
  // hold: read by GET /metrics only, when it is routed there (the path as
  // sent or percent-encoded). Empty: rendered as zero / absent.
  std::function<MetricsSources()> metrics;
  // The snapshot the request is routed with, owned (the server sets it): a
  // body made in parts (GET /metrics) reads it after the router returned.
  // Null (router tests, the fuzzer): such a body is made whole at once.
  snapshot::SnapshotPtr snapshot;
  // /v1/peer/* only (votes, recheck): the server's check of the X-Crosscheck-*
  // signature; nullptr when this node has no peers (always 401).
  const peers::PeerAuth* peer = nullptr;
};

// Why the router refused a request for its credentials (the server counts
// them in crosscheck_api_auth_refusals_total{reason}).
enum class AuthRefusal : std::uint8_t {
  None,
  Missing,            // 401: no Authorization header
  Invalid,            // 401: it matches no configured token
  InsufficientScope,  // 403: the token lacks the route's scope
  Disabled,           // 403: no configured token holds the route's scope
};

// A body made in parts while it is sent (GET /metrics): at 100,000 targets
// the exposition is hundreds of MB, which one string held whole and, grown by
// doubling, up to three times over. It owns what it reads (the request's
// snapshot) until it is destroyed.
class BodySource {
 public:
  BodySource() = default;
  virtual ~BodySource() = default;
  BodySource(const BodySource&) = delete;
  BodySource& operator=(const BodySource&) = delete;
  BodySource(BodySource&&) = delete;
  BodySource& operator=(BodySource&&) = delete;

  // The next part, about `size` bytes or more (one indivisible piece may
  // pass it); "" once the body is complete.
  virtual std::string next(std::size_t size) = 0;
};

struct ApiResponse {
  int status = 200;
  AuthRefusal refusal = AuthRefusal::None;
  std::string body;  // empty for 204 and 304, and when `source` makes it
  // Set for a body sent in parts as it is made (then `body` is empty).
  std::shared_ptr<BodySource> source;
  std::string content_type = "application/json";
  HeaderList headers;  // Cache-Control always; ETag, Allow, Retry-After, WWW-Authenticate

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
};

// A write the router accepted (path, method, token, body all valid) for the
// server to run through ApiActions.
struct WriteRequest {
  enum class Kind : std::uint8_t {
    Recheck,
    Acknowledge,
    SetOverride,
    ClearOverride,
    SetMaintenance,
    ClearMaintenance,
    GateRecord,    // POST /v1/verdicts/{t}/gate
    RecordAction,  // POST /v1/actions
    AckAction,     // POST /v1/actions/{id}/ack
    PeerRecheck,   // POST /v1/peer/recheck?target=T (a peer's signed request)
  };
  Kind kind = Kind::Recheck;
  std::string target;                                               // Recheck, *Override
  std::int64_t escalation_id = 0;                                   // Acknowledge
  std::string by;                                                   // Acknowledge
  consensus::Override override_value;                               // SetOverride (set_at = now)
  consensus::AdHocMaintenance maintenance_value;                    // SetMaintenance (set_at = now)
  std::chrono::milliseconds deadline = k_default_recheck_deadline;  // Recheck
  GateAsk gate;                                                     // GateRecord
  consensus::ActionRequest action;  // GateRecord, RecordAction (target, what, by, ...)
  std::string action_id;            // AckAction
  consensus::ActionAck ack;         // AckAction (by, note)
  Caller caller;                    // the request's principal and client address
  // PeerRecheck: the verified request the signed reply is bound to (who
  // asked, with which key, timestamp and nonce).
  std::string peer_node;
  std::string peer_key;
  std::string peer_timestamp;
  std::string peer_nonce;
  int peer_version = 1;  // the protocol version the recheck asked for (version=2)
};

// A /v1/watch the server must wait for: answer watch_response(snapshot,
// since) with the first snapshot newer than `since`, or the current one
// after `wait`.
struct WatchRequest {
  std::uint64_t since = 0;
  std::chrono::milliseconds wait = k_max_watch_wait;
};

using ApiOutcome = std::variant<ApiResponse, WriteRequest, WatchRequest>;

// Routes one request against `snapshot` at `now` (wall time for what users
// read, monotonic for intervals such as stable_for and a vote's age). Every read is
// answered here (GET /v1/verdicts[/{t}[/history]], /v1/vantages,
// /v1/escalations, /healthz, /readyz, /metrics, and /v1/watch when something
// is already newer); writes and waits come back as WriteRequest / WatchRequest.
ApiOutcome handle_request(const ApiRequest& request, const snapshot::Snapshot& snapshot,
                          const consensus::Instant& now);

// The /v1/watch answer: 200 {revision, verdicts} when `snapshot` is newer
// than `since`, else 204 with no body.
ApiResponse watch_response(const snapshot::Snapshot& snapshot, std::uint64_t since);

// The answer to a write once ApiActions completed with `result`.
ApiResponse write_response(const WriteRequest& write, const ActionResult& result);

// The answer to a peer's recheck at `now`: 200 with the target's votes in
// the peer export format, signed for the request (also when the re-probe
// missed its deadline or was spaced out: the votes are what they are).
ApiResponse peer_recheck_response(const WriteRequest& write, const ActionResult& result,
                                  const consensus::Instant& now);

// {"error": error, "detail": detail} with `status` (and Retry-After: 1 for 429/503).
ApiResponse error_response(int status, std::string_view error, std::string_view detail);

// True for the answers a verdict signer signs: /v1/verdicts, and every path
// under it (one verdict, its gate form and history, recheck), whatever the
// status.
bool is_signed_route(std::string_view target);

// The HTTP status of a gate decision (consensus/gate.hpp): 200 proceed,
// 409 otherwise or generation moved, 423 hold.
int gate_status(const consensus::GateDecision& decision);

}  // namespace crosscheck::api
