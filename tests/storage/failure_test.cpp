// Tests the Store when the disk or the file fails (storage/store.cpp): it
// never throws or blocks, keeps accepting writes into its bounded queue,
// reports degraded health with the reason, and resumes when the disk recovers.
// Tests run as root, which ignores permission bits, so failures are made
// with a corrupt file, a data directory that is a regular file, and a page
// limit that fills the "disk".
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <mutex>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

namespace {

void write_garbage(const std::filesystem::path& path) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  const std::string garbage(8192, 'x');
  file << garbage;
}

// What the store's commit reports said: the latest `through`, and every
// record they named refused, in order.
class Reports {
 public:
  void listen(Options& options) {
    options.on_committed = [this](const CommitReport& report) {
      const std::lock_guard lock(mutex_);
      through_ = report.through;
      refused_.insert(refused_.end(), report.refused.begin(), report.refused.end());
    };
  }
  std::uint64_t through() const {
    const std::lock_guard lock(mutex_);
    return through_;
  }
  std::vector<std::uint64_t> refused() const {
    const std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t through_ = 0;
  std::vector<std::uint64_t> refused_;
};

}  // namespace

TEST_CASE("a corrupt database file degrades the store, naming the file, until it is replaced",
          "[storage]") {
  TempDir dir;
  write_garbage(dir.database());
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);

  auto health = store.health();
  REQUIRE_FALSE(health.ok);
  CHECK_THAT(health.reason,
             Catch::Contains(dir.database().string()) && Catch::Contains("SQLITE_NOTADB"));
  CHECK(health.since == k_start);
  CHECK_FALSE(store.restore().has_value());
  CHECK(store.history("db", 10).empty());

  store.record_observation(observation("db", "quad9", k_start));
  store.record_verdict(verdict("db", consensus::VerdictKind::Healthy, 1, k_start), true);
  CHECK(store.health().enqueued == 2);
  CHECK_FALSE(store.flush(50ms));
  CHECK(eventually([&] { return store.health().errors >= 3; }));  // it keeps retrying

  // The operator moves the damaged file aside; the store starts a new one.
  std::filesystem::rename(dir.database(), dir.path() / "crosscheck.db.damaged");
  REQUIRE(eventually([&] { return store.health().ok; }));
  REQUIRE(store.flush(5s));
  health = store.health();
  CHECK(health.reason.empty());
  CHECK_FALSE(health.since.has_value());
  CHECK(health.committed == 2);
  CHECK(store.observations("db", 10).size() == 1);
  CHECK(store.history("db", 10).size() == 1);
}

TEST_CASE("a data directory that cannot be created degrades the store until it can", "[storage]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  write_garbage(data_dir);  // a regular file where the directory should be
  consensus::ManualClock clock(k_start);
  Store store(test_options(data_dir), clock);

  REQUIRE_FALSE(store.health().ok);
  CHECK_THAT(store.health().reason, Catch::Contains(data_dir.string()));
  store.record_observation(observation("db", "quad9", k_start));
  CHECK_FALSE(store.flush(50ms));

  std::filesystem::remove(data_dir);
  REQUIRE(eventually([&] { return store.health().ok; }));
  REQUIRE(store.flush(5s));
  CHECK(store.observations("db", 10).size() == 1);
}

TEST_CASE(
    "a full disk degrades the store, writes are still accepted, and they resume when space "
    "returns",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.batch = 16;
  Store store(options, clock);
  REQUIRE(store.flush(5s));
  store.set_page_limit(1);  // SQLite raises it to the current size: no page to spare

  // Each one flips the outcome, so each is stored as a change (a new row).
  std::uint64_t written = 0;
  const auto record_big = [&] {
    auto big = flipping("db", "quad9", k_start, static_cast<int>(written % 2));
    big.detail.assign(3000, 'd');
    store.record_observation(big);
    ++written;
  };
  REQUIRE(eventually([&] {
    record_big();
    return !store.health().ok;
  }));
  auto health = store.health();
  CHECK_THAT(health.reason, Catch::Contains("SQLITE_FULL"));
  CHECK(health.since.has_value());

  // Still accepting, still not blocking: the writes wait in the queue.
  for (int i = 0; i < 100; ++i) {
    record_big();
  }
  health = store.health();
  CHECK(health.enqueued == written);
  CHECK(health.queued > 0);
  CHECK_FALSE(store.flush(50ms));

  store.set_page_limit(0);  // space returns
  REQUIRE(eventually([&] { return store.health().ok; }));
  REQUIRE(store.flush(10s));
  health = store.health();
  CHECK(health.dropped == 0);
  CHECK(health.committed == written);
  CHECK(static_cast<std::uint64_t>(
            query_integer(dir.database(), "SELECT count(*) FROM observations")) == written);
  CHECK_THAT(health.last_error, Catch::Contains("SQLITE_FULL"));
}

TEST_CASE("while degraded a full queue drops the oldest observations and counts them",
          "[storage]") {
  TempDir dir;
  write_garbage(dir.database());
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.max_queue = 100;
  options.batch = 10;
  Store store(options, clock);
  REQUIRE_FALSE(store.health().ok);
  // The last one is a change (down), so storage writes it whatever its policy
  // for unchanged ones: it shows that the newest was not the one dropped.
  for (int i = 0; i < 250; ++i) {
    store.record_observation(
        observation("db", "quad9", k_start + i * 1s,
                    i == 249 ? consensus::Outcome::Down : consensus::Outcome::Up));
  }
  auto health = store.health();
  CHECK(health.enqueued == 250);
  CHECK(health.committed == 0);
  CHECK(health.queued <= options.max_queue + options.batch);
  CHECK(health.dropped + health.queued == 250);

  std::filesystem::remove(dir.database());
  REQUIRE(eventually([&] { return store.health().ok; }));
  REQUIRE(store.flush(5s));
  health = store.health();
  CHECK(health.committed + health.dropped == 250);
  const auto newest = store.observations("db", 1);
  REQUIRE(newest.size() == 1);
  CHECK(newest[0].at.wall == k_start + 249s);
}

TEST_CASE("a record SQLite refuses is dropped and counted while the rest of its batch commits",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  REQUIRE(store.flush(5s));
  exec_sql(dir.database(),
           "CREATE TRIGGER refuse_poison BEFORE INSERT ON observations WHEN NEW.target = 'poison' "
           "BEGIN SELECT RAISE(ABORT, 'poisoned record'); END;");
  store.record_observation(observation("db", "quad9", k_start));
  store.record_observation(observation("poison", "quad9", k_start));
  store.record_observation(observation("db", "quad9", k_start + 1s, consensus::Outcome::Down));
  REQUIRE(store.flush(5s));

  const auto health = store.health();
  CHECK(health.ok);
  CHECK(health.committed == 2);
  CHECK(health.dropped == 1);
  CHECK(health.errors == 1);
  CHECK_THAT(health.last_error, Catch::Contains("poisoned record"));
  CHECK(store.observations("db", 10).size() == 2);
}

TEST_CASE("closing a degraded store returns promptly and counts what it could not write",
          "[storage]") {
  TempDir dir;
  write_garbage(dir.database());
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retry_min = 10s;  // a close must not wait out the backoff
  options.retry_max = 10s;
  Store store(options, clock);
  for (int i = 0; i < 20; ++i) {
    store.record_observation(observation("db", "quad9", k_start + i * 1s));
  }
  CHECK_FALSE(store.run_retention_now().completed);
  store.close();
  const auto health = store.health();
  CHECK_FALSE(health.ok);
  CHECK(health.dropped == 20);
  CHECK(health.queued == 0);
}

TEST_CASE(
    "the commit report names a refused ack or verdict, never a refused observation, so nobody "
    "waiting on one takes it for written",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  Reports reports;
  reports.listen(options);
  Store store(options, clock);
  store.record_event(escalation(consensus::EventKind::DisputeOpened, "dispute/db/2", "db", k_start),
                     7);
  REQUIRE(store.flush(5s));
  exec_sql(dir.database(),
           "CREATE TRIGGER refuse_ack BEFORE UPDATE OF acked_by ON escalations "
           "WHEN NEW.acked_by = 'mallory' BEGIN SELECT RAISE(ABORT, 'refused ack'); END;"
           "CREATE TRIGGER refuse_poison BEFORE INSERT ON observations WHEN NEW.target = 'poison' "
           "BEGIN SELECT RAISE(ABORT, 'poisoned record'); END;"
           "CREATE TRIGGER refuse_verdict BEFORE INSERT ON verdicts WHEN NEW.target = 'poison' "
           "BEGIN SELECT RAISE(ABORT, 'poisoned verdict'); END;");
  const auto refused_ack = store.acknowledge(7, "mallory", k_start + 1s);
  store.record_observation(observation("poison", "quad9", k_start + 1s));
  const auto refused_verdict = store.record_verdict(
      verdict("poison", consensus::VerdictKind::Healthy, 1, k_start + 1s), true);
  const auto written_ack = store.acknowledge(7, "carol", k_start + 2s);
  REQUIRE(store.flush(5s));

  CHECK(store.health().dropped == 3);
  CHECK(query_text(dir.database(), "SELECT acked_by FROM escalations WHERE id = 7") == "carol");
  CHECK(eventually([&] { return reports.through() >= written_ack; }));
  CHECK(reports.refused() == std::vector<std::uint64_t>{refused_ack, refused_verdict});
}

TEST_CASE("a verdict a full queue pushes out unwritten is named in the commit report",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.max_queue = 2;
  Reports reports;
  reports.listen(options);
  Store store(options, clock);
  REQUIRE(store.flush(5s));
  constexpr int k_verdicts = 5;
  std::vector<std::uint64_t> seqs;
  {
    // Nothing commits: the writer holds at most what was queued (2) in its
    // batch, the queue keeps 2, so at least one verdict is pushed out.
    WriteLock lock(dir.database());
    for (int i = 0; i < k_verdicts; ++i) {
      seqs.push_back(store.record_verdict(
          verdict("t" + std::to_string(i), consensus::VerdictKind::Healthy, 1, k_start), true));
    }
  }
  REQUIRE(store.flush(5s));
  REQUIRE(eventually([&] { return reports.through() >= seqs.back(); }));
  const auto refused = reports.refused();
  CHECK(refused.size() == store.health().dropped);
  CHECK(refused.size() >= 1);
  // Each verdict is either written or named, never both, never neither.
  for (int i = 0; i < k_verdicts; ++i) {
    const bool named = std::find(refused.begin(), refused.end(), seqs[i]) != refused.end();
    const bool written =
        query_integer(dir.database(), "SELECT count(*) FROM verdicts WHERE target = 't" +
                                          std::to_string(i) + "'") == 1;
    CHECK(named != written);
  }
}
