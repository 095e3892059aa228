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
       {"observations", "verdicts", "verdict_log", "escalations", "overrides"}) {
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
