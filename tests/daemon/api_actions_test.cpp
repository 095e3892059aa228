// The action ledger's routes in the pure router: the gate that records
// (POST /v1/verdicts/{t}/gate), recording and acknowledging an action, the
// ledger's read, their scopes, and the answers built from ActionResult.
#include "api/router.hpp"
#include "consensus/time_format.hpp"
#include "snapshot/action_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::snapshot;
using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;
namespace json = boost::json;
using crosscheck::config::ApiScope;
using crosscheck::config::ScopeSet;

const cs::WallTime k_now = *cs::parse_rfc3339("2025-10-20T06:00:45Z");

cs::RecordedAction recorded(std::string id, std::string target) {
  cs::RecordedAction out;
  out.id = std::move(id);
  out.node = "oracle-a";
  out.target = std::move(target);
  out.generation = 3;
  out.by = "failover-bot";
  out.what = "promote db-2";
  out.principal = "bot";
  out.at = k_now - 1min;
  out.cooldown_until = k_now + 59min;
  return out;
}

Snapshot make_snapshot() {
  Snapshot snapshot;
  snapshot.node = "oracle-a";
  for (const auto* name : {"db", "web"}) {
    TargetView view;
    view.verdict.target = name;
    view.verdict.kind = cs::VerdictKind::Unhealthy;
    view.verdict.fresh = true;
    view.verdict.generation = 3;
    view.verdict.scope = cs::FailureScope::Service;
    view.verdict.since = k_now - 5min;
    view.verdict.valid_until = k_now + 30s;
    snapshot.targets.push_back(view);
  }
  auto older = recorded("oracle-a-1", "web");
  older.at = k_now - 2h;
  older.ack = cs::ActionAck{"alice", "checked", k_now - 1h, "oracle-a"};
  snapshot.actions = std::make_shared<const std::vector<cs::RecordedAction>>(
      std::vector{recorded("oracle-a-2", "db"), older});
  return snapshot;
}

ApiRequest request(std::string method, std::string target, std::string body = {},
                   ScopeSet granted = ScopeSet::all()) {
  ApiRequest out;
  out.method = std::move(method);
  out.target = std::move(target);
  out.body = std::move(body);
  out.configured = ScopeSet::all();
  out.granted = granted;
  out.principal = "bot";
  out.authorization = "Bearer s3cret";
  return out;
}

ApiOutcome route(const ApiRequest& req) {
  return handle_request(req, make_snapshot(), cs::Instant{cs::MonoTime{}, k_now});
}

ApiResponse answer(const ApiRequest& req) {
  auto outcome = route(req);
  REQUIRE(std::holds_alternative<ApiResponse>(outcome));
  return std::get<ApiResponse>(std::move(outcome));
}

WriteRequest write_of(const ApiRequest& req) {
  auto outcome = route(req);
  if (const auto* response = std::get_if<ApiResponse>(&outcome)) {
    INFO(response->status << " " << response->body);
  }
  REQUIRE(std::holds_alternative<WriteRequest>(outcome));
  return std::get<WriteRequest>(std::move(outcome));
}

json::object body_of(const ApiResponse& response) {
  INFO(response.body);
  const json::value value = json::parse(response.body);
  REQUIRE(value.is_object());
  return value.as_object();
}

std::string error_of(const ApiResponse& response) {
  return std::string(body_of(response).at("error").as_string());
}

ScopeSet only(ApiScope scope) {
  ScopeSet set;
  set.add(scope);
  return set;
}

}  // namespace

TEST_CASE("the recording gate takes the GET form's query and a body saying what will be done",
          "[api][actions]") {
  const auto write = write_of(request(
      "POST", "/v1/verdicts/db/gate?expect=unhealthy&for=service&generation=3&stable_for=30s",
      R"({"what": "promote db-2", "by": "failover-bot"})"));
  CHECK(write.kind == WriteRequest::Kind::GateRecord);
  CHECK(write.target == "db");
  CHECK(write.gate.expect == cs::VerdictKind::Unhealthy);
  CHECK(write.gate.for_ == cs::GateFor::Service);
  CHECK(write.gate.generation == 3U);
  CHECK(write.gate.stable_for == 30s);
  CHECK(write.action.target == "db");
  CHECK(write.action.what == "promote db-2");
  CHECK(write.action.by == "failover-bot");
  CHECK(write.caller.principal == "bot");

  // for= defaults to service, as in the GET form.
  CHECK(write_of(request("POST", "/v1/verdicts/db/gate?expect=healthy", R"({"what": "fail back"})"))
            .gate.for_ == cs::GateFor::Service);
  const auto [target, body, status, error] =
      GENERATE(table<std::string, std::string, int, std::string>({
          {"/v1/verdicts/db/gate", R"({"what": "x"})", 400, "bad_query"},  // no expect
          {"/v1/verdicts/db/gate?expect=disputed", R"({"what": "x"})", 400, "bad_query"},
          {"/v1/verdicts/db/gate?expect=unhealthy&for=all", R"({"what": "x"})", 400, "bad_query"},
          {"/v1/verdicts/db/gate?expect=unhealthy&x=1", R"({"what": "x"})", 400, "bad_query"},
          {"/v1/verdicts/db/gate?expect=unhealthy", R"({})", 400, "bad_request"},
          {"/v1/verdicts/db/gate?expect=unhealthy", R"({"what": ""})", 400, "bad_request"},
          {"/v1/verdicts/db/gate?expect=unhealthy", R"({"what": "a\u001bb"})", 400, "bad_request"},
          {"/v1/verdicts/db/gate?expect=unhealthy", R"({"what": "x", "target": "web"})", 400,
           "bad_request"},
          {"/v1/verdicts/db/gate?expect=unhealthy", "not json", 400, "bad_request"},
          {"/v1/verdicts/nope/gate?expect=unhealthy", R"({"what": "x"})", 404, "unknown_target"},
      }));
  INFO(target << " " << body);
  const auto refused = answer(request("POST", target, body));
  CHECK(refused.status == status);
  CHECK(error_of(refused) == error);
}

TEST_CASE("recording and acknowledging an action are writes with their own scopes",
          "[api][actions]") {
  const auto write = write_of(request(
      "POST", "/v1/actions",
      R"({"target": "web", "expect": "healthy", "for": "any", "generation": 9, "what": "x"})"));
  CHECK(write.kind == WriteRequest::Kind::RecordAction);
  CHECK(write.action.target == "web");
  CHECK(write.action.expect == cs::VerdictKind::Healthy);
  CHECK(write.action.for_ == cs::GateFor::Any);
  CHECK(write.action.generation == 9);
  CHECK(write.action.by == "api");
  const auto ack = write_of(
      request("POST", "/v1/actions/oracle-a-2/ack", R"({"by": "alice", "note": "checked"})"));
  CHECK(ack.kind == WriteRequest::Kind::AckAction);
  CHECK(ack.action_id == "oracle-a-2");
  CHECK(ack.ack.by == "alice");
  CHECK(ack.ack.note == "checked");
  CHECK(write_of(request("POST", "/v1/actions/oracle-a-2/ack")).ack.by == "api");

  CHECK(error_of(answer(request("POST", "/v1/actions", R"({"target": "nope", "what": "x"})"))) ==
        "unknown_target");
  CHECK(error_of(answer(request("POST", "/v1/actions", R"({"what": "x"})"))) == "bad_request");
  CHECK(error_of(answer(request("POST", "/v1/actions",
                                R"({"target": "db", "what": "x", "generation": -1})"))) ==
        "bad_request");
  CHECK(error_of(answer(request("POST", "/v1/actions/not-an-id/ack"))) == "bad_request");
  CHECK(error_of(answer(request("DELETE", "/v1/actions"))) == "method_not_allowed");

  // Scopes: act records (both forms), ack acknowledges, read lists.
  const auto gate = [](ScopeSet granted) {
    return route(
        request("POST", "/v1/verdicts/db/gate?expect=unhealthy", R"({"what": "x"})", granted));
  };
  CHECK(std::holds_alternative<WriteRequest>(gate(only(ApiScope::Act))));
  for (const auto scope : {ApiScope::Read, ApiScope::Recheck, ApiScope::Ack, ApiScope::Override}) {
    const auto outcome = gate(only(scope));
    REQUIRE(std::holds_alternative<ApiResponse>(outcome));
    CHECK(std::get<ApiResponse>(outcome).status == 403);
  }
  CHECK(answer(request("POST", "/v1/actions", R"({"target": "db", "what": "x"})",
                       only(ApiScope::Override)))
            .status == 403);
  CHECK(answer(request("POST", "/v1/actions/oracle-a-2/ack", "", only(ApiScope::Act))).status ==
        403);
  CHECK(std::holds_alternative<WriteRequest>(
      route(request("POST", "/v1/actions/oracle-a-2/ack", "", only(ApiScope::Ack)))));
  CHECK(answer(request("GET", "/v1/actions", "", only(ApiScope::Act))).status == 403);
  auto anonymous = request("GET", "/v1/actions");
  anonymous.principal.clear();
  anonymous.authorization.clear();
  CHECK(answer(anonymous).status == 401);  // who acted is behind a token, like the audit
}

TEST_CASE("the ledger is listed newest first, by target and bounded", "[api][actions]") {
  const auto all = body_of(answer(request("GET", "/v1/actions", "", only(ApiScope::Read))));
  const auto& items = all.at("actions").as_array();
  REQUIRE(items.size() == 2);
  CHECK(items[0].at("id") == "oracle-a-2");
  CHECK(items[0].at("ack").is_null());
  CHECK(items[1].at("ack").at("by") == "alice");
  const auto web = body_of(answer(request("GET", "/v1/actions?target=web&limit=5")));
  REQUIRE(web.at("actions").as_array().size() == 1);
  CHECK(web.at("actions").as_array()[0].at("id") == "oracle-a-1");
  CHECK(body_of(answer(request("GET", "/v1/actions?limit=1"))).at("actions").as_array().size() ==
        1);
  CHECK(answer(request("GET", "/v1/actions?limit=0")).status == 400);
  CHECK(answer(request("GET", "/v1/actions?limit=5000")).status == 400);
  CHECK(answer(request("GET", "/v1/actions?what=1")).status == 400);
  // What the API shows reads back the same (the CLI and peers read it).
  const auto back = read_action_json(items[1]);
  REQUIRE(back);
  auto expected = recorded("oracle-a-1", "web");
  expected.at = k_now - 2h;
  expected.ack = cs::ActionAck{"alice", "checked", k_now - 1h, "oracle-a"};
  CHECK(*back == expected);
}

TEST_CASE("the recording gate answers with the gate and the action, or the hold alone",
          "[api][actions]") {
  const auto snapshot = std::make_shared<const Snapshot>(make_snapshot());
  const auto write = write_of(request("POST", "/v1/verdicts/db/gate?expect=unhealthy&for=service",
                                      R"({"what": "promote db-2"})"));
  ActionResult proceed{200,         "", "", snapshot, std::nullopt, recorded("oracle-a-2", "db"),
                       std::nullopt};
  proceed.gate = cs::GateDecision{cs::GateAnswer::Proceed, cs::GateCode::Proceed, "ok", {}};
  const auto done = write_response(write, proceed);
  CHECK(done.status == 200);
  const auto body = body_of(done);
  CHECK(body.at("gate").at("decision") == "proceed");
  CHECK(body.at("gate").at("for") == "service");
  CHECK(body.at("action").at("id") == "oracle-a-2");
  CHECK(body.at("verdict") == "unhealthy");

  ActionResult held{423, "", "", snapshot, std::nullopt, std::nullopt, std::nullopt};
  held.gate = cs::GateDecision{cs::GateAnswer::Hold, cs::GateCode::Cooldown, "in cooldown", {}};
  const auto hold = write_response(write, held);
  CHECK(hold.status == 423);
  CHECK(body_of(hold).at("gate").at("code") == "cooldown");
  CHECK_FALSE(body_of(hold).contains("action"));

  // Proceeded but not durable: a 503 like any write, never a 200.
  ActionResult undurable{503,          "storage_unavailable", "not yet written", snapshot,
                         proceed.gate, proceed.action,        std::nullopt};
  const auto failed = write_response(write, undurable);
  CHECK(failed.status == 503);
  CHECK(error_of(failed) == "storage_unavailable");
  CHECK(body_of(failed).at("action").at("id") == "oracle-a-2");  // to withdraw it
  CHECK(failed.header("Retry-After") == "1");
}
