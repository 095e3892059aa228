#include "api/route.hpp"
#include "api/router.hpp"
#include "snapshot/json_views.hpp"

#include "consensus/time_format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::snapshot;
using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;
namespace json = boost::json;
using Catch::Matchers::Contains;

// A fixed instant from its RFC 3339 spelling (the epoch if misspelt, which
// every assertion below would notice).
cs::WallTime at(std::string_view text) {
  return cs::parse_rfc3339(text).value_or(cs::WallTime{});
}

const cs::WallTime k_since = at("2025-10-20T06:00:00Z");
const cs::WallTime k_evaluated = at("2025-10-20T06:00:40Z");
const cs::WallTime k_valid_until = at("2025-10-20T06:01:10Z");
const cs::WallTime k_now = at("2025-10-20T06:00:45Z");

cs::Instant instant(cs::WallTime wall) {
  return cs::Instant{cs::MonoTime{}, wall};
}

// Both clocks at `wall`, as a ManualClock keeps them (they move together).
cs::Instant ticking(cs::WallTime wall) {
  return cs::Instant{cs::MonoTime{wall.time_since_epoch()}, wall};
}

TargetView healthy_target(std::string name) {
  TargetView view;
  cs::Verdict& v = view.verdict;
  v.target = std::move(name);
  v.kind = cs::VerdictKind::Healthy;
  v.fresh = true;
  v.generation = 5;
  v.since = k_since;
  v.since_mono = ticking(k_since).mono;
  v.evaluated_at = k_evaluated;
  v.valid_until = k_valid_until;
  v.reason_code = cs::ReasonCode::Quorum;
  v.reason = "2 of 2 domains up";
  v.votes = cs::VoteCounts{2, 0, 1, 2, 2, 4, {"quad9", "google"}, {}, {"aws"}, 1};
  cs::Evidence local;
  local.vantage = "quad9";
  local.domain = "quad9";
  local.vote = cs::Vote::Up;
  local.raw_vote = cs::Vote::Up;
  local.last_observed = instant(at("2025-10-20T06:00:39.250Z"));
  cs::Observation observation;
  observation.latency_ms = 12.5;
  observation.detail = "dns: NOERROR, 1 answer";
  observation.answers = {"192.0.2.1"};
  local.last = std::make_shared<const cs::Observation>(observation);
  cs::Evidence peer;
  peer.vantage = "oracle-b/cloudflare";
  peer.node = "oracle-b";
  peer.domain = "cloudflare";
  peer.vote = cs::Vote::Unknown;
  peer.raw_vote = cs::Vote::Down;
  peer.suspect = true;
  v.evidence = {local, peer};
  view.divergence = {Divergence{"quad9", "quad9", {"192.0.2.1"}},
                     Divergence{"google", "google", {}}};
  view.history = std::make_shared<const std::vector<TransitionView>>(std::vector<TransitionView>{
      TransitionView{5, k_since, cs::VerdictKind::Healthy, std::nullopt, cs::ReasonCode::Quorum,
                     "2 of 2 domains up"},
      TransitionView{4, at("2025-10-20T05:00:00Z"), cs::VerdictKind::Disputed,
                     cs::VerdictKind::Healthy, cs::ReasonCode::Dispute, "quad9 alone sees down"},
      TransitionView{3, at("2025-10-20T04:00:00Z"), cs::VerdictKind::Healthy, std::nullopt,
                     cs::ReasonCode::Quorum, "up"}});
  return view;
}

Snapshot make_snapshot() {
  Snapshot snapshot;
  snapshot.revision = 7;
  snapshot.taken_at = k_evaluated;
  snapshot.ready = true;
  snapshot.node = "oracle-a";
  snapshot.targets.push_back(healthy_target("dynamodb-use1"));
  TargetView disputed = healthy_target("db primary/1");
  disputed.verdict.kind = cs::VerdictKind::Disputed;
  disputed.verdict.held = cs::VerdictKind::Healthy;
  disputed.verdict.reason_code = cs::ReasonCode::Dispute;
  disputed.verdict.failing_layer = cs::Layer::Dns;
  disputed.verdict.last_known_good = cs::LastKnownGood::Reachable;
  snapshot.targets.push_back(disputed);
  TargetView overridden = healthy_target("web");
  overridden.verdict.reason_code = cs::ReasonCode::Override;
  overridden.verdict.override_in_force =
      cs::Override{cs::VerdictKind::Healthy, "drill", "alice", k_since, k_valid_until};
  overridden.verdict.canary = true;
  snapshot.targets.push_back(overridden);
  snapshot.vantages = {VantageView{"quad9", "", "quad9", false, "", k_evaluated},
                       VantageView{"oracle-b/cloudflare", "oracle-b", "cloudflare", true,
                                   "canary root-zone fails", std::nullopt}};
  snapshot.escalations = {EscalationView{12, "dispute:db primary/1", cs::EventKind::DisputeOpened,
                                         "db primary/1", "", "quad9 alone sees down", k_since,
                                         std::nullopt, ""}};
  return snapshot;
}

ApiRequest request(std::string method, std::string target, std::string body = {}) {
  ApiRequest out;
  out.method = std::move(method);
  out.target = std::move(target);
  out.body = std::move(body);
  return out;
}

ApiRequest get(std::string target) {
  return request("GET", std::move(target));
}

ApiRequest authorized(ApiRequest in) {
  in.configured = crosscheck::config::ScopeSet::all();
  in.granted = crosscheck::config::ScopeSet::all();
  in.principal = "default";
  in.authorization = "Bearer s3cret";
  return in;
}

ApiResponse answer(const ApiRequest& req, const Snapshot& snapshot = make_snapshot(),
                   cs::WallTime now = k_now) {
  ApiOutcome outcome = handle_request(req, snapshot, ticking(now));
  REQUIRE(std::holds_alternative<ApiResponse>(outcome));
  return std::get<ApiResponse>(std::move(outcome));
}

WriteRequest write_of(const ApiRequest& req, cs::WallTime now = k_now) {
  ApiOutcome outcome = handle_request(req, make_snapshot(), ticking(now));
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

std::set<std::string> keys_of(const json::object& object) {
  std::set<std::string> keys;
  for (const auto& item : object) {
    keys.emplace(item.key());
  }
  return keys;
}

const std::set<std::string> k_summary_keys{
    "target",        "verdict",      "held",        "fresh",       "generation",
    "since",         "evaluated_at", "valid_until", "reason",      "failing_layer",
    "scope",         "maintenance",  "cooldown",    "stable_from", "cert_not_after",
    "rrsig_expires", "votes",        "override",    "group"};

std::set<std::string> verdict_keys() {
  std::set<std::string> keys = k_summary_keys;
  keys.insert({"divergence", "evidence", "reason_code", "last_known_good", "canary"});
  return keys;
}

void check_error(const ApiResponse& response, int status, std::string_view error) {
  INFO(response.body);
  CHECK(response.status == status);
  const json::object body = body_of(response);
  CHECK(keys_of(body) == std::set<std::string>{"error", "detail"});
  CHECK(body.at("error").as_string() == error);
  CHECK_FALSE(body.at("detail").as_string().empty());
}

}  // namespace

TEST_CASE("the verdict list carries every target's summary and no evidence", "[api]") {
  const ApiResponse response = answer(get("/v1/verdicts"));
  REQUIRE(response.status == 200);
  CHECK(response.content_type == "application/json");
  CHECK(response.header("cache-control") == "no-store");
  CHECK_THAT(response.header("ETag"), Catch::Matchers::StartsWith("\""));
  const json::object body = body_of(response);
  CHECK(body.at("revision").as_int64() == 7);
  const json::array& verdicts = body.at("verdicts").as_array();
  REQUIRE(verdicts.size() == 3);
  CHECK(keys_of(verdicts[0].as_object()) == k_summary_keys);
  CHECK(verdicts[0].at("target").as_string() == "dynamodb-use1");
  CHECK(verdicts[0].at("verdict").as_string() == "healthy");
  CHECK(verdicts[0].at("held").is_null());
  CHECK(verdicts[0].at("since").as_string() == "2025-10-20T06:00:00Z");
  CHECK(verdicts[0].at("valid_until").as_string() == "2025-10-20T06:01:10Z");
  CHECK(verdicts[0].at("failing_layer").is_null());
  // The domain tally rides along: a board of every target (status, the
  // status page) needs no request per target.
  CHECK(verdicts[0].at("votes").at("up_domains") == json::array{"quad9", "google"});
  CHECK(verdicts[0].at("votes").at("split_domains") == json::array{"aws"});
  CHECK(verdicts[0].at("override").is_null());
  CHECK(verdicts[2].at("override").at("by").as_string() == "alice");
  CHECK(verdicts[0].at("group").is_null());
}

TEST_CASE("one verdict comes with votes, divergence and evidence under the contract's names",
          "[api]") {
  const ApiResponse response = answer(get("/v1/verdicts/dynamodb-use1"));
  REQUIRE(response.status == 200);
  const json::object body = body_of(response);
  CHECK(keys_of(body) == verdict_keys());
  CHECK(keys_of(body.at("votes").as_object()) ==
        std::set<std::string>{"up", "down", "unknown", "down_quorum", "up_quorum", "split",
                              "split_domains", "known_domains", "up_domains", "down_domains",
                              "degraded", "degraded_domains"});
  CHECK(body.at("votes").at("up").as_int64() == 2);
  // A domain whose own vantages disagree: counted neither up nor down, and named.
  CHECK(body.at("votes").at("split").as_int64() == 1);
  CHECK(body.at("votes").at("split_domains") == json::array{"aws"});
  CHECK(body.at("generation").as_int64() == 5);
  CHECK(body.at("fresh").as_bool());
  CHECK(body.at("reason_code").as_string() == "quorum");
  CHECK(body.at("last_known_good").is_null());
  CHECK(body.at("override").is_null());
  CHECK_FALSE(body.at("canary").as_bool());

  const json::array& divergence = body.at("divergence").as_array();
  REQUIRE(divergence.size() == 2);
  CHECK(keys_of(divergence[0].as_object()) ==
        std::set<std::string>{"vantage", "domain", "answers"});
  CHECK(divergence[1].at("answers").as_array().empty());

  const json::array& evidence = body.at("evidence").as_array();
  REQUIRE(evidence.size() == 2);
  const std::set<std::string> evidence_keys{
      "vantage", "node",          "domain",         "vote",         "raw_vote", "suspect",
      "stale",   "last_observed", "outcome",        "latency_ms",   "layer",    "window_latency_ms",
      "detail",  "answers",       "cert_not_after", "rrsig_expires"};
  CHECK(keys_of(evidence[0].as_object()) == evidence_keys);
  CHECK(keys_of(evidence[1].as_object()) == evidence_keys);
  CHECK(evidence[0].at("node").as_string() == "oracle-a");  // this node's own vantage
  CHECK(evidence[0].at("vote").as_string() == "up");
  CHECK(evidence[0].at("last_observed").as_string() == "2025-10-20T06:00:39.250Z");
  CHECK(evidence[0].at("latency_ms").as_double() == 12.5);
  CHECK(evidence[0].at("layer").is_null());
  CHECK(evidence[0].at("answers").as_array().size() == 1);
  CHECK(evidence[0].at("outcome").as_string() == "up");
  CHECK(evidence[0].at("raw_vote").as_string() == "up");
  CHECK_FALSE(evidence[0].at("stale").as_bool());
  CHECK(evidence[1].at("node").as_string() == "oracle-b");
  CHECK(evidence[1].at("suspect").as_bool());
  // What the vantage saw before suspicion took its vote away.
  CHECK(evidence[1].at("raw_vote").as_string() == "down");
  CHECK(evidence[1].at("vote").as_string() == "unknown");
  CHECK(evidence[1].at("last_observed").is_null());  // never observed: nulls, not zeros
  CHECK(evidence[1].at("outcome").is_null());
  CHECK(evidence[1].at("latency_ms").is_null());
  CHECK(evidence[1].at("answers").is_null());
}

TEST_CASE("a stale vote says so and shows the outcome of its last observation", "[api]") {
  Snapshot snapshot = make_snapshot();
  cs::Evidence& local = snapshot.targets[0].verdict.evidence.edit()[0];
  local.vote = cs::Vote::Unknown;
  local.raw_vote = cs::Vote::Down;
  local.stale = true;
  cs::Observation observation = *local.last;
  observation.outcome = cs::Outcome::Down;
  observation.layer = cs::Layer::Http;
  local.last = std::make_shared<const cs::Observation>(observation);
  const json::object body = body_of(answer(get("/v1/verdicts/dynamodb-use1"), snapshot));
  const json::object& item = body.at("evidence").as_array()[0].as_object();
  CHECK(item.at("stale").as_bool());
  CHECK(item.at("vote").as_string() == "unknown");
  CHECK(item.at("raw_vote").as_string() == "down");
  CHECK(item.at("outcome").as_string() == "down");
  CHECK(item.at("layer").as_string() == "http");
}

TEST_CASE("a disputed verdict shows what it holds, the failing layer and last-known-good",
          "[api]") {
  const json::object body = body_of(answer(get("/v1/verdicts/db%20primary%2F1")));
  CHECK(body.at("target").as_string() == "db primary/1");
  CHECK(body.at("verdict").as_string() == "disputed");
  CHECK(body.at("held").as_string() == "healthy");
  CHECK(body.at("failing_layer").as_string() == "dns");
  CHECK(body.at("last_known_good").as_string() == "reachable");
  CHECK(body.at("reason_code").as_string() == "dispute");
}

TEST_CASE("an override in force is shown with who set it and until when", "[api]") {
  const json::object body = body_of(answer(get("/v1/verdicts/web")));
  const json::object& value = body.at("override").as_object();
  CHECK(keys_of(value) == std::set<std::string>{"verdict", "reason", "by", "set_at", "expires_at"});
  CHECK(value.at("verdict").as_string() == "healthy");
  CHECK(value.at("by").as_string() == "alice");
  CHECK(value.at("expires_at").as_string() == "2025-10-20T06:01:10Z");
  CHECK(body.at("reason_code").as_string() == "override");
  CHECK(body.at("canary").as_bool());
}

TEST_CASE("an unknown target answers 404 unknown_target", "[api]") {
  check_error(answer(get("/v1/verdicts/nope")), 404, "unknown_target");
  check_error(answer(get("/v1/verdicts/nope/history")), 404, "unknown_target");
  check_error(answer(get("/v1/verdicts/nope?expect=healthy")), 404, "unknown_target");
}

TEST_CASE("target names are percent-decoded and broken escapes are refused", "[api]") {
  CHECK(answer(get("/v1/verdicts/dynamodb%2Duse1")).status == 200);
  CHECK(answer(get("/v1/verdicts/db%20primary%2f1/history")).status == 200);
  check_error(answer(get("/v1/verdicts/db%2")), 400, "bad_request");
  check_error(answer(get("/v1/verdicts/db%zz")), 400, "bad_request");
  check_error(answer(get("/v1/verdicts/db%00")), 400, "bad_request");
  check_error(answer(get("/v1/verdicts/dynamodb-use1?expect=%zz")), 400, "bad_query");
}

TEST_CASE("unknown paths answer 404 and wrong methods 405 with Allow", "[api]") {
  check_error(answer(get("/v1/nothing")), 404, "not_found");
  check_error(answer(get("/v1/verdicts/")), 404, "not_found");
  check_error(answer(get("/v2/verdicts")), 404, "not_found");
  check_error(answer(get("verdicts")), 400, "bad_request");
  const auto [method, target, allow] = GENERATE(table<std::string, std::string, std::string>({
      {"POST", "/v1/verdicts", "GET"},
      {"DELETE", "/v1/verdicts/dynamodb-use1", "GET"},
      {"GET", "/v1/verdicts/dynamodb-use1/recheck", "POST"},
      {"GET", "/v1/overrides/web", "PUT, DELETE"},
      {"PUT", "/healthz", "GET"},
      {"HEAD", "/v1/watch", "GET"},
  }));
  const ApiResponse response = answer(request(method, target));
  check_error(response, 405, "method_not_allowed");
  CHECK(response.header("Allow") == allow);
}

TEST_CASE("the gate answers 200, 409 or 423 by the verdict, freshness, stability and generation",
          "[api]") {
  struct Row {
    const char* what;
    cs::VerdictKind kind;
    bool fresh;
    const char* query;
    cs::WallTime now;
    int status;
    const char* decision;
  };
  using K = cs::VerdictKind;
  const Row row = GENERATE(values<Row>({
      {"healthy as expected", K::Healthy, true, "expect=healthy", k_now, 200, "proceed"},
      {"unhealthy as expected", K::Unhealthy, true, "expect=unhealthy", k_now, 200, "proceed"},
      {"confirmed otherwise", K::Unhealthy, true, "expect=healthy", k_now, 409, "otherwise"},
      {"healthy, unhealthy expected", K::Healthy, true, "expect=unhealthy", k_now, 409,
       "otherwise"},
      {"disputed holds", K::Disputed, true, "expect=healthy", k_now, 423, "hold"},
      {"unknown holds", K::Unknown, true, "expect=healthy", k_now, 423, "hold"},
      {"unreachable holds a failback", K::Unreachable, true, "expect=healthy", k_now, 423, "hold"},
      {"unreachable holds a failover", K::Unreachable, true, "expect=unhealthy", k_now, 423,
       "hold"},
      {"restored, not fresh", K::Healthy, false, "expect=healthy", k_now, 423, "hold"},
      {"at valid_until", K::Healthy, true, "expect=healthy", k_valid_until, 200, "proceed"},
      {"past valid_until", K::Healthy, true, "expect=healthy", k_valid_until + 1ms, 423, "hold"},
      {"stable_for - 1 ms", K::Healthy, true, "expect=healthy&stable_for=30s", k_since + 30s - 1ms,
       423, "hold"},
      {"stable_for exactly", K::Healthy, true, "expect=healthy&stable_for=30s", k_since + 30s, 200,
       "proceed"},
      {"generation equal", K::Healthy, true, "expect=healthy&generation=5", k_now, 200, "proceed"},
      {"generation moved", K::Healthy, true, "expect=healthy&generation=4", k_now, 409, "hold"},
      {"generation moved, otherwise too", K::Unhealthy, true, "expect=healthy&generation=4", k_now,
       409, "hold"},
      {"a gate's nonce changes nothing", K::Healthy, true,
       "expect=healthy&nonce=00112233445566778899aabbccddeeff", k_now, 200, "proceed"},
  }));
  INFO(row.what);
  Snapshot snapshot = make_snapshot();
  cs::Verdict& verdict = snapshot.targets[0].verdict;
  verdict.kind = row.kind;
  verdict.fresh = row.fresh;
  verdict.scope = row.kind == K::Unhealthy ? cs::FailureScope::Service : cs::FailureScope::None;
  if (!verdict.confirmed()) {
    verdict.held = K::Healthy;
  }
  const ApiResponse response =
      answer(get(std::string("/v1/verdicts/dynamodb-use1?") + row.query), snapshot, row.now);
  CHECK(response.status == row.status);
  const json::object body = body_of(response);
  std::set<std::string> expected_keys = verdict_keys();
  expected_keys.insert("gate");
  CHECK(keys_of(body) == expected_keys);
  const json::object& gate = body.at("gate").as_object();
  CHECK(keys_of(gate) ==
        std::set<std::string>{"expect", "for", "allow_degraded", "decision", "code", "reason"});
  CHECK(gate.at("for").as_string() == "service");  // the default
  CHECK(gate.at("decision").as_string() == row.decision);
  CHECK_FALSE(gate.at("reason").as_string().empty());
  if (row.kind == K::Unreachable) {
    CHECK(gate.at("code").as_string() == "unreachable");
    CHECK(body.at("verdict").as_string() == "unreachable");
  }
}

TEST_CASE("a gate for a failover proceeds only on a scope that supports it", "[api]") {
  struct Row {
    cs::FailureScope scope;
    const char* query;
    int status;
    const char* code;
    const char* instead;  // "" when the answer names no other failover
  };
  using S = cs::FailureScope;
  const Row row = GENERATE(values<Row>({
      {S::Service, "expect=unhealthy", 200, "proceed", ""},
      {S::Service, "expect=unhealthy&for=service", 200, "proceed", ""},
      {S::Service, "expect=unhealthy&for=dns", 423, "scope", "service"},
      {S::Service, "expect=unhealthy&for=any", 200, "proceed", ""},
      {S::Dns, "expect=unhealthy", 423, "scope", "dns"},
      {S::Dns, "expect=unhealthy&for=dns", 200, "proceed", ""},
      {S::Dns, "expect=unhealthy&for=any", 200, "proceed", ""},
      {S::None, "expect=unhealthy&for=service", 423, "scope", ""},
      {S::None, "expect=unhealthy&for=dns", 423, "scope", ""},
      {S::None, "expect=unhealthy&for=any", 200, "proceed", ""},
      {S::Dns, "expect=healthy&for=service", 409, "otherwise", ""},
  }));
  INFO(row.query << ", scope " << cs::to_string(row.scope));
  Snapshot snapshot = make_snapshot();
  cs::Verdict& verdict = snapshot.targets[0].verdict;
  verdict.kind = cs::VerdictKind::Unhealthy;
  verdict.scope = row.scope;
  const ApiResponse response =
      answer(get(std::string("/v1/verdicts/dynamodb-use1?") + row.query), snapshot, k_now);
  CHECK(response.status == row.status);
  const json::object body = body_of(response);
  CHECK(body.at("scope").as_string() == cs::to_string(row.scope));
  const json::object& gate = body.at("gate").as_object();
  CHECK(gate.at("code").as_string() == row.code);
  if (*row.instead != '\0') {
    CHECK(gate.at("instead").as_string() == row.instead);
  } else {
    CHECK_FALSE(gate.contains("instead"));
  }
}

TEST_CASE("the gate's for is checked like its other parameters", "[api]") {
  check_error(answer(get("/v1/verdicts/dynamodb-use1?expect=unhealthy&for=Service")), 400,
              "bad_query");
  check_error(answer(get("/v1/verdicts/dynamodb-use1?expect=unhealthy&for=")), 400, "bad_query");
  check_error(answer(get("/v1/verdicts/dynamodb-use1?for=dns")), 400, "bad_query");
}

TEST_CASE(
    "a gate measures stable_for on the monotonic clock: a wall clock step neither lengthens nor "
    "shortens it",
    "[api]") {
  struct Row {
    const char* what;
    std::chrono::seconds step;  // the wall clock's step since the verdict began
    const char* query;
    int status;
  };
  const Row row = GENERATE(values<Row>({
      {"an hour forward: 10 s is not 30 s", 1h, "expect=healthy&stable_for=30s", 423},
      {"an hour forward: 10 s is more than 5 s", 1h, "expect=healthy&stable_for=5s", 200},
      {"an hour back, before since: no stable_for proceeds", -1h, "expect=healthy", 200},
      {"an hour back, before since: 10 s is more than 5 s", -1h, "expect=healthy&stable_for=5s",
       200},
  }));
  INFO(row.what);
  Snapshot snapshot = make_snapshot();
  cs::Verdict& verdict = snapshot.targets[0].verdict;
  // Healthy for 10 s on the monotonic clock; evaluated just now on the
  // stepped wall clock, so valid_until is not what holds the gate.
  const cs::Instant now{ticking(k_since).mono + 10s, k_since + 10s + row.step};
  verdict.evaluated_at = now.wall;
  verdict.valid_until = now.wall + 30s;
  const ApiOutcome outcome =
      handle_request(get(std::string("/v1/verdicts/dynamodb-use1?") + row.query), snapshot, now);
  const auto& response = std::get<ApiResponse>(outcome);
  CHECK(response.status == row.status);
  INFO(response.body);
  if (row.status == 423) {
    CHECK_THAT(response.body, Contains("not yet stable"));
  }
}

TEST_CASE("gate parameters are parsed strictly and refused with a detail", "[api]") {
  const auto [query, mentions] = GENERATE(table<std::string, std::string>({
      {"expect=maybe", "expect"},
      {"expect=disputed", "expect"},
      {"expect=healthy&generation=-1", "generation"},
      {"expect=healthy&generation=abc", "generation"},
      {"expect=healthy&generation=99999999999999999999999", "generation"},
      {"expect=healthy&stable_for=30", "stable_for"},
      {"expect=healthy&stable_for=soon", "stable_for"},
      {"stable_for=30s", "need expect"},
      {"generation=3", "need expect"},
      {"expect=healthy&frobnicate=1", "frobnicate"},
      {"expect=healthy&expect=unhealthy", "twice"},
  }));
  const ApiResponse response = answer(get("/v1/verdicts/dynamodb-use1?" + query));
  check_error(response, 400, "bad_query");
  CHECK_THAT(response.body, Contains(mentions));
}

TEST_CASE("history lists transitions newest first and honours limit", "[api]") {
  const json::object body = body_of(answer(get("/v1/verdicts/dynamodb-use1/history")));
  CHECK(body.at("target").as_string() == "dynamodb-use1");
  const json::array& items = body.at("history").as_array();
  REQUIRE(items.size() == 3);
  CHECK(keys_of(items[1].as_object()) ==
        std::set<std::string>{"generation", "at", "verdict", "held", "reason_code", "reason"});
  CHECK(items[0].at("generation").as_int64() == 5);
  CHECK(items[1].at("held").as_string() == "healthy");
  CHECK(items[1].at("reason_code").as_string() == "dispute");
  const json::object limited = body_of(answer(get("/v1/verdicts/dynamodb-use1/history?limit=1")));
  CHECK(limited.at("history").as_array().size() == 1);
  check_error(answer(get("/v1/verdicts/dynamodb-use1/history?limit=0")), 400, "bad_query");
  check_error(answer(get("/v1/verdicts/dynamodb-use1/history?limit=x")), 400, "bad_query");
  check_error(answer(get("/v1/verdicts/dynamodb-use1/history?since=1")), 400, "bad_query");
}

TEST_CASE("vantages and escalations are listed under the contract's names", "[api]") {
  const json::object vantages = body_of(answer(get("/v1/vantages")));
  const json::array& items = vantages.at("vantages").as_array();
  REQUIRE(items.size() == 2);
  CHECK(keys_of(items[0].as_object()) ==
        std::set<std::string>{"name", "node", "domain", "suspect", "suspect_reason", "last_seen"});
  CHECK(items[0].at("node").is_null());
  CHECK(items[0].at("last_seen").as_string() == "2025-10-20T06:00:40Z");
  CHECK(items[1].at("suspect").as_bool());
  CHECK(items[1].at("last_seen").is_null());

  const json::object escalations = body_of(answer(get("/v1/escalations")));
  const json::array& open = escalations.at("escalations").as_array();
  REQUIRE(open.size() == 1);
  CHECK(keys_of(open[0].as_object()) == std::set<std::string>{"id", "key", "kind", "target",
                                                              "vantage", "reason", "opened_at",
                                                              "acked_at", "acked_by", "silenced"});
  CHECK(open[0].at("id").as_int64() == 12);
  CHECK(open[0].at("kind").as_string() == "dispute");
  CHECK(open[0].at("vantage").is_null());
  CHECK(open[0].at("acked_at").is_null());
  check_error(answer(get("/v1/vantages?x=1")), 400, "bad_query");
}

TEST_CASE("healthz stays 200 while storage is degraded and says why", "[api]") {
  Snapshot snapshot = make_snapshot();
  json::object body = body_of(answer(get("/healthz"), snapshot));
  CHECK(keys_of(body) == std::set<std::string>{"status", "storage"});
  CHECK(body.at("storage").as_string() == "ok");
  snapshot.storage = StorageView{false, "disk full"};
  const ApiResponse degraded = answer(get("/healthz"), snapshot);
  CHECK(degraded.status == 200);
  body = body_of(degraded);
  CHECK(body.at("status").as_string() == "ok");
  CHECK(body.at("storage").as_string() == "degraded");
  CHECK(body.at("storage_reason").as_string() == "disk full");
}

TEST_CASE("readyz answers 503 with Retry-After until the first evaluation", "[api]") {
  Snapshot snapshot = make_snapshot();
  CHECK(answer(get("/readyz"), snapshot).status == 200);
  snapshot.ready = false;
  const ApiResponse response = answer(get("/readyz"), snapshot);
  check_error(response, 503, "not_ready");
  CHECK(response.header("Retry-After") == "1");
  CHECK(response.header("Cache-Control") == "no-store");
}

TEST_CASE("a matching If-None-Match answers 304 without a body", "[api]") {
  const ApiResponse first = answer(get("/v1/verdicts/dynamodb-use1"));
  const std::string etag = first.header("ETag");
  REQUIRE(etag.size() > 2);
  for (const std::string& condition : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    ApiRequest again = get("/v1/verdicts/dynamodb-use1");
    again.if_none_match = condition;
    const ApiResponse response = answer(again);
    CHECK(response.status == 304);
    CHECK(response.body.empty());
    CHECK(response.header("ETag") == etag);
    CHECK(response.header("Cache-Control") == "no-store");
  }
  ApiRequest stale = get("/v1/verdicts/dynamodb-use1");
  stale.if_none_match = "\"0000000000000000\"";
  CHECK(answer(stale).status == 200);
  // Another path, or another revision, is another tag.
  CHECK(answer(get("/v1/verdicts/dynamodb-use1/history")).header("ETag") != etag);
  Snapshot newer = make_snapshot();
  newer.revision = 8;
  CHECK(answer(get("/v1/verdicts/dynamodb-use1"), newer).header("ETag") != etag);
}

TEST_CASE("an etag changes with any byte of the body and with where the target ends", "[api]") {
  const std::string tag = detail::etag_for(7, "/v1/verdicts/a", "{}");
  CHECK(tag.size() == 18);
  CHECK(tag.front() == '"');
  CHECK(tag.back() == '"');
  CHECK(tag.find_first_not_of("0123456789abcdef", 1) == tag.size() - 1);
  CHECK(detail::etag_for(7, "/v1/verdicts/a", "{}") == tag);
  CHECK(detail::etag_for(8, "/v1/verdicts/a", "{}") != tag);
  CHECK(detail::etag_for(7, "/v1/verdicts/ab", "c") != detail::etag_for(7, "/v1/verdicts/a", "bc"));
  CHECK(detail::etag_for(7, "", "") != detail::etag_for(7, "", std::string(1, '\0')));
  // Where the target ends counts even when the bytes would pad alike.
  CHECK(detail::etag_for(7, "/t", "") != detail::etag_for(7, std::string("/t\0", 3), ""));
  CHECK(detail::etag_for(7, "/t", std::string(1, '\0')) !=
        detail::etag_for(7, std::string("/t\0", 3), ""));
  // Every length around the 8-byte steps, every position, one bit flipped:
  // the whole body counts, its tail included.
  std::set<std::string> seen;
  for (std::size_t length = 0; length <= 33; ++length) {
    std::string body(length, 'x');
    for (std::size_t i = 0; i < length; ++i) {
      body[i] = static_cast<char>('a' + i % 26);
    }
    const std::string base = detail::etag_for(1, "/t", body);
    CHECK(seen.insert(base).second);
    for (std::size_t i = 0; i < length; ++i) {
      std::string flipped = body;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
      INFO("length " << length << ", byte " << i);
      CHECK(detail::etag_for(1, "/t", flipped) != base);
    }
  }
}

TEST_CASE("watch answers at once when something is newer and otherwise asks to wait", "[api]") {
  const json::object body = body_of(answer(get("/v1/watch?since=6")));
  CHECK(body.at("revision").as_int64() == 7);
  CHECK(body.at("verdicts").as_array().size() == 3);
  CHECK(answer(get("/v1/watch")).status == 200);  // no revision yet: everything

  const auto wait_of = [](const std::string& target) {
    ApiOutcome outcome = handle_request(get(target), make_snapshot(), ticking(k_now));
    REQUIRE(std::holds_alternative<WatchRequest>(outcome));
    return std::get<WatchRequest>(outcome);
  };
  CHECK(wait_of("/v1/watch?since=7").since == 7);
  CHECK(wait_of("/v1/watch?since=7").wait == k_max_watch_wait);
  CHECK(wait_of("/v1/watch?since=7&timeout=5s").wait == 5s);
  CHECK(wait_of("/v1/watch?since=9&timeout=10m").wait == k_max_watch_wait);
  const ApiResponse nothing = answer(get("/v1/watch?since=7&timeout=0s"));
  CHECK(nothing.status == 204);
  CHECK(nothing.body.empty());
  check_error(answer(get("/v1/watch?since=seven")), 400, "bad_query");
  check_error(answer(get("/v1/watch?since=7&timeout=5")), 400, "bad_query");
  CHECK(watch_response(make_snapshot(), 7).status == 204);
  CHECK(watch_response(make_snapshot(), 6).status == 200);
}

TEST_CASE("an authorized recheck becomes a write with a capped deadline", "[api]") {
  WriteRequest write = write_of(authorized(request("POST", "/v1/verdicts/dynamodb-use1/recheck")));
  CHECK(write.kind == WriteRequest::Kind::Recheck);
  CHECK(write.target == "dynamodb-use1");
  CHECK(write.deadline == k_default_recheck_deadline);
  CHECK(write_of(authorized(request("POST", "/v1/verdicts/web/recheck?timeout=3s"))).deadline ==
        3s);
  CHECK(write_of(authorized(request("POST", "/v1/verdicts/web/recheck?timeout=1m"))).deadline ==
        k_max_recheck_deadline);
  check_error(answer(authorized(request("POST", "/v1/verdicts/web/recheck?timeout=0s"))), 400,
              "bad_query");
  check_error(answer(authorized(request("POST", "/v1/verdicts/web/recheck?wait=1s"))), 400,
              "bad_query");
  check_error(answer(authorized(request("POST", "/v1/verdicts/nope/recheck"))), 404,
              "unknown_target");
}

TEST_CASE("an override body becomes a write that expires ttl after now", "[api]") {
  const WriteRequest write = write_of(authorized(request(
      "PUT", "/v1/overrides/db%20primary%2F1",
      R"({"verdict": "unhealthy", "reason": "failover drill", "ttl": "30m", "by": "alice"})")));
  CHECK(write.kind == WriteRequest::Kind::SetOverride);
  CHECK(write.target == "db primary/1");
  CHECK(write.override_value.verdict == cs::VerdictKind::Unhealthy);
  CHECK(write.override_value.reason == "failover drill");
  CHECK(write.override_value.by == "alice");
  CHECK(write.override_value.set_at == k_now);
  CHECK(write.override_value.expires_at == k_now + 30min);
  const WriteRequest anonymous = write_of(authorized(request(
      "PUT", "/v1/overrides/web", R"({"verdict": "healthy", "reason": "r", "ttl": "7d"})")));
  CHECK(anonymous.override_value.by == "api");
  const WriteRequest clear = write_of(authorized(request("DELETE", "/v1/overrides/web")));
  CHECK(clear.kind == WriteRequest::Kind::ClearOverride);
  CHECK(clear.target == "web");
  // Text in any script is fine; only control and bidi characters are not.
  const WriteRequest accented = write_of(authorized(request(
      "PUT", "/v1/overrides/web",
      R"({"verdict": "healthy", "reason": "mise à jour — 维护 ✓", "ttl": "1m", "by": "zoë"})")));
  CHECK(accented.override_value.reason == "mise à jour — 维护 ✓");
  CHECK(accented.override_value.by == "zoë");
}

TEST_CASE("a maintenance body becomes a write that ends ttl after now", "[api][maintenance]") {
  const WriteRequest write =
      write_of(authorized(request("PUT", "/v1/maintenance/web",
                                  R"({"reason": "kernel upgrade", "ttl": "45m", "by": "alice"})")));
  CHECK(write.kind == WriteRequest::Kind::SetMaintenance);
  CHECK(write.target == "web");
  CHECK(write.maintenance_value.reason == "kernel upgrade");
  CHECK(write.maintenance_value.by == "alice");
  CHECK(write.maintenance_value.set_at == k_now);
  CHECK(write.maintenance_value.expires_at == k_now + 45min);
  const WriteRequest clear = write_of(authorized(request("DELETE", "/v1/maintenance/web")));
  CHECK(clear.kind == WriteRequest::Kind::ClearMaintenance);
  check_error(
      answer(authorized(request("PUT", "/v1/maintenance/nope", R"({"reason": "r", "ttl": "1m"})"))),
      404, "unknown_target");
  check_error(answer(authorized(request("POST", "/v1/maintenance/web"))), 405,
              "method_not_allowed");
  // Needs scope override, like an override (none configured here: disabled).
  check_error(answer(request("PUT", "/v1/maintenance/web", R"({"reason": "r", "ttl": "1m"})")), 403,
              "writes_disabled");
  for (const auto* body :
       {R"({"reason": "r", "ttl": "1m", "verdict": "healthy"})", R"({"reason": "", "ttl": "1m"})",
        R"({"reason": "r", "ttl": "8d"})", R"({"reason": "r\nforged", "ttl": "1m"})", "[]",
        R"({"reason": "r", "ttl": "1m", "ttl": "7d"})"}) {
    INFO(body);
    check_error(answer(authorized(request("PUT", "/v1/maintenance/web", body))), 400,
                "bad_request");
  }
}

TEST_CASE("a bad override body is refused 400 with what is wrong", "[api]") {
  const auto [body, mentions] = GENERATE(table<std::string, std::string>({
      {"", "JSON object"},
      {"not json", "JSON object"},
      {R"(["healthy"])", "JSON object"},
      {R"({"verdict": "healthy", "ttl": "30m"})", "reason"},
      {R"({"verdict": "healthy", "reason": "", "ttl": "30m"})", "reason"},
      {R"({"verdict": "healthy", "reason": 5, "ttl": "30m"})", "strings"},
      {R"({"verdict": "disputed", "reason": "r", "ttl": "30m"})", "verdict"},
      {R"({"reason": "r", "ttl": "30m"})", "verdict"},
      {R"({"verdict": "healthy", "reason": "r"})", "ttl"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "0s"})", "ttl"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "8d"})", "ttl"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "30"})", "ttl"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "by": ""})", "by"},
      // A newline or an escape sequence would forge a log line or rewrite a terminal.
      {R"({"verdict": "healthy", "reason": "r\n2026 NOTICE x", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r\u001b[2J", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "by": "a\rb"})", "control"},
      // C1 (NEL), a line separator and bidi overrides (Trojan Source) too.
      {R"({"verdict": "healthy", "reason": "r\u0085x", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r\u2028x", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "db \u202egnp.exe", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "by": "a\u2066b\u2069"})", "control"},
      {R"({"verdict": "healthy", "reason": "r\u061c", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r\u200f", "ttl": "1m"})", "control"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "until": "x"})", "until"},
      // A key given twice: json::parse would keep one silently.
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "verdict": "unhealthy"})",
       "field 'verdict' given twice"},
      {R"({"verdict": "healthy", "reason": "r", "ttl": "1m", "ttl": "7d"})",
       "field 'ttl' given twice"},
  }));
  const ApiResponse response = answer(authorized(request("PUT", "/v1/overrides/web", body)));
  check_error(response, 400, "bad_request");
  CHECK_THAT(response.body, Contains(mentions));
}

TEST_CASE("an acknowledge names who acks, and a bad id is refused", "[api]") {
  const WriteRequest write =
      write_of(authorized(request("POST", "/v1/escalations/12/ack", R"({"by": "alice"})")));
  CHECK(write.kind == WriteRequest::Kind::Acknowledge);
  CHECK(write.escalation_id == 12);
  CHECK(write.by == "alice");
  CHECK(write_of(authorized(request("POST", "/v1/escalations/12/ack"))).by == "api");
  check_error(answer(authorized(request("POST", "/v1/escalations/abc/ack"))), 400, "bad_request");
  check_error(answer(authorized(request("POST", "/v1/escalations/0/ack"))), 400, "bad_request");
  check_error(answer(authorized(request("POST", "/v1/escalations/1/ack", "{"))), 400,
              "bad_request");
  const ApiResponse forged =
      answer(authorized(request("POST", "/v1/escalations/1/ack", R"({"by": "a\nb"})")));
  check_error(forged, 400, "bad_request");
  CHECK_THAT(forged.body, Contains("control"));
}

TEST_CASE("a write's answer is the fresh verdict or the service's error", "[api]") {
  const auto snapshot = std::make_shared<const Snapshot>(make_snapshot());
  WriteRequest recheck;
  recheck.kind = WriteRequest::Kind::Recheck;
  recheck.target = "dynamodb-use1";
  ApiResponse response = write_response(
      recheck, ActionResult{200, "", "", snapshot, std::nullopt, std::nullopt, std::nullopt});
  CHECK(response.status == 200);
  CHECK(keys_of(body_of(response)) == verdict_keys());

  response = write_response(
      recheck,
      ActionResult{
          429, "rate_limited", "rechecked 2s ago", {}, std::nullopt, std::nullopt, std::nullopt});
  check_error(response, 429, "rate_limited");
  CHECK(response.header("Retry-After") == "1");
  check_error(
      write_response(
          recheck,
          ActionResult{504, "deadline", "too slow", {}, std::nullopt, std::nullopt, std::nullopt}),
      504, "deadline");

  WriteRequest ack;
  ack.kind = WriteRequest::Kind::Acknowledge;
  ack.escalation_id = 12;
  const json::object body = body_of(write_response(
      ack, ActionResult{200, "", "", snapshot, std::nullopt, std::nullopt, std::nullopt}));
  CHECK(body.at("id").as_int64() == 12);
  CHECK(body.at("acknowledged").as_bool());
}

TEST_CASE("a verdict body is rendered once per snapshot and served as is, the gate form fresh",
          "[api]") {
  const Snapshot snapshot = make_snapshot();
  const Snapshot other = make_snapshot();
  const auto first = answer(get("/v1/verdicts/dynamodb-use1"), snapshot);
  CHECK(first.status == 200);
  CHECK(first.body == to_body(verdict_json(snapshot.targets[0], snapshot.node)));
  // Rendered by that first request: a later render is never called.
  CHECK(snapshot.targets[0].body->get([] { return std::string("rendered twice"); }) == first.body);
  const auto second = answer(get("/v1/verdicts/dynamodb-use1"), snapshot);
  CHECK(second.body == first.body);
  CHECK(second.header("ETag") == first.header("ETag"));
  // The cached bytes are what goes out (a marker set before any request).
  CHECK(other.targets[0].body->get([] { return std::string(R"({"marker":true})"); }) ==
        R"({"marker":true})");
  CHECK(answer(get("/v1/verdicts/dynamodb-use1"), other).body == R"({"marker":true})");
  // The gate form is decided per request, never from the cache.
  CHECK(answer(get("/v1/verdicts/dynamodb-use1?expect=healthy"), other).body.find("\"gate\"") !=
        std::string::npos);
}

TEST_CASE("a verdict signer signs /v1/verdicts and every path below it, nothing else", "[api]") {
  for (const char* target :
       {"/v1/verdicts", "/v1/verdicts?x=1", "/v1/verdicts/web", "/v1/verdicts/web?expect=healthy",
        "/v1/verdicts/web/history", "/v1/verdicts/web/recheck?timeout=2s"}) {
    INFO(target);
    CHECK(is_signed_route(target));
  }
  for (const char* target : {"/v1/verdictsx", "/v1/vantages", "/v1/watch", "/metrics", "/healthz",
                             "/v1/escalations", "/", "", "/v1/verdict"}) {
    INFO(target);
    CHECK_FALSE(is_signed_route(target));
  }
}

TEST_CASE("GET /v1/audit lists the audit lines newest first, by limit and since, with a read token",
          "[api][audit]") {
  Snapshot snapshot = make_snapshot();
  snapshot.audit = {
      AuditView{at("2025-10-20T06:00:30Z"), "override_set", "oncall", "127.0.0.1:50312", "web", 0,
                "verdict=unhealthy ttl=30m by=alice reason=drill", "done", ""},
      AuditView{at("2025-10-20T06:00:20Z"), "ack", "oncall", "127.0.0.1:50313", "db primary/1", 12,
                "by=alice", "done", ""},
      AuditView{at("2025-10-20T06:00:10Z"), "recheck", "failover-script", "[::1]:40000", "web", 0,
                "deadline=5s", "refused", "rechecked less than 5s ago; retry in 3s"},
  };
  // Always behind a token with scope read, whatever read_requires_token says.
  check_error(answer(get("/v1/audit"), snapshot), 403, "reads_disabled");
  ApiRequest anonymous = get("/v1/audit");
  anonymous.configured = crosscheck::config::ScopeSet::all();
  check_error(answer(anonymous, snapshot), 401, "unauthorized");

  const json::object all = body_of(answer(authorized(get("/v1/audit")), snapshot));
  const json::array& lines = all.at("audit").as_array();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].at("action") == "override_set");
  CHECK(lines[0].at("at") == "2025-10-20T06:00:30Z");
  CHECK(lines[0].at("principal") == "oncall");
  CHECK(lines[0].at("client") == "127.0.0.1:50312");
  CHECK(lines[0].at("detail") == "verdict=unhealthy ttl=30m by=alice reason=drill");
  CHECK_FALSE(lines[0].as_object().contains("escalation_id"));
  CHECK(lines[1].at("escalation_id") == 12);
  CHECK(lines[2].at("outcome") == "refused");
  CHECK(lines[2].at("why") == "rechecked less than 5s ago; retry in 3s");

  CHECK(body_of(answer(authorized(get("/v1/audit?limit=1")), snapshot))
            .at("audit")
            .as_array()
            .size() == 1);
  CHECK(body_of(answer(authorized(get("/v1/audit?since=2025-10-20T06:00:20Z")), snapshot))
            .at("audit")
            .as_array()
            .size() == 2);
  check_error(answer(authorized(get("/v1/audit?limit=0")), snapshot), 400, "bad_query");
  check_error(answer(authorized(get("/v1/audit?limit=1001")), snapshot), 400, "bad_query");
  check_error(answer(authorized(get("/v1/audit?since=yesterday")), snapshot), 400, "bad_query");
  check_error(answer(authorized(get("/v1/audit?by=web")), snapshot), 400, "bad_query");
  const json::object web = body_of(answer(authorized(get("/v1/audit?target=web")), snapshot));
  REQUIRE(web.at("audit").as_array().size() == 2);
  CHECK(web.at("audit").as_array()[1].at("action") == "recheck");
}

TEST_CASE("rechecks of a target cannot crowd its override lines out of explain's audit query",
          "[api][audit]") {
  Snapshot snapshot = make_snapshot();
  // Newest first: 25 rechecks (refused ones cost a caller nothing) after the override.
  for (int i = 0; i < 25; ++i) {
    snapshot.audit.push_back(AuditView{at("2025-10-20T06:10:00Z"), "recheck", "failover-script",
                                       "127.0.0.1:40000", "web", 0, "deadline=5s", "refused",
                                       "rechecked less than 5s ago; retry in 3s"});
  }
  snapshot.audit.push_back(AuditView{at("2025-10-20T06:00:30Z"), "override_set", "oncall",
                                     "127.0.0.1:50312", "web", 0, "verdict=unhealthy", "done", ""});
  const json::object asked = body_of(
      answer(authorized(get("/v1/audit?limit=20&action=override_set,override_cleared&target=web")),
             snapshot));
  const json::array& lines = asked.at("audit").as_array();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].at("action") == "override_set");
  CHECK(lines[0].at("principal") == "oncall");
  CHECK(body_of(answer(authorized(get("/v1/audit?action=recheck")), snapshot))
            .at("audit")
            .as_array()
            .size() == 25);
  for (const char* bad : {"/v1/audit?action=", "/v1/audit?action=nope", "/v1/audit?action=recheck,",
                          "/v1/audit?action=,ack"}) {
    INFO(bad);
    check_error(answer(authorized(get(bad)), snapshot), 400, "bad_query");
  }
}

TEST_CASE("a write carries its caller: the token's name and the client's address", "[api][audit]") {
  ApiRequest req = authorized(request("DELETE", "/v1/overrides/web"));
  req.principal = "oncall";
  req.client_address = "127.0.0.1:50312";
  const WriteRequest write = write_of(req);
  CHECK(write.caller.principal == "oncall");
  CHECK(write.caller.client == "127.0.0.1:50312");
}

TEST_CASE("under mTLS a write's caller also names the client certificate", "[api][audit]") {
  ApiRequest req = authorized(request("DELETE", "/v1/overrides/web"));
  req.principal = "oncall";
  req.client_address = "127.0.0.1:50312";
  req.client_subject = "CN=failover-bot,O=ops";
  const WriteRequest write = write_of(req);
  CHECK(write.caller.principal == "oncall");
  CHECK(write.caller.client == "127.0.0.1:50312 cert=CN=failover-bot,O=ops");
}

TEST_CASE("a gate's nonce is letters, digits, '-' or '_', at most 128", "[api]") {
  const Snapshot snapshot = make_snapshot();
  for (const std::string& bad :
       std::vector<std::string>{"", "a%20b", "a.b", std::string(129, 'a')}) {
    INFO(bad);
    check_error(answer(get("/v1/verdicts/dynamodb-use1?expect=healthy&nonce=" + bad), snapshot),
                400, "bad_query");
  }
  CHECK(answer(get("/v1/verdicts/dynamodb-use1?expect=healthy&nonce=" + std::string(128, 'Z')),
               snapshot)
            .status == 200);
  CHECK(answer(get("/v1/verdicts/dynamodb-use1?nonce=x-y_1"), snapshot).status == 200);
}
