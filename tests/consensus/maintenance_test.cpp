// Maintenance windows: the calendar (recurring windows with an explicit
// offset), and the engine's use of it: gates hold, escalations opened
// inside a window are silenced and closed at its end. Injected clock only.
#include "consensus/maintenance.hpp"
#include "consensus/engine.hpp"
#include "consensus/gate.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

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

TEST_CASE("a daily window longer than a day is continuous; a zero one never runs",
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
