// The cooldown after a recorded action: the gate holds what would proceed
// (and nothing else changes), and the engine carries the cooldown on the
// verdict until it ends on the monotonic clock or is cleared. Injected
// clock only.
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

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
