// The JSON shapes of the REST API (DESIGN.md "REST contract v1"): exact field
// names, RFC 3339 UTC times, enums spelled by consensus::to_string, null where
// a value is absent; and the write bodies it accepts. Pure: no I/O, no clock.
#pragma once

#include "base/expected.hpp"
#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::snapshot {

// PUT /v1/overrides/{t}: longest `ttl` (7d) and longest `reason` / `by`.
constexpr std::chrono::milliseconds k_max_override_ttl{7LL * 24 * 60 * 60 * 1000};
constexpr std::size_t k_max_reason_bytes = 1024;
constexpr std::size_t k_max_by_bytes = 256;
// Who a write is attributed to when its body names nobody.
constexpr std::string_view k_default_actor = "api";

// A GET /v1/verdicts item: target, verdict, held, fresh, generation, since,
// evaluated_at, valid_until, reason, failing_layer, scope.
boost::json::object verdict_summary_json(const consensus::Verdict& verdict);

// GET /v1/verdicts/{target}: the summary plus votes, divergence and evidence,
// and the extensions reason_code, last_known_good, override, canary.
// Evidence from this node's own vantages names `local_node` (null if empty).
boost::json::object verdict_json(const TargetView& view, std::string_view local_node);

// A history item: generation, at, verdict, held, reason_code, reason.
boost::json::object transition_json(const TransitionView& transition);

// A GET /v1/vantages item: name, node, domain, suspect, suspect_reason, last_seen.
boost::json::object vantage_json(const VantageView& vantage);

// A GET /v1/escalations item: id, key, kind, target, vantage, reason,
// opened_at, acked_at, acked_by.
boost::json::object escalation_json(const EscalationView& escalation);

// {"error": error, "detail": detail}.
boost::json::object error_json(std::string_view error, std::string_view detail);

// The PUT /v1/overrides/{t} body {"verdict": "healthy"|"unhealthy", "reason",
// "ttl", "by"?} as an override set at `now`; an Error on any
// problem (not an object, unknown field, missing reason, ttl not in (0, 7d]).
Expected<consensus::Override> parse_override_body(std::string_view body, consensus::WallTime now);

// The POST /v1/escalations/{id}/ack body (empty, or {"by": "..."}): who acks;
// k_default_actor when nobody is named; an Error when malformed.
// The body of PUT /v1/maintenance/{t}: {"reason", "ttl", "by"} (the
// override's, without a verdict); the window runs from `now` for ttl.
Expected<consensus::AdHocMaintenance> parse_maintenance_body(std::string_view body,
                                                             consensus::WallTime now);

Expected<std::string> parse_ack_body(std::string_view body);

// An RFC 3339 string, or null.
boost::json::value time_json(const std::optional<consensus::WallTime>& at);

// Compact text of `value` (what goes on the wire).
std::string to_body(const boost::json::value& value);

}  // namespace crosscheck::snapshot
