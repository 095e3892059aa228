// Tests what storage keeps of the action ledger (storage/action_rows.cpp):
// every field written and read back, the first ack winning over whatever
// arrives later (a peer's unacked copy, a second ack), and writes numbered
// and committed like every other record.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::ActionAck;
using consensus::GateFor;
using consensus::RecordedAction;
using consensus::VerdictKind;

namespace {

RecordedAction action(const std::string& id, const std::string& target, consensus::WallTime at,
                      consensus::Duration cooldown = 1h) {
  RecordedAction value;
  value.id = id;
  value.node = id.substr(0, id.rfind('-'));
  value.target = target;
  value.expect = VerdictKind::Unhealthy;
  value.for_ = GateFor::Service;
  value.generation = 7;
  value.by = "failover-bot";
  value.what = "promote db-2";
  value.principal = "ci-token";
  value.at = at;
  value.cooldown_until = at + cooldown;
  return value;
}

ActionAck ack_by(const std::string& by, consensus::WallTime at, const std::string& node) {
  return ActionAck{by, "checked by hand", at, node};
}

const RecordedAction* find(const std::vector<RecordedAction>& actions, const std::string& id) {
  for (const auto& value : actions) {
    if (value.id == id) {
      return &value;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("every field of a ledger entry, its ack included, reads back as written", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto acked = action("oracle-a-17", "db", k_start - 10min, 2h);
  acked.expect = VerdictKind::Healthy;
  acked.for_ = GateFor::Dns;
  acked.generation = 18'000'000'000ULL;  // past 32 bits
  acked.ack = ack_by("alice", k_start - 5min, "oracle-b");
  auto open = action("oracle-b-3", "web", k_start - 1min);
  open.for_ = GateFor::Any;
  open.principal = "";  // recorded by a peer without a token name
  {
    Store store(test_options(dir.path()), clock);
    store.record_action(acked);
    store.record_action(open);
    REQUIRE(store.flush(5s));
    const auto all = store.actions(ActionQuery{});
    REQUIRE(all.size() == 2);
    CHECK(all[0] == open);  // newest first
    CHECK(all[1] == acked);
  }
  CHECK(query_integer(dir.database(),
                      "SELECT count(*) FROM actions WHERE acked_at IS NULL AND "
                      "acked_by IS NULL AND ack_note IS NULL AND ack_node IS "
                      "NULL") == 1);
  CHECK(query_text(dir.database(),
                   "SELECT expect || ' ' || gate_for FROM actions WHERE id = "
                   "'oracle-a-17'") == "healthy dns");
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->actions.size() == 2);
  CHECK(state->actions[0] == open);
  CHECK(state->actions[1] == acked);
  CHECK(state->skipped.empty());
  CHECK(store.health().errors == 0);
}

TEST_CASE("ledger writes are numbered and committed like every other record", "[storage]") {
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
  const auto first = store.record_audit(AuditEntry{});
  const auto recorded = store.record_action(action("oracle-a-1", "db", k_start));
  const auto acked = store.ack_action("oracle-a-1", ack_by("alice", k_start, "oracle-a"));
  CHECK(recorded == first + 1);
  CHECK(acked == recorded + 1);
  CHECK(eventually([&] {
    const std::lock_guard lock(through_mutex);
    return through >= acked;
  }));
  const auto health = store.health();
  CHECK(health.committed == 3);
  CHECK(health.dropped == 0);
  CHECK(query_text(dir.database(), "SELECT acked_by FROM actions WHERE id = 'oracle-a-1'") ==
        "alice");
}

TEST_CASE("the first ack of an entry stays, whatever arrives for its id later", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  auto entry = action("oracle-a-17", "db", k_start - 10min);
  store.record_action(entry);
  const auto first_ack = ack_by("alice", k_start - 5min, "oracle-a");
  store.ack_action(entry.id, first_ack);
  REQUIRE(store.flush(5s));

  SECTION("a peer's copy from before the ack updates the entry but does not un-ack it") {
    auto replicated = entry;
    replicated.what = "promote db-2 (retried)";
    replicated.cooldown_until = k_start + 2h;
    store.record_action(replicated);
    REQUIRE(store.flush(5s));
    const auto all = store.actions(ActionQuery{});
    REQUIRE(all.size() == 1);
    CHECK(all[0].what == "promote db-2 (retried)");
    CHECK(all[0].cooldown_until == k_start + 2h);
    REQUIRE(all[0].ack.has_value());
    CHECK(*all[0].ack == first_ack);
  }
  SECTION("a peer's copy acked by someone else keeps the first ack") {
    auto replicated = entry;
    replicated.ack = ack_by("bob", k_start - 1min, "oracle-b");
    store.record_action(replicated);
    REQUIRE(store.flush(5s));
    const auto all = store.actions(ActionQuery{});
    REQUIRE(all.size() == 1);
    REQUIRE(all[0].ack.has_value());
    CHECK(*all[0].ack == first_ack);
  }
  SECTION("a second ack changes nothing") {
    store.ack_action(entry.id, ack_by("bob", k_start, "oracle-b"));
    REQUIRE(store.flush(5s));
    const auto all = store.actions(ActionQuery{});
    REQUIRE(all.size() == 1);
    REQUIRE(all[0].ack.has_value());
    CHECK(*all[0].ack == first_ack);
  }
  CHECK(store.health().dropped == 0);
  CHECK(store.health().ok);
}

TEST_CASE("an unacked entry takes the ack a peer's copy carries", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  auto entry = action("oracle-b-4", "db", k_start - 10min);
  store.record_action(entry);
  REQUIRE(store.flush(5s));
  entry.ack = ack_by("carol", k_start - 2min, "oracle-b");
  store.record_action(entry);
  REQUIRE(store.flush(5s));
  const auto all = store.actions(ActionQuery{});
  REQUIRE(all.size() == 1);
  CHECK(all[0] == entry);
}

TEST_CASE("acking an unknown id changes nothing and is not an error", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  store.record_action(action("oracle-a-1", "db", k_start));
  const auto seq = store.ack_action("oracle-a-999", ack_by("alice", k_start, "oracle-a"));
  CHECK(seq > 0);
  REQUIRE(store.flush(5s));
  const auto health = store.health();
  CHECK(health.ok);
  CHECK(health.dropped == 0);
  CHECK(health.committed == 2);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM actions") == 1);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM actions WHERE acked_at IS NULL") == 1);
}

TEST_CASE("ledger reads are newest first, bounded, and filtered by target", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  store.record_action(action("oracle-a-1", "db", k_start - 3h));
  store.record_action(action("oracle-a-2", "web", k_start - 2h));
  store.record_action(action("oracle-b-1", "db", k_start - 1h));
  store.record_action(action("oracle-a-3", "db", k_start - 1h));  // same time: stored later
  REQUIRE(store.flush(5s));
  const auto ids = [](const std::vector<RecordedAction>& actions) {
    std::vector<std::string> out;
    out.reserve(actions.size());
    for (const auto& value : actions) {
      out.push_back(value.id);
    }
    return out;
  };
  CHECK(ids(store.actions(ActionQuery{})) ==
        std::vector<std::string>{"oracle-a-3", "oracle-b-1", "oracle-a-2", "oracle-a-1"});
  CHECK(ids(store.actions(ActionQuery{2, std::nullopt})) ==
        std::vector<std::string>{"oracle-a-3", "oracle-b-1"});
  CHECK(ids(store.actions(ActionQuery{10, "db"})) ==
        std::vector<std::string>{"oracle-a-3", "oracle-b-1", "oracle-a-1"});
  CHECK(ids(store.actions(ActionQuery{10, "web"})) == std::vector<std::string>{"oracle-a-2"});
  CHECK(store.actions(ActionQuery{10, "dns"}).empty());
  CHECK(find(store.actions(ActionQuery{}), "oracle-b-1")->node == "oracle-b");
}
