// Tests storage/record_queue.cpp and the Store's write path: callers never
// wait on the disk, the queue is bounded, and every record is accounted for.
#include "storage/record_queue.hpp"
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <mutex>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

TEST_CASE("a full queue drops the oldest observation, never a verdict or an escalation",
          "[storage]") {
  RecordQueue queue(4);
  VerdictRecord verdict_record;
  verdict_record.target = "db";
  CHECK_FALSE(queue.push(verdict_record));
  std::size_t dropped = 0;
  for (int i = 0; i < 10; ++i) {
    dropped += queue.push(observation("db", "quad9", k_start + i * 1s)) ? 1 : 0;
  }
  CHECK(dropped == 7);
  CHECK(queue.size() == 4);
  CHECK(queue.last_seq() == 11);

  std::vector<QueuedRecord> taken;
  queue.take(10, taken);
  REQUIRE(taken.size() == 4);
  CHECK(std::holds_alternative<VerdictRecord>(taken[0].record));
  CHECK(taken[0].seq == 1);
  // The three newest observations, in call order.
  CHECK(taken[1].seq == 9);
  CHECK(taken[3].seq == 11);
  CHECK(std::get<consensus::Observation>(taken[3].record).at.wall == k_start + 9s);
  CHECK(queue.empty());
  CHECK(queue.oldest_seq() == k_no_seq);
}

TEST_CASE("with only verdicts queued a full queue drops the oldest of them", "[storage]") {
  RecordQueue queue(2);
  for (int i = 0; i < 3; ++i) {
    VerdictRecord record;
    record.generation = static_cast<std::uint64_t>(i);
    queue.push(record);
  }
  std::vector<QueuedRecord> taken;
  queue.take(1, taken);
  REQUIRE(taken.size() == 1);
  CHECK(std::get<VerdictRecord>(taken[0].record).generation == 1);
  CHECK(queue.size() == 1);
}

TEST_CASE(
    "100,000 observations never wait on the disk and every one is committed or counted "
    "as dropped",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.max_queue = 1024;
  Store store(options, clock);
  constexpr std::uint64_t k_calls = 100'000;
  for (std::uint64_t i = 0; i < k_calls; ++i) {
    // The last is a change (down): written whatever the policy for the rest.
    store.record_observation(
        observation("db", "vantage-" + std::to_string(i % 7), k_start + consensus::Duration(i),
                    i + 1 == k_calls ? consensus::Outcome::Down : consensus::Outcome::Up));
    // Nothing to assert per call: a call that waited on the disk would show
    // up as this loop taking seconds, not as a failure.
  }
  const auto accepted = store.health();
  CHECK(accepted.enqueued == k_calls);
  CHECK(accepted.queued <= options.max_queue + options.batch);

  REQUIRE(store.flush(30s));
  const auto health = store.health();
  CHECK(health.ok);
  CHECK(health.queued == 0);
  CHECK(health.committed + health.dropped == k_calls);
  // Unchanged outcomes: one change and one newest row per pair (and the last, down).
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observations") == 8);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM latest_observations") == 7);
  // The newest observation is never the one dropped.
  const auto newest = store.observations("db", 1);
  REQUIRE(newest.size() == 1);
  CHECK(newest[0].at.wall == k_start + consensus::Duration(k_calls - 1));
}

TEST_CASE("flush waits for every record enqueued before it", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.flush_interval = 10s;  // the writer would otherwise wait this long
  Store store(options, clock);
  for (int i = 0; i < 10; ++i) {
    store.record_observation(flipping("db", "quad9", k_start + i * 1s, i));
  }
  REQUIRE(store.flush(5s));
  CHECK(store.observations("db", 100).size() == 10);
  CHECK(store.health().committed == 10);
  CHECK(store.flush(1ms));  // nothing new: returns at once
}

TEST_CASE(
    "the writer reports what it committed, a commit held back holds back the report, never "
    "the caller",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.flush_interval = 1h;  // only a verdict's prompt wakes the writer
  std::mutex mutex;
  std::uint64_t reported = 0;
  bool went_back = false;
  options.on_committed = [&](const CommitReport& report) {
    const std::lock_guard lock(mutex);
    went_back = went_back || report.through <= reported;
    reported = report.through;
  };
  const auto reported_now = [&] {
    const std::lock_guard lock(mutex);
    return reported;
  };
  Store store(options, clock);
  const auto first =
      store.record_verdict(verdict("db", consensus::VerdictKind::Healthy, 1, k_start), true);
  CHECK(first == 1);
  CHECK(eventually([&] { return reported_now() >= first; }, 5s));

  std::uint64_t held = 0;
  {
    WriteLock lock(dir.database());
    store.record_observation(observation("db", "quad9", k_start + 1s));
    held = store.record_verdict(verdict("db", consensus::VerdictKind::Unhealthy, 2, k_start + 1s),
                                true);
    CHECK(held == 3);
    CHECK_FALSE(store.flush(300ms));  // a bounded wait: nothing commits behind the lock
    CHECK(reported_now() < held);
  }
  CHECK(eventually([&] { return reported_now() >= held; }, 5s));
  CHECK(query_integer(dir.database(), "SELECT generation FROM verdicts WHERE target = 'db'") == 2);
  const std::lock_guard lock(mutex);
  CHECK_FALSE(went_back);
}

TEST_CASE("close commits what is queued and later writes are counted as dropped", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.flush_interval = 10s;
  Store store(options, clock);
  for (int i = 0; i < 5; ++i) {
    store.record_observation(flipping("db", "quad9", k_start + i * 1s, i));
  }
  store.close();
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM observations") == 5);
  store.record_observation(observation("db", "quad9", k_start + 1min));
  const auto health = store.health();
  CHECK(health.committed == 5);
  CHECK(health.dropped == 1);
  CHECK(health.enqueued == 6);
  CHECK(store.flush(1ms));
  CHECK_FALSE(store.run_retention_now().completed);
  store.close();  // idempotent
}
