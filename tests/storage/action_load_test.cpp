// Tests the action ledger across restarts and time (storage/action_rows.cpp,
// storage/reader.cpp, storage/batch_writer.cpp): what a restart loads, a
// version-4 file taking the ledger, retention never removing an entry that
// still holds a gate, and damaged rows left out with a reason.
#include "storage_test_support.hpp"

#include "storage/schema.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::ActionAck;
using consensus::RecordedAction;

namespace {

RecordedAction action(const std::string& id, consensus::WallTime at, consensus::Duration cooldown,
                      const std::string& target = "db") {
  RecordedAction value;
  value.id = id;
  value.node = "oracle-a";
  value.target = target;
  value.by = "failover-bot";
  value.what = "promote db-2";
  value.at = at;
  value.cooldown_until = at + cooldown;
  return value;
}

RecordedAction acked(RecordedAction value) {
  value.ack = ActionAck{"alice", "seen", value.at + 1min, "oracle-a"};
  return value;
}

std::vector<std::string> ids(const std::vector<RecordedAction>& actions) {
  std::vector<std::string> out;
  out.reserve(actions.size());
  for (const auto& value : actions) {
    out.push_back(value.id);
  }
  return out;
}

std::string millis(consensus::WallTime at) {
  return std::to_string(at.time_since_epoch().count());
}

// An INSERT of a raw ledger row, as an operator (or a newer build) could leave it.
std::string raw_row(const std::string& id, const std::string& expect, const std::string& gate_for,
                    consensus::WallTime at, consensus::WallTime until) {
  return "INSERT INTO actions (id, node, target, expect, gate_for, generation, acted_by, what, "
         "principal, at, cooldown_until) VALUES ('" +
         id + "', 'oracle-a', 'db', '" + expect + "', '" + gate_for +
         "', 3, 'bot', 'promote', 'ci', " + millis(at) + ", " + millis(until) + ");";
}

}  // namespace

TEST_CASE(
    "a restart loads the entries in cooldown and the ones of the last 7 days, not old finished "
    "ones",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_action(action("in-cooldown", k_start - 10min, 1h));
    store.record_action(acked(action("recent-acked", k_start - 2h, 1h)));
    store.record_action(action("recent-ended", k_start - 6 * 24h, 1h));
    store.record_action(action("old-ended", k_start - 8 * 24h, 1h));
    store.record_action(acked(action("old-ended-acked", k_start - 30 * 24h, 1h)));
    // A 30-day cooldown recorded 8 days ago: older than 7 days, still in force.
    store.record_action(action("old-in-cooldown", k_start - 8 * 24h, 30 * 24h));
    REQUIRE(store.flush(5s));
  }
  clock.advance(1min);
  Store store(test_options(dir.path()), clock);
  auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(ids(state->actions) ==
        std::vector<std::string>{"in-cooldown", "recent-acked", "recent-ended", "old-in-cooldown"});
  CHECK(state->actions[1].ack.has_value());
  CHECK(state->skipped.empty());

  // Past 7 days only the long cooldown is left, until the instant it ends.
  clock.advance_to(k_start + 22 * 24h - 1ms);
  state = store.restore();
  REQUIRE(state.has_value());
  CHECK(ids(state->actions) == std::vector<std::string>{"old-in-cooldown"});
  clock.advance(1ms);
  state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->actions.empty());
}

TEST_CASE("past 10,000 entries a restart keeps the ones holding a gate before older finished ones",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  { Store store(test_options(dir.path()), clock); }  // creates the schema
  const auto n = std::to_string(k_restored_actions_max + 5);
  exec_sql(dir.database(),
           raw_row("old-live", "unhealthy", "service", k_start - 6 * 24h, k_start + 1h) +
               "WITH RECURSIVE i (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < " + n +
               ") INSERT INTO actions (id, node, target, expect, gate_for, generation, "
               "acted_by, what, principal, at, cooldown_until) SELECT 'fill-' || n, 'oracle-a', "
               "'db', 'unhealthy', 'service', 1, 'bot', 'x', 'ci', " +
               millis(k_start - 24h) + " + n, " + millis(k_start - 24h) + " + n + 1 FROM i;");
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->actions.size() == k_restored_actions_max);
  CHECK(state->actions.back().id == "old-live");  // kept, and still in newest-first order
  CHECK(state->actions.front().id == "fill-" + n);
  for (std::size_t i = 1; i < state->actions.size(); ++i) {
    REQUIRE(state->actions[i - 1].at >= state->actions[i].at);
  }
}

TEST_CASE("a data directory written at schema version 4 keeps everything and takes the ledger",
          "[storage]") {
  TempDir dir;
  std::string sql;
  for (int version = 1; version <= 4; ++version) {
    sql += migration_sql(version);
  }
  sql +=
      "PRAGMA user_version = 4;"
      "INSERT INTO verdicts (target, kind, held, generation, since, evaluated_at, "
      "valid_until, reason_code, reason, fresh, open_escalation_key) VALUES ('db', "
      "'disputed', 'healthy', 2, " +
      millis(k_start - 1h) + ", " + millis(k_start - 10s) + ", " + millis(k_start) +
      ", 'dispute', 'domains disagree', 1, 'dispute/db/2');"
      "INSERT INTO escalations (id, key, kind, target, vantage, reason, opened_at, silenced) "
      "VALUES (5, 'dispute/db/2', 'dispute', 'db', '', 'domains disagree', " +
      millis(k_start - 1h) +
      ", 1);"
      "INSERT INTO maintenance VALUES ('db', 'kernel upgrade', 'alice', " +
      millis(k_start - 5min) + ", " + millis(k_start + 1h) +
      ");"
      "INSERT INTO audit_log (at, action, principal, client, target, escalation_id, detail, "
      "outcome, why) VALUES (" +
      millis(k_start - 5min) +
      ", 'maintenance_set', 'ops', '127.0.0.1:1', 'db', 0, 'ttl=1h', 'done', '');";
  exec_sql(dir.database(), sql);
  REQUIRE(query_integer(dir.database(), "PRAGMA user_version") == 4);

  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  REQUIRE(store.health().ok);
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
  CHECK(schema_version() >= 5);
  auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].generation == 2);
  CHECK(state->verdicts[0].open_escalation_key == "dispute/db/2");
  CHECK(state->verdicts[0].open_escalation_silenced);
  REQUIRE(state->open_escalations.size() == 1);
  CHECK(state->open_escalations[0].id == 5);
  REQUIRE(state->maintenance.size() == 1);
  CHECK(state->maintenance[0].second.expires_at == k_start + 1h);
  CHECK(state->max_escalation_id == 5);
  CHECK(state->actions.empty());
  const auto audit = store.audit(AuditQuery{});
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].action == AuditAction::MaintenanceSet);

  store.record_action(action("oracle-a-1", k_start, 1h));
  REQUIRE(store.flush(5s));
  state = store.restore();
  REQUIRE(state.has_value());
  CHECK(ids(state->actions) == std::vector<std::string>{"oracle-a-1"});
  CHECK(query_integer(dir.database(),
                      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                      "name = 'actions_by_target'") == 1);
}

TEST_CASE("retention drops old finished entries and keeps every one still in cooldown",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 7 * 24h;
  Store store(options, clock);
  store.record_action(action("old-finished", k_start - 10 * 24h, 1h));
  store.record_action(acked(action("old-finished-acked", k_start - 9 * 24h, 1h)));
  store.record_action(action("old-unacked-in-cooldown", k_start - 10 * 24h, 30 * 24h));
  store.record_action(acked(action("old-acked-in-cooldown", k_start - 10 * 24h, 30 * 24h)));
  store.record_action(action("recent-finished", k_start - 2 * 24h, 1h));
  REQUIRE(store.flush(5s));
  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(report.actions_deleted == 2);
  CHECK(store.health().retention_deleted == 2);
  CHECK(ids(store.actions(ActionQuery{})) == std::vector<std::string>{"recent-finished",
                                                                      "old-acked-in-cooldown",
                                                                      "old-unacked-in-cooldown"});
  // Once their cooldown ends, the old entries go too (a pass of its own may
  // get there first: the clock moved past the retention interval).
  clock.advance(21 * 24h);
  CHECK(store.run_retention_now().completed);
  CHECK(store.actions(ActionQuery{}).empty());
  CHECK(store.health().retention_deleted == 5);
}

TEST_CASE("a ledger row whose expect or for no longer parses is left out with a reason",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_action(action("good", k_start - 1min, 1h));
    REQUIRE(store.flush(5s));
  }
  exec_sql(dir.database(),
           raw_row("bad-expect", "sideways", "service", k_start - 2min, k_start + 1h) +
               raw_row("bad-for", "unhealthy", "carrier-pigeon", k_start - 3min, k_start + 1h));
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(ids(state->actions) == std::vector<std::string>{"good"});
  REQUIRE(state->skipped.size() == 2);
  CHECK(state->skipped[0] == "action bad-expect (target db) left out: unknown expect 'sideways'");
  CHECK(state->skipped[1] == "action bad-for (target db) left out: unknown for 'carrier-pigeon'");
  auto health = store.health();
  CHECK(health.errors == 2);
  CHECK(health.last_error ==
        "reading: action bad-for (target db) left out: unknown for 'carrier-pigeon' (and 1 more "
        "rows left out)");
  // Reads go on: the API's list skips them the same way.
  CHECK(ids(store.actions(ActionQuery{})) == std::vector<std::string>{"good"});
  health = store.health();
  CHECK(health.errors == 4);
  CHECK(health.ok);
}
