// Tests storage/schema.cpp through the Store: the file, its pragmas, its
// version, and what happens with a file from a newer crosscheck.
#include "storage/schema.hpp"
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

TEST_CASE("a new database is created at the current schema version in WAL mode", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  REQUIRE(store.health().ok);
  REQUIRE(std::filesystem::exists(dir.database()));
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
  CHECK(query_text(dir.database(), "PRAGMA journal_mode") == "wal");
  for (const char* table :
       {"observations", "latest_observations", "observation_summaries", "verdicts", "verdict_log",
        "escalations", "overrides", "audit_log", "maintenance"}) {
    INFO(table);
    CHECK(query_integer(dir.database(),
                        std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name = '") +
                            table + "'") == 1);
  }
}

TEST_CASE("a missing data directory is created", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path() / "var" / "lib" / "crosscheck"), clock);
  CHECK(store.health().ok);
  CHECK(std::filesystem::exists(dir.path() / "var" / "lib" / "crosscheck" / k_database_file));
}

TEST_CASE("reopening the database keeps what was written and the schema version", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_observation(observation("db", "quad9", k_start - 1s));
    store.record_verdict(verdict("db", consensus::VerdictKind::Healthy, 1, k_start - 1s), true);
    REQUIRE(store.flush(5s));
  }
  Store reopened(test_options(dir.path()), clock);
  REQUIRE(reopened.health().ok);
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
  CHECK(reopened.observations("db", 10).size() == 1);
  CHECK(reopened.history("db", 10).size() == 1);
}

TEST_CASE("a database from a newer schema version is refused with a clear reason", "[storage]") {
  TempDir dir;
  exec_sql(dir.database(), "CREATE TABLE future (x); PRAGMA user_version = 99;");
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);

  const auto health = store.health();
  CHECK_FALSE(health.ok);
  CHECK_THAT(health.reason, Catch::Contains("newer") && Catch::Contains("99") &&
                                Catch::Contains(dir.database().string()));
  CHECK(health.since == k_start);
  CHECK_FALSE(store.restore().has_value());
  store.record_observation(observation("db", "quad9", k_start));
  CHECK(store.health().enqueued == 1);
  CHECK_FALSE(store.flush(50ms));
  store.close();
  // Nothing was migrated or written into the newer file.
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == 99);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM sqlite_master") == 1);
}

TEST_CASE(
    "a data directory written at schema version 1 opens, keeps its rows and gets each pair's "
    "newest observation",
    "[storage]") {
  TempDir dir;
  // A file as the previous release left it: every observation stored.
  exec_sql(dir.database(), std::string(migration_sql(1)) + "PRAGMA user_version = 1;");
  const auto at = [](consensus::Duration ago) {
    return std::to_string((k_start - ago).time_since_epoch().count());
  };
  std::string rows;
  for (int i = 5; i >= 1; --i) {
    rows +=
        "INSERT INTO observations (target, vantage, t_wall, outcome, layer, last_known_good, "
        "latency_ms, detail, answers) VALUES ('db', 'quad9', " +
        at(i * 10s) + ", 'up', 'none', 'not_tried', " + std::to_string(i) + ".5, 'ok', '[]');";
  }
  rows +=
      "INSERT INTO observations (target, vantage, t_wall, outcome, layer, last_known_good, "
      "latency_ms, detail, answers) VALUES ('db', 'google', " +
      at(1min) + ", 'down', 'dns', 'not_tried', 2.0, 'dns: SERVFAIL', '[]');" +
      "INSERT INTO verdicts (target, kind, held, generation, since, evaluated_at, valid_until, "
      "reason_code, reason, fresh) VALUES ('db', 'healthy', NULL, 4, " +
      at(1h) + ", " + at(10s) + ", " + at(0s) + ", 'quorum', 'all up', 1);";
  exec_sql(dir.database(), rows);
  REQUIRE(query_integer(dir.database(), "SELECT count(*) FROM observations") == 6);

  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  REQUIRE(store.health().ok);
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
  // Nothing written before is lost; each pair's newest is where it is looked up now.
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observations") == 6);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM latest_observations") == 2);
  CHECK(query_text(dir.database(),
                   "SELECT t_wall FROM latest_observations WHERE vantage = 'quad9'") == at(10s));
  const auto restored = store.restore();
  REQUIRE(restored);
  REQUIRE(restored->verdicts.size() == 1);
  CHECK(restored->verdicts[0].generation == 4);
  const auto seen = store.observations("db", 100);
  CHECK(seen.size() == 6);
  CHECK(seen.front().at.wall == k_start - 10s);

  // The next observation of an unchanged pair is no change: the migrated
  // newest stands. A change replaces it in place.
  store.record_observation(observation("db", "quad9", k_start));
  REQUIRE(store.flush(5s));
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observations") == 6);
  CHECK(query_text(dir.database(),
                   "SELECT t_wall FROM latest_observations WHERE vantage = 'quad9'") == at(10s));
  store.record_observation(observation("db", "quad9", k_start + 1s, consensus::Outcome::Down));
  REQUIRE(store.flush(5s));
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observations") == 7);
  CHECK(query_text(dir.database(),
                   "SELECT outcome FROM latest_observations WHERE vantage = 'quad9'") == "down");
}

TEST_CASE(
    "a data directory written at schema version 3 opens with its escalations not silenced and "
    "takes maintenance windows",
    "[storage]") {
  TempDir dir;
  // A file as the previous release left it: an open dispute linked to its
  // verdict, an open split beside it, and an override.
  std::string sql;
  for (int version = 1; version <= 3; ++version) {
    sql += migration_sql(version);
  }
  const auto at = [](consensus::Duration ago) {
    return std::to_string((k_start - ago).time_since_epoch().count());
  };
  sql +=
      "PRAGMA user_version = 3;"
      "INSERT INTO verdicts (target, kind, held, generation, since, evaluated_at, valid_until, "
      "reason_code, reason, fresh, open_escalation_key) VALUES ('db', 'disputed', 'healthy', "
      "2, " +
      at(1h) + ", " + at(10s) + ", " + at(0s) +
      ", 'dispute', 'domains disagree', 1, 'dispute/db/2');"
      "INSERT INTO escalations (id, key, kind, target, vantage, reason, opened_at) VALUES "
      "(5, 'dispute/db/2', 'dispute', 'db', '', 'domains disagree', " +
      at(1h) +
      ");"
      "INSERT INTO escalations (id, key, kind, target, vantage, reason, opened_at) VALUES "
      "(6, 'split/db/2', 'split', 'db', '', 'quad9 disagrees with itself', " +
      at(30min) +
      ");"
      "INSERT INTO overrides VALUES ('db', 'healthy', 'drill', 'bob', " +
      at(5min) + ", " + std::to_string((k_start + 1h).time_since_epoch().count()) + ");";
  exec_sql(dir.database(), sql);
  REQUIRE(query_integer(dir.database(), "PRAGMA user_version") == 3);

  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    REQUIRE(store.health().ok);
    CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
    CHECK(query_integer(dir.database(), "SELECT count(*) FROM escalations WHERE silenced = 0") ==
          2);
    const auto state = store.restore();
    REQUIRE(state.has_value());
    REQUIRE(state->verdicts.size() == 1);
    CHECK(state->verdicts[0].open_escalation_key == "dispute/db/2");
    CHECK_FALSE(state->verdicts[0].open_escalation_silenced);
    REQUIRE(state->open_escalations.size() == 2);
    CHECK(state->open_escalations[0].id == 5);
    CHECK_FALSE(state->open_escalations[0].silenced);
    CHECK_FALSE(state->open_escalations[1].silenced);
    CHECK(state->overrides.size() == 1);
    CHECK(state->maintenance.empty());

    consensus::AdHocMaintenance window;
    window.reason = "resolver swap";
    window.by = "alice";
    window.set_at = k_start;
    window.expires_at = k_start + 2h;
    store.set_maintenance("db", window);
    REQUIRE(store.flush(5s));
  }
  Store reopened(test_options(dir.path()), clock);
  const auto state = reopened.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->maintenance.size() == 1);
  CHECK(state->maintenance[0].first == "db");
  CHECK(state->maintenance[0].second.reason == "resolver swap");
}

TEST_CASE(
    "a data directory written at schema version 8 keeps its summaries and keys them by start and "
    "end",
    "[storage]") {
  TempDir dir;
  // A file as the previous release left it: a five-minute summary of db at 06:00.
  std::string sql;
  for (int version = 1; version <= 8; ++version) {
    sql += migration_sql(version);
  }
  const auto six = k_start - 48min;  // 06:00:00Z
  const auto at = [](consensus::WallTime when) {
    return std::to_string(when.time_since_epoch().count());
  };
  sql +=
      "PRAGMA user_version = 8;"
      "INSERT INTO observation_summaries VALUES ('db', 'quad9', " +
      at(six) + ", " + at(six + 5min) + ", 5, 0, 0, 1.5, 2.5, 3.5);";
  exec_sql(dir.database(), sql);

  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.summary_period = 1h;
  {
    Store store(options, clock);
    REQUIRE(store.health().ok);
    CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
    CHECK(query_integer(dir.database(),
                        "SELECT count(*) FROM observation_summaries WHERE up = 5 AND p50_ms = 1.5 "
                        "AND p99_ms = 3.5") == 1);
    // The hour from 06:00 is a row of its own beside the five minutes.
    store.record_observation(observation("db", "quad9", six + 40min));
    REQUIRE(store.flush(5s));
  }
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observation_summaries") == 2);
  CHECK(query_integer(dir.database(), "SELECT up FROM observation_summaries WHERE period_end = " +
                                          at(six + 5min)) == 5);
  CHECK(query_integer(dir.database(), "SELECT up FROM observation_summaries WHERE period_end = " +
                                          at(six + 1h)) == 1);
  // The time index came back with the table: retention finds rows by it.
  CHECK(query_integer(dir.database(),
                      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                      "'observation_summaries_by_time'") == 1);
}
