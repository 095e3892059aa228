#include "probes/scheduler.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace crosscheck::probes;
using crosscheck::consensus::Duration;
using crosscheck::consensus::MonoTime;
using namespace std::chrono_literals;

namespace {

// Drives a scheduler on a simulated clock in steps of
// `step`, finishing each probe `probe_time` after it started.
struct Simulation {
  Scheduler scheduler;
  Duration probe_time;
  std::multimap<MonoTime, std::size_t> finishing;
  std::map<std::int64_t, int> starts_per_second;
  std::vector<int> starts_per_pair;
  int max_in_flight_seen = 0;

  Simulation(std::size_t pairs, Duration interval, ScheduleLimits limits, Duration probe)
      : scheduler(std::vector<Duration>(pairs, interval), limits, 42, MonoTime{}),
        probe_time(probe),
        starts_per_pair(pairs, 0) {}

  void run_until(MonoTime end, Duration step = 10ms) {
    for (MonoTime now{}; now < end; now += step) {
      while (!finishing.empty() && finishing.begin()->first <= now) {
        scheduler.finish(finishing.begin()->second);
        finishing.erase(finishing.begin());
      }
      for (const auto pair : scheduler.take_due(now)) {
        ++starts_per_pair[pair];
        ++starts_per_second[now.time_since_epoch().count() / 1000];
        finishing.emplace(now + probe_time, pair);
      }
      max_in_flight_seen = std::max(max_in_flight_seen, scheduler.counters().in_flight);
    }
  }
};

}  // namespace

TEST_CASE("pairs start at phases spread over the interval, not in one burst", "[scheduler]") {
  Simulation sim(1'000, 10s, {10'000, 10'000}, 5ms);
  sim.run_until(MonoTime{10s});
  // Phases cover [0, 10 s) and jitter adds under 1 s: nearly all first turns fall here.
  CHECK(sim.scheduler.counters().started > 900);
  CHECK(sim.scheduler.counters().started <= 1'000);
  // 1,000 pairs over 10 s is 100 a second on average; no second sees a burst.
  for (const auto& [second, starts] : sim.starts_per_second) {
    CHECK(starts < 160);
  }
  CHECK(sim.starts_per_second.size() == 10);
}

TEST_CASE("every pair probes once per interval, with jitter inside a tenth of it", "[scheduler]") {
  Scheduler scheduler(std::vector<Duration>(50, 10s), {}, 7, MonoTime{});
  std::vector<MonoTime> first(50);
  for (std::size_t i = 0; i < 50; ++i) {
    first[i] = scheduler.next_turn(i);
    CHECK(first[i] >= MonoTime{});
    CHECK(first[i] < MonoTime{10s + 1s});
  }
  for (MonoTime now{}; now < MonoTime{100s}; now += 100ms) {
    for (const auto pair : scheduler.take_due(now)) {
      scheduler.finish(pair);
      // The next turn sits one interval later on the grid, jitter < 1 s.
      const auto gap = scheduler.next_turn(pair) - now;
      CHECK(gap > 8s);
      CHECK(gap < 11s + 100ms);
    }
  }
  CHECK(scheduler.counters().started >= 50 * 9);
  CHECK(scheduler.counters().started <= 50 * 10);
  CHECK(scheduler.counters().skipped == 0);
}

TEST_CASE("a probe still running at its next turn is skipped and counted, never queued",
          "[scheduler]") {
  // Probes hang for 35 s with a 10 s interval: each pair can only start every
  // fourth turn, and the turns in between are skipped.
  Simulation sim(10, 10s, {}, 35s);
  sim.run_until(MonoTime{100s});
  for (const auto starts : sim.starts_per_pair) {
    CHECK(starts <= 3);
    CHECK(starts >= 2);
  }
  CHECK(sim.scheduler.counters().skipped >= 60);
  CHECK(sim.max_in_flight_seen <= 10);
}

TEST_CASE("the in-flight cap bounds concurrent probes during a total outage", "[scheduler]") {
  // Every probe times out after 2 s. Without a cap 1,000 pairs at 10 s would
  // hold about 200 in flight; with a cap of 50, never more than 50.
  Simulation sim(1'000, 10s, {50, 10'000}, 2s);
  sim.run_until(MonoTime{60s});
  CHECK(sim.max_in_flight_seen == 50);
  CHECK(sim.scheduler.counters().peak_in_flight == 50);
  CHECK(sim.scheduler.counters().deferred > 0);
}

TEST_CASE("a total outage never sends more probes than healthy operation", "[scheduler]") {
  const ScheduleLimits limits{100, 200};
  Simulation healthy(1'000, 10s, limits, 5ms);
  Simulation outage(1'000, 10s, limits, 2s);
  healthy.run_until(MonoTime{120s});
  outage.run_until(MonoTime{120s});
  CHECK(outage.scheduler.counters().started <= healthy.scheduler.counters().started);
  std::int64_t worst_second = 0;
  for (const auto& [second, starts] : outage.starts_per_second) {
    worst_second = std::max<std::int64_t>(worst_second, starts);
  }
  CHECK(worst_second <= limits.max_per_second);
}

TEST_CASE("the rate budget caps probe starts per second", "[scheduler]") {
  // 1,000 pairs every 10 s want 100 starts a second; the budget is 20.
  Simulation sim(1'000, 10s, {1'000, 20}, 5ms);
  sim.run_until(MonoTime{30s});
  for (const auto& [second, starts] : sim.starts_per_second) {
    // One second of burst at most, then the steady budget.
    CHECK(starts <= (second == 0 ? 40 : 21));
  }
  CHECK(sim.scheduler.counters().skipped > 0);
}

TEST_CASE("a recheck's turns wait for the in-flight cap and the rate budget like any turn",
          "[scheduler]") {
  // Found by a hostile review: rechecks started outside the budget, so a
  // peer asking for rechecks could double the configured probe rate.
  const MonoTime now{};
  Scheduler scheduler(std::vector<Duration>(4, 10s), {2, 2}, 1, now);
  for (std::size_t pair = 0; pair < 4; ++pair) {
    CHECK(scheduler.bring_forward(pair, now));
  }
  auto started = scheduler.take_due(now);
  CHECK(started.size() == 2);                             // the cap (and the 2-token burst)
  CHECK_FALSE(scheduler.bring_forward(started[0], now));  // in flight: its answer is coming
  for (const auto pair : started) {
    scheduler.finish(pair);
  }
  // Budget spent: nothing more until tokens come back (2 a second).
  CHECK(scheduler.take_due(now).empty());
  CHECK(scheduler.take_due(now + 500ms).size() == 1);
  CHECK(scheduler.take_due(now + 1s).size() == 1);
  CHECK(scheduler.counters().started == 4);
}

TEST_CASE("the next wakeup is the earliest turn or the next rate token", "[scheduler]") {
  Scheduler scheduler(std::vector<Duration>(1, 10s), {}, 3, MonoTime{});
  const auto turn = scheduler.next_turn(0);
  CHECK(scheduler.next_wakeup(MonoTime{}) == turn);
  CHECK(scheduler.take_due(turn - 1ms).empty());
  CHECK(scheduler.take_due(turn).size() == 1);
}

namespace {

// The index of the first bucket counting something, or -1 (none: +Inf).
int lateness_bucket(const LatenessHistogram& histogram) {
  for (std::size_t i = 0; i < histogram.buckets.size(); ++i) {
    if (histogram.buckets.at(i) > 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("a turn taken after its due time counts its lateness in one bucket", "[scheduler]") {
  // Table: lateness -> the bucket (upper bound, seconds) it lands in; `le` is
  // inclusive, so 10 ms is in the 0.01 bucket and 11 ms in 0.025.
  const auto [late, bound] = GENERATE(table<Duration, double>({
      {0ms, 0.0005},
      {1ms, 0.001},
      {10ms, 0.01},
      {11ms, 0.025},
      {30ms, 0.05},
      {2s, 2.5},
      {10s, 10},
  }));
  CAPTURE(late.count());
  Scheduler scheduler(std::vector<Duration>(1, 60s), {}, 5, MonoTime{});
  const auto due = scheduler.next_turn(0);
  REQUIRE(scheduler.take_due(due + late).size() == 1);
  const auto& lateness = scheduler.counters().start_lateness;
  CHECK(lateness.count == 1);
  CHECK(lateness.sum_seconds == Approx(std::chrono::duration<double>(late).count()));
  REQUIRE(lateness_bucket(lateness) >= 0);
  CHECK(k_lateness_buckets.at(static_cast<std::size_t>(lateness_bucket(lateness))) == bound);
  std::uint64_t total = 0;
  for (const auto n : lateness.buckets) {
    total += n;
  }
  CHECK(total == 1);
}

TEST_CASE("a start later than the last bucket is counted only as +Inf", "[scheduler]") {
  Scheduler scheduler(std::vector<Duration>(1, 60s), {}, 5, MonoTime{});
  REQUIRE(scheduler.take_due(scheduler.next_turn(0) + 11s).size() == 1);
  const auto& lateness = scheduler.counters().start_lateness;
  CHECK(lateness.count == 1);
  CHECK(lateness.sum_seconds == Approx(11.0));
  CHECK(lateness_bucket(lateness) == -1);
}

TEST_CASE("a turn deferred by the in-flight cap counts the time it waited", "[scheduler]") {
  // Two pairs, room for one probe: the later-due pair waits until the first
  // finishes 200 ms after its own due time, and its lateness says so.
  Scheduler scheduler(std::vector<Duration>(2, 10s), {1, 100}, 9, MonoTime{});
  const auto first = scheduler.next_turn(0) <= scheduler.next_turn(1) ? 0U : 1U;
  const auto second = 1U - first;
  const auto early = scheduler.next_turn(first);
  const auto late = scheduler.next_turn(second);
  REQUIRE(scheduler.take_due(late) == std::vector<std::size_t>{first});
  CHECK(scheduler.counters().deferred == 1);
  CHECK(scheduler.counters().start_lateness.count == 1);
  scheduler.finish(first);
  REQUIRE(scheduler.take_due(late + 200ms) == std::vector<std::size_t>{second});
  const auto& lateness = scheduler.counters().start_lateness;
  CHECK(lateness.count == 2);
  const auto waited = std::chrono::duration<double>(late - early).count() + 0.2;
  CHECK(lateness.sum_seconds == Approx(waited));
  // 200 ms sits in (0.1, 0.25].
  CHECK(lateness.buckets.at(8) >= 1);
  CHECK(k_lateness_buckets.at(8) == 0.25);
}

TEST_CASE("a turn deferred by the rate budget counts the time it waited", "[scheduler]") {
  // A budget of 1 start a second: 3 pairs due at once start a second apart,
  // so the last one is about 2 s late.
  Scheduler scheduler(std::vector<Duration>(3, 60s), {10, 1}, 11, MonoTime{});
  MonoTime all_due{};
  for (std::size_t i = 0; i < 3; ++i) {
    all_due = std::max(all_due, scheduler.next_turn(i));
  }
  std::size_t started = 0;
  for (auto now = all_due; now < all_due + 5s; now += 100ms) {
    started += scheduler.take_due(now).size();
  }
  CHECK(started == 3);
  const auto& lateness = scheduler.counters().start_lateness;
  CHECK(lateness.count == 3);
  // The third start waited for two more tokens: between 1 s and 2.5 s late.
  CHECK(lateness.buckets.at(11) + lateness.buckets.at(10) >= 1);
  CHECK(lateness.sum_seconds >= 2.0);
}

TEST_CASE("skipped turns add nothing to the lateness histogram", "[scheduler]") {
  Scheduler scheduler(std::vector<Duration>(2, 10s), {}, 13, MonoTime{});
  REQUIRE(scheduler.bring_forward(0, MonoTime{}));
  REQUIRE(scheduler.take_due(MonoTime{}) == std::vector<std::size_t>{0});
  CHECK(scheduler.counters().start_lateness.count == 1);
  // Pair 0 still runs at its next turn: skipped, not started, not counted.
  const auto turn = scheduler.next_turn(0);
  const auto started = scheduler.take_due(turn);
  CHECK(std::find(started.begin(), started.end(), 0U) == started.end());
  CHECK(scheduler.counters().skipped == 1);
  CHECK(scheduler.counters().start_lateness.count == 1 + started.size());
}

TEST_CASE("a turn brought forward runs once, early, and the grid continues an interval after it",
          "[scheduler]") {
  Scheduler scheduler({10s}, ScheduleLimits{}, 7, MonoTime{});
  const auto first = scheduler.next_turn(0);
  std::vector<MonoTime> starts;
  const auto run_until = [&](MonoTime end) {
    for (MonoTime now{}; now < end; now += 10ms) {
      for (const auto pair : scheduler.take_due(now)) {
        starts.push_back(now);
        scheduler.finish(pair);
      }
    }
  };
  run_until(first + 10ms);
  REQUIRE(starts.size() == 1);
  const auto early = starts[0] + 2s;
  // In flight or waiting it never moves; a turn not later than `due` neither.
  CHECK_FALSE(scheduler.bring_forward(0, scheduler.next_turn(0) + 1s));
  REQUIRE(scheduler.bring_forward(0, early));
  CHECK(scheduler.next_turn(0) == early);
  CHECK_FALSE(scheduler.bring_forward(3, early));  // no such pair
  starts.clear();
  run_until(early + 35s);
  // Once at `early` (not again at the turn it replaced), then every interval
  // from there, jitter within a tenth: 4 starts in the 35 s, none doubled.
  REQUIRE(starts.size() == 4);
  CHECK(starts[0] == early);
  for (std::size_t i = 1; i < starts.size(); ++i) {
    CHECK(starts[i] - starts[i - 1] >= 8'900ms);
    CHECK(starts[i] - starts[i - 1] <= 11'100ms);
  }
}

TEST_CASE("a probe that costs more than one start takes that many tokens, even past the burst",
          "[scheduler]") {
  // 10 starts a second; an authoritative pair costs 25 (its queries). It
  // starts at once from a full bucket, and the debt it leaves holds back
  // the plain pairs due right after it for about 1.5 s (15 tokens, then 1).
  constexpr int k_cost = 25;
  Scheduler scheduler(std::vector<Duration>(3, 600s), {10, 10}, 17, MonoTime{}, {k_cost, 1, 1});
  // The costly pair first, the plain ones a millisecond apart after it.
  const MonoTime first_due{};
  REQUIRE(scheduler.bring_forward(0, first_due));
  REQUIRE(scheduler.bring_forward(1, first_due + 1ms));
  REQUIRE(scheduler.bring_forward(2, first_due + 2ms));
  std::map<std::size_t, MonoTime> started_at;
  for (auto now = first_due; now < first_due + 5s; now += 10ms) {
    for (const auto pair : scheduler.take_due(now)) {
      started_at[pair] = now;
    }
  }
  REQUIRE(started_at.size() == 3);
  CHECK(started_at[0] == first_due);
  // 15 tokens of debt plus 1 to start, at 10 a second: 1.6 s.
  CHECK(started_at[1] - first_due >= 1500ms);
  CHECK(started_at[1] - first_due <= 1700ms);
  // The plain pair after it takes one token: 0.1 s later.
  CHECK(started_at[2] - started_at[1] >= 90ms);
  CHECK(started_at[2] - started_at[1] <= 150ms);
}

TEST_CASE("without costs every start takes one token", "[scheduler]") {
  Scheduler scheduler(std::vector<Duration>(3, 600s), {10, 2}, 17, MonoTime{});
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(scheduler.bring_forward(i, MonoTime{}));
  }
  CHECK(scheduler.take_due(MonoTime{}).size() == 2);  // the 2-token burst
}
