// Tests what storage writes of observations (storage/batch_writer.cpp): the
// observations that change a pair's outcome; one summary per pair and
// period, every pair's at once; each pair's newest, replaced in place at a
// change. Growth is bounded by the pairs
// and the periods, never by how often they are probed.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

namespace {

std::int64_t to_ms(consensus::WallTime at) {
  return at.time_since_epoch().count();
}

// Summaries per minute, so that a test spans several periods quickly.
Options minute_summaries(const TempDir& dir) {
  auto options = test_options(dir.path());
  options.summary_period = 1min;
  return options;
}

std::int64_t rows(const TempDir& dir, const std::string& table, const std::string& where = "1") {
  return query_integer(dir.database(), "SELECT count(*) FROM " + table + " WHERE " + where);
}

}  // namespace

TEST_CASE(
    "rounds of unchanged observations grow storage by the pairs and the periods, not by the "
    "rounds",
    "[storage]") {
  const int rounds = GENERATE(6, 60, 180);
  INFO(rounds << " rounds");
  constexpr int k_targets = 20;
  constexpr int k_vantages = 5;
  constexpr auto k_pairs = k_targets * k_vantages;
  TempDir dir;
  consensus::ManualClock clock(k_start);  // k_start is on a minute boundary
  Store store(minute_summaries(dir), clock);
  // Every pair probed every 10 s, always up, latency 10, 20, ... 60 ms
  // within each minute.
  for (int round = 0; round < rounds; ++round) {
    for (int t = 0; t < k_targets; ++t) {
      for (int v = 0; v < k_vantages; ++v) {
        auto seen = observation("target-" + std::to_string(t), "vantage-" + std::to_string(v),
                                k_start + round * 10s);
        seen.latency_ms = 10.0 * (round % 6 + 1);
        store.record_observation(seen);
      }
    }
  }
  REQUIRE(store.flush(30s));
  CHECK(store.health().committed == static_cast<std::uint64_t>(rounds * k_pairs));
  CHECK(rows(dir, "observations") == k_pairs);  // the first of each pair: a change from nothing
  CHECK(rows(dir, "latest_observations") == k_pairs);
  // Replaced at changes only: nothing changed after the first round.
  CHECK(rows(dir, "latest_observations", "t_wall = " + std::to_string(to_ms(k_start))) == k_pairs);
  // A summary per pair for every minute already over; the one in progress
  // is written at close.
  const auto complete_minutes = (rounds - 1) / 6;
  CHECK(rows(dir, "observation_summaries") == k_pairs * complete_minutes);
  if (complete_minutes > 0) {
    CHECK(query_text(dir.database(),
                     "SELECT up || '/' || down || '/' || observer_error || ' ' || p50_ms || ' ' || "
                     "p90_ms || ' ' || p99_ms FROM observation_summaries WHERE target = "
                     "'target-3' AND vantage = 'vantage-1' AND period_start = " +
                         std::to_string(to_ms(k_start))) == "6/0/0 30.0 60.0 60.0");
  }
  store.close();
  const auto minutes_touched = (rounds + 5) / 6;
  CHECK(rows(dir, "observation_summaries") == k_pairs * minutes_touched);
}

TEST_CASE("an observation that changes its pair's outcome or layer is kept, with each summary",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(minute_summaries(dir), clock);
  const auto at = [](int second) { return k_start + second * 1s; };
  store.record_observation(observation("db", "quad9", at(0)));
  store.record_observation(observation("db", "quad9", at(10)));
  auto dns = observation("db", "quad9", at(20), consensus::Outcome::Down);
  dns.layer = consensus::Layer::Dns;
  store.record_observation(dns);
  dns.at = {consensus::MonoTime{at(30).time_since_epoch()}, at(30)};
  store.record_observation(dns);
  auto connect = dns;
  connect.layer = consensus::Layer::Connect;  // still down, now past DNS
  connect.at = {consensus::MonoTime{at(40).time_since_epoch()}, at(40)};
  store.record_observation(connect);
  store.record_observation(observation("db", "quad9", at(70)));  // up, in the next minute
  REQUIRE(store.flush(5s));

  const auto seen = store.observations("db", 100);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].at.wall == at(70));
  CHECK(seen[1].layer == consensus::Layer::Connect);
  CHECK(seen[2].at.wall == at(20));
  CHECK(seen[3].at.wall == at(0));
  CHECK(query_text(dir.database(),
                   "SELECT up || '/' || down || '/' || observer_error FROM observation_summaries "
                   "WHERE period_start = " +
                       std::to_string(to_ms(k_start))) == "2/3/0");
}

TEST_CASE(
    "a wall clock stepped back does not freeze the pair's newest observation, and unchanged "
    "observations after it stay unchanged",
    "[storage]") {
  // Found by a hostile review: the newest row was replaced only by a later
  // time, so after a step back every observation counted as a change.
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(minute_summaries(dir), clock);
  store.record_observation(observation("db", "quad9", k_start + 1h));  // the clock ran ahead
  for (int i = 0; i < 5; ++i) {  // stepped back an hour: down, five times
    store.record_observation(
        observation("db", "quad9", k_start + i * 10s, consensus::Outcome::Down));
  }
  REQUIRE(store.flush(5s));
  CHECK(rows(dir, "observations") == 2);  // the first up, the change to down
  CHECK(
      query_text(dir.database(),
                 "SELECT outcome || ' ' || t_wall FROM latest_observations WHERE target = 'db'") ==
      "down " + std::to_string(to_ms(k_start)));  // the change; the rest repeat it
}

TEST_CASE("a period summarized in two parts, before a stop and after a start, adds up",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  const auto options = minute_summaries(dir);
  for (int part = 0; part < 2; ++part) {
    Store store(options, clock);
    for (int i = 0; i < 3; ++i) {
      store.record_observation(observation("db", "quad9", k_start + (part * 30 + i * 10) * 1s));
    }
    store.close();
  }
  CHECK(rows(dir, "observation_summaries") == 1);
  CHECK(query_integer(dir.database(), "SELECT up FROM observation_summaries") == 6);
}

TEST_CASE(
    "retention deletes summaries of periods over before the window, except what an open "
    "escalation is about",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = minute_summaries(dir);
  options.retention = 1h;
  Store store(options, clock);
  // db and web probed once a minute for the last three hours: a summary each minute.
  for (int i = 180; i >= 0; --i) {
    store.record_observation(observation("db", "quad9", k_start - i * 1min));
    store.record_observation(observation("web", "quad9", k_start - i * 1min));
  }
  // db has been disputed for two hours.
  store.record_event(
      escalation(consensus::EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 2h));
  REQUIRE(store.flush(5s));
  const auto cutoff = std::to_string(to_ms(k_start - 1h));
  const auto opened = std::to_string(to_ms(k_start - 2h));
  REQUIRE(rows(dir, "observation_summaries", "target = 'web' AND period_end < " + cutoff) > 0);

  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(rows(dir, "observation_summaries", "target = 'web' AND period_end < " + cutoff) == 0);
  // 180 minutes summarized (the current one is in progress); those that
  // ended before the cutoff went: the last 60, and the one ending at it, stay.
  CHECK(rows(dir, "observation_summaries", "target = 'web'") == 61);
  CHECK(rows(dir, "observation_summaries", "target = 'db' AND period_end < " + opened) == 0);
  CHECK(rows(dir, "observation_summaries", "target = 'db' AND period_end >= " + opened) == 121);
  CHECK(report.summaries_deleted == (180 - 61) + (180 - 121));
  // The newest observation of each pair is never touched.
  CHECK(rows(dir, "latest_observations") == 2);
}

TEST_CASE(
    "a period with more up observations than are kept exactly has its quantiles within 2 "
    "percent",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(minute_summaries(dir), clock);
    for (int i = 1; i <= 120; ++i) {  // 1 ms ... 120 ms, every 0.5 s of one minute
      auto seen = observation("db", "quad9", k_start + i * 500ms - 500ms);
      seen.latency_ms = i;
      store.record_observation(seen);
    }
    store.close();
  }
  const auto quantile = [&](const std::string& column) {
    return std::stod(query_text(dir.database(), "SELECT " + column +
                                                    " FROM observation_summaries WHERE "
                                                    "target = 'db'"));
  };
  CHECK(query_integer(dir.database(), "SELECT up FROM observation_summaries") == 120);
  CHECK(std::abs(quantile("p50_ms") - 60.0) <= 60.0 * 0.02);
  CHECK(std::abs(quantile("p90_ms") - 108.0) <= 108.0 * 0.02);
  CHECK(std::abs(quantile("p99_ms") - 119.0) <= 119.0 * 0.02);
}
