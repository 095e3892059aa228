// Groups (config `groups:`): a verdict of their own from the members'
// published verdicts, a gate, windows and guards (consensus/engine_groups.cpp).
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

// db-1..db-3 in group "db" (healthy_at_least 2), plus web and cache.
Policy cluster(std::optional<double> group_fraction = std::nullopt) {
  auto policy = make_policy(k_domains, {"db-1", "db-2", "db-3", "web", "cache"});
  GroupPolicy group;
  group.name = "db";
  group.members = {"db-1", "db-2", "db-3"};
  group.healthy_at_least = 2;
  group.max_unhealthy_fraction = group_fraction;
  policy.groups.push_back(group);
  return policy;
}

// One round: every domain sees each listed target as given (service layer
// unless `layer` says otherwise); the others up.
void step(World& world, const std::map<std::string, Outcome>& down_or_up,
          Layer layer = Layer::Connect, LastKnownGood lkg = LastKnownGood::NotTried) {
  for (const auto& target : world.engine().policy().targets) {
    const auto found = down_or_up.find(target.name);
    const auto outcome = found == down_or_up.end() ? Outcome::Up : found->second;
    for (const auto& vantage : k_domains) {
      world.see(target.name, vantage, outcome, layer, lkg);
    }
  }
  world.evaluate();
  world.clock().advance(10s);
}

void rounds(World& world, int count, const std::map<std::string, Outcome>& outcomes,
            Layer layer = Layer::Connect, LastKnownGood lkg = LastKnownGood::NotTried) {
  for (int i = 0; i < count; ++i) {
    step(world, outcomes, layer, lkg);
  }
}

GateDecision gate(const World& world, const std::string& name, VerdictKind expect,
                  GateFor for_ = GateFor::Service) {
  return decide_gate(world.verdict(name), expect, std::nullopt, 0s, world.now(), for_);
}

}  // namespace

TEST_CASE("a group is healthy while healthy_at_least members are, unhealthy once it cannot be",
          "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  const auto& db = world.verdict("group:db");
  CHECK(db.kind == VerdictKind::Healthy);
  CHECK(db.fresh);
  CHECK(db.generation == 1);
  CHECK(db.reason == "3 of 3 members healthy (healthy_at_least 2)");
  REQUIRE(db.group);
  CHECK(db.group->healthy_at_least == 2);
  CHECK(db.group->members.size() == 3);
  CHECK(gate(world, "group:db", VerdictKind::Healthy).answer == GateAnswer::Proceed);

  // One member down: two still healthy, the group stays healthy.
  rounds(world, 4, {{"db-1", Outcome::Down}});
  CHECK(world.verdict("db-1").kind == VerdictKind::Unhealthy);
  CHECK(db.kind == VerdictKind::Healthy);
  CHECK(db.generation == 1);
  CHECK(gate(world, "group:db", VerdictKind::Unhealthy).answer == GateAnswer::Otherwise);

  // Two down: at most one can be healthy.
  rounds(world, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  CHECK(db.kind == VerdictKind::Unhealthy);
  CHECK(db.generation == 2);
  CHECK(db.scope == FailureScope::Service);
  CHECK(db.reason ==
        "1 of 3 members healthy (healthy_at_least 2); 2 confirmed unhealthy (db-1, db-2): at most "
        "1 can be healthy");
  CHECK(db.votes.down == 2);
  CHECK(db.votes.down_quorum == 2);
  CHECK(gate(world, "group:db", VerdictKind::Unhealthy).answer == GateAnswer::Proceed);
  CHECK(world.count_events(EventKind::VerdictChanged, "group:db") == 2);

  // Recovery.
  rounds(world, 3, {});
  CHECK(db.kind == VerdictKind::Healthy);
  CHECK(db.generation == 3);
  CHECK_FALSE(db.held);
}

TEST_CASE("a group is never unhealthy on members that are only disputed", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  // db-1 down everywhere; db-2 down from one domain only (a liar, or the
  // start of something): not confirmed, so the group cannot be.
  for (int i = 0; i < 6; ++i) {
    for (const auto& target : world.engine().policy().targets) {
      for (const auto& vantage : k_domains) {
        const bool down = target.name == "db-1" || (target.name == "db-2" && vantage == "quad9");
        world.see(target.name, vantage, down ? Outcome::Down : Outcome::Up, Layer::Connect);
      }
    }
    world.evaluate();
    world.clock().advance(10s);
    CHECK(world.verdict("group:db").kind != VerdictKind::Unhealthy);
  }
  const auto& db = world.verdict("group:db");
  CHECK(world.verdict("db-2").kind == VerdictKind::Disputed);
  CHECK(db.kind == VerdictKind::Disputed);
  CHECK(db.held == VerdictKind::Healthy);
  for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
    CHECK(gate(world, "group:db", VerdictKind::Unhealthy, for_).answer == GateAnswer::Hold);
  }
}

TEST_CASE("a group's scope is the failover its failing members support", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  // DNS fails for two members while their last-known-good addresses answer.
  rounds(world, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}}, Layer::Dns,
         LastKnownGood::Reachable);
  const auto& db = world.verdict("group:db");
  REQUIRE(db.kind == VerdictKind::Unhealthy);
  CHECK(db.scope == FailureScope::Dns);
  const auto service = gate(world, "group:db", VerdictKind::Unhealthy, GateFor::Service);
  CHECK(service.answer == GateAnswer::Hold);
  CHECK(service.code == GateCode::Scope);
  CHECK(gate(world, "group:db", VerdictKind::Unhealthy, GateFor::Dns).answer ==
        GateAnswer::Proceed);
}

TEST_CASE("a group's maintenance window covers the group and its members", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  const auto now = world.now().wall;
  REQUIRE(world.engine().set_maintenance("group:db",
                                         AdHocMaintenance{"upgrade", "alice", now, now + 30min}));
  CHECK(world.engine().maintenance_set("group:db") != nullptr);
  rounds(world, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  const auto& db = world.verdict("group:db");
  REQUIRE(db.maintenance);
  CHECK(db.maintenance->by == "alice");
  REQUIRE(world.verdict("db-1").maintenance);
  CHECK(world.verdict("db-1").maintenance->window == "group:db");
  CHECK_FALSE(world.verdict("web").maintenance);
  // Members failing inside the window count for nothing: the group is not
  // confirmed unhealthy, and every gate holds anyway.
  CHECK(db.kind != VerdictKind::Unhealthy);
  CHECK(gate(world, "group:db", VerdictKind::Unhealthy, GateFor::Any).code ==
        GateCode::Maintenance);
  CHECK(gate(world, "db-1", VerdictKind::Unhealthy, GateFor::Any).code == GateCode::Maintenance);
  // The members' escalations opened meanwhile are silenced.
  for (const auto& event : world.events()) {
    if (event.is_escalation() && event.target == "db-1") {
      CHECK(event.silenced);
    }
  }
  CHECK(world.count_events(EventKind::MaintenanceStarted, "group:db") == 1);
  CHECK(world.count_events(EventKind::MaintenanceStarted, "db-1") == 1);
  REQUIRE(world.engine().clear_maintenance("group:db"));
  rounds(world, 2, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  CHECK(world.count_events(EventKind::MaintenanceEnded, "group:db") == 1);
  CHECK(world.count_events(EventKind::MaintenanceEnded, "db-1") == 1);
  CHECK(db.kind == VerdictKind::Unhealthy);
}

TEST_CASE("a group's own guard holds the member that would exceed its fraction", "[group]") {
  World world(cluster(0.4));  // at most 1 of 3 members unhealthy at once
  rounds(world, 3, {});
  rounds(world, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  CHECK(world.verdict("db-1").kind == VerdictKind::Unhealthy);
  const auto& held = world.verdict("db-2");
  CHECK(held.kind == VerdictKind::Disputed);
  CHECK(held.reason_code == ReasonCode::BlastRadius);
  CHECK(
      held.reason.starts_with("blast radius in group db: confirming would make 2 of 3 members "
                              "unhealthy at once (max_unhealthy_fraction 0.4)"));
  // So the group is not confirmed either: a human decides.
  CHECK(world.verdict("group:db").kind == VerdictKind::Disputed);
  CHECK(world.count_events(EventKind::BlastRadiusHeld, "db-2") == 1);
}

TEST_CASE("the guard admits new confirmations by priority, not by their place in the file",
          "[group]") {
  auto policy = make_policy(k_domains, {"a", "b", "c", "d", "e", "f"});
  policy.targets[4].priority = 10;  // e
  World world(policy);
  rounds(world, 3, {});
  // Four confirm at once out of six (fraction 0.5: three may): e first by
  // priority, then a and b in file order; d is held.
  rounds(world, 5,
         {{"a", Outcome::Down}, {"b", Outcome::Down}, {"d", Outcome::Down}, {"e", Outcome::Down}});
  CHECK(world.verdict("e").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("a").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("b").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("d").reason_code == ReasonCode::BlastRadius);
}

TEST_CASE("a group's generation survives a restart and a removal", "[group]") {
  World first(cluster());
  rounds(first, 3, {});
  rounds(first, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  const auto stored = first.verdict("group:db");
  REQUIRE(stored.kind == VerdictKind::Unhealthy);

  World second(cluster());
  RestoredVerdict restored;
  restored.target = "group:db";
  restored.kind = stored.kind;
  restored.generation = stored.generation;
  restored.since = stored.since;
  REQUIRE(second.engine().restore(restored));
  CHECK(second.verdict("group:db").generation == stored.generation);
  CHECK_FALSE(second.verdict("group:db").fresh);
  // The members come back unknown: the group holds what it was.
  second.evaluate();
  CHECK(second.verdict("group:db").held == VerdictKind::Unhealthy);

  // A reload that removes the group ends it one generation on; re-added, it
  // continues from there.
  const auto removed_at = second.verdict("group:db").generation + 1;
  auto without = cluster();
  without.groups.clear();
  const auto done = second.engine().reconfigure(without, {}, second.now());
  CHECK(second.engine().verdict("group:db") == nullptr);
  bool announced = false;
  for (const auto& event : done.events) {
    announced = announced || (event.target == "group:db" && event.generation == removed_at);
  }
  CHECK(announced);
  second.engine().reconfigure(cluster(), {}, second.now());
  CHECK(second.verdict("group:db").generation == removed_at);
}

TEST_CASE("a group flapping past its limit is held as disputed", "[group]") {
  auto policy = cluster();
  policy.groups[0].flap_limit = 2;
  policy.groups[0].flap_window = 10min;
  World world(policy);
  rounds(world, 3, {});
  for (int i = 0; i < 4; ++i) {
    rounds(world, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
    rounds(world, 3, {});
  }
  const auto& db = world.verdict("group:db");
  CHECK(db.kind == VerdictKind::Disputed);
  CHECK(db.reason_code == ReasonCode::Flapping);
  CHECK(gate(world, "group:db", VerdictKind::Healthy).answer == GateAnswer::Hold);
}

// The invariant: a group is published unhealthy only when its members
// published unhealthy (each on a quorum of domains) leave fewer than
// healthy_at_least possibly healthy; one lying domain alone never makes a
// group unhealthy. Over random worlds.
TEST_CASE("over random worlds a group is unhealthy only on enough confirmed members", "[group]") {
  std::mt19937 random(20261204);
  for (int world_index = 0; world_index < 200; ++world_index) {
    auto policy = cluster(world_index % 3 == 0 ? std::optional(0.5) : std::nullopt);
    policy.groups[0].healthy_at_least = 1 + static_cast<int>(random() % 3);
    GroupPolicy pair;
    pair.name = "edge";
    pair.members = {"web", "cache", "db-3"};
    pair.healthy_at_least = 1 + static_cast<int>(random() % 3);
    policy.groups.push_back(pair);
    World world(policy);
    const bool liar_only = world_index % 2 == 0;
    for (int round = 0; round < 30; ++round) {
      for (const auto& target : policy.targets) {
        const bool down = random() % 3 == 0;
        for (const auto& vantage : k_domains) {
          // A liar world: only quad9 ever says down.
          const bool says_down = liar_only ? vantage == "quad9" && down : down;
          if (random() % 5 != 0) {
            world.see(target.name, vantage, says_down ? Outcome::Down : Outcome::Up,
                      Layer::Connect);
          }
        }
      }
      world.evaluate();
      world.clock().advance(std::chrono::milliseconds(5000 + random() % 10000));
      for (const auto& verdict : world.engine().groups()) {
        if (verdict.kind != VerdictKind::Unhealthy) {
          continue;
        }
        REQUIRE_FALSE(liar_only);
        REQUIRE(verdict.group);
        int unhealthy = 0;
        for (const auto& member : verdict.group->members) {
          const auto& published = world.verdict(member.target);
          REQUIRE(published.kind == member.kind);
          unhealthy += published.kind == VerdictKind::Unhealthy ? 1 : 0;
        }
        const auto total = static_cast<int>(verdict.group->members.size());
        REQUIRE(total - unhealthy < verdict.group->healthy_at_least);
      }
    }
  }
}

TEST_CASE("a reload that changes a group's members starts it over, one generation on", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  rounds(world, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  REQUIRE(world.verdict("group:db").kind == VerdictKind::Unhealthy);
  const auto before = world.verdict("group:db").generation;
  // Same members, another order of targets: kept as it is.
  auto same = cluster();
  world.engine().reconfigure(same, {}, world.now());
  CHECK(world.verdict("group:db").generation == before);
  // Another cluster under the same name: a script's generation and
  // stable_for from before must not carry over.
  auto other = cluster();
  other.groups[0].members = {"db-1", "web"};
  const auto done = world.engine().reconfigure(other, {}, world.now());
  const auto& db = world.verdict("group:db");
  CHECK(db.generation == before + 1);
  CHECK(db.kind == VerdictKind::Unknown);
  CHECK_FALSE(db.held);
  CHECK(db.since == world.now().wall);
  bool announced = false;
  for (const auto& event : done.events) {
    announced = announced || (event.target == "group:db" && event.generation == before + 1);
  }
  CHECK(announced);
  CHECK(decide_gate(db, VerdictKind::Unhealthy, before, 0s, world.now(), GateFor::Service).answer !=
        GateAnswer::Proceed);
}

TEST_CASE("a member in its own window counts for nothing, healthy or failing", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  const auto now = world.now().wall;
  REQUIRE(world.engine().set_maintenance("db-3",
                                         AdHocMaintenance{"patching", "bob", now, now + 30min}));
  rounds(world, 4, {{"db-1", Outcome::Down}});
  // db-2 healthy, db-3 healthy but in its window, db-1 down: only one
  // member counts as healthy, so no failback gate proceeds on db-3.
  const auto& db = world.verdict("group:db");
  CHECK(db.kind != VerdictKind::Healthy);
  CHECK(gate(world, "group:db", VerdictKind::Healthy).answer == GateAnswer::Hold);
  CHECK(db.kind != VerdictKind::Unhealthy);
}
