// Tests the Store when the disk or the file fails (storage/store.cpp): it
// never throws or blocks, keeps accepting writes into its bounded queue,
// reports degraded health with the reason, and resumes when the disk recovers.
// Tests run as root, which ignores permission bits, so failures are made
// with a corrupt file, a data directory that is a regular file, and a page
// limit that fills the "disk".
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

namespace {

void write_garbage(const std::filesystem::path& path) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  const std::string garbage(8192, 'x');
  file << garbage;
}

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
  for (int i = 0; i < 250; ++i) {
    store.record_observation(observation("db", "quad9", k_start + i * 1s));
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
  store.record_observation(observation("db", "quad9", k_start + 1s));
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
