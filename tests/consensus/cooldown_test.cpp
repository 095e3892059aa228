// The cooldown after a recorded action: the gate holds what would proceed
// (and nothing else changes), and the engine carries the cooldown on the
// verdict until it ends on the monotonic clock or is cleared. Injected
// clock only.
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <random>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

std::vector<std::pair<std::string, Outcome>> all(Outcome outcome) {
  std::vector<std::pair<std::string, Outcome>> out;
  for (const auto& domain : k_domains) {
    out.emplace_back(domain, outcome);
  }
  return out;
}

CooldownView cooldown_from(WallTime at, Duration length) {
  return CooldownView{"oracle-a-3", "failover-bot", "promote db-2", at, at + length};
}

}  // namespace

TEST_CASE("a cooldown turns a proceed into a hold and leaves every other answer alone",
          "[cooldown][gate]") {
  World world(make_policy(k_domains, {"db"}));
  for (int i = 0; i < 3; ++i) {
    world.round("db", all(Outcome::Down), 10s);
  }
  const auto plain = world.verdict("db");
  REQUIRE(plain.kind == VerdictKind::Unhealthy);
  REQUIRE(plain.scope == FailureScope::Dns);  // the world's downs fail at DNS
  const auto now = world.now();
  REQUIRE(decide_gate(plain, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Dns).answer ==
          GateAnswer::Proceed);

  auto cooled = plain;
  cooled.cooldown = cooldown_from(now.wall - 1min, 1h);
  const auto held =
      decide_gate(cooled, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Dns);
  CHECK(held.answer == GateAnswer::Hold);
  CHECK(held.code == GateCode::Cooldown);
  CHECK(to_string(held.code) == "cooldown");
  CHECK_THAT(held.reason,
             Catch::Contains("after action oracle-a-3 (promote db-2, by failover-bot"));
  CHECK_THAT(held.reason, Catch::Contains("POST /v1/actions/oracle-a-3/ack"));
  // What the evidence says is still the answer where it is not a proceed.
  CHECK(decide_gate(cooled, VerdictKind::Healthy, std::nullopt, 0s, now, GateFor::Service).code ==
        GateCode::Otherwise);
  CHECK(decide_gate(cooled, VerdictKind::Unhealthy, 99, 0s, now, GateFor::Dns).code ==
        GateCode::GenerationMoved);
  CHECK(decide_gate(cooled, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Service).code ==
        GateCode::Scope);
  auto kept = cooled;
  kept.fresh = false;
  CHECK(decide_gate(kept, VerdictKind::Unhealthy, std::nullopt, 0s, now, GateFor::Any).code ==
        GateCode::NotFresh);
  // A fail-back is an action too: a healthy verdict in cooldown holds.
  auto healthy = cooled;
  healthy.kind = VerdictKind::Healthy;
  healthy.scope = FailureScope::None;
  CHECK(decide_gate(healthy, VerdictKind::Healthy, std::nullopt, 0s, now, GateFor::Service).code ==
        GateCode::Cooldown);
}

TEST_CASE("the engine carries a cooldown on the verdict until it ends or is cleared",
          "[cooldown]") {
  World world(make_policy(k_domains, {"db", "web"}));
  world.round("db", all(Outcome::Up), 1s);
  CHECK_FALSE(world.engine().set_cooldown("nope", cooldown_from(world.now().wall, 1h)));
  REQUIRE(world.engine().set_cooldown("db", cooldown_from(world.now().wall, 10min)));
  world.evaluate();
  REQUIRE(world.verdict("db").cooldown);
  CHECK(world.verdict("db").cooldown->action_id == "oracle-a-3");
  CHECK_FALSE(world.verdict("web").cooldown);
  const auto generation = world.verdict("db").generation;

  SECTION("it ends at until on the monotonic clock, whatever the wall clock does") {
    world.clock().step_wall(-1h);
    world.clock().advance(9min);
    world.evaluate();
    CHECK(world.verdict("db").cooldown);
    world.clock().advance(1min);
    world.evaluate();
    CHECK_FALSE(world.verdict("db").cooldown);
  }
  SECTION("a wall clock step forward does not end it early") {
    world.clock().step_wall(2h);
    world.clock().advance(1min);
    world.evaluate();
    CHECK(world.verdict("db").cooldown);
  }
  SECTION("clearing it (an ack) ends it at the next evaluation") {
    REQUIRE(world.engine().set_cooldown("db", std::nullopt));
    world.evaluate();
    CHECK_FALSE(world.verdict("db").cooldown);
  }
  SECTION("a later action replaces it and runs from its own time") {
    world.clock().advance(8min);
    auto later = cooldown_from(world.now().wall, 10min);
    later.action_id = "oracle-b-1";
    REQUIRE(world.engine().set_cooldown("db", later));
    world.clock().advance(5min);  // past the first one's end
    world.evaluate();
    REQUIRE(world.verdict("db").cooldown);
    CHECK(world.verdict("db").cooldown->action_id == "oracle-b-1");
  }
  // A cooldown is not a verdict change: no new generation.
  CHECK(world.verdict("db").generation == generation);
}

TEST_CASE("over random verdicts and asks, a cooldown only ever turns a proceed into a hold",
          "[cooldown][gate][property]") {
  std::mt19937 random(20261204);  // fixed: a failure replays
  const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  const WallTime base = *parse_rfc3339("2026-12-04T10:00:00Z");
  const std::array kinds{VerdictKind::Healthy, VerdictKind::Unhealthy, VerdictKind::Disputed,
                         VerdictKind::Unknown, VerdictKind::Unreachable};
  const std::array scopes{FailureScope::None, FailureScope::Service, FailureScope::Dns,
                          FailureScope::Observer};
  const std::array fors{GateFor::Service, GateFor::Dns, GateFor::Any};
  int proceeds = 0;
  for (int i = 0; i < 20'000; ++i) {
    Verdict verdict;
    verdict.target = "db";
    verdict.kind = kinds[static_cast<std::size_t>(pick(5))];
    verdict.fresh = pick(4) != 0;
    verdict.generation = static_cast<std::uint64_t>(pick(3));
    verdict.scope = scopes[static_cast<std::size_t>(pick(4))];
    verdict.since = base - std::chrono::seconds(pick(120));
    verdict.since_mono = MonoTime{verdict.since.time_since_epoch()};
    verdict.valid_until = base + std::chrono::seconds(pick(60) - 10);
    if (pick(10) == 0) {
      verdict.maintenance =
          MaintenanceView{MaintenanceSource::Api, "api", base, base + 1h, "r", "o", ""};
    }
    const Instant now{MonoTime{base.time_since_epoch()}, base};
    const auto expect = pick(2) == 0 ? VerdictKind::Healthy : VerdictKind::Unhealthy;
    const std::optional<std::uint64_t> generation =
        pick(2) == 0 ? std::nullopt : std::optional<std::uint64_t>(pick(3));
    const Duration stable_for = std::chrono::seconds(pick(90));
    const auto for_ = fors[static_cast<std::size_t>(pick(3))];
    const auto plain = decide_gate(verdict, expect, generation, stable_for, now, for_);
    auto cooled = verdict;
    cooled.cooldown = cooldown_from(base - 1min, 1h);
    const auto held = decide_gate(cooled, expect, generation, stable_for, now, for_);
    INFO("case " << i);
    if (plain.answer == GateAnswer::Proceed) {
      ++proceeds;
      CHECK(held.answer == GateAnswer::Hold);
      CHECK(held.code == GateCode::Cooldown);
    } else {
      CHECK(held.answer == plain.answer);
      CHECK(held.code == plain.code);
    }
    CHECK(held.answer != GateAnswer::Proceed);
  }
  CHECK(proceeds > 100);  // the worlds did reach the case that matters
}
