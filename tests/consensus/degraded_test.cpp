// The degraded verdict (docs/degraded.md): the latency objective's vote,
// the domain vote with degraded in it, D/G/quorum, the gate rule, and
// latency inflation seen by one domain only as an observer problem.
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"
#include "consensus/hysteresis.hpp"
#include "consensus/quorum.hpp"
#include "consensus/suspicion.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

Evidence vote(const std::string& vantage, const std::string& domain, Vote value) {
  Evidence item;
  item.vantage = vantage;
  item.domain = domain;
  item.vote = value;
  item.raw_vote = value;
  return item;
}

Observation passing(Duration when, double latency_ms) {
  Observation observation;
  observation.target = "t";
  observation.vantage = "v";
  observation.outcome = Outcome::Up;
  observation.at = Instant{MonoTime{when}, WallTime{when}};
  observation.latency_ms = latency_ms;
  return observation;
}

LatencyObjective p90(Duration threshold, Duration window = 60s) {
  return LatencyObjective{0.9, threshold, window};
}

Policy slow_policy() {
  auto policy = make_policy(k_domains, {"db"});
  policy.targets.front().latency = p90(300ms);
  return policy;
}

std::vector<std::pair<std::string, double>> latencies(double cloudflare, double quad9,
                                                      double google) {
  return {{"cloudflare", cloudflare}, {"quad9", quad9}, {"google", google}};
}

}  // namespace

TEST_CASE("nearest rank: the smallest sample with the quantile's share at or below it",
          "[degraded]") {
  CHECK(nearest_rank({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9) == 9);
  CHECK(nearest_rank({5, 4, 3, 2, 1}, 0.9) == 5);
  CHECK(nearest_rank({5, 4, 3, 2, 1}, 0.5) == 3);
  CHECK(nearest_rank({7}, 0.999) == 7);
}

TEST_CASE("a vantage votes degraded only with 5 passing checks in the window over the objective",
          "[degraded]") {
  const HysteresisRules rules{1, 3, 30s, p90(300ms, 50s)};
  VoteTracker tracker;
  for (int i = 0; i < 4; ++i) {
    tracker.observe(passing(Duration{i * 10'000}, 900), rules);
  }
  // Four slow checks: no latency vote yet, the vote is up.
  CHECK(tracker.vote_at(MonoTime{30s}, rules) == Vote::Up);
  CHECK_FALSE(tracker.latency_at(MonoTime{30s}, rules));
  tracker.observe(passing(40s, 900), rules);
  CHECK(tracker.vote_at(MonoTime{40s}, rules) == Vote::Degraded);
  CHECK(tracker.latency_at(MonoTime{40s}, rules) == Approx(900));
  // Fast checks push the slow ones out of the window: up again once the
  // quantile is under the threshold (p90 of 5: the largest).
  for (int i = 5; i <= 10; ++i) {
    tracker.observe(passing(Duration{i * 10'000}, 20), rules);
    // The window [now - 50 s, now] holds the slow check at 40 s until 100 s.
    const bool slow_left = i < 10;
    CHECK((tracker.vote_at(MonoTime{Duration{i * 10'000}}, rules) == Vote::Degraded) == slow_left);
  }
  // Exactly at the threshold is not over it.
  VoteTracker edge;
  for (int i = 0; i < 5; ++i) {
    edge.observe(passing(Duration{i * 10'000}, 300), rules);
  }
  CHECK(edge.vote_at(MonoTime{40s}, rules) == Vote::Up);
}

TEST_CASE("failed checks and observer errors give no latency sample, and a down stays down",
          "[degraded]") {
  const HysteresisRules rules{1, 1, 30s, p90(300ms, 50s)};
  VoteTracker tracker;
  for (int i = 0; i < 5; ++i) {
    auto failed = passing(Duration{i * 10'000}, 2'000);  // a timeout's time, not the service's
    failed.outcome = i % 2 == 0 ? Outcome::Down : Outcome::ObserverError;
    tracker.observe(failed, rules);
  }
  CHECK_FALSE(tracker.latency_at(MonoTime{40s}, rules));
  CHECK(tracker.vote_at(MonoTime{40s}, rules) == Vote::Down);
  // A NaN or negative latency is not a sample either.
  VoteTracker odd;
  for (int i = 0; i < 5; ++i) {
    odd.observe(passing(Duration{i * 10'000}, i % 2 == 0 ? std::nan("") : -5), rules);
  }
  CHECK_FALSE(odd.latency_at(MonoTime{40s}, rules));
}

TEST_CASE("a vote that went stale starts its latency window over", "[degraded]") {
  const HysteresisRules rules{1, 3, 15s, p90(300ms, 120s)};
  VoteTracker tracker;
  for (int i = 0; i < 5; ++i) {
    tracker.observe(passing(Duration{i * 10'000}, 900), rules);
  }
  REQUIRE(tracker.vote_at(MonoTime{40s}, rules) == Vote::Degraded);
  tracker.observe(passing(70s, 900), rules);  // 30 s of silence: stale in between
  CHECK(tracker.vote_at(MonoTime{70s}, rules) == Vote::Up);
  CHECK_FALSE(tracker.latency_at(MonoTime{70s}, rules));
}

TEST_CASE("the domain vote: degraded with no up vantage, split when up meets degraded",
          "[degraded]") {
  const std::vector<Evidence> evidence{
      vote("a1", "alpha", Vote::Degraded), vote("a2", "alpha", Vote::Down),
      vote("b1", "beta", Vote::Degraded),  vote("b2", "beta", Vote::Up),
      vote("c", "gamma", Vote::Down),      vote("d", "delta", Vote::Up)};
  const auto counts = tally(evidence, {"alpha", "beta", "gamma", "delta"}, Quorum{}, Quorum{});
  CHECK(counts.degraded_domains == std::vector<std::string>{"alpha"});
  CHECK(counts.split_domains == std::vector<std::string>{"beta"});
  CHECK(counts.down_domains == std::vector<std::string>{"gamma"});
  CHECK(counts.up_domains == std::vector<std::string>{"delta"});
  CHECK(counts.down_quorum == 3);
  // D = 1, G = 1: below the quorum of 3, a dispute.
  CHECK(raw_verdict(counts) == VerdictKind::Disputed);
}

TEST_CASE("unhealthy at D >= quorum, degraded at D < quorum <= D + G, disputed below",
          "[degraded]") {
  struct Row {
    int down;
    int degraded;
    int up;
    VerdictKind expected;
  };
  const auto row =
      GENERATE(Row{2, 0, 1, VerdictKind::Unhealthy}, Row{2, 1, 0, VerdictKind::Unhealthy},
               Row{1, 1, 1, VerdictKind::Degraded}, Row{0, 2, 1, VerdictKind::Degraded},
               Row{0, 3, 0, VerdictKind::Degraded}, Row{0, 1, 2, VerdictKind::Disputed},
               Row{1, 0, 2, VerdictKind::Disputed}, Row{0, 0, 3, VerdictKind::Healthy},
               Row{0, 0, 1, VerdictKind::Unknown});
  std::vector<Evidence> evidence;
  std::vector<std::string> domains;
  int n = 0;
  for (const auto& [count, value] :
       {std::pair{row.down, Vote::Down}, std::pair{row.degraded, Vote::Degraded},
        std::pair{row.up, Vote::Up}}) {
    for (int i = 0; i < count; ++i) {
      domains.push_back("d" + std::to_string(n));
      evidence.push_back(vote("v" + std::to_string(n), domains.back(), value));
      ++n;
    }
  }
  while (domains.size() < 3) {
    domains.push_back("d" + std::to_string(n++));  // known, without a vote
  }
  const auto counts = tally(evidence, domains, Quorum{}, Quorum{});
  INFO(describe(counts, raw_verdict(counts)));
  CHECK(raw_verdict(counts) == row.expected);
}

TEST_CASE("the engine: healthy, degraded when a quorum sees it slow, unhealthy when down",
          "[degraded]") {
  World world(slow_policy());
  for (int i = 0; i < 5; ++i) {
    world.latency_round("db", latencies(20, 25, 30));
  }
  REQUIRE(world.verdict("db").kind == VerdictKind::Healthy);
  const auto healthy_generation = world.verdict("db").generation;
  // Two of three domains see it slow: after the window fills, degraded.
  for (int i = 0; i < 6; ++i) {
    world.latency_round("db", latencies(900, 950, 30));
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Degraded);
  CHECK(verdict.fresh);
  CHECK_FALSE(verdict.held);
  CHECK(verdict.generation == healthy_generation + 1);
  CHECK(verdict.scope == FailureScope::Service);
  CHECK(verdict.votes.degraded == 2);
  CHECK(verdict.reason ==
        "2 of 3 domains degraded (cloudflare, quad9): latency objective broken; down quorum 2");
  CHECK(world.count_events(EventKind::DisputeOpened) == 0);
  const auto& slow = verdict.evidence.front();
  REQUIRE(slow.window_latency_ms);
  CHECK(*slow.window_latency_ms == Approx(900));
  // Degraded is confirmed: a later dispute holds it (once quad9's window
  // no longer holds its slow checks: until then quad9 is degraded and
  // cloudflare down, D + G = 2, still degraded).
  for (int i = 0; i < 10; ++i) {
    world.round("db",
                {{"cloudflare", Outcome::Down}, {"quad9", Outcome::Up}, {"google", Outcome::Up}});
  }
  CHECK(world.verdict("db").kind == VerdictKind::Disputed);
  CHECK(world.verdict("db").held == VerdictKind::Degraded);
}

TEST_CASE("one domain slow alone is a dispute, not degraded", "[degraded]") {
  World world(slow_policy());
  for (int i = 0; i < 12; ++i) {
    world.latency_round("db", latencies(900, 20, 30));
  }
  CHECK(world.verdict("db").kind == VerdictKind::Disputed);
  CHECK(world.verdict("db").held == VerdictKind::Healthy);
  CHECK(world.count_events(EventKind::DisputeOpened) == 1);
}

TEST_CASE("a target without an objective never goes degraded, however slow", "[degraded]") {
  World world(make_policy(k_domains, {"db"}));
  for (int i = 0; i < 12; ++i) {
    world.latency_round("db", latencies(1'900, 1'900, 1'900));
  }
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
}

TEST_CASE("one domain slow on most targets is a suspect observer, not a degraded service",
          "[degraded]") {
  auto policy = make_policy(k_domains, {"a", "b", "c", "d"});
  for (auto& target : policy.targets) {
    target.latency = p90(300ms);
  }
  World world(policy);
  for (int i = 0; i < 12; ++i) {
    for (const auto* target : {"a", "b", "c", "d"}) {
      for (const auto& [vantage, latency] : latencies(900, 20, 30)) {
        Observation observation;
        observation.target = target;
        observation.vantage = vantage;
        observation.at = world.now();
        observation.latency_ms = latency;
        world.engine().observe(observation);
      }
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.engine().suspects().contains("cloudflare"));
  CHECK(world.engine().suspects().at("cloudflare") ==
        "alone sees 4 of 4 targets down or slow while other domains see them up "
        "(suspect_fraction 0.5)");
  for (const auto* target : {"a", "b", "c", "d"}) {
    CHECK(world.verdict(target).kind == VerdictKind::Healthy);
  }
}

TEST_CASE("the gate on degraded: hold for unhealthy unless allowed, otherwise for healthy",
          "[degraded]") {
  World world(slow_policy());
  for (int i = 0; i < 12; ++i) {
    world.latency_round("db", latencies(900, 950, 980));
  }
  const auto& verdict = world.verdict("db");
  REQUIRE(verdict.kind == VerdictKind::Degraded);
  const auto now = world.now();
  const auto held =
      decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Service);
  CHECK(held.answer == GateAnswer::Hold);
  CHECK(held.code == GateCode::Degraded);
  CHECK(held.reason.starts_with("verdict is degraded: 3 of 3 domains degraded"));
  const auto allowed =
      decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Service, true);
  CHECK(allowed.answer == GateAnswer::Proceed);
  CHECK(allowed.reason ==
        "verdict is degraded, allowed for unhealthy (allow_degraded), scope service");
  CHECK(decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Dns, true)
            .code == GateCode::Scope);
  const auto healthy =
      decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 0s, now, GateFor::Service, true);
  CHECK(healthy.answer == GateAnswer::Otherwise);
  // stable_for applies to an allowed degraded as to unhealthy.
  CHECK(decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 1h, now, GateFor::Service, true)
            .code == GateCode::Unstable);
}

TEST_CASE("a group whole only with its degraded members is degraded", "[degraded]") {
  auto policy = make_policy(k_domains, {"a", "b"});
  for (auto& target : policy.targets) {
    target.latency = p90(300ms);
  }
  GroupPolicy pool;
  pool.name = "pool";
  pool.members = {"a", "b"};
  pool.healthy_at_least = 2;
  policy.groups.push_back(pool);
  World world(policy);
  for (int i = 0; i < 12; ++i) {
    world.latency_round("a", latencies(20, 25, 30), 0s);
    world.latency_round("b", latencies(900, 950, 980));
  }
  REQUIRE(world.verdict("a").kind == VerdictKind::Healthy);
  REQUIRE(world.verdict("b").kind == VerdictKind::Degraded);
  const auto& group = world.verdict("group:pool");
  CHECK(group.kind == VerdictKind::Degraded);
  CHECK(group.fresh);
  CHECK(group.scope == FailureScope::Service);
  CHECK_THAT(group.reason, Catch::Contains("1 degraded (latency objective broken)"));
}

TEST_CASE("a verdict restored degraded holds until the latency windows can judge again",
          "[degraded]") {
  auto policy = slow_policy();
  // What make_policy gives a latency target: its window + timeout.
  policy.targets.front().restore_hold = 62s;
  World world(policy);
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Degraded;
  restored.generation = 4;
  restored.since = world.now().wall - 1h;
  restored.reason_code = ReasonCode::Quorum;
  REQUIRE(world.engine().restore(restored));
  for (int i = 0; i < 6; ++i) {
    world.latency_round("db", latencies(900, 950, 980));
    const auto& verdict = world.verdict("db");
    // Never a flash of healthy while the windows fill: the restored verdict
    // stands (not fresh), then the votes confirm it.
    CHECK(verdict.kind == VerdictKind::Degraded);
    CHECK(verdict.generation == 4);
  }
  CHECK(world.verdict("db").fresh);
  CHECK(world.verdict("db").reason_code == ReasonCode::Quorum);
  CHECK(world.count_events(EventKind::VerdictChanged) == 0);
}
