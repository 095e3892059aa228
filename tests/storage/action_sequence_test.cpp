// Tests each node's action id high-water mark (storage/action_rows.cpp,
// schema migration 6): taken from the rows a version-5 file holds, raised
// only by this node's own records, and kept after retention deletes them,
// so a restart after a quiet week never gives out an id again.
#include "storage_test_support.hpp"

#include "storage/schema.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::RecordedAction;

namespace {

RecordedAction action(const std::string& node, std::uint64_t seq, consensus::WallTime at,
                      consensus::Duration cooldown) {
  RecordedAction value;
  value.id = node + "-" + std::to_string(seq);
  value.node = node;
  value.target = "db";
  value.by = "failover-bot";
  value.what = "promote db-2";
  value.at = at;
  value.cooldown_until = at + cooldown;
  return value;
}

std::string millis(consensus::WallTime at) {
  return std::to_string(at.time_since_epoch().count());
}

std::string raw_row(const std::string& node, const std::string& id, consensus::WallTime at) {
  return "INSERT INTO actions (id, node, target, expect, gate_for, generation, acted_by, what, "
         "principal, at, cooldown_until) VALUES ('" +
         id + "', '" + node + "', 'db', 'unhealthy', 'service', 3, 'bot', 'promote', 'ci', " +
         millis(at) + ", " + millis(at + 1h) + ");";
}

using Marks = std::map<std::string, std::uint64_t>;

}  // namespace

TEST_CASE("a data directory at schema version 5 takes each node's highest id as its mark",
          "[storage]") {
  TempDir dir;
  std::string sql;
  for (int version = 1; version <= 5; ++version) {
    sql += migration_sql(version);
  }
  // "oracle-a-9" sorts after "oracle-a-12" as text: the mark compares numbers.
  sql += "PRAGMA user_version = 5;" + raw_row("oracle-a", "oracle-a-9", k_start - 1h) +
         raw_row("oracle-a", "oracle-a-12", k_start - 2h) +
         raw_row("oracle-a", "oracle-a-3", k_start - 3h) +
         raw_row("oracle-b", "oracle-b-7", k_start - 1h) +
         raw_row("edge-1", "edge-1-1700000000000", k_start - 1h);
  exec_sql(dir.database(), sql);

  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  REQUIRE(store.health().ok);
  CHECK(query_integer(dir.database(), "PRAGMA user_version") == schema_version());
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->issued_sequences ==
        Marks{{"edge-1", 1'700'000'000'000}, {"oracle-a", 12}, {"oracle-b", 7}});
  CHECK(state->actions.size() == 5);  // the rows themselves are untouched
}

TEST_CASE("only this node's own records raise its mark, and retention leaves the mark",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 7 * 24h;
  {
    Store store(options, clock);
    store.record_action(action("oracle-a", 41, k_start - 10 * 24h, 1h), /*issued_here=*/true);
    // Out of order, or recorded again: the mark never goes down.
    store.record_action(action("oracle-a", 5, k_start - 11 * 24h, 1h), /*issued_here=*/true);
    store.record_action(action("oracle-a", 41, k_start - 10 * 24h, 1h), /*issued_here=*/true);
    // A peer's entry (or ours relayed back by one) is not an id given out here.
    store.record_action(action("oracle-b", 99, k_start - 10 * 24h, 1h));
    store.record_action(action("oracle-a", 500, k_start - 10 * 24h, 1h));
    REQUIRE(store.flush(5s));
    const auto report = store.run_retention_now();
    CHECK(report.completed);
    CHECK(report.actions_deleted == 4);  // every row: old and finished
  }
  // The restart after the quiet week: nothing to load, the mark is there.
  Store store(options, clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->actions.empty());
  CHECK(state->issued_sequences == Marks{{"oracle-a", 41}});
}
