// Maintenance windows: the calendar (recurring windows with an explicit
// offset), and the engine's use of it: gates hold, escalations opened
// inside a window are silenced and closed at its end. Injected clock only.
#include "consensus/maintenance.hpp"
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

WallTime at(const char* text) {
  return *parse_rfc3339(text);
}

RecurringWindow window(std::uint8_t days, int start_minute, int offset_minutes, Duration duration) {
  RecurringWindow out;
  out.name = "w";
  out.targets = {"db"};
  out.days = days;
  out.start_minute = start_minute;
  out.offset_minutes = offset_minutes;
  out.duration = duration;
  return out;
}

constexpr std::uint8_t k_mon = 1;
constexpr std::uint8_t k_sun = 1 << 6;

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

std::vector<std::pair<std::string, Outcome>> all(Outcome outcome) {
  return {{"cloudflare", outcome}, {"quad9", outcome}, {"google", outcome}};
}

std::vector<std::pair<std::string, Outcome>> one_down() {
  return {{"cloudflare", Outcome::Down}, {"quad9", Outcome::Up}, {"google", Outcome::Up}};
}

std::vector<Event> of_kind(const World& world, EventKind kind) {
  std::vector<Event> out;
  for (const auto& event : world.events()) {
    if (event.kind == kind) {
      out.push_back(event);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a recurring window starts on its weekday in its own offset", "[maintenance]") {
  // Monday 02:00 at +01:00 for 2h: Monday 01:00Z to 03:00Z (2025-10-20 is a Monday).
  const auto w = window(k_mon, 2 * 60, 60, 2h);
  CHECK_FALSE(active_occurrence(w, at("2025-10-20T00:59:59Z")));
  const auto inside = active_occurrence(w, at("2025-10-20T01:00:00Z"));
  REQUIRE(inside);
  CHECK(format_rfc3339(inside->start) == "2025-10-20T01:00:00Z");
  CHECK(format_rfc3339(inside->end) == "2025-10-20T03:00:00Z");
  CHECK(active_occurrence(w, at("2025-10-20T02:59:59Z")));
  CHECK_FALSE(active_occurrence(w, at("2025-10-20T03:00:00Z")));
  // Not on Tuesday, nor a week later minus a day.
  CHECK_FALSE(active_occurrence(w, at("2025-10-21T01:30:00Z")));
  CHECK(active_occurrence(w, at("2025-10-27T01:30:00Z")));
  const auto next = next_occurrence(w, at("2025-10-20T03:00:00Z"));
  REQUIRE(next);
  CHECK(format_rfc3339(next->start) == "2025-10-27T01:00:00Z");
}

TEST_CASE("a window may run past midnight and an offset may move its day", "[maintenance]") {
  // Sunday 23:00 UTC for 3h: still active Monday 01:59Z, a Monday.
  const auto late = window(k_sun, 23 * 60, 0, 3h);
  CHECK(active_occurrence(late, at("2025-10-20T01:59:00Z")));
  CHECK_FALSE(active_occurrence(late, at("2025-10-20T02:00:00Z")));
  CHECK_FALSE(active_occurrence(late, at("2025-10-20T23:30:00Z")));  // Monday evening
  // Monday 22:00 at -05:00 is Tuesday 03:00Z.
  const auto west = window(k_mon, 22 * 60, -5 * 60, 1h);
  CHECK(active_occurrence(west, at("2025-10-21T03:30:00Z")));
  CHECK_FALSE(active_occurrence(west, at("2025-10-20T22:30:00Z")));
  // Monday 00:30 at +09:00 is Sunday 15:30Z.
  const auto east = window(k_mon, 30, 9 * 60, 1h);
  CHECK(active_occurrence(east, at("2025-10-19T15:45:00Z")));
  CHECK_FALSE(active_occurrence(east, at("2025-10-20T00:45:00Z")));
  CHECK(describe_start(east) == "00:30+09:00");
  CHECK(describe_start(west) == "22:00-05:00");
  CHECK(describe_days(k_mon | k_sun) == "mon,sun");
  CHECK(describe_days(0x7f) == "every day");
}

TEST_CASE("a daily window longer than a day is continuous, and a zero one never runs",
          "[maintenance]") {
  const auto daily = window(0x7f, 0, 0, 30h);
  for (const char* when :
       {"2025-10-20T00:00:00Z", "2025-10-20T23:59:59Z", "2025-10-22T05:00:00Z"}) {
    INFO(when);
    CHECK(active_occurrence(daily, at(when)));
  }
  CHECK_FALSE(active_occurrence(window(0x7f, 0, 0, 0s), at("2025-10-20T00:00:00Z")));
  CHECK_FALSE(next_occurrence(window(0, 0, 0, 1h), at("2025-10-20T00:00:00Z")));
}

TEST_CASE("in a window verdicts are judged and shown, and every gate holds", "[maintenance]") {
  auto policy = make_policy(k_domains, {"db"});
  // World starts 2025-10-20T06:00:00Z, a Monday: 06:00-06:01 UTC.
  policy.maintenance.push_back(window(k_mon, 6 * 60, 0, 1min));
  World world(std::move(policy));
  world.round("db", all(Outcome::Down));
  world.round("db", all(Outcome::Down));
  world.round("db", all(Outcome::Down));
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);  // the evidence is still judged
  CHECK(verdict.fresh);
  REQUIRE(verdict.maintenance);
  CHECK(verdict.maintenance->window == "w");
  CHECK(format_rfc3339(verdict.maintenance->until) == "2025-10-20T06:01:00Z");
  for (const auto expect : {VerdictKind::Unhealthy, VerdictKind::Healthy}) {
    for (const auto for_ : {GateFor::Service, GateFor::Dns, GateFor::Any}) {
      const auto decision = decide_gate(verdict, expect, std::nullopt, 0s, world.now(), for_);
      CHECK(decision.answer == GateAnswer::Hold);
      CHECK(decision.code == GateCode::Maintenance);
      CHECK(decision.reason.find("maintenance window 'w' until 2025-10-20T06:01:00Z") !=
            std::string::npos);
    }
  }
  CHECK(world.count_events(EventKind::MaintenanceStarted) == 1);
  // After the window the same verdict proceeds.
  for (int i = 0; i < 3; ++i) {  // 06:00:30 to 06:00:50
    world.round("db", all(Outcome::Down));
  }
  CHECK(world.verdict("db").maintenance);
  world.round("db", all(Outcome::Down), 0s);  // 06:01:00
  CHECK_FALSE(world.verdict("db").maintenance);
  CHECK(world.count_events(EventKind::MaintenanceEnded) == 1);
  CHECK(decide_gate(world.verdict("db"), VerdictKind::Unhealthy, std::nullopt, 0s, world.now(),
                    GateFor::Any)
            .answer == GateAnswer::Proceed);
}

TEST_CASE("an escalation opened in a window is silenced, and closed and reopened after it",
          "[maintenance]") {
  World world(make_policy(k_domains, {"db"}));
  world.round("db", all(Outcome::Up));
  world.round("db", all(Outcome::Up));
  REQUIRE(world.verdict("db").kind == VerdictKind::Healthy);
  AdHocMaintenance set{"kernel upgrade", "alice", world.now().wall, world.now().wall + 2min};
  REQUIRE(world.engine().set_maintenance("db", set));
  // One domain keeps seeing it down past dispute_grace: a dispute, silenced.
  for (int i = 0; i < 6; ++i) {
    world.round("db", one_down());
  }
  auto opened = of_kind(world, EventKind::DisputeOpened);
  REQUIRE(opened.size() == 1);
  CHECK(opened[0].silenced);
  CHECK(world.verdict("db").maintenance->source == MaintenanceSource::Api);
  CHECK(world.verdict("db").maintenance->by == "alice");
  // The window ends (ttl) while the dispute goes on: the silenced episode
  // is closed, silenced, and a new one opens that is sent.
  for (int i = 0; i < 8; ++i) {
    world.round("db", one_down());
  }
  const auto resolved = of_kind(world, EventKind::DisputeResolved);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].silenced);
  CHECK(resolved[0].key == opened[0].key);
  opened = of_kind(world, EventKind::DisputeOpened);
  REQUIRE(opened.size() == 2);
  CHECK_FALSE(opened[1].silenced);
  CHECK(opened[1].key != opened[0].key);
  CHECK(world.engine().maintenance_set("db") == nullptr);  // expired
}

TEST_CASE("an escalation open before a window is resolved out loud inside it", "[maintenance]") {
  World world(make_policy(k_domains, {"db"}));
  world.round("db", all(Outcome::Up));
  world.round("db", all(Outcome::Up));
  for (int i = 0; i < 6; ++i) {
    world.round("db", one_down());
  }
  REQUIRE(world.count_events(EventKind::DisputeOpened) == 1);
  CHECK_FALSE(of_kind(world, EventKind::DisputeOpened)[0].silenced);
  AdHocMaintenance set{"fixing it", "bob", world.now().wall, world.now().wall + 1h};
  REQUIRE(world.engine().set_maintenance("db", set));
  for (int i = 0; i < 4; ++i) {
    world.round("db", all(Outcome::Up));
  }
  const auto resolved = of_kind(world, EventKind::DisputeResolved);
  REQUIRE(resolved.size() == 1);
  CHECK_FALSE(resolved[0].silenced);  // the sink saw it fire: it must see it end
  // Cleared: the window ends at once.
  CHECK(world.engine().clear_maintenance("db"));
  CHECK_FALSE(world.engine().clear_maintenance("db"));
  world.round("db", all(Outcome::Up));
  CHECK_FALSE(world.verdict("db").maintenance);
  CHECK(world.count_events(EventKind::MaintenanceEnded) == 1);
}

TEST_CASE("an ad-hoc window lasts its ttl whatever the wall clock does", "[maintenance]") {
  World world(make_policy(k_domains, {"db"}));
  AdHocMaintenance set{"r", "o", world.now().wall, world.now().wall + 2min};
  REQUIRE(world.engine().set_maintenance("db", set));
  CHECK_FALSE(world.engine().set_maintenance("nope", set));
  CHECK_FALSE(world.engine().set_maintenance(
      "db", AdHocMaintenance{"r", "o", world.now().wall, world.now().wall}));
  world.evaluate();
  REQUIRE(world.verdict("db").maintenance);
  world.clock().step_wall(-1h);  // the wall clock steps back an hour
  world.clock().advance(2min);
  world.evaluate();
  CHECK_FALSE(world.verdict("db").maintenance);
}

TEST_CASE("a silenced episode restored after a restart is closed silently after the window",
          "[maintenance]") {
  World world(make_policy(k_domains, {"db"}));
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Disputed;
  restored.held = VerdictKind::Healthy;
  restored.generation = 4;
  restored.since = world.now().wall - 1min;
  restored.reason_code = ReasonCode::Dispute;
  restored.open_escalation_key = "dispute/db/4";
  restored.open_escalation_silenced = true;
  REQUIRE(world.engine().restore(restored));
  // No window any more: once evidence decides, the episode ends silenced.
  for (int i = 0; i < 6; ++i) {
    world.round("db", all(Outcome::Up));
  }
  const auto resolved = of_kind(world, EventKind::DisputeResolved);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].key == "dispute/db/4");
  CHECK(resolved[0].silenced);
}

namespace {

// One randomized world for the maintenance properties: three domains, four
// targets, vantages that go down, lie and recover at random, a recurring
// window and ad-hoc windows set and cleared at random, fed identically to
// a twin engine that has no maintenance at all.
struct MaintenanceWorld {
  explicit MaintenanceWorld(std::uint64_t seed) : random(seed) {}

  std::uint64_t next() {
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return random;
  }
  int pick(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

  std::uint64_t random;
};

// What the worlds went through, so the test knows its checks were exercised.
struct Seen {
  int silenced_opened = 0;
  int silenced_resolved = 0;
  int sent_opened = 0;
  int maintenance_evaluations = 0;
};

std::string check_world(std::uint64_t seed, Seen& seen) {
  MaintenanceWorld world{seed * 2654435761U + 1};
  const std::vector<std::string> targets{"db", "web", "cache", "queue"};
  auto base = make_policy(k_domains, targets);
  base.blast_radius_min_targets = 10;  // not what this test is about
  auto with_windows = base;
  RecurringWindow recurring =
      window(0x7f, 6 * 60 + world.pick(20), 0, std::chrono::minutes(2 + world.pick(10)));
  recurring.targets = {"db", "cache"};
  with_windows.maintenance.push_back(recurring);
  World plain(base);
  World quiet(with_windows);
  std::map<std::string, bool> silenced_open;  // key -> opened silenced
  std::vector<Outcome> state(targets.size() * k_domains.size(), Outcome::Up);
  for (int round = 0; round < 240; ++round) {
    // Each (target, vantage) flips now and then: outages, liars, recoveries.
    for (std::size_t t = 0; t < targets.size(); ++t) {
      for (std::size_t v = 0; v < k_domains.size(); ++v) {
        auto& outcome = state[t * k_domains.size() + v];
        if (world.pick(12) == 0) {
          outcome = outcome == Outcome::Up ? Outcome::Down : Outcome::Up;
        }
        plain.see(targets[t], k_domains[v], outcome, Layer::Connect);
        quiet.see(targets[t], k_domains[v], outcome, Layer::Connect);
      }
    }
    if (world.pick(15) == 0) {
      const auto& target = targets[static_cast<std::size_t>(world.pick(4))];
      const auto now = quiet.now().wall;
      quiet.engine().set_maintenance(
          target,
          AdHocMaintenance{"r", "o", now, now + std::chrono::seconds(10 + world.pick(300))});
    } else if (world.pick(25) == 0) {
      quiet.engine().clear_maintenance(targets[static_cast<std::size_t>(world.pick(4))]);
    }
    const auto a = plain.evaluate();
    const auto b = quiet.evaluate();
    for (const auto& target : targets) {
      const auto& p = plain.verdict(target);
      const auto& q = quiet.verdict(target);
      // A window never changes what is judged.
      if (p.kind != q.kind || p.held != q.held || p.fresh != q.fresh ||
          p.generation != q.generation) {
        return "round " + std::to_string(round) + ": " + target + " judged differently";
      }
      const bool recurring_now = (target == "db" || target == "cache") &&
                                 active_occurrence(recurring, quiet.now().wall).has_value();
      const bool adhoc_now = quiet.engine().maintenance_set(target) != nullptr;
      seen.maintenance_evaluations += q.maintenance ? 1 : 0;
      if (q.maintenance.has_value() != (recurring_now || adhoc_now)) {
        return "round " + std::to_string(round) + ": " + target + " maintenance shown wrongly";
      }
      for (const auto expect : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
        if (q.maintenance &&
            decide_gate(q, expect, std::nullopt, 0s, quiet.now(), GateFor::Any).answer ==
                GateAnswer::Proceed) {
          return "round " + std::to_string(round) + ": a gate proceeded in maintenance";
        }
      }
    }
    for (const auto& event : b.events) {
      if (!event.is_escalation() || event.target.empty()) {
        continue;
      }
      const auto* verdict = quiet.engine().verdict(event.target);
      if (!event.is_resolution()) {
        if (!event.silenced && verdict->maintenance) {
          return "round " + std::to_string(round) + ": " + event.key + " sent in maintenance";
        }
        silenced_open[event.key] = event.silenced;
        ++(event.silenced ? seen.silenced_opened : seen.sent_opened);
        continue;
      }
      const auto open = silenced_open.find(event.key);
      if (open == silenced_open.end()) {
        return "round " + std::to_string(round) + ": " + event.key + " resolved, never opened";
      }
      if (open->second != event.silenced) {
        return "round " + std::to_string(round) + ": " + event.key +
               " opened and resolved with different silencing (a sink would see half of it)";
      }
      seen.silenced_resolved += event.silenced ? 1 : 0;
      silenced_open.erase(open);
    }
    // Out of a window, no silenced episode stays open.
    for (const auto& [key, silenced] : silenced_open) {
      for (const auto& target : targets) {
        if (silenced && key.find("/" + target + "/") != std::string::npos &&
            !quiet.verdict(target).maintenance) {
          return "round " + std::to_string(round) + ": " + key +
                 " silenced and open after the window";
        }
      }
    }
    (void)a;
    quiet.clock().advance(10s);
    plain.clock().advance(10s);
  }
  return "";
}

}  // namespace

TEST_CASE(
    "randomized worlds: a window never changes a verdict, never lets a gate through, "
    "and silences whole episodes only",
    "[maintenance][invariant]") {
  Seen seen;
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    INFO("seed " << seed);
    CHECK(check_world(seed, seen).empty());
  }
  INFO("silenced opened " << seen.silenced_opened << ", resolved " << seen.silenced_resolved
                          << ", sent " << seen.sent_opened);
  CHECK(seen.silenced_opened > 50);
  CHECK(seen.silenced_resolved > 50);
  CHECK(seen.sent_opened > 50);
  CHECK(seen.maintenance_evaluations > 1000);
}

TEST_CASE("a target removed by a reload ends its silenced escalation silently", "[maintenance]") {
  World world(make_policy(k_domains, {"db", "web"}));
  world.round("db", all(Outcome::Up));
  world.round("db", all(Outcome::Up));
  REQUIRE(world.engine().set_maintenance(
      "db", AdHocMaintenance{"r", "o", world.now().wall, world.now().wall + 1h}));
  for (int i = 0; i < 6; ++i) {
    world.round("db", one_down());
  }
  REQUIRE(of_kind(world, EventKind::DisputeOpened).size() == 1);
  const auto done = world.engine().reconfigure(make_policy(k_domains, {"web"}), {}, world.now());
  bool found = false;
  for (const auto& event : done.events) {
    if (event.kind == EventKind::DisputeResolved) {
      found = true;
      CHECK(event.silenced);
    }
  }
  CHECK(found);
}

TEST_CASE("a gate's stable_for counts from the end of a window, not from inside it",
          "[maintenance]") {
  // Found by a hostile review: planned work that took the target down and
  // overran its window by a second found `stable_for=30s` met at once.
  World world(make_policy(k_domains, {"db"}));
  for (int i = 0; i < 3; ++i) {
    world.round("db", all(Outcome::Up));
  }
  const auto now = world.now().wall;
  REQUIRE(world.engine().set_maintenance("db", AdHocMaintenance{"work", "bob", now, now + 5min}));
  for (int i = 0; i < 12; ++i) {
    world.round("db", all(Outcome::Down));
  }
  REQUIRE(world.verdict("db").kind == VerdictKind::Unhealthy);
  CHECK(decide_gate(world.verdict("db"), VerdictKind::Unhealthy, std::nullopt, 30s, world.now(),
                    GateFor::Any)
            .code == GateCode::Maintenance);
  REQUIRE(world.engine().clear_maintenance("db"));
  world.round("db", all(Outcome::Down));
  const auto& verdict = world.verdict("db");
  REQUIRE_FALSE(verdict.maintenance);
  const auto held =
      decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, 30s, world.now(), GateFor::Any);
  CHECK(held.code == GateCode::Unstable);
  for (int i = 0; i < 4; ++i) {
    world.round("db", all(Outcome::Down));
  }
  CHECK(decide_gate(world.verdict("db"), VerdictKind::Unhealthy, std::nullopt, 30s, world.now(),
                    GateFor::Any)
            .answer == GateAnswer::Proceed);
}

TEST_CASE("a peer's window holds every gate, names its node, and ends at its expires_at",
          "[maintenance][windows]") {
  World world(make_policy(k_domains, {"db"}));
  for (int i = 0; i < 3; ++i) {
    world.round("db", all(Outcome::Up));
  }
  REQUIRE(decide_gate(world.verdict("db"), VerdictKind::Healthy, std::nullopt, 0s, world.now(),
                      GateFor::Any)
              .answer == GateAnswer::Proceed);
  // Set on oracle-a 10 minutes ago for 45 minutes: 35 left, whatever the
  // wall clock does here.
  const auto wall = world.now().wall;
  REQUIRE(world.engine().set_maintenance(
      "db", AdHocMaintenance{"kernel upgrade", "alice", wall - 10min, wall + 35min, "oracle-a"}));
  world.evaluate();
  const auto& verdict = world.verdict("db");
  REQUIRE(verdict.maintenance);
  CHECK(verdict.maintenance->node == "oracle-a");
  CHECK(verdict.maintenance->by == "alice");
  const auto decision =
      decide_gate(verdict, VerdictKind::Healthy, std::nullopt, 0s, world.now(), GateFor::Any);
  CHECK(decision.answer == GateAnswer::Hold);
  CHECK(decision.code == GateCode::Maintenance);
  CHECK_THAT(
      decision.reason,
      Catch::Contains("in maintenance set by alice on node oracle-a (kernel upgrade) until"));
  world.clock().step_wall(2h);  // a step forward ends nothing
  world.clock().advance(35min - 1ms);
  world.evaluate();
  CHECK(world.verdict("db").maintenance);
  world.clock().advance(1ms);
  world.evaluate();
  CHECK_FALSE(world.verdict("db").maintenance);
}

namespace {

// `db` restored unhealthy since an hour ago, as a restart finds its row.
RestoredVerdict restored_unhealthy(const World& world) {
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Unhealthy;
  restored.generation = 3;
  restored.since = world.now().wall - 1h;
  restored.reason_code = ReasonCode::Quorum;
  return restored;
}

// The ad-hoc window `set` as a verdict row keeps it.
MaintenanceView api_window(const AdHocMaintenance& set) {
  return MaintenanceView{MaintenanceSource::Api, "api",      set.set_at,
                         set.expires_at,         set.reason, set.by};
}

GateDecision gate_30s(const World& world) {
  return decide_gate(world.verdict("db"), VerdictKind::Unhealthy, std::nullopt, 30s, world.now(),
                     GateFor::Any);
}

}  // namespace

TEST_CASE("a restart right after a window keeps stable_for counting from the window's end",
          "[maintenance][restart]") {
  // Found by a hostile review: the window's end lived in memory only, so a
  // restart one second after planned work counted stable_for from the
  // verdict's change an hour before, and the failover went ahead at once.
  World before(make_policy(k_domains, {"db"}));
  const auto set_at = before.now().wall;
  REQUIRE(before.engine().set_maintenance("db",
                                          AdHocMaintenance{"work", "bob", set_at, set_at + 5min}));
  for (int i = 0; i < 6; ++i) {
    before.round("db", all(Outcome::Down));
  }
  REQUIRE(before.engine().clear_maintenance("db"));
  before.round("db", all(Outcome::Down));
  const auto& left = before.verdict("db");
  REQUIRE(left.kind == VerdictKind::Unhealthy);
  REQUIRE(left.stable_from);
  CHECK(*left.stable_from == before.now().wall - 10s);  // the round that saw the window gone
  CHECK(left.stable_since() == *left.stable_from);

  // The restarted engine, five seconds after that window ended: a restored
  // verdict is confirmed by `fall` rounds of fresh evidence, then stable
  // for 30 s from the window's end.
  const auto restart = [&](std::optional<WallTime> stable_from) {
    auto world = std::make_unique<World>(make_policy(k_domains, {"db"}));
    auto restored = restored_unhealthy(*world);
    restored.stable_from = stable_from ? std::optional{world->now().wall - 5s} : std::nullopt;
    REQUIRE(world->engine().restore(restored));
    for (int i = 0; i < 3; ++i) {
      world->round("db", all(Outcome::Down), 1s);
    }
    return world;
  };
  const auto kept = restart(left.stable_from);
  REQUIRE(kept->verdict("db").fresh);
  const auto out_of_window = *kept->verdict("db").stable_from;
  CHECK(gate_30s(*kept).code == GateCode::Unstable);
  CHECK_THAT(gate_30s(*kept).reason, Catch::Contains("out of maintenance since"));
  for (int i = 0; i < 60 && gate_30s(*kept).code == GateCode::Unstable; ++i) {
    kept->round("db", all(Outcome::Down), 1s);
  }
  CHECK(gate_30s(*kept).answer == GateAnswer::Proceed);
  CHECK(kept->now().wall - out_of_window == 30s);

  // Without it (a row from before schema 8), the hour since the change counts.
  const auto old_row = restart(std::nullopt);
  CHECK(gate_30s(*old_row).answer == GateAnswer::Proceed);
}

TEST_CASE(
    "a restart that finds its window over ends it then, once, and stable_for counts from there",
    "[maintenance][restart]") {
  World world(make_policy(k_domains, {"db"}));
  auto restored = restored_unhealthy(world);
  // It ended while the daemon was stopped.
  const auto window = api_window(
      AdHocMaintenance{"work", "bob", world.now().wall - 20min, world.now().wall - 1min});
  restored.window = window;
  REQUIRE(world.engine().restore(restored));
  CHECK(world.verdict("db").maintenance == window);  // shown until the first evaluation
  const auto first = world.now().wall;
  world.round("db", all(Outcome::Down), 1s);
  const auto ended = of_kind(world, EventKind::MaintenanceEnded);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].target == "db");
  CHECK(ended[0].key == "maintenance/db/api/" + format_rfc3339(window.since));
  CHECK(of_kind(world, EventKind::MaintenanceStarted).empty());
  const auto& verdict = world.verdict("db");
  CHECK_FALSE(verdict.maintenance);
  CHECK(verdict.stable_from == first);
  CHECK(verdict.generation == 3);
  for (int i = 0; i < 2; ++i) {
    world.round("db", all(Outcome::Down), 1s);
  }
  REQUIRE(world.verdict("db").fresh);
  CHECK(gate_30s(world).code == GateCode::Unstable);
  for (int i = 0; i < 60 && gate_30s(world).code == GateCode::Unstable; ++i) {
    world.round("db", all(Outcome::Down), 1s);
  }
  CHECK(gate_30s(world).answer == GateAnswer::Proceed);
  CHECK(world.now().wall - first == 30s);
  CHECK(of_kind(world, EventKind::MaintenanceEnded).size() == 1);
}

TEST_CASE("a restart inside its window continues it: no second start, gates still hold",
          "[maintenance][restart]") {
  World world(make_policy(k_domains, {"db"}));
  const auto set_at = world.now().wall - 2min;
  const AdHocMaintenance set{"work", "bob", set_at, set_at + 10min};
  auto restored = restored_unhealthy(world);
  restored.window = api_window(set);
  REQUIRE(world.engine().restore(restored));
  REQUIRE(world.engine().set_maintenance("db", set));  // as storage restores the ad-hoc row
  for (int i = 0; i < 3; ++i) {
    world.round("db", all(Outcome::Down));
  }
  CHECK(of_kind(world, EventKind::MaintenanceStarted).empty());
  CHECK(of_kind(world, EventKind::MaintenanceEnded).empty());
  CHECK(gate_30s(world).code == GateCode::Maintenance);
  REQUIRE(world.engine().clear_maintenance("db"));
  world.round("db", all(Outcome::Down));
  CHECK(of_kind(world, EventKind::MaintenanceEnded).size() == 1);
  CHECK(gate_30s(world).code == GateCode::Unstable);
}

TEST_CASE("a group restored in a window that is over ends it, and its stable_for starts then",
          "[maintenance][restart][groups]") {
  auto policy = make_policy(k_domains, {"db-1", "db-2"});
  GroupPolicy group;
  group.name = "db";
  group.members = {"db-1", "db-2"};
  group.healthy_at_least = 1;
  policy.groups.push_back(group);
  World world(policy);
  RestoredVerdict restored;
  restored.target = "group:db";
  restored.kind = VerdictKind::Unhealthy;
  restored.generation = 2;
  restored.since = world.now().wall - 1h;
  restored.reason_code = ReasonCode::Quorum;
  restored.window = MaintenanceView{MaintenanceSource::Config, "nightly", world.now().wall - 30min,
                                    world.now().wall - 1min,   "",        ""};
  REQUIRE(world.engine().restore(restored));
  const auto first = world.now().wall;
  for (const auto* member : {"db-1", "db-2"}) {
    for (const auto& [vantage, outcome] : all(Outcome::Down)) {
      world.see(member, vantage, outcome);
    }
  }
  world.round("db-1", {});
  const auto ended = of_kind(world, EventKind::MaintenanceEnded);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].target == "group:db");
  CHECK(world.verdict("group:db").stable_since() == first);
  CHECK(of_kind(world, EventKind::MaintenanceStarted).empty());
}
