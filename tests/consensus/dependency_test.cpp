// depends_on: a target failing while a parent is confirmed unhealthy is
// published unreachable (a hold), never unhealthy; the parent carries the
// alert and the failover (consensus/engine_dependencies.cpp).
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

// `targets` in config order; `deps` maps a child to its parents.
Policy policy_with(const std::vector<std::string>& targets,
                   const std::map<std::string, std::vector<std::string>>& deps) {
  return make_policy(k_domains, targets, deps);
}

// One probe round: every vantage sees each listed target's outcome (a
// service failure, layer connect), then evaluate and advance 10s.
void step(World& world, const std::map<std::string, Outcome>& outcomes) {
  for (const auto& [target, outcome] : outcomes) {
    for (const auto& vantage : k_domains) {
      world.see(target, vantage, outcome, Layer::Connect);
    }
  }
  world.evaluate();
  world.clock().advance(10s);
}

void rounds(World& world, int count, const std::map<std::string, Outcome>& outcomes) {
  for (int i = 0; i < count; ++i) {
    step(world, outcomes);
  }
}

// lb and app (depends on lb).
Policy pair() {
  return policy_with({"lb", "app"}, {{"app", {"lb"}}});
}

// Both confirmed healthy.
void settle(World& world) {
  rounds(world, 2, {{"lb", Outcome::Up}, {"app", Outcome::Up}});
  REQUIRE(world.verdict("lb").kind == VerdictKind::Healthy);
  REQUIRE(world.verdict("app").kind == VerdictKind::Healthy);
}

}  // namespace

TEST_CASE("a child failing with its parent is unreachable, never unhealthy", "[dependency]") {
  World world(pair());
  settle(world);
  for (int i = 0; i < 6; ++i) {
    step(world, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
    CHECK(world.verdict("app").kind != VerdictKind::Unhealthy);
  }
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  const auto& app = world.verdict("app");
  CHECK(app.kind == VerdictKind::Unreachable);
  CHECK(app.reason_code == ReasonCode::Dependency);
  CHECK(app.held == VerdictKind::Healthy);
  CHECK(app.scope == FailureScope::None);
  CHECK(app.reason ==
        "parent lb is unhealthy; 3 of 3 domains down (cloudflare, quad9, google); quorum 2");
  CHECK(app.generation == 2);  // healthy -> unreachable, one change
  // The parent's episode is the alert: the child opens none.
  for (const auto& event : world.events()) {
    if (event.target == "app") {
      CHECK_FALSE(event.is_escalation());
    }
  }
  // Every gate holds on the child, naming the parent; the parent proceeds.
  for (const auto expect : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
    for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
      const auto gate = decide_gate(app, expect, std::nullopt, 0s, world.now(), for_);
      CHECK(gate.answer == GateAnswer::Hold);
      CHECK(gate.code == GateCode::Unreachable);
      CHECK(gate.reason.starts_with("verdict is unreachable: parent lb is unhealthy;"));
    }
  }
  CHECK(decide_gate(world.verdict("lb"), VerdictKind::Unhealthy, std::nullopt, 0s, world.now(),
                    GateFor::Service)
            .answer == GateAnswer::Proceed);
}

TEST_CASE("a child that still answers stays healthy while its parent is down", "[dependency]") {
  World world(pair());
  settle(world);
  rounds(world, 5, {{"lb", Outcome::Down}, {"app", Outcome::Up}});
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").kind == VerdictKind::Healthy);
  CHECK(world.verdict("app").fresh);
}

TEST_CASE("a child seen down by one domain while its parent is down opens no dispute",
          "[dependency]") {
  World world(pair());
  settle(world);
  for (int i = 0; i < 6; ++i) {
    world.see("app", "quad9", Outcome::Down, Layer::Connect);
    world.see("app", "cloudflare", Outcome::Up);
    world.see("app", "google", Outcome::Up);
    step(world, {{"lb", Outcome::Down}});
  }
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
  CHECK(world.verdict("app").held == VerdictKind::Healthy);
  CHECK(world.count_events(EventKind::DisputeOpened, "app") == 0);
}

TEST_CASE("when the parent recovers, the child's own votes decide", "[dependency]") {
  World world(pair());
  settle(world);
  rounds(world, 4, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  rounds(world, 3, {{"lb", Outcome::Up}, {"app", Outcome::Down}});
  CHECK(world.verdict("lb").kind == VerdictKind::Healthy);
  const auto& app = world.verdict("app");
  CHECK(app.kind == VerdictKind::Unhealthy);
  CHECK(app.fresh);
  CHECK(app.reason_code == ReasonCode::Quorum);
  CHECK(app.generation == 3);  // healthy -> unreachable -> unhealthy
}

TEST_CASE("an operator's override on the child wins over its parent", "[dependency]") {
  World world(pair());
  settle(world);
  Override value;
  value.verdict = VerdictKind::Unhealthy;
  value.reason = "failing app over by hand";
  value.set_at = world.now().wall;
  value.expires_at = world.now().wall + 1h;
  REQUIRE(world.engine().set_override("app", value));
  rounds(world, 4, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").reason_code == ReasonCode::Override);
}

TEST_CASE("an overridden-unhealthy parent makes its failing child unreachable", "[dependency]") {
  World world(pair());
  settle(world);
  Override value;
  value.verdict = VerdictKind::Unhealthy;
  value.reason = "lb drained";
  value.set_at = world.now().wall;
  value.expires_at = world.now().wall + 1h;
  REQUIRE(world.engine().set_override("lb", value));
  rounds(world, 4, {{"lb", Outcome::Up}, {"app", Outcome::Down}});
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
}

TEST_CASE("an unreachable child spends none of the blast-radius budget", "[dependency]") {
  // 4 targets, fraction 0.5: two may be unhealthy at once.
  World world(policy_with({"lb", "app", "t3", "t4"}, {{"app", {"lb"}}}));
  rounds(world, 2,
         {{"lb", Outcome::Up}, {"app", Outcome::Up}, {"t3", Outcome::Up}, {"t4", Outcome::Up}});
  rounds(
      world, 4,
      {{"lb", Outcome::Down}, {"app", Outcome::Down}, {"t3", Outcome::Down}, {"t4", Outcome::Up}});
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
  CHECK(world.verdict("t3").kind == VerdictKind::Unhealthy);  // admitted: app spent nothing
  CHECK(world.count_events(EventKind::BlastRadiusHeld) == 0);
}

TEST_CASE("a parent held by the blast-radius guard leaves its child judged alone", "[dependency]") {
  // Parents are judged first even when listed after the child.
  World world(policy_with({"app", "t1", "t2", "lb"}, {{"app", {"lb"}}}));
  const std::map<std::string, Outcome> up{
      {"app", Outcome::Up}, {"t1", Outcome::Up}, {"t2", Outcome::Up}, {"lb", Outcome::Up}};
  rounds(world, 2, up);
  rounds(world, 4,
         {{"app", Outcome::Up}, {"t1", Outcome::Down}, {"t2", Outcome::Down}, {"lb", Outcome::Up}});
  REQUIRE(world.verdict("t1").kind == VerdictKind::Unhealthy);
  REQUIRE(world.verdict("t2").kind == VerdictKind::Unhealthy);
  rounds(world, 4,
         {{"app", Outcome::Down},
          {"t1", Outcome::Down},
          {"t2", Outcome::Down},
          {"lb", Outcome::Down}});
  // lb would be the 3rd of 4: held, so it is not confirmed unhealthy, and
  // app is judged on its own votes: the 3rd of 4 too, held as well.
  CHECK(world.verdict("lb").kind == VerdictKind::Disputed);
  CHECK(world.verdict("lb").reason_code == ReasonCode::BlastRadius);
  CHECK(world.verdict("app").kind == VerdictKind::Disputed);
  CHECK(world.verdict("app").reason_code == ReasonCode::BlastRadius);
}

TEST_CASE("a child already unhealthy counts against the budget when its parent is held",
          "[dependency]") {
  // app fails first and is confirmed unhealthy; then t1, t2 and lb fail.
  // Counting app only if lb is admitted would admit t1 and t2 and publish 3
  // of 4 unhealthy; app stays unhealthy, so only one more fits.
  World world(policy_with({"t1", "t2", "lb", "app"}, {{"app", {"lb"}}}));
  rounds(world, 2,
         {{"t1", Outcome::Up}, {"t2", Outcome::Up}, {"lb", Outcome::Up}, {"app", Outcome::Up}});
  rounds(world, 4,
         {{"t1", Outcome::Up}, {"t2", Outcome::Up}, {"lb", Outcome::Up}, {"app", Outcome::Down}});
  REQUIRE(world.verdict("app").kind == VerdictKind::Unhealthy);
  rounds(world, 4,
         {{"t1", Outcome::Down},
          {"t2", Outcome::Down},
          {"lb", Outcome::Down},
          {"app", Outcome::Down}});
  int unhealthy = 0;
  for (const auto* name : {"t1", "t2", "lb", "app"}) {
    unhealthy += world.verdict(name).kind == VerdictKind::Unhealthy ? 1 : 0;
  }
  CHECK(unhealthy == 2);
  CHECK(world.verdict("t1").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("t2").reason_code == ReasonCode::BlastRadius);
  CHECK(world.verdict("lb").reason_code == ReasonCode::BlastRadius);
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
}

TEST_CASE("a chain names the root: a grandchild is unreachable behind it", "[dependency]") {
  World world(policy_with({"edge", "lb", "app"}, {{"lb", {"edge"}}, {"app", {"lb"}}}));
  rounds(world, 5, {{"edge", Outcome::Down}, {"lb", Outcome::Down}, {"app", Outcome::Down}});
  CHECK(world.verdict("edge").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("lb").kind == VerdictKind::Unreachable);
  CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
  CHECK(world.verdict("app").reason.starts_with("parent lb is unreachable (edge is unhealthy); "));
}

TEST_CASE("a restored parent not yet confirmed leaves its child judged alone", "[dependency]") {
  World world(policy_with({"lb", "app"}, {{"app", {"lb"}}}));
  RestoredVerdict restored;
  restored.target = "lb";
  restored.kind = VerdictKind::Unhealthy;
  restored.generation = 5;
  restored.since = world.now().wall - 1h;
  restored.reason_code = ReasonCode::Quorum;
  REQUIRE(world.engine().restore(restored));
  // lb has no evidence yet (its probes are slow): it stays restored, not fresh.
  rounds(world, 3, {{"app", Outcome::Down}});
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK_FALSE(world.verdict("lb").fresh);
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").fresh);
}

TEST_CASE("a dependency cycle the config did not reject is ignored", "[dependency]") {
  World world(policy_with({"a", "b"}, {{"a", {"b"}}, {"b", {"a"}}}));
  rounds(world, 4, {{"a", Outcome::Down}, {"b", Outcome::Down}});
  CHECK(world.verdict("a").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("b").kind == VerdictKind::Unhealthy);
}

TEST_CASE("a reload adds and removes depends_on, effective at the next evaluation",
          "[dependency]") {
  World world(policy_with({"lb", "app"}, {}));
  rounds(world, 4, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  REQUIRE(world.verdict("app").kind == VerdictKind::Unhealthy);
  world.engine().reconfigure(policy_with({"lb", "app"}, {{"app", {"lb"}}}), {}, world.now());
  step(world, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
  CHECK(world.verdict("app").held == VerdictKind::Unhealthy);
  world.engine().reconfigure(policy_with({"lb", "app"}, {}), {}, world.now());
  step(world, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
}

TEST_CASE("a child whose domains disagree stays unreachable behind its parent, then is disputed",
          "[dependency]") {
  World world(pair());
  settle(world);
  rounds(world, 4, {{"lb", Outcome::Down}, {"app", Outcome::Down}});
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  // Two of app's domains see it answer again; google still does not.
  for (int i = 0; i < 4; ++i) {
    world.see("app", "cloudflare", Outcome::Up);
    world.see("app", "quad9", Outcome::Up);
    world.see("app", "google", Outcome::Down, Layer::Connect);
    step(world, {{"lb", Outcome::Down}});
    CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
    CHECK(world.verdict("app").reason.starts_with("parent lb is unhealthy; "));
  }
  CHECK(world.verdict("app").reason.starts_with(
      "parent lb is unhealthy; 1 of 3 domains down (google), 2 up"));
  CHECK(world.count_events(EventKind::DisputeOpened, "app") == 0);
  // lb recovers: nothing explains google's down vote any more.
  for (int i = 0; i < 4; ++i) {
    world.see("app", "cloudflare", Outcome::Up);
    world.see("app", "quad9", Outcome::Up);
    world.see("app", "google", Outcome::Down, Layer::Connect);
    step(world, {{"lb", Outcome::Up}});
  }
  CHECK(world.verdict("lb").kind == VerdictKind::Healthy);
  CHECK(world.verdict("app").kind == VerdictKind::Disputed);
  CHECK(world.verdict("app").held == VerdictKind::Healthy);
  CHECK(world.count_events(EventKind::DisputeOpened, "app") == 1);
}
