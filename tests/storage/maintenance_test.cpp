// Tests what storage keeps of maintenance windows (storage/operator_rows.cpp,
// storage/reader.cpp): ad-hoc windows across a restart, and the `silenced`
// mark of an escalation opened inside one, restored with its episode.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::EventKind;
using consensus::VerdictKind;

namespace {

consensus::AdHocMaintenance window_until(consensus::WallTime expires_at,
                                         const std::string& reason = "kernel upgrade") {
  consensus::AdHocMaintenance value;
  value.reason = reason;
  value.by = "alice";
  value.set_at = k_start - 1min;
  value.expires_at = expires_at;
  return value;
}

consensus::Event silenced(consensus::Event event) {
  event.silenced = true;
  return event;
}

const EscalationRecord* find_open(const std::vector<EscalationRecord>& open,
                                  const std::string& key) {
  for (const auto& record : open) {
    if (record.key == key) {
      return &record;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE(
    "an ad-hoc maintenance window survives a restart, a cleared one stays cleared and an ended "
    "one is not restored",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.set_maintenance("db", window_until(k_start + 30min, "first"));
    store.set_maintenance("db", window_until(k_start + 1h));  // replaces the first
    store.set_maintenance("web", window_until(k_start + 10min));
    store.set_maintenance("api", window_until(k_start + 1h));
    store.clear_maintenance("api");
    store.clear_maintenance("dns");  // none set: nothing to clear, not an error
    REQUIRE(store.flush(5s));
    CHECK(store.health().ok);
  }
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM maintenance") == 2);
  clock.advance(10min);  // web's window ends exactly now
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->maintenance.size() == 1);
  const auto& [target, value] = state->maintenance[0];
  CHECK(target == "db");
  CHECK(value.reason == "kernel upgrade");
  CHECK(value.by == "alice");
  CHECK(value.set_at == k_start - 1min);
  CHECK(value.expires_at == k_start + 1h);
  // Windows and overrides are separate rows: neither shows up as the other.
  CHECK(state->overrides.empty());
}

TEST_CASE("maintenance writes are numbered and committed like override writes", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  std::uint64_t through = 0;
  std::mutex through_mutex;
  auto options = test_options(dir.path());
  options.on_committed = [&](const CommitReport& report) {
    const std::lock_guard lock(through_mutex);
    through = report.through;
  };
  Store store(options, clock);
  consensus::Override value;
  value.verdict = VerdictKind::Unhealthy;
  value.set_at = k_start;
  value.expires_at = k_start + 1h;
  const auto first = store.set_override("db", value);
  const auto set = store.set_maintenance("db", window_until(k_start + 1h));
  const auto cleared = store.clear_maintenance("db");
  CHECK(set == first + 1);
  CHECK(cleared == set + 1);
  REQUIRE(store.flush(5s));
  CHECK(eventually([&] {
    const std::lock_guard lock(through_mutex);
    return through >= cleared;
  }));
  const auto health = store.health();
  CHECK(health.committed == 3);
  CHECK(health.dropped == 0);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM maintenance") == 0);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM overrides") == 1);
}

TEST_CASE(
    "an escalation opened inside a maintenance window is restored silenced, as a verdict's "
    "episode and as an episode of its own",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Disputed, 2, k_start - 5min), true);
    store.record_event(
        silenced(escalation(EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 5min)));
    store.record_event(
        silenced(escalation(EventKind::SplitOpened, "split/db/2", "db", k_start - 4min)));
    store.record_verdict(verdict("web", VerdictKind::Disputed, 7, k_start - 3min), true);
    store.record_event(
        escalation(EventKind::DisputeOpened, "dispute/web/7", "web", k_start - 3min));
    store.record_event(
        escalation(EventKind::QuorumUnreachable, "quorum_unreachable/web/7", "web", k_start));
    REQUIRE(store.flush(5s));
  }
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM escalations WHERE silenced = 1") == 2);
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 2);
  for (const auto& restored : state->verdicts) {
    INFO(restored.target);
    CHECK(restored.open_escalation_key ==
          "dispute/" + restored.target + "/" + std::to_string(restored.generation));
    CHECK(restored.open_escalation_silenced == (restored.target == "db"));
  }
  REQUIRE(state->open_escalations.size() == 4);
  const auto* split = find_open(state->open_escalations, "split/db/2");
  REQUIRE(split != nullptr);
  CHECK(split->silenced);
  const auto episode = episode_of(*split);
  CHECK(episode.silenced);
  CHECK(episode.kind == EventKind::SplitOpened);
  CHECK(episode.key == "split/db/2");
  CHECK(episode.target == "db");
  const auto* quorum = find_open(state->open_escalations, "quorum_unreachable/web/7");
  REQUIRE(quorum != nullptr);
  CHECK_FALSE(quorum->silenced);
  CHECK_FALSE(episode_of(*quorum).silenced);
  const auto* dispute = find_open(state->open_escalations, "dispute/db/2");
  REQUIRE(dispute != nullptr);
  CHECK(dispute->silenced);
  // The API's list (Store::open_escalations) reads the same mark.
  const auto listed = store.open_escalations();
  REQUIRE(find_open(listed, "split/db/2") != nullptr);
  CHECK(find_open(listed, "split/db/2")->silenced);
  REQUIRE(find_open(listed, "dispute/web/7") != nullptr);
  CHECK_FALSE(find_open(listed, "dispute/web/7")->silenced);
}

TEST_CASE("a key resolved inside a window and opened again outside one is no longer silenced",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  const auto opened = escalation(EventKind::CanaryDown, "canary_down/db/3", "db", k_start - 1h);
  store.record_event(silenced(opened));
  store.record_event(
      silenced(escalation(EventKind::CanaryRecovered, "canary_down/db/3", "db", k_start - 30min)));
  REQUIRE(store.flush(5s));
  CHECK(store.open_escalations().empty());
  // The wall clock stepped back: the same key opens again, now outside a window.
  store.record_event(escalation(EventKind::CanaryDown, "canary_down/db/3", "db", k_start));
  REQUIRE(store.flush(5s));
  const auto open = store.open_escalations();
  REQUIRE(open.size() == 1);
  CHECK_FALSE(open[0].silenced);
  CHECK(query_integer(dir.database(), "SELECT silenced FROM escalations") == 0);
}
