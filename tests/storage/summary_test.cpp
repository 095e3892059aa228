// Tests the period summaries storage writes (storage/batch_writer.cpp) where
// they are hard to get right: a period closed for every pair at once, a
// batch that fails and is retried, a clock stepped forward and back,
// restarts (also under another summary_period), and a summary SQLite
// refuses. Every observation counts once, in the period it was made in.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

namespace {

Options minute_summaries(const TempDir& dir) {
  auto options = test_options(dir.path());
  options.summary_period = 1min;
  return options;
}

std::int64_t summed(const TempDir& dir, const std::string& column, const std::string& where = "1") {
  return query_integer(dir.database(), "SELECT coalesce(sum(" + column +
                                           "), 0) FROM observation_summaries WHERE " + where);
}

std::int64_t rows(const TempDir& dir, const std::string& table, const std::string& where = "1") {
  return query_integer(dir.database(), "SELECT count(*) FROM " + table + " WHERE " + where);
}

// A trigger standing in for any refusal of a summary row for its data (a
// constraint, not the disk): every summary of target `poison`.
void refuse_summaries_of_poison(const TempDir& dir) {
  exec_sql(dir.database(),
           "CREATE TRIGGER refuse_poison_summary BEFORE INSERT ON observation_summaries "
           "WHEN NEW.target = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned summary'); END;");
}

std::string pair_target(int i) {
  return "target-" + std::to_string(i);
}

}  // namespace

// A batch that fails and is retried never counts twice, also when
// it is the batch that closes a period for every pair (the summaries of
// 300 pairs written in it). The disk fills exactly when the next period's
// first observations arrive; space returns; every observation counts once.
TEST_CASE("a batch failing at a period boundary on a full disk counts every pair once",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = minute_summaries(dir);
  options.batch = 64;
  constexpr int k_pairs = 300;
  std::int64_t recorded = 0;
  {
    Store store(options, clock);
    REQUIRE(store.flush(5s));
    // Period 0: three rounds of every pair.
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < k_pairs; ++i) {
        store.record_observation(observation(pair_target(i), "quad9", k_start + round * 10s));
        ++recorded;
      }
    }
    REQUIRE(store.flush(10s));
    store.set_page_limit(1);  // full: the boundary batch cannot commit
    // Period 1's first round: its first record closes period 0 for all.
    for (int i = 0; i < k_pairs; ++i) {
      store.record_observation(observation(pair_target(i), "quad9", k_start + 61s));
      ++recorded;
    }
    REQUIRE(eventually([&] { return !store.health().ok; }));
    CHECK(eventually([&] { return store.health().errors >= 3; }));  // several failed retries
    store.set_page_limit(0);
    REQUIRE(eventually([&] { return store.health().ok; }));
    REQUIRE(store.flush(10s));
    CHECK(store.health().dropped == 0);
  }  // the stop writes period 1 in progress
  CHECK(summed(dir, "up") == recorded);
  CHECK(summed(dir, "up", "period_start = " + std::to_string(k_start.time_since_epoch().count())) ==
        3 * k_pairs);
  CHECK(rows(dir, "observation_summaries") == 2 * k_pairs);
}

// Stragglers from an older period after the global close are
// neither lost nor counted twice.
TEST_CASE("stragglers of a closed period add to its summary and lose nothing",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  std::int64_t recorded = 0;
  {
    Store store(minute_summaries(dir), clock);
    for (int i = 0; i < 50; ++i) {
      store.record_observation(observation(pair_target(i), "quad9", k_start + 5s));
      ++recorded;
    }
    // One pair's observation in minute 1 closes minute 0 for every pair...
    store.record_observation(observation(pair_target(0), "quad9", k_start + 65s));
    ++recorded;
    // ...then stragglers of minute 0 for every pair (a slow probe), in
    // another batch, and minute 1 and 2 for all.
    REQUIRE(store.flush(5s));
    for (int i = 0; i < 50; ++i) {
      store.record_observation(observation(pair_target(i), "quad9", k_start + 59s));
      store.record_observation(observation(pair_target(i), "quad9", k_start + 70s));
      store.record_observation(observation(pair_target(i), "quad9", k_start + 130s));
      recorded += 3;
    }
    REQUIRE(store.flush(5s));
  }
  const auto minute0 = std::to_string(k_start.time_since_epoch().count());
  CHECK(summed(dir, "up") == recorded);
  CHECK(summed(dir, "up", "period_start = " + minute0) == 100);
  CHECK(summed(dir, "up", "period_start = " + minute0 + " AND target = 'target-7'") == 2);
}

// A clock stepped forward (hours) and back, and dates before
// 1970, never lose or double-count observations in the summaries.
TEST_CASE("wall clock jumps of hours and dates before 1970 keep the summary counts exact",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  const consensus::WallTime before_1970{consensus::Duration{-3'600'000 * 5 - 1}};
  std::int64_t recorded = 0;
  {
    Store store(minute_summaries(dir), clock);
    const auto record = [&](const std::string& target, consensus::WallTime at) {
      store.record_observation(observation(target, "quad9", at));
      ++recorded;
    };
    for (int i = 0; i < 3; ++i) {
      record("a", k_start + i * 10s);
      record("b", k_start + i * 10s);
    }
    record("a", k_start + 5h);   // stepped forward: closes minute 0 for both
    record("b", k_start + 31s);  // b's clock is back (another thread's reading)
    record("a", k_start + 40s);  // stepped back
    record("a", k_start + 5h + 1s);
    record("a", before_1970);  // a dead RTC battery
    record("b", before_1970 + 1ms);
    record("a", k_start + 70s);
    record("b", k_start + 70s);
    REQUIRE(store.flush(5s));
  }
  CHECK(summed(dir, "up") == recorded);
  CHECK(summed(dir, "up", "target = 'a'") == 8);
  CHECK(summed(dir, "up", "target = 'b'") == 6);
  // The periods before 1970 floor down: -18000001 ms is in [-18060000,
  // -18000000), -18000000 ms begins its own.
  CHECK(summed(dir, "up", "period_start = -18060000") == 1);
  CHECK(summed(dir, "up", "period_start = -18000000") == 1);
  CHECK(rows(dir, "observation_summaries", "period_end - period_start <> 60000") == 0);
}

// A summary SQLite refuses for its data (here a trigger; a constraint the
// same) costs only itself: it was charged to the observation that closed
// the period, which was dropped, and so was every later one that tried to
// close it again (every observation of every pair, for as long as the
// process ran). The refusal is a storage error, and storage stays ok.
TEST_CASE("a period summary SQLite refuses costs only itself and counts as a storage error",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(minute_summaries(dir), clock);
  REQUIRE(store.flush(5s));
  refuse_summaries_of_poison(dir);
  store.record_observation(observation("poison", "quad9", k_start));
  store.record_observation(observation("db", "quad9", k_start));
  REQUIRE(store.flush(5s));
  // Minutes 1..3: db changes outcome every observation (each one a row of
  // its own in `observations`); poison is never observed again.
  for (int i = 0; i < 12; ++i) {
    store.record_observation(flipping("db", "quad9", k_start + 60s + i * 15s, i + 1));
  }
  REQUIRE(store.flush(5s));
  const auto health = store.health();
  CHECK(health.ok);
  CHECK(health.dropped == 0);
  CHECK(health.summaries_refused == 1);
  CHECK(health.errors == 1);
  CHECK_THAT(health.last_error, Catch::Contains("summary of poison from quad9") &&
                                    Catch::Contains("poisoned summary"));
  CHECK(rows(dir, "observations", "target = 'db'") == 13);
  CHECK(rows(dir, "observation_summaries", "target = 'poison'") == 0);
  // db's minutes 0..2 are closed and written, the same batches as the refusal.
  CHECK(summed(dir, "up + down", "target = 'db'") == 9);
}

// The same at a stop, where the periods in progress are written: the
// refused one is counted, the others are written.
TEST_CASE("a period summary SQLite refuses at a stop costs only itself", "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  storage::Health health;
  {
    Store store(minute_summaries(dir), clock);
    REQUIRE(store.flush(5s));
    refuse_summaries_of_poison(dir);
    for (const auto* target : {"alpha", "poison", "zulu"}) {
      store.record_observation(observation(target, "quad9", k_start));
    }
    REQUIRE(store.flush(5s));
    store.close();
    health = store.health();
  }
  CHECK(health.summaries_refused == 1);
  CHECK(health.errors == 1);
  CHECK(rows(dir, "observation_summaries") == 2);
  CHECK(summed(dir, "up") == 2);
}

// Summaries of a period split by a restart add up, with the
// batch-writer state gone (kill or stop) and a different order of pairs.
TEST_CASE("a period split by two restarts adds up for every pair", "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  for (int part = 0; part < 3; ++part) {
    Store store(minute_summaries(dir), clock);
    for (int i = 0; i < 20; ++i) {
      for (int k = 0; k <= part; ++k) {
        store.record_observation(
            observation(pair_target(i), "quad9", k_start + part * 10s + k * 1s));
      }
    }
    REQUIRE(store.flush(5s));
  }
  CHECK(rows(dir, "observation_summaries") == 20);
  CHECK(summed(dir, "up") == 20 * 6);
  CHECK(summed(dir, "up", "target = 'target-3'") == 6);
}

// After a wall clock stepped forward (a day) and back, the latest period
// seen was a day ahead, and no period closed for every pair until the wall
// clock caught up: a pair no longer observed kept its summary in memory,
// unwritten (lost at kill -9), and every other pair's summary was written
// one by one. A period far behind the latest one makes it the latest.
TEST_CASE("after a wall clock step forward and back an idle pair's period still closes",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(minute_summaries(dir), clock);
  store.record_observation(observation("busy", "quad9", k_start - 2s));
  store.record_observation(observation("busy", "quad9", k_start + 24h));  // stepped forward
  store.record_observation(observation("idle", "quad9", k_start + 1s));   // and back
  store.record_observation(observation("busy", "quad9", k_start + 3s));
  REQUIRE(store.flush(5s));
  const auto idle_rows = [&] {
    return query_integer(dir.database(),
                         "SELECT count(*) FROM observation_summaries WHERE target = 'idle'");
  };
  // Without the step: busy's first observation of minute 1 closes minute 0
  // for idle too.
  for (int minute = 1; minute <= 3; ++minute) {
    store.record_observation(observation("busy", "quad9", k_start + minute * 60s + 1s));
  }
  REQUIRE(store.flush(5s));
  CHECK(idle_rows() == 1);
  CHECK(summed(dir, "up", "target = 'idle'") == 1);
}

// storage.summary_period changed across a restart (5m -> 1h, as a reload
// asks for): the hour 06:00-07:00 starts where the five minutes
// 06:00-06:05 written before did. Keyed by the start alone, the hour's
// counts were added into the five-minute row (13 observations in 5
// minutes, deleted by retention as if it ended at 06:05). A period is its
// start and its end: two rows.
TEST_CASE("a summary_period changed across a restart never merges unlike periods",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  const auto six = k_start - 48min;  // 06:00:00Z
  auto options = test_options(dir.path());
  options.summary_period = 5min;
  {
    Store store(options, clock);
    for (int minute = 0; minute <= 32; ++minute) {
      store.record_observation(observation("db", "quad9", six + minute * 1min));
    }
    REQUIRE(store.flush(5s));
  }
  options.summary_period = 1h;
  {
    Store store(options, clock);
    for (int minute = 33; minute <= 40; ++minute) {
      store.record_observation(observation("db", "quad9", six + minute * 1min));
    }
    REQUIRE(store.flush(5s));
  }
  CHECK(summed(dir, "up") == 41);  // nothing lost
  const auto at_six = "period_start = " + std::to_string(six.time_since_epoch().count());
  // One observation a minute: no row may hold more than its minutes.
  CHECK(rows(dir, "observation_summaries", "up > (period_end - period_start) / 60000") == 0);
  // 06:00: the five minutes (0..4) and the hour (33..40), apart.
  CHECK(rows(dir, "observation_summaries", at_six) == 2);
  CHECK(summed(dir, "up", at_six + " AND period_end - period_start = 300000") == 5);
  CHECK(summed(dir, "up", at_six + " AND period_end - period_start = 3600000") == 8);
}

// A failed and retried batch never counts twice, also when the
// batch steps the clock forward and back across periods (staged period
// and staged tallies both rolled back), with stragglers, on a full disk.
TEST_CASE("a retried batch that jumps the clock back and forth counts each observation once",
          "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = minute_summaries(dir);
  options.batch = 1000;
  std::int64_t recorded = 0;
  {
    Store store(options, clock);
    for (int i = 0; i < 40; ++i) {
      store.record_observation(observation(pair_target(i), "quad9", k_start + 1s));
      ++recorded;
    }
    REQUIRE(store.flush(5s));
    store.set_page_limit(1);
    const std::vector<consensus::Duration> steps{61s, 3h, 2s, 125s, -2h, 59s, 3h + 1s, 70s};
    for (const auto step : steps) {
      for (int i = 0; i < 40; ++i) {
        store.record_observation(observation(pair_target(i), "quad9", k_start + step));
        ++recorded;
      }
    }
    REQUIRE(eventually([&] { return store.health().errors >= 3; }));
    store.set_page_limit(0);
    REQUIRE(eventually([&] { return store.health().ok; }));
    REQUIRE(store.flush(10s));
    CHECK(store.health().dropped == 0);
  }
  CHECK(summed(dir, "up") == recorded);
  CHECK(summed(dir, "up", "target = 'target-9'") == 9);
}

// summary_period at its upper edge (24h): periods are UTC days, a pair's
// observations either side of midnight land in two rows that add up.
TEST_CASE("a 24h summary period splits at UTC midnight and adds up", "[storage][summary]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.summary_period = 24h;
  constexpr std::int64_t k_day = 86'400'000;
  const auto midnight = consensus::WallTime{
      consensus::Duration{(k_start.time_since_epoch().count() / k_day + 1) * k_day}};
  {
    Store store(options, clock);
    for (int i = 0; i < 50; ++i) {
      store.record_observation(observation("db", "quad9", midnight - 50s + i * 1s));
      store.record_observation(observation("db", "quad9", midnight + i * 1s));
    }
    REQUIRE(store.flush(5s));
  }
  CHECK(rows(dir, "observation_summaries") == 2);
  CHECK(rows(dir, "observation_summaries",
             "period_start % 86400000 = 0 AND period_end - period_start = 86400000") == 2);
  CHECK(summed(dir, "up",
               "period_start = " + std::to_string(midnight.time_since_epoch().count())) == 50);
  CHECK(summed(dir, "up") == 100);
}
