// Groups (config `groups:`): a verdict of their own from the members'
// published verdicts, a gate, windows and guards (consensus/engine_groups.cpp).
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"
#include "consensus/group_definition.hpp"

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
  // The group's own window still counts its members: the verdict is shown
  // as a target's is inside a window (one change, no generation moved by
  // entering the window), and every gate holds.
  CHECK(db.kind == VerdictKind::Unhealthy);
  CHECK(db.generation == 2);
  for (const auto& member : db.group->members) {
    CHECK_FALSE(member.maintenance);
  }
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
  CHECK(db.generation == 2);
  CHECK(gate(world, "group:db", VerdictKind::Unhealthy).answer == GateAnswer::Proceed);
}

TEST_CASE("a group's window leaves the verdict's generation alone while the members are healthy",
          "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  const auto before = world.verdict("group:db").generation;
  const auto now = world.now().wall;
  REQUIRE(world.engine().set_maintenance("group:db",
                                         AdHocMaintenance{"upgrade", "alice", now, now + 30min}));
  rounds(world, 3, {});
  CHECK(world.verdict("group:db").kind == VerdictKind::Healthy);
  REQUIRE(world.engine().clear_maintenance("group:db"));
  rounds(world, 3, {});
  CHECK(world.verdict("group:db").kind == VerdictKind::Healthy);
  CHECK(world.verdict("group:db").generation == before);
}

TEST_CASE("a member in another group's window counts for nothing in this one", "[group]") {
  auto policy = cluster();
  GroupPolicy pair;
  pair.name = "pair";
  pair.members = {"db-1", "web"};
  pair.healthy_at_least = 1;
  policy.groups.push_back(pair);
  World world(policy);
  rounds(world, 3, {});
  const auto now = world.now().wall;
  REQUIRE(world.engine().set_maintenance("group:pair",
                                         AdHocMaintenance{"move", "carol", now, now + 30min}));
  rounds(world, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  // In db's count db-1 is in pair's window: it counts for nothing, so db
  // cannot be confirmed unhealthy on it.
  const auto& db = world.verdict("group:db");
  CHECK(db.kind == VerdictKind::Disputed);
  CHECK(db.group->members[0].maintenance);
  // pair counts its own members: db-1 down, web up.
  CHECK(world.verdict("group:pair").kind == VerdictKind::Healthy);
  CHECK_FALSE(world.verdict("group:pair").group->members[0].maintenance);
}

TEST_CASE("overridden members move a group, and the group says so", "[group]") {
  World world(cluster());
  rounds(world, 3, {});
  const auto now = world.now().wall;
  for (const auto* name : {"db-1", "db-2"}) {
    REQUIRE(world.engine().set_override(
        name, Override{VerdictKind::Unhealthy, "drain", "alice", now, now + 1h}));
  }
  rounds(world, 2, {});
  const auto& db = world.verdict("group:db");
  CHECK(db.kind == VerdictKind::Unhealthy);
  CHECK(db.reason.ends_with("; by operator override: db-1, db-2"));
  REQUIRE(db.group);
  CHECK(db.group->members[0].overridden);
  CHECK(db.group->members[1].overridden);
  CHECK_FALSE(db.group->members[2].overridden);
}

TEST_CASE("a group flapping opens one escalation, silenced in its window, closed when it stops",
          "[group]") {
  auto policy = cluster();
  policy.groups[0].flap_limit = 2;
  policy.groups[0].flap_window = 10min;
  World world(policy);
  rounds(world, 3, {});
  for (int i = 0; i < 3; ++i) {
    rounds(world, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
    rounds(world, 3, {});
  }
  REQUIRE(world.verdict("group:db").reason_code == ReasonCode::Flapping);
  REQUIRE(world.count_events(EventKind::FlappingStarted, "group:db") == 1);
  std::string key;
  for (const auto& event : world.events()) {
    if (event.kind == EventKind::FlappingStarted && event.target == "group:db") {
      key = event.key;
      CHECK_FALSE(event.silenced);
    }
  }
  CHECK(key.starts_with("flapping/group:db/"));
  // It stays one episode while the flapping lasts, and a restart continues
  // it under the same key.
  rounds(world, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  CHECK(world.count_events(EventKind::FlappingStarted, "group:db") == 1);
  World second(policy);
  RestoredVerdict restored;
  restored.target = "group:db";
  restored.kind = VerdictKind::Disputed;
  restored.reason_code = ReasonCode::Flapping;
  restored.held = VerdictKind::Healthy;
  restored.generation = world.verdict("group:db").generation;
  restored.since = world.verdict("group:db").since;
  restored.open_escalation_key = key;
  REQUIRE(second.engine().restore(restored));
  CHECK(second.verdict("group:db").evaluated_at == restored.since);
  // A restart never lifts the hold: the group stays flapping under the
  // same episode (none opened, none closed) until a flap window passes.
  rounds(second, 2, {});
  CHECK(second.verdict("group:db").reason_code == ReasonCode::Flapping);
  CHECK(second.count_events(EventKind::FlappingStarted, "group:db") == 0);
  CHECK(second.count_events(EventKind::FlappingStopped, "group:db") == 0);
  rounds(second, 70, {});  // 700 s > flap_window, steady
  CHECK(second.verdict("group:db").kind == VerdictKind::Healthy);
  REQUIRE(second.count_events(EventKind::FlappingStopped, "group:db") == 1);
  for (const auto& event : second.events()) {
    if (event.kind == EventKind::FlappingStopped && event.target == "group:db") {
      CHECK(event.key == key);
    }
  }

  // Inside the group's window: opened silenced, closed silently at its end,
  // opened again (sent) while the flapping goes on.
  World third(policy);
  rounds(third, 3, {});
  const auto now = third.now().wall;
  REQUIRE(
      third.engine().set_maintenance("group:db", AdHocMaintenance{"work", "bob", now, now + 5min}));
  for (int i = 0; i < 3; ++i) {
    rounds(third, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
    rounds(third, 3, {});
  }
  REQUIRE(third.verdict("group:db").maintenance);
  // Past the window's end, still flapping.
  for (int i = 0; i < 2; ++i) {
    rounds(third, 4, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
    rounds(third, 3, {});
  }
  REQUIRE_FALSE(third.verdict("group:db").maintenance);
  REQUIRE(third.verdict("group:db").reason_code == ReasonCode::Flapping);
  std::vector<Event> seen;
  for (const auto& event : third.events()) {
    if (event.target == "group:db" &&
        (event.kind == EventKind::FlappingStarted || event.kind == EventKind::FlappingStopped)) {
      seen.push_back(event);
    }
  }
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].kind == EventKind::FlappingStarted);
  CHECK(seen[0].silenced);
  CHECK(seen[1].kind == EventKind::FlappingStopped);
  CHECK(seen[1].silenced);
  CHECK(seen[1].key == seen[0].key);
  CHECK(seen[2].kind == EventKind::FlappingStarted);
  CHECK_FALSE(seen[2].silenced);
  CHECK(seen[2].key != seen[0].key);
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

TEST_CASE("a restart under another group definition judges the group anew, one generation on",
          "[group]") {
  World first(cluster());
  rounds(first, 3, {});
  rounds(first, 5, {{"db-1", Outcome::Down}, {"db-2", Outcome::Down}});
  const auto stored = first.verdict("group:db");
  REQUIRE(stored.kind == VerdictKind::Unhealthy);
  RestoredVerdict restored;
  restored.target = "group:db";
  restored.kind = stored.kind;
  restored.generation = stored.generation;
  restored.since = stored.since;
  restored.definition = group_definition(2, {"db-1", "db-2", "db-3"});

  // The same definition: restored as it was.
  World same(cluster());
  REQUIRE(same.engine().restore(restored));
  CHECK(same.verdict("group:db").kind == VerdictKind::Unhealthy);
  same.evaluate();
  CHECK(same.verdict("group:db").held == VerdictKind::Unhealthy);

  // Another member list under the same name: nothing carries over.
  auto policy = cluster();
  policy.groups[0].members = {"db-1", "web"};
  World other(policy);
  REQUIRE(other.engine().restore(restored));
  CHECK(other.verdict("group:db").kind == VerdictKind::Unknown);
  CHECK_FALSE(other.verdict("group:db").held);
  CHECK_FALSE(other.verdict("group:db").fresh);
  other.evaluate();
  const auto& db = other.verdict("group:db");
  CHECK(db.generation == stored.generation + 1);
  CHECK(db.since == other.now().wall);
  CHECK_FALSE(db.held);
  CHECK(other.count_events(EventKind::VerdictChanged, "group:db") == 1);
  CHECK(decide_gate(db, VerdictKind::Unhealthy, stored.generation, 0s, other.now(), GateFor::Any)
            .answer != GateAnswer::Proceed);
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
