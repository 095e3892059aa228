// Hostile review (review-1) of the storage change 7cf3a8f: a pair's newest
// row replaced at a change only, every pair's period summary written at once
// (close_periods_before, staged/committed for rollback), latencies in a
// bounded sketch, storage.summary_period. Each case states the promise it
// attacks. A case whose name starts with "FINDING" failed when written: it
// shows a broken promise (see the comment above it).
#include "storage/latency_sketch.hpp"
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
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

std::string pair_target(int i) {
  return "target-" + std::to_string(i);
}

}  // namespace

// Promise: a batch that fails and is retried never counts twice, also when
// it is the batch that closes a period for every pair (the summaries of
// 300 pairs written in it). The disk fills exactly when the next period's
// first observations arrive; space returns; every observation counts once.
TEST_CASE("review a batch failing at a period boundary on a full disk counts every pair once",
          "[storage][review]") {
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

// Promise: stragglers from an older period after the global close are
// neither lost nor counted twice.
TEST_CASE("review stragglers of a closed period add to its summary and lose nothing",
          "[storage][review]") {
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

// Promise: a clock stepped forward (hours) and back, and dates before
// 1970, never lose or double-count observations in the summaries.
TEST_CASE("review wall clock jumps of hours and dates before 1970 keep the summary counts exact",
          "[storage][review]") {
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

// FINDING (medium): one pair's summary that SQLite refuses (a constraint,
// here a trigger standing in for any non-environmental refusal of a
// summary row) is charged to whichever observation happened to close the
// period, which is dropped; the close is retried by the next observation
// of the new period, which is dropped too, and so on for as long as the
// process runs: every observation of every pair in every later period is
// lost, though none of them was refused. What should happen: the refused
// summary costs itself (or its pair's tally), the batch's observations
// commit ("a record SQLite refuses is dropped and counted while the rest
// of its batch commits").
TEST_CASE("FINDING review one refused period summary drops every later observation of every pair",
          "[storage][review]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(minute_summaries(dir), clock);
  REQUIRE(store.flush(5s));
  exec_sql(dir.database(),
           "CREATE TRIGGER refuse_poison_summary BEFORE INSERT ON observation_summaries "
           "WHEN NEW.target = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned summary'); END;");
  store.record_observation(observation("poison", "quad9", k_start));
  store.record_observation(observation("db", "quad9", k_start));
  REQUIRE(store.flush(5s));
  // Minutes 1..3: db changes outcome every observation (each one a row of
  // its own in `observations`); poison is never observed again.
  for (int i = 0; i < 12; ++i) {
    store.record_observation(flipping("db", "quad9", k_start + 60s + i * 15s, i + 1));
  }
  REQUIRE(store.flush(5s));
  // At most the poisoned pair's summary may be lost: no observation was refused.
  CHECK(store.health().dropped == 0);
  CHECK(rows(dir, "observations", "target = 'db'") == 13);
}

// Promise: retention never deletes a pair's newest change; a clock stepped
// back never loses observations.
// FINDING (low): retention picks the "newest" by t_wall, while the writer
// (rightly, see k_upsert_latest) takes the last written as the newest.
// After a clock stepped forward and back, the pair's real newest change
// (the one `latest_observations` names, its current outcome) is deleted
// from `observations` and the history shows a stale future-dated change
// as the pair's newest. Should: keep the change `latest_observations`
// names (match on it), whatever its t_wall.
TEST_CASE("FINDING review retention after a clock step deletes the pair's newest change",
          "[storage][review]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  store.record_observation(observation("db", "quad9", k_start - 3h));  // up
  store.record_observation(
      observation("db", "quad9", k_start + 5h, consensus::Outcome::Down));  // clock forward
  store.record_observation(observation("db", "quad9", k_start - 2h));       // clock back: up again
  REQUIRE(store.flush(5s));
  REQUIRE(query_text(dir.database(), "SELECT outcome FROM latest_observations") == "up");
  REQUIRE(store.run_retention_now().completed);
  // The change that began the pair's current outcome is still in the file.
  CHECK(rows(dir, "observations",
             "outcome = 'up' AND t_wall = " +
                 std::to_string((k_start - 2h).time_since_epoch().count())) == 1);
  // (The history still shows it while `latest_observations` holds it; the
  // pair's next change replaces that row, and the episode is gone.)
}

// Promise: quantiles within 2 % once past 32 values.
// FINDING (low): the bucket middle is rounded to the microsecond after the
// bucket error, so latencies of tens of microseconds (a resolver on the
// host, a loopback probe) are off by more than 2 %: 12.5 us reads 12 or 13.
TEST_CASE("FINDING review sketch quantiles of microsecond latencies stay within 2 percent",
          "[storage][review]") {
  const double value = GENERATE(0.0125, 0.0175, 0.0305, 0.045);
  INFO("latency " << value << " ms");
  LatencySketch sketch;
  for (int i = 0; i < 100; ++i) {
    sketch.add(value);
  }
  REQUIRE(sketch.bucketed());
  const auto p50 = sketch.quantile(0.5);
  REQUIRE(p50);
  INFO("p50 " << *p50);
  CHECK(std::abs(*p50 - value) <= 0.02 * value);
}

// FINDING (low): the same over the sub-millisecond latencies of a resolver
// on the LAN or a loopback check: the microsecond rounding on top of the
// bucket's 1.98 % pushes the error past 2 % for values up to ~0.73 ms
// (2.85 % at 0.05 ms). Should: round after choosing the bucket's value
// more finely (or not round below a ms), or narrow the buckets.
TEST_CASE("FINDING review sketch quantiles stay within 2 percent from 0.05 ms to 10 s",
          "[storage][review]") {
  double worst = 0;
  double worst_at = 0;
  for (double value = 0.05; value < 10'000; value *= 1.0037) {
    LatencySketch sketch;
    for (int i = 0; i < 40; ++i) {
      sketch.add(value);
    }
    const auto error = std::abs(*sketch.quantile(0.5) - value) / value;
    if (error > worst) {
      worst = error;
      worst_at = value;
    }
  }
  INFO("worst relative error " << worst << " at " << worst_at << " ms");
  CHECK(worst <= 0.02);
}

// Promise: within 2 % past 32 values, memory bounded whatever the period.
TEST_CASE("review sketch stays within 2 percent and small over a probe's whole latency range",
          "[storage][review]") {
  LatencySketch sketch;
  std::vector<double> values;
  // 1 ms .. 10 s (a probe's timeout), geometric, 100,000 values: a 24h
  // period probed every second.
  for (int i = 0; i < 100'000; ++i) {
    values.push_back(std::pow(10.0, 4.0 * (i % 1000) / 1000.0));
  }
  for (const double v : values) {
    sketch.add(v);
  }
  CHECK(sketch.buckets() <= 250);
  std::sort(values.begin(), values.end());
  for (const double q : {0.5, 0.9, 0.99}) {
    const auto exact = values[static_cast<std::size_t>(std::ceil(q * values.size())) - 1];
    const auto got = sketch.quantile(q);
    REQUIRE(got);
    INFO("q " << q << " exact " << exact << " got " << *got);
    CHECK(std::abs(*got - exact) <= 0.02 * exact);
  }
  // Hostile values: NaN, negative, huge never make a quantile that is not
  // a finite number. (+infinity, or anything past a float's 3.4e38 since
  // the exact values are kept as float, does: no probe measures that, and
  // a peer's is not stored.)
  LatencySketch odd;
  for (int i = 0; i < 40; ++i) {
    odd.add(i % 3 == 0 ? std::nan("") : i % 3 == 1 ? -5.0 : 1e30);
  }
  for (const double q : {0.5, 0.99}) {
    const auto got = odd.quantile(q);
    REQUIRE(got);
    INFO("q " << q << " got " << *got);
    CHECK(std::isfinite(*got));
  }
}

// Promise: summaries of a period split by a restart add up, with the
// batch-writer state gone (kill or stop) and a different order of pairs.
TEST_CASE("review a period split by two restarts adds up for every pair", "[storage][review]") {
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

// FINDING (low): after a wall clock stepped forward (a day) and back, the
// latest period seen stays in the future, so no period closes for every
// pair until the wall clock catches up: a pair no longer observed (a
// target removed by a reload, a vantage gone) keeps its summary in memory,
// unwritten, for a day (lost at kill -9, where without the step it was
// written at the next period), and every other pair's summary is written
// one by one again (the per-boundary write amplification this change
// removed). Should: a period far behind the latest seen (the clock stepped
// back) resets the latest period, so the next boundary closes every pair.
TEST_CASE("FINDING review after a clock step forward and back idle pairs' periods still close",
          "[storage][review]") {
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
}

// FINDING (medium-low): storage.summary_period changed across the restart
// the reload asks for (5m -> 1h). The new hour's summary has the same
// period_start as the 5-minute row written before (06:00), so the upsert
// adds the hour's counts into the 06:00-06:05 row and keeps its
// period_end: a row that says 13 observations in 5 minutes of a pair
// probed once a minute, deleted by retention as if it ended at 06:05, and
// the hour's other rows overlap it. Should: key or merge by the period
// (period_end too), or write the new period's row apart (and say so in
// docs/configuration.md).
TEST_CASE("FINDING review a summary_period changed across a restart never merges unlike periods",
          "[storage][review]") {
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
  const auto at_six = " WHERE period_start = " + std::to_string(six.time_since_epoch().count());
  INFO("the 06:00 row: "
       << query_integer(dir.database(), "SELECT up FROM observation_summaries" + at_six)
       << " up in "
       << query_integer(
              dir.database(),
              "SELECT (period_end - period_start) / 60000 FROM observation_summaries" + at_six)
       << " min");
  // One observation a minute: no row may hold more than its minutes.
  CHECK(rows(dir, "observation_summaries", "up > (period_end - period_start) / 60000") == 0);
}

// Promise: a failed and retried batch never counts twice, also when the
// batch steps the clock forward and back across periods (staged period
// and staged tallies both rolled back), with stragglers, on a full disk.
TEST_CASE("review a retried batch that jumps the clock back and forth counts each observation once",
          "[storage][review]") {
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
TEST_CASE("review a 24h summary period splits at UTC midnight and adds up", "[storage][review]") {
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
