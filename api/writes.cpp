// The router's writes: acknowledge, override, recheck. The router checked
// the token's scope (scopes.cpp) before; here is the write's own
// validation, and the answer built from what ApiActions did.
#include "api/route.hpp"

#include "config/types.hpp"
#include "snapshot/action_json.hpp"
#include "snapshot/json_views.hpp"

#include <algorithm>
#include <limits>

namespace crosscheck::api {

using namespace detail;

namespace {

namespace cs = consensus;
namespace json = boost::json;
using Kind = WriteRequest::Kind;

json::array names(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& name : list) {
    out.emplace_back(name);
  }
  return out;
}

// "recheck": which failure domains (and peers) answered, which did not.
json::object recheck_json(const RecheckReport& report) {
  json::object out;
  out["domains_answered"] = names(report.answered);
  out["domains_missing"] = names(report.missing);
  out["peers_answered"] = names(report.peers_answered);
  out["peers_missing"] = names(report.peers_missing);
  return out;
}

ApiOutcome ack_write(const ApiRequest& request, const Route& route) {
  const auto id = net::parse_count(route.subject);
  if (!id || *id == 0 ||
      *id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad_request("escalation id must be a positive integer");
  }
  auto by = snapshot::parse_ack_body(request.body);
  if (!by) {
    return bad_request(by.error());
  }
  WriteRequest write;
  write.kind = Kind::Acknowledge;
  write.escalation_id = static_cast<std::int64_t>(*id);
  write.by = std::move(*by);
  return write;
}

// POST /v1/verdicts/{t}/gate?expect=...: the GET form's query, and a body
// saying what the caller will do when it proceeds.
ApiOutcome gate_record_write(const ApiRequest& request, const Route& route, net::QueryParams& query,
                             const snapshot::Snapshot& snapshot) {
  auto parsed = parse_gate_query(query);
  if (auto* refused = std::get_if<ApiResponse>(&parsed)) {
    return std::move(*refused);
  }
  const auto& ask = std::get<GateQuery>(parsed).ask;
  if (!ask) {
    return bad_query("expect is required: the gate records only the action it lets proceed");
  }
  if (snapshot.find(route.subject) == nullptr) {
    return unknown_target(route.subject);
  }
  auto action = snapshot::parse_action_body(request.body, false);
  if (!action) {
    return bad_request(action.error());
  }
  WriteRequest write;
  write.kind = Kind::GateRecord;
  write.target = route.subject;
  write.gate = *ask;
  write.action = std::move(*action);
  write.action.target = route.subject;
  write.action.expect = ask->expect;
  write.action.for_ = ask->for_;
  return write;
}

ApiOutcome action_write(const ApiRequest& request, const Route& route, net::QueryParams& query,
                        const snapshot::Snapshot& snapshot) {
  if (auto why = query.leftover(""); !why.empty()) {
    return bad_query(why);
  }
  WriteRequest write;
  if (route.kind == RouteKind::ActionAck) {
    if (!cs::parse_action_id(route.subject)) {
      return bad_request("an action id is NODE-SEQ, such as oracle-a-17");
    }
    auto ack = snapshot::parse_action_ack_body(request.body);
    if (!ack) {
      return bad_request(ack.error());
    }
    write.kind = Kind::AckAction;
    write.action_id = route.subject;
    write.ack = std::move(*ack);
    return write;
  }
  auto action = snapshot::parse_action_body(request.body, true);
  if (!action) {
    return bad_request(action.error());
  }
  if (snapshot.find(action->target) == nullptr) {
    return unknown_target(action->target);
  }
  write.kind = Kind::RecordAction;
  write.target = action->target;
  write.action = std::move(*action);
  return write;
}

}  // namespace

namespace detail {

ApiOutcome handle_write(const ApiRequest& request, const Route& route, net::QueryParams& query,
                        const snapshot::Snapshot& snapshot, cs::WallTime now) {
  if (route.kind == RouteKind::GateRecord) {
    return gate_record_write(request, route, query, snapshot);
  }
  if (route.kind == RouteKind::Actions || route.kind == RouteKind::ActionAck) {
    return action_write(request, route, query, snapshot);
  }
  WriteRequest write;
  const auto timeout_text = route.kind == RouteKind::Recheck ? query.take("timeout") : std::nullopt;
  if (auto why = query.leftover(route.kind == RouteKind::Recheck ? "timeout" : ""); !why.empty()) {
    return bad_query(why);
  }
  if (route.kind == RouteKind::Ack) {
    return ack_write(request, route);
  }
  if (snapshot.find(route.subject) == nullptr) {
    return unknown_target(route.subject);
  }
  write.target = route.subject;
  if (route.kind == RouteKind::Recheck) {
    write.kind = Kind::Recheck;
    if (timeout_text) {
      const auto timeout = config::parse_duration(*timeout_text);
      if (!timeout || *timeout <= config::Duration::zero()) {
        return bad_query("timeout must be a positive duration such as 5s");
      }
      write.deadline = std::min(*timeout, k_max_recheck_deadline);
    }
    return write;
  }
  if (route.kind == RouteKind::Maintenance) {
    if (request.method == "DELETE") {
      write.kind = Kind::ClearMaintenance;
      return write;
    }
    auto window = snapshot::parse_maintenance_body(request.body, now);
    if (!window) {
      return bad_request(window.error());
    }
    write.kind = Kind::SetMaintenance;
    write.maintenance_value = std::move(*window);
    return write;
  }
  if (request.method == "DELETE") {
    write.kind = Kind::ClearOverride;
    return write;
  }
  auto value = snapshot::parse_override_body(request.body, now);
  if (!value) {
    return bad_request(value.error());
  }
  write.kind = Kind::SetOverride;
  write.override_value = std::move(*value);
  return write;
}

}  // namespace detail

ApiResponse write_response(const WriteRequest& write, const ActionResult& result) {
  // A gate answers with its decision (200, 409, 423); a proceed whose
  // action storage did not commit is a 503 like any other write's.
  if (write.kind == Kind::GateRecord && result.gate && result.status != 503) {
    const snapshot::TargetView* view =
        result.snapshot ? result.snapshot->find(write.target) : nullptr;
    if (view != nullptr) {
      return gate_response(*view, result.snapshot->node, write.gate, *result.gate,
                           result.action ? &*result.action : nullptr);
    }
  }
  if (result.status < 200 || result.status >= 300) {
    const int status = result.status >= 400 && result.status <= 599 ? result.status : 500;
    if (result.action && write.kind != Kind::AckAction) {
      // Recorded in memory but not (yet) durable: the entry's id lets the
      // caller withdraw it (POST /v1/actions/{id}/ack) instead of a human.
      auto body = snapshot::error_json(result.error.empty() ? "action_failed" : result.error,
                                       result.detail);
      body["action"] = snapshot::action_json(*result.action);
      auto response = make_response(status, snapshot::to_body(body));
      response.headers.emplace_back("Retry-After", "1");
      return response;
    }
    if (result.recheck) {
      auto body = snapshot::error_json(result.error.empty() ? "action_failed" : result.error,
                                       result.detail);
      body["recheck"] = recheck_json(*result.recheck);
      return make_response(status, snapshot::to_body(body));
    }
    return error_response(status, result.error.empty() ? "action_failed" : result.error,
                          result.detail);
  }
  json::object out;
  if (write.kind == Kind::RecordAction || write.kind == Kind::AckAction) {
    if (result.action) {
      out["action"] = snapshot::action_json(*result.action);
    }
    return make_response(result.status, snapshot::to_body(out));
  }
  if (write.kind == Kind::Acknowledge) {
    out["id"] = write.escalation_id;
    out["acknowledged"] = true;
    return make_response(result.status, snapshot::to_body(out));
  }
  const snapshot::TargetView* view =
      result.snapshot ? result.snapshot->find(write.target) : nullptr;
  if (view != nullptr) {
    auto body = snapshot::verdict_json(*view, result.snapshot->node);
    if (result.recheck) {
      body["recheck"] = recheck_json(*result.recheck);
    }
    return make_response(result.status, snapshot::to_body(body));
  }
  out["target"] = write.target;
  out["detail"] = result.detail;
  return make_response(result.status, snapshot::to_body(out));
}

}  // namespace crosscheck::api
