// The gate rule as a domain decision (the router maps it to HTTP statuses).
#include "consensus/gate.hpp"
#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

const WallTime k_since = *parse_rfc3339("2025-10-20T10:00:00Z");

Verdict healthy_verdict() {
  Verdict verdict;
  verdict.target = "db";
  verdict.kind = VerdictKind::Healthy;
  verdict.generation = 7;
  verdict.fresh = true;
  verdict.since = k_since;
  verdict.since_mono = MonoTime{k_since.time_since_epoch()};
  verdict.valid_until = k_since + 40s;
  return verdict;
}

Instant at(Duration after_since) {
  return Instant{MonoTime{k_since.time_since_epoch()} + after_since, k_since + after_since};
}

}  // namespace

TEST_CASE("the gate proceeds only on a fresh, valid, stable verdict as expected", "[gate]") {
  const auto verdict = healthy_verdict();
  CHECK(
      decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 30s, at(30s), GateFor::Any).answer ==
      GateAnswer::Proceed);
  CHECK(decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 30s, at(29'999ms), GateFor::Any)
            .answer == GateAnswer::Hold);  // not yet stable
  CHECK(decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 0s, at(40'001ms), GateFor::Any)
            .answer == GateAnswer::Hold);  // past valid_until
  const auto moved = decide_gate(verdict, VerdictKind::Healthy, 6, 0s, at(1s), GateFor::Any);
  CHECK(moved.answer == GateAnswer::GenerationMoved);
  CHECK(moved.decision() == "hold");
  CHECK(moved.reason == "generation moved from 6 to 7");
  const auto otherwise = decide_gate(verdict, VerdictKind::Unhealthy, 7, 0s, at(1s), GateFor::Any);
  CHECK(otherwise.answer == GateAnswer::Otherwise);
  CHECK(otherwise.decision() == "otherwise");
}

TEST_CASE("the gate holds on what the votes do not confirm now", "[gate]") {
  auto kept = healthy_verdict();
  kept.fresh = false;
  CHECK(decide_gate(kept, VerdictKind::Healthy, std::nullopt, 0s, at(1s), GateFor::Any).answer ==
        GateAnswer::Hold);
  auto disputed = healthy_verdict();
  disputed.kind = VerdictKind::Disputed;
  disputed.held = VerdictKind::Healthy;
  for (const auto expect : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
    CHECK(decide_gate(disputed, expect, std::nullopt, 0s, at(1s), GateFor::Any).answer ==
          GateAnswer::Hold);
  }
}

TEST_CASE("stable_for runs on the monotonic clock: a wall clock step moves no gate", "[gate]") {
  auto verdict = healthy_verdict();
  verdict.valid_until = k_since + 2h;  // still valid after the step: only stable_for decides
  auto stepped = at(5s);
  stepped.wall += 1h;  // NTP stepped forward: the verdict is 5 s old, not an hour
  CHECK(decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 30min, stepped, GateFor::Any)
            .answer == GateAnswer::Hold);
  auto from_json = verdict;
  from_json.since_mono.reset();  // a client's copy has only the wall clock
  CHECK(decide_gate(from_json, VerdictKind::Healthy, std::nullopt, 30min, stepped, GateFor::Any)
            .answer == GateAnswer::Proceed);
}

TEST_CASE("an unhealthy verdict proceeds only for the failover its scope supports", "[gate]") {
  auto verdict = healthy_verdict();
  verdict.kind = VerdictKind::Unhealthy;
  struct Row {
    FailureScope scope;
    GateFor for_;
    GateAnswer answer;
    std::optional<GateFor> instead;
  };
  const Row rows[] = {
      {FailureScope::Service, GateFor::Service, GateAnswer::Proceed, std::nullopt},
      {FailureScope::Service, GateFor::Dns, GateAnswer::Hold, GateFor::Service},
      {FailureScope::Service, GateFor::Any, GateAnswer::Proceed, std::nullopt},
      {FailureScope::Dns, GateFor::Service, GateAnswer::Hold, GateFor::Dns},
      {FailureScope::Dns, GateFor::Dns, GateAnswer::Proceed, std::nullopt},
      {FailureScope::Dns, GateFor::Any, GateAnswer::Proceed, std::nullopt},
      {FailureScope::None, GateFor::Service, GateAnswer::Hold, std::nullopt},
      {FailureScope::None, GateFor::Dns, GateAnswer::Hold, std::nullopt},
      {FailureScope::None, GateFor::Any, GateAnswer::Proceed, std::nullopt},
      {FailureScope::Observer, GateFor::Service, GateAnswer::Hold, std::nullopt},
      {FailureScope::Observer, GateFor::Dns, GateAnswer::Hold, std::nullopt},
      {FailureScope::Observer, GateFor::Any, GateAnswer::Proceed, std::nullopt},
  };
  for (const auto& row : rows) {
    verdict.scope = row.scope;
    const auto gate =
        decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 0s, at(1s), row.for_);
    INFO("scope " << to_string(row.scope) << ", for " << to_string(row.for_) << ": "
                  << gate.reason);
    CHECK(gate.answer == row.answer);
    CHECK((gate.code == GateCode::Scope) == (row.answer == GateAnswer::Hold));
    CHECK(gate.instead == row.instead);
  }
  verdict.scope = FailureScope::Dns;
  const auto held = decide_gate(verdict, VerdictKind::Unhealthy, 7, 0s, at(1s), GateFor::Service);
  CHECK(held.decision() == "hold");
  CHECK(held.reason.find("--for dns") != std::string::npos);
}

TEST_CASE("the failover asked for does not change what a healthy or held verdict decides",
          "[gate]") {
  auto verdict = healthy_verdict();
  verdict.scope = FailureScope::None;
  for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
    CHECK(decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 0s, at(1s), for_).answer ==
          GateAnswer::Proceed);
    const auto otherwise =
        decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 0s, at(1s), for_);
    CHECK(otherwise.answer == GateAnswer::Otherwise);
    CHECK(otherwise.code == GateCode::Otherwise);
  }
  auto disputed = verdict;
  disputed.kind = VerdictKind::Disputed;
  disputed.held = VerdictKind::Unhealthy;
  disputed.scope = FailureScope::Service;
  const auto held =
      decide_gate(disputed, VerdictKind::Unhealthy, std::nullopt, 0s, at(1s), GateFor::Service);
  CHECK(held.answer == GateAnswer::Hold);
  CHECK(held.code == GateCode::NotConfirmed);
}

TEST_CASE("gate names read back", "[gate]") {
  for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
    CHECK(parse_gate_for(to_string(for_)) == for_);
  }
  CHECK_FALSE(parse_gate_for("Service"));
  CHECK_FALSE(parse_gate_for(""));
  CHECK(to_string(GateCode::Scope) == "scope");
}

TEST_CASE("an unreachable verdict holds every gate and names the parent", "[gate]") {
  auto verdict = healthy_verdict();
  verdict.kind = VerdictKind::Unreachable;
  verdict.held = VerdictKind::Healthy;
  verdict.reason_code = ReasonCode::Dependency;
  verdict.reason = "parent lb-eu is unhealthy; 3 of 3 domains down (a, b, c); quorum 2";
  for (const auto expect : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
    for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
      const auto gate = decide_gate(verdict, expect, 7, 0s, at(1s), for_);
      CHECK(gate.answer == GateAnswer::Hold);
      CHECK(gate.code == GateCode::Unreachable);
      CHECK(gate.decision() == "hold");
      CHECK(gate.reason ==
            "verdict is unreachable: parent lb-eu is unhealthy; the failover belongs to the "
            "parent: gate the parent instead");
    }
  }
  CHECK(to_string(GateCode::Unreachable) == "unreachable");
  CHECK(to_string(VerdictKind::Unreachable) == "unreachable");
  CHECK(parse_verdict_kind("unreachable") == VerdictKind::Unreachable);
  CHECK(to_string(ReasonCode::Dependency) == "dependency");
}
