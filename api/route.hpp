// What the router's parts share (internal to api/): the route table's
// kinds, response builders, and the read and write handlers that
// handle_request() dispatches to. Pure like the router: no clock, no socket.
#pragma once

#include "api/router.hpp"
#include "net/http_target.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::api::detail {

enum class RouteKind : std::uint8_t {
  Verdicts,
  Verdict,
  History,
  Recheck,
  Watch,
  Vantages,
  Escalations,
  Ack,
  Override,
  Maintenance,
  Healthz,
  Readyz,
  Metrics,
  Audit,
  GateRecord,  // POST /v1/verdicts/{t}/gate: decide and record in one step
  Actions,     // GET, POST /v1/actions
  ActionAck,   // POST /v1/actions/{id}/ack
};

struct Route {
  RouteKind kind = RouteKind::Verdicts;
  std::string_view allow;  // the methods this path takes
  std::string subject;     // the decoded target name or escalation id ("*" in the shape)
};

ApiResponse make_response(int status, std::string body);
ApiResponse json_response(const boost::json::value& value);
ApiResponse bad_query(std::string_view detail);
ApiResponse bad_request(std::string_view detail);
ApiResponse unknown_target(const std::string& target);

// `limit=N` of a list read: nullopt (with `limit` set) when absent (keeps
// the default) or 1..max, else the 400 answer.
std::optional<ApiResponse> read_limit(const std::optional<std::string>& text, std::size_t max,
                                      std::size_t& limit);

// GET /v1/audit?limit=N&since=RFC3339&target=T (audit_read.cpp): the audit log,
// newest first.
ApiResponse audit_read(net::QueryParams& query, const snapshot::Snapshot& snapshot);

// GET /v1/actions?target=T&limit=N (actions_read in reads.cpp): the ledger,
// newest first.
ApiResponse actions_read(net::QueryParams& query, const snapshot::Snapshot& snapshot);

// The gate query (expect, for, generation, stable_for) shared by the GET
// form and POST /v1/verdicts/{t}/gate; nullopt expect when none was given.
struct GateQuery {
  std::optional<GateAsk> ask;
};
std::variant<GateQuery, ApiResponse> parse_gate_query(net::QueryParams& query);

// The verdict with its gate (and the action it recorded): the body of both
// gate forms.
ApiResponse gate_response(const snapshot::TargetView& view, std::string_view node,
                          const GateAsk& ask, const consensus::GateDecision& gate,
                          const consensus::RecordedAction* action);

// The status page (ui_routes.cpp): GET / and GET /ui/<hash>/<file>, with
// their caching and Content-Security-Policy; nullopt for any other path.
std::optional<ApiResponse> ui_response(const ApiRequest& request, std::string_view path);

// GET routes but /metrics: the verdicts, one verdict (and the gate), its
// history, the watch, vantages, escalations, /healthz and /readyz.
ApiOutcome read(const Route& route, net::QueryParams& query, const snapshot::Snapshot& snapshot,
                const consensus::Instant& now);

// Prometheus scrapes unconditionally, and the counters move between any two
// scrapes: no ETag. Without server figures (router tests) they read zero.
ApiResponse metrics_read(const ApiRequest& request, net::QueryParams& query,
                         const snapshot::Snapshot& snapshot);

// A 64-bit hash over revision, target and body, quoted. The body is in the
// hash because vantages, escalations and gate answers change without the
// verdict revision moving (a gate turns 423 -> 200 as stable_for elapses).
std::string etag_for(std::uint64_t revision, std::string_view target, std::string_view body);
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// GET /v1/peer/votes: the server verified the signature (request.peer); a
// refusal says why but never carries a vote; a 200 carries the reply signature.
ApiResponse peer_votes(const ApiRequest& request, const snapshot::Snapshot& snapshot,
                       const consensus::Instant& now);

// A /v1/peer/* request's refusal: 405 when not `method`, 401 (counted as
// an auth refusal, missing or invalid) without a verified signature;
// nullopt when it may go on.
std::optional<ApiResponse> refuse_peer(const ApiRequest& request, std::string_view method,
                                       std::string_view path);

// POST /v1/peer/recheck?target=T&timeout=D: the server verified the
// signature (request.peer); 401 (counted as an auth refusal) when it did
// not, else the write for ApiActions::peer_recheck.
ApiOutcome peer_recheck(const ApiRequest& request, const snapshot::Snapshot& snapshot);

// The scope `route` needs for `request`, or nullopt when it needs none:
// reads only with read_requires_token, /healthz and /readyz never.
std::optional<config::ApiScope> required_scope(const ApiRequest& request, const Route& route);

// The 401/403 answer when `request` may not use `route` (scopes.cpp), or
// nullopt when it may.
std::optional<ApiResponse> refuse_access(const ApiRequest& request, const Route& route);

// POST, PUT and DELETE (refuse_access() passed): the write's own validation.
ApiOutcome handle_write(const ApiRequest& request, const Route& route, net::QueryParams& query,
                        const snapshot::Snapshot& snapshot, consensus::WallTime now);

}  // namespace crosscheck::api::detail
