// The gate's two forms (GET /v1/verdicts/{t}?expect=..., and POST
// /v1/verdicts/{t}/gate that records the action it allows) share their
// query and their answer here; and the ledger's read, GET /v1/actions.
#include "api/route.hpp"

#include "config/types.hpp"
#include "snapshot/action_json.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>

namespace crosscheck::api::detail {

namespace {

namespace cs = consensus;
namespace json = boost::json;

constexpr std::size_t k_max_nonce = 128;
constexpr std::size_t k_default_actions_limit = 100;
constexpr std::size_t k_max_actions_limit = 1000;

bool valid_nonce(std::string_view nonce) {
  return !nonce.empty() && nonce.size() <= k_max_nonce &&
         std::all_of(nonce.begin(), nonce.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

}  // namespace

std::variant<GateQuery, ApiResponse> parse_gate_query(net::QueryParams& query) {
  const auto expect_text = query.take("expect");
  const auto generation_text = query.take("generation");
  const auto stable_text = query.take("stable_for");
  const auto for_text = query.take("for");
  const auto degraded_text = query.take("allow_degraded");
  // The client's nonce is not used here: it is part of the request target,
  // which the answer's signature covers, so a signed answer cannot be
  // replayed to a gate that asked with another one.
  const auto nonce = query.take("nonce");
  if (auto why = query.leftover("expect, generation, stable_for, for, allow_degraded, nonce");
      !why.empty()) {
    return bad_query(why);
  }
  if (nonce && !valid_nonce(*nonce)) {
    return bad_query("nonce must be 1 to " + std::to_string(k_max_nonce) +
                     " letters, digits, '-' or '_'");
  }
  if (!expect_text) {
    if (generation_text || stable_text || for_text || degraded_text) {
      return bad_query(
          "generation, stable_for, for and allow_degraded are gate parameters: they need expect");
    }
    return GateQuery{};
  }
  GateAsk ask;
  const auto expect = cs::parse_verdict_kind(*expect_text);
  if (!expect || (*expect != cs::VerdictKind::Healthy && *expect != cs::VerdictKind::Unhealthy)) {
    return bad_query("expect must be healthy or unhealthy, not '" + *expect_text + "'");
  }
  ask.expect = *expect;
  if (generation_text && !(ask.generation = net::parse_count(*generation_text))) {
    return bad_query("generation must be a non-negative integer, not '" + *generation_text + "'");
  }
  if (stable_text) {
    const auto stable_for = config::parse_duration(*stable_text);
    if (!stable_for) {
      return bad_query("stable_for must be a duration such as 30s, not '" + *stable_text + "'");
    }
    ask.stable_for = *stable_for;
  }
  // Unset, a gate acts for a service failover: a DNS-only failure must not
  // promote a replica behind a healthy primary (docs/gate.md).
  if (for_text) {
    const auto parsed = cs::parse_gate_for(*for_text);
    if (!parsed) {
      return bad_query("for must be service, dns or any, not '" + *for_text + "'");
    }
    ask.for_ = *parsed;
  }
  if (degraded_text) {
    if (*degraded_text != "true" && *degraded_text != "false") {
      return bad_query("allow_degraded must be true or false, not '" + *degraded_text + "'");
    }
    ask.allow_degraded = *degraded_text == "true";
    if (ask.allow_degraded && ask.expect != cs::VerdictKind::Unhealthy) {
      return bad_query("allow_degraded=true goes with expect=unhealthy only");
    }
  }
  return GateQuery{ask};
}

ApiResponse gate_response(const snapshot::TargetView& view, std::string_view node,
                          const GateAsk& ask, const cs::GateDecision& gate,
                          const cs::RecordedAction* action) {
  json::object body = snapshot::verdict_json(view, node);
  json::object gate_json;
  gate_json["expect"] = cs::to_string(ask.expect);
  gate_json["for"] = cs::to_string(ask.for_);
  gate_json["allow_degraded"] = ask.allow_degraded;
  gate_json["decision"] = gate.decision();
  gate_json["code"] = cs::to_string(gate.code);
  gate_json["reason"] = gate.reason;
  if (gate.instead) {
    gate_json["instead"] = cs::to_string(*gate.instead);
  }
  body["gate"] = std::move(gate_json);
  if (action != nullptr) {
    body["action"] = snapshot::action_json(*action);
  }
  return make_response(gate_status(gate), snapshot::to_body(body));
}

ApiResponse actions_read(net::QueryParams& query, const snapshot::Snapshot& snapshot) {
  const auto limit_text = query.take("limit");
  const auto target = query.take("target");
  if (auto why = query.leftover("limit, target"); !why.empty()) {
    return bad_query(why);
  }
  std::size_t limit = k_default_actions_limit;
  if (auto refused = read_limit(limit_text, k_max_actions_limit, limit)) {
    return *std::move(refused);
  }
  json::array items;
  if (snapshot.actions) {
    for (const auto& action : *snapshot.actions) {
      if (items.size() >= limit) {
        break;
      }
      if (!target || action.target == *target) {
        items.emplace_back(snapshot::action_json(action));
      }
    }
  }
  json::object out;
  out["actions"] = std::move(items);
  return json_response(out);
}

}  // namespace crosscheck::api::detail
