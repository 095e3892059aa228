// depends_on where it meets the other rules: a parent recovering domain by
// domain, chains and diamonds, the blast-radius guard, reloads and episodes
// (consensus/engine_dependencies.cpp).
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

// Per target, per domain outcome (domains missing from the map see nothing).
using Round = std::map<std::string, std::map<std::string, Outcome>>;

void step(World& world, const Round& round) {
  for (const auto& [target, seen] : round) {
    for (const auto& [vantage, outcome] : seen) {
      world.see(target, vantage, outcome, Layer::Connect);
    }
  }
  world.evaluate();
  world.clock().advance(10s);
}

std::map<std::string, Outcome> all(Outcome outcome) {
  std::map<std::string, Outcome> out;
  for (const auto& domain : k_domains) {
    out[domain] = outcome;
  }
  return out;
}

// cloudflare sees `first`, the others `rest`.
std::map<std::string, Outcome> split(Outcome first, Outcome rest) {
  auto out = all(rest);
  out["cloudflare"] = first;
  return out;
}

// google sees `last`, the others `rest`.
std::map<std::string, Outcome> but_google(Outcome rest, Outcome last) {
  auto out = all(rest);
  out["google"] = last;
  return out;
}

bool any_fresh_unhealthy(const World& world, const std::string& target) {
  for (const auto& event : world.events()) {
    if (event.target == target && event.kind == EventKind::VerdictChanged &&
        event.verdict == VerdictKind::Unhealthy) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("a parent recovering domain by domain does not make its still-down child page",
          "[dependency]") {
  // app's probes run a phase behind lb's: when cloudflare sees lb answer
  // again, app's last probes there still failed. lb is kept unhealthy
  // through dispute_grace meanwhile; app must not become unhealthy (a page,
  // and a gate proceeding to fail app over) in that window.
  World world(policy_with({"lb", "app"}, {{"app", {"lb"}}}));
  for (int i = 0; i < 2; ++i) {
    step(world, {{"lb", all(Outcome::Up)}, {"app", all(Outcome::Up)}});
  }
  for (int i = 0; i < 4; ++i) {
    step(world, {{"lb", all(Outcome::Down)}, {"app", all(Outcome::Down)}});
  }
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  const auto generation = world.verdict("app").generation;
  // cloudflare and quad9 see lb answer (two rounds: rise 2); app is still
  // down there.
  for (int i = 0; i < 2; ++i) {
    step(world, {{"lb", but_google(Outcome::Up, Outcome::Down)}, {"app", all(Outcome::Down)}});
    CHECK(world.verdict("app").kind == VerdictKind::Unreachable);
    CHECK(decide_gate(world.verdict("app"), VerdictKind::Unhealthy, std::nullopt, 0s, world.now(),
                      GateFor::Any)
              .answer == GateAnswer::Hold);
  }
  CHECK_FALSE(any_fresh_unhealthy(world, "app"));
  CHECK(world.verdict("app").generation == generation);
  CHECK(world.verdict("app").reason.starts_with("behind lb, kept through dispute_grace; "));
  // Past lb's grace lb is disputed, no longer kept: app is judged alone.
  step(world, {{"lb", but_google(Outcome::Up, Outcome::Down)}, {"app", all(Outcome::Down)}});
  REQUIRE(world.verdict("lb").kind == VerdictKind::Disputed);
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").fresh);
}

TEST_CASE("a parent kept through dispute_grace makes no child unreachable that was not",
          "[dependency]") {
  World world(policy_with({"lb", "app"}, {{"app", {"lb"}}}));
  for (int i = 0; i < 2; ++i) {
    step(world, {{"lb", all(Outcome::Up)}, {"app", all(Outcome::Up)}});
  }
  for (int i = 0; i < 4; ++i) {
    step(world, {{"lb", all(Outcome::Down)}, {"app", all(Outcome::Up)}});
  }
  REQUIRE(world.verdict("app").kind == VerdictKind::Healthy);
  // lb recovers in two domains (kept unhealthy through its grace) just as
  // app fails everywhere: lb is not confirmed, app is judged alone.
  step(world, {{"lb", all(Outcome::Down)}, {"app", all(Outcome::Down)}});
  step(world, {{"lb", but_google(Outcome::Up, Outcome::Down)}, {"app", all(Outcome::Down)}});
  step(world, {{"lb", but_google(Outcome::Up, Outcome::Down)}, {"app", all(Outcome::Down)}});
  REQUIRE(world.verdict("lb").kind == VerdictKind::Unhealthy);
  REQUIRE_FALSE(world.verdict("lb").fresh);
  CHECK(world.verdict("app").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").fresh);
}

TEST_CASE("a parent recovering domain by domain does not trip the guard through its children",
          "[dependency]") {
  // lb and five targets behind it; fraction 0.5 of 6. While lb is kept
  // through dispute_grace its children must not all confirm at once and
  // open a blast-radius escalation.
  const std::vector<std::string> names{"lb", "c1", "c2", "c3", "c4", "c5"};
  std::map<std::string, std::vector<std::string>> deps;
  for (std::size_t i = 1; i < names.size(); ++i) {
    deps[names[i]] = {"lb"};
  }
  World world(policy_with(names, deps));
  auto everything = [&](const std::map<std::string, Outcome>& lb,
                        const std::map<std::string, Outcome>& children) {
    Round round{{"lb", lb}};
    for (std::size_t i = 1; i < names.size(); ++i) {
      round[names[i]] = children;
    }
    return round;
  };
  for (int i = 0; i < 2; ++i) {
    step(world, everything(all(Outcome::Up), all(Outcome::Up)));
  }
  for (int i = 0; i < 4; ++i) {
    step(world, everything(all(Outcome::Down), all(Outcome::Down)));
  }
  REQUIRE(world.verdict("c1").kind == VerdictKind::Unreachable);
  for (int i = 0; i < 2; ++i) {
    step(world, everything(but_google(Outcome::Up, Outcome::Down), all(Outcome::Down)));
  }
  CHECK(world.count_events(EventKind::BlastRadiusHeld) == 0);
  for (std::size_t i = 1; i < names.size(); ++i) {
    CHECK(world.verdict(names[i]).kind == VerdictKind::Unreachable);
  }
}

TEST_CASE("a diamond names the root for every target behind it", "[dependency]") {
  // b and c behind a; d behind both b and c.
  World world(policy_with({"d", "c", "b", "a"}, {{"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}}));
  Round up{{"a", all(Outcome::Up)},
           {"b", all(Outcome::Up)},
           {"c", all(Outcome::Up)},
           {"d", all(Outcome::Up)}};
  Round down{{"a", all(Outcome::Down)},
             {"b", all(Outcome::Down)},
             {"c", all(Outcome::Down)},
             {"d", all(Outcome::Down)}};
  for (int i = 0; i < 2; ++i) {
    step(world, up);
  }
  for (int i = 0; i < 5; ++i) {
    step(world, down);
  }
  CHECK(world.verdict("a").kind == VerdictKind::Unhealthy);
  for (const auto* name : {"b", "c", "d"}) {
    CHECK(world.verdict(name).kind == VerdictKind::Unreachable);
    CHECK(world.verdict(name).held == VerdictKind::Healthy);
  }
  CHECK(world.verdict("d").reason.starts_with("parent b is unreachable (a is unhealthy); "));
  CHECK(world.count_events(EventKind::BlastRadiusHeld) == 0);
  // c answers again (it has another way out); d still fails: still behind b.
  down["c"] = all(Outcome::Up);
  for (int i = 0; i < 3; ++i) {
    step(world, down);
  }
  CHECK(world.verdict("c").kind == VerdictKind::Healthy);
  CHECK(world.verdict("d").kind == VerdictKind::Unreachable);
}

TEST_CASE("a reload dropping depends_on while the child's domains disagree names no empty parent",
          "[dependency]") {
  World world(policy_with({"lb", "app"}, {{"app", {"lb"}}}));
  for (int i = 0; i < 2; ++i) {
    step(world, {{"lb", all(Outcome::Up)}, {"app", all(Outcome::Up)}});
  }
  for (int i = 0; i < 4; ++i) {
    step(world, {{"lb", all(Outcome::Down)}, {"app", all(Outcome::Down)}});
  }
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  // Two of app's domains see it answer again (rise 2): covered by lb.
  step(world, {{"lb", all(Outcome::Down)}, {"app", split(Outcome::Down, Outcome::Up)}});
  for (const auto& [vantage, outcome] : split(Outcome::Down, Outcome::Up)) {
    world.see("app", vantage, outcome, Layer::Connect);
  }
  world.see("lb", "google", Outcome::Down, Layer::Connect);
  world.evaluate();
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  REQUIRE(world.verdict("app").reason.starts_with("parent lb is unhealthy; 1 of 3"));
  // Inside app's dispute_grace, a reload drops the dependency: the young
  // disagreement keeps the published verdict, but app is behind nothing.
  world.clock().advance(5s);
  world.engine().reconfigure(policy_with({"lb", "app"}, {}), {}, world.now());
  world.evaluate();
  const auto& app = world.verdict("app");
  INFO(app.reason);
  CHECK(app.kind == VerdictKind::Unreachable);
  CHECK(app.reason.find("behind ,") == std::string::npos);
  CHECK(app.reason.starts_with("no longer behind a parent, kept through dispute_grace; "));
}

TEST_CASE("an open split episode is resolved when the target turns unreachable", "[dependency]") {
  auto policy = policy_with({"lb", "app"}, {{"app", {"lb"}}});
  policy.vantages.push_back(VantagePolicy{"cloudflare-2", "", "cloudflare"});
  World world(policy);
  // cloudflare's two vantages disagree about app for longer than the grace.
  for (int i = 0; i < 4; ++i) {
    world.see("app", "cloudflare-2", Outcome::Down, Layer::Connect);
    step(world, {{"lb", all(Outcome::Up)}, {"app", all(Outcome::Up)}});
  }
  REQUIRE(world.count_events(EventKind::SplitOpened, "app") == 1);
  for (int i = 0; i < 4; ++i) {
    world.see("app", "cloudflare-2", Outcome::Down, Layer::Connect);
    step(world, {{"lb", all(Outcome::Down)}, {"app", split(Outcome::Up, Outcome::Down)}});
  }
  INFO(world.verdict("app").reason);
  REQUIRE(world.verdict("app").kind == VerdictKind::Unreachable);
  CHECK(world.count_events(EventKind::SplitResolved, "app") == 1);
}

TEST_CASE("a flapping child behind a down parent keeps one flapping hold, not a churn",
          "[dependency]") {
  // app flips between up and down every three rounds while lb stays down.
  // The flap guard holds app as disputed; turning that hold into
  // unreachable whenever a domain sees app down (and back when none does)
  // made the published verdict flash, and reopened a flapping escalation
  // (a page) each time.
  World world(policy_with({"lb", "app"}, {{"app", {"lb"}}}));
  for (int i = 0; i < 2; ++i) {
    step(world, {{"lb", all(Outcome::Up)}, {"app", all(Outcome::Up)}});
  }
  for (int i = 0; i < 30; ++i) {
    step(world, {{"lb", all(Outcome::Down)},
                 {"app", all((i / 3) % 2 == 1 ? Outcome::Up : Outcome::Down)}});
  }
  CHECK(world.verdict("lb").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("app").reason_code == ReasonCode::Flapping);
  CHECK(world.count_events(EventKind::FlappingStarted, "app") == 1);
  CHECK(world.count_events(EventKind::FlappingStopped, "app") == 0);
}
