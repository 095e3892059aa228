// Traces read back from JSON lines exactly, and the kept regression traces
// in regressions/ replay without a violation.
#include "invariant_trace_io.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>
#include "invariant_world.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cs = crosscheck::consensus;
using crosscheck::testing::from_jsonl;
using crosscheck::testing::run_trace;
using crosscheck::testing::RunOptions;
using crosscheck::testing::Step;
using crosscheck::testing::to_jsonl;
using crosscheck::testing::Trace;

namespace {

const cs::WallTime k_start = *cs::parse_rfc3339("2025-10-20T06:00:00Z");

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Trace load(const std::filesystem::path& path) {
  std::string error;
  auto trace = from_jsonl(read_file(path), error);
  INFO(path.string() << ": " << error);
  REQUIRE(trace);
  return std::move(*trace);
}

std::vector<std::filesystem::path> regressions() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(CROSSCHECK_REGRESSIONS_DIR)) {
    if (entry.path().extension() == ".jsonl") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Step step_at(Step::Kind kind, const cs::Instant& at, std::string target = "") {
  Step step;
  step.kind = kind;
  step.at = at;
  step.target = std::move(target);
  return step;
}

// Every field the format carries, none at its default where it has one.
Trace hand_made() {
  Trace trace;
  trace.seed = 42;
  auto& policy = trace.policy;
  cs::TargetPolicy target;
  target.name = "web";
  target.canary = true;
  target.down_quorum.count = 3;
  target.cert_min_remaining = std::chrono::days{14};
  target.rrsig_min_remaining = std::chrono::hours{36};
  policy.targets = {target, cs::TargetPolicy{}};
  policy.targets[1].name = "api";
  policy.vantages = {{"a", "", "dc-a"}, {"b", "", "dc-b"}};
  policy.peers = {"peer0", "peer1"};
  policy.peer_domains["peer0"] = {"dc-c", "dc-d"};
  policy.suspect_fraction = 0.21261453705003622;  // Boost 1.81 reads this number 1 bit off
  policy.max_unhealthy_fraction = 1.0 / 3;
  const cs::Instant at{cs::MonoTime{cs::Duration{5'000}}, k_start};  // mono != wall
  auto observe = step_at(Step::Kind::Observe, at);
  observe.observation = {"web",
                         "a",
                         at + cs::Duration{250},
                         cs::Outcome::Down,
                         cs::Layer::Dns,
                         cs::LastKnownGood::Reachable,
                         12.5,
                         "dns: NOERROR, \"empty\"\n",
                         {"192.0.2.1", "2001:db8::1"}};
  observe.observation.cert_not_after = k_start + std::chrono::days{30};
  observe.observation.rrsig_expires = k_start + std::chrono::hours{20};
  auto add = step_at(Step::Kind::AddRemote, at);
  add.vantage = {"peer0/v0", "peer0", "dc-c"};
  auto remote = step_at(Step::Kind::Remote, at);
  remote.remote = {"web", "peer0/v0", cs::Vote::Down, at, observe.observation};
  auto unobserved = step_at(Step::Kind::Remote, at);
  unobserved.remote = {"api", "peer0/v0", cs::Vote::Unknown, std::nullopt, std::nullopt};
  auto set = step_at(Step::Kind::SetOverride, at, "api");
  set.override_value = {cs::VerdictKind::Unhealthy, "drill", "ops", k_start,
                        k_start + cs::Duration{60'000}};
  trace.steps = {observe,
                 add,
                 remote,
                 unobserved,
                 set,
                 step_at(Step::Kind::ClearOverride, at, "api"),
                 step_at(Step::Kind::Restart, at),
                 step_at(Step::Kind::Evaluate, at + cs::Duration{1})};
  return trace;
}

void check_same(const cs::Observation& actual, const cs::Observation& expected) {
  CHECK(actual.target == expected.target);
  CHECK(actual.vantage == expected.vantage);
  CHECK(actual.at == expected.at);
  CHECK(actual.outcome == expected.outcome);
  CHECK(actual.layer == expected.layer);
  CHECK(actual.last_known_good == expected.last_known_good);
  CHECK(actual.latency_ms == expected.latency_ms);
  CHECK(actual.detail == expected.detail);
  CHECK(actual.answers == expected.answers);
  CHECK(actual.cert_not_after == expected.cert_not_after);
  CHECK(actual.rrsig_expires == expected.rrsig_expires);
}

}  // namespace

TEST_CASE("a hand-made trace with a wall clock step reads back field by field",
          "[invariant][trace]") {
  const auto expected = hand_made();
  std::string error;
  const auto back = from_jsonl("# a comment\n\n" + to_jsonl(expected), error);
  INFO(error);
  REQUIRE(back);
  CHECK(back->seed == 42);
  const auto& policy = back->policy;
  REQUIRE(policy.targets.size() == 2);
  CHECK(policy.targets[0].canary);
  CHECK(policy.targets[0].down_quorum.count == 3);
  CHECK_FALSE(policy.targets[0].up_quorum.count);
  CHECK(policy.targets[0].cert_min_remaining == std::chrono::days{14});
  CHECK(policy.targets[0].rrsig_min_remaining == std::chrono::hours{36});
  CHECK_FALSE(policy.targets[1].cert_min_remaining);
  CHECK_FALSE(policy.targets[1].rrsig_min_remaining);
  CHECK(policy.targets[1].stale_after == expected.policy.targets[1].stale_after);
  CHECK(policy.targets[1].restore_hold == expected.policy.targets[1].restore_hold);
  CHECK(policy.vantages.size() == 2);
  CHECK(policy.vantages[1].domain == "dc-b");
  CHECK(policy.peers == expected.policy.peers);
  CHECK(policy.peer_domains == expected.policy.peer_domains);
  CHECK(policy.suspect_fraction == expected.policy.suspect_fraction);
  CHECK(policy.max_unhealthy_fraction == expected.policy.max_unhealthy_fraction);
  CHECK(policy.suspicion_grace == expected.policy.suspicion_grace);
  CHECK(policy.flap_window == expected.policy.flap_window);
  REQUIRE(back->steps.size() == expected.steps.size());
  for (std::size_t i = 0; i < expected.steps.size(); ++i) {
    INFO("step " << i);
    const auto& actual = back->steps[i];
    const auto& step = expected.steps[i];
    CHECK(actual.kind == step.kind);
    CHECK(actual.at == step.at);
    CHECK(actual.target == step.target);
    check_same(actual.observation, step.observation);
    CHECK(actual.remote.target == step.remote.target);
    CHECK(actual.remote.vantage == step.remote.vantage);
    CHECK(actual.remote.vote == step.remote.vote);
    CHECK(actual.remote.observed_at == step.remote.observed_at);
    REQUIRE(actual.remote.last.has_value() == step.remote.last.has_value());
    if (step.remote.last) {
      check_same(*actual.remote.last, *step.remote.last);
    }
    CHECK(actual.vantage.name == step.vantage.name);
    CHECK(actual.vantage.node == step.vantage.node);
    CHECK(actual.vantage.domain == step.vantage.domain);
    CHECK(actual.override_value.verdict == step.override_value.verdict);
    CHECK(actual.override_value.reason == step.override_value.reason);
    CHECK(actual.override_value.by == step.override_value.by);
    CHECK(actual.override_value.set_at == step.override_value.set_at);
    CHECK(actual.override_value.expires_at == step.override_value.expires_at);
  }
  CHECK(to_jsonl(*back) == to_jsonl(expected));
}

TEST_CASE("a trace written before expiries were watched reads back without them",
          "[invariant][trace]") {
  // The first lines of a trace kept before certificates and DNSSEC
  // signatures existed: no *_min_remaining, no cert_not_after_ms or
  // rrsig_expires_ms.
  const std::string old =
      R"({"seed":7,"policy":{"targets":[{"name":"t0","canary":false,"rise":2,"fall":2,)"
      R"("stale_after_ms":4603,"dispute_grace_ms":1301,"restore_hold_ms":3143,)"
      R"("down_quorum":"majority","up_quorum":"majority"}],"vantages":[{"name":"d0v0",)"
      R"("domain":"d0"}],"peers":[],"peer_domains":{},"suspect_fraction":"0.5",)"
      R"("suspicion_grace_ms":0,"flap_limit":3,"flap_window_ms":60000,)"
      R"("max_unhealthy_fraction":"0.5","blast_radius_min_targets":3}})"
      "\n"
      R"({"t":"2025-10-20T06:00:01Z","observe":{"target":"t0","vantage":"d0v0",)"
      R"("at":"2025-10-20T06:00:01Z","outcome":"up"}})"
      "\n";
  std::string error;
  const auto back = from_jsonl(old, error);
  INFO(error);
  REQUIRE(back);
  REQUIRE(back->policy.targets.size() == 1);
  CHECK_FALSE(back->policy.targets[0].cert_min_remaining);
  CHECK_FALSE(back->policy.targets[0].rrsig_min_remaining);
  REQUIRE(back->steps.size() == 1);
  CHECK_FALSE(back->steps[0].observation.cert_not_after);
  CHECK_FALSE(back->steps[0].observation.rrsig_expires);
  CHECK(to_jsonl(*back) == old);
}

TEST_CASE("a trace file that is not exactly a trace is refused with its line number",
          "[invariant][trace]") {
  const auto header = to_jsonl(Trace{}) + "# a comment\n";
  const auto step = std::string(R"({"t": "2025-10-20T06:00:00Z", )");
  const auto [text, message] = GENERATE_COPY(table<std::string, std::string>({
      {"", "no policy line"},
      {"# only a comment\n", "no policy line"},
      {R"({"seed": 1})", "line 1: header.policy is missing"},
      {header + "{\"t\": ", "line 3: not valid JSON"},
      {header + step + R"("evaluate": true, "restart": true})",
       "line 3: step.evaluate is a second kind of step"},
      {header + step + R"("evaluate": false})", "line 3: step.evaluate must be true"},
      {header + step + R"("sleep": true})", "line 3: step names none of"},
      {header + step + R"("observe": {"target": "t", "vantage": "v", )" +
           R"("at": "2025-10-20T06:00:00Z", "outcome": "sideways"}})",
       "line 3: observe.outcome 'sideways' is not up, down or observer_error"},
      {header + step + R"("observe": {"target": "t", "vantage": "v", )" +
           R"("at": "yesterday", "outcome": "up"}})",
       "line 3: observe.at is not an RFC 3339 time"},
      {header + step + R"("clear_override": "t", "by": "me"})", "line 3: step.by is not a field"},
      {header + step + R"("add_remote": {"name": "p/v", "domian": "d"}})",
       "line 3: add_remote.domain is missing"},
  }));
  std::string error;
  INFO(text);
  CHECK_FALSE(from_jsonl(text, error));
  CHECK_THAT(error, Catch::Contains(message));
}

TEST_CASE("every kept regression trace replays without breaking an invariant",
          "[invariant][regression]") {
  const auto files = regressions();
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    const auto trace = load(path);
    const auto result = run_trace(trace);
    INFO(path.filename().string() << ": " << result.violation.value_or("no violation"));
    REQUIRE(trace.evaluations() > 0);  // a trace that judges nothing proves nothing
    CHECK(result.evaluations == trace.evaluations());
    CHECK_FALSE(result.violation);
  }
}

TEST_CASE(
    "the kept restored-flapping-kind trace breaks an invariant when storage forgets the "
    "open escalation's kind",
    "[invariant][regression]") {
  const auto trace =
      load(std::filesystem::path(CROSSCHECK_REGRESSIONS_DIR) / "restored-flapping-kind.jsonl");
  const auto result = run_trace(trace, RunOptions{.restore_escalation_kind = false});
  REQUIRE(result.violation);
  CHECK_THAT(*result.violation, Catch::Contains("resolved by the wrong kind"));
  CHECK(result.failed_step + 1 == trace.steps.size());  // shrunk: the last step fails
}
