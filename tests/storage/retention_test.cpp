// Tests retention (storage/batch_writer.cpp, driven by storage/store.cpp):
// old observations (outcome changes) and summaries go, in small
// transactions, and clean-up never deletes the record in force (the Oct
// 2025 lesson): the newest observation of every (target, vantage) pair, and
// the first retention window of an open escalation. The series here flip their outcome at
// every probe, so that storage keeps each observation as a change.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::EventKind;

namespace {

using Pair = std::pair<std::string, std::string>;

std::int64_t count_observations(const TempDir& dir, const std::string& where = "1") {
  return query_integer(dir.database(), "SELECT count(*) FROM observations WHERE " + where);
}

// The newest observation's time of (target, vantage), or -1 when none is left.
std::int64_t newest_of(const TempDir& dir, const Pair& pair) {
  return query_integer(dir.database(),
                       "SELECT coalesce(max(t_wall), -1) FROM observations "
                       "WHERE target = '" +
                           pair.first + "' AND vantage = '" + pair.second + "'");
}

// A change of every pair at each of `steps` + 1 times `step` apart, the
// newest at k_start: the series the escalation cases below keep or delete.
void record_changes(Store& store, const std::vector<Pair>& pairs, int steps,
                    consensus::Duration step) {
  for (int i = steps; i >= 0; --i) {
    for (const auto& [target, vantage] : pairs) {
      store.record_observation(flipping(target, vantage, k_start - i * step, i));
    }
  }
}

// A vantage escalation (target ''), opened at `at`.
consensus::Event suspect_escalation(const std::string& vantage, consensus::WallTime at) {
  auto suspect = escalation(EventKind::VantageSuspect, "suspect/" + vantage + "/t", "", at);
  suspect.vantage = vantage;
  return suspect;
}

}  // namespace

TEST_CASE(
    "retention deletes old observations and keeps the newest of every pair whatever the "
    "setting",
    "[storage]") {
  const auto retention =
      GENERATE(consensus::Duration{1}, consensus::Duration{1'000}, consensus::Duration{3'600'000},
               consensus::Duration{86'400'000}, consensus::Duration{7 * 86'400'000});
  INFO("retention " << retention.count() << "ms");
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = retention;
  Store store(options, clock);

  // Three pairs with a probe every 10 minutes for the last 30 hours, and one
  // pair whose vantage went away 30 days ago: its last observation is old
  // under every setting and is still what its verdict was judged on.
  const std::vector<Pair> live{{"db", "quad9"}, {"db", "cloudflare"}, {"web", "quad9"}};
  const Pair gone{"web", "retired"};
  for (const auto& [target, vantage] : live) {
    for (int i = 180; i >= 0; --i) {
      store.record_observation(flipping(target, vantage, k_start - i * 10min - 5s, i));
    }
  }
  for (int i = 5; i >= 0; --i) {
    store.record_observation(flipping(gone.first, gone.second, k_start - 30 * 24h - i * 1h, i));
  }
  REQUIRE(store.flush(10s));
  const auto before = count_observations(dir);
  const auto cutoff = (k_start - retention).time_since_epoch().count();
  const auto expected_deleted = count_observations(dir, "t_wall < " + std::to_string(cutoff)) -
                                // the newest of each pair stays even when old
                                count_observations(dir, "t_wall < " + std::to_string(cutoff) +
                                                            " AND id IN (SELECT max(id) FROM "
                                                            "observations GROUP BY target, "
                                                            "vantage)");

  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(static_cast<std::int64_t>(report.deleted) == expected_deleted);
  CHECK(count_observations(dir) == before - expected_deleted);
  CHECK(count_observations(dir, "t_wall < " + std::to_string(cutoff) +
                                    " AND id NOT IN (SELECT max(id) FROM observations GROUP BY "
                                    "target, vantage)") == 0);
  for (const auto& pair : live) {
    INFO(pair.first << "/" << pair.second);
    CHECK(newest_of(dir, pair) == (k_start - 5s).time_since_epoch().count());
  }
  CHECK(newest_of(dir, gone) == (k_start - 30 * 24h).time_since_epoch().count());
  CHECK(store.observations("web", 1000).size() >= 2);
  CHECK(store.health().retention_deleted == report.deleted + report.summaries_deleted);
}

TEST_CASE("observations of a target with an open escalation survive for a window from its opening",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"web", "quad9"}}, 10, 1h);
  // db has been disputed for 5 hours; nobody has resolved it.
  store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 5h));
  REQUIRE(store.flush(5s));

  auto report = store.run_retention_now();
  CHECK(report.completed);
  const auto opened = (k_start - 5h).time_since_epoch().count();
  // The opening (-5h) within its first hour, and the last hour (-1h, 0):
  // not -4h to -2h, which only repeat the episode.
  CHECK(count_observations(dir, "target = 'db' AND t_wall = " + std::to_string(opened)) == 1);
  CHECK(count_observations(dir, "target = 'db' AND t_wall >= " + std::to_string(opened)) == 3);
  CHECK(count_observations(dir, "target = 'db' AND t_wall < " + std::to_string(opened)) == 0);
  CHECK(count_observations(dir, "target = 'web'") == 2);  // within the last hour

  // Once resolved, the episode no longer holds them.
  store.record_event(escalation(EventKind::DisputeResolved, "dispute/db/2", "db", k_start));
  REQUIRE(store.flush(5s));
  report = store.run_retention_now();
  CHECK(report.deleted == 1);
  CHECK(count_observations(dir, "target = 'db'") == 2);
}

// The class of the soak's growth (bench row 8): an episode open for many
// windows keeps how it began and the latest window, never everything in
// between, so the database stays bounded however long nobody resolves it.
TEST_CASE("an escalation open for ten retention windows keeps its first and the latest",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"db", "google"}}, 60, 10min);  // 10 hours
  store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/7", "db", k_start - 9h));
  store.record_event(suspect_escalation("google", k_start - 9h));
  REQUIRE(store.flush(5s));

  CHECK(store.run_retention_now().completed);
  const auto at = [](auto time) { return std::to_string(time.time_since_epoch().count()); };
  for (const std::string vantage : {"quad9", "google"}) {
    INFO(vantage);
    const auto pair = "target = 'db' AND vantage = '" + vantage + "'";
    // -9h to -8h10 (the first hour), then -1h to 0: 6 + 7 of 55 since the opening.
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 9h) + " AND t_wall < " +
                                      at(k_start - 8h)) == 6);
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 8h) + " AND t_wall < " +
                                      at(k_start - 1h)) == 0);
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 1h)) == 7);
    CHECK(count_observations(dir, pair) == 13);
  }
}

TEST_CASE("a suspect vantage's observations survive a window from its escalation's opening",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"db", "google"}}, 10, 1h);
  store.record_event(suspect_escalation("quad9", k_start - 3h));
  REQUIRE(store.flush(5s));

  CHECK(store.run_retention_now().completed);
  CHECK(count_observations(dir, "vantage = 'quad9'") == 3);  // -3h, -1h, 0
  CHECK(count_observations(dir, "vantage = 'quad9' AND t_wall = " +
                                    std::to_string((k_start - 3h).time_since_epoch().count())) ==
        1);
  CHECK(count_observations(dir, "vantage = 'google'") == 2);
}

TEST_CASE("retention deletes thousands of rows in several small transactions", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  options.retention_batch = 500;
  Store store(options, clock);
  for (int i = 0; i < 2000; ++i) {
    store.record_observation(flipping("db", "quad9", k_start - 48h + i * 1s, i));
  }
  store.record_observation(flipping("db", "quad9", k_start - 2h, 2000));  // newest, still old
  REQUIRE(store.flush(10s));

  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(report.deleted == 2000);
  CHECK(report.transactions == 4);
  CHECK(count_observations(dir) == 1);
  CHECK(newest_of(dir, {"db", "quad9"}) == (k_start - 2h).time_since_epoch().count());
}

TEST_CASE("retention runs on its own once the retention interval has passed on the clock",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  options.retention_interval = 60s;
  Store store(options, clock);
  for (int i = 0; i < 10; ++i) {
    store.record_observation(flipping("db", "quad9", k_start - 10h + i * 1min, i));
  }
  REQUIRE(store.flush(5s));
  CHECK(store.health().retention_deleted == 0);

  clock.advance(61s);
  // The writer learns the time from the next call (it never reads the clock).
  store.record_observation(flipping("db", "quad9", clock.system(), 10));
  // The ten old observations, and the summaries of their periods.
  CHECK(eventually([&] { return store.health().retention_deleted >= 10; }));
  REQUIRE(store.flush(5s));
  CHECK(count_observations(dir) == 1);
}

// The pair's newest change is the last one written, whatever its time (as
// latest_observations holds it): after a wall clock stepped forward and
// back, retention picked the newest by time, kept the future-dated change
// and deleted the one the pair's current outcome began with.
TEST_CASE("retention after a clock step keeps the change the pair's current outcome began with",
          "[storage]") {
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
  // The first up is expired and goes; the future-dated down is not expired.
  CHECK(count_observations(
            dir, "t_wall = " + std::to_string((k_start - 3h).time_since_epoch().count())) == 0);
  CHECK(count_observations(dir, "outcome = 'down'") == 1);
  // The change that began the pair's current outcome stays, though expired.
  CHECK(count_observations(dir, "outcome = 'up' AND t_wall = " +
                                    std::to_string((k_start - 2h).time_since_epoch().count())) ==
        1);
}
