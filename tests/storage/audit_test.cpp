// The audit log in storage: written in call order with the other records
// (so waiting on its seq waits on the write it describes), read newest
// first with since/target/limit, kept across a reopen, and removed by
// retention like everything else old.
#include "storage_test_support.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;

namespace {

AuditEntry line(consensus::WallTime at, AuditAction action, std::string target,
                AuditOutcome outcome = AuditOutcome::Done, std::string why = {}) {
  AuditEntry entry;
  entry.at = at;
  entry.action = action;
  entry.principal = "oncall";
  entry.client = "127.0.0.1:50312";
  entry.target = std::move(target);
  entry.detail = "verdict=unhealthy ttl=30m by=alice reason=drill";
  entry.outcome = outcome;
  entry.why = std::move(why);
  return entry;
}

}  // namespace

TEST_CASE("audit lines are read back newest first, filtered by time, target and limit",
          "[storage][audit]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_audit(line(k_start - 3h, AuditAction::OverrideSet, "db"));
    store.record_audit(line(k_start - 2h, AuditAction::Recheck, "web", AuditOutcome::Refused,
                            "rechecked less than 5s ago; retry in 3s"));
    const auto seq = store.record_audit(line(k_start - 1h, AuditAction::OverrideCleared, "db"));
    CHECK(seq > 0);
    REQUIRE(store.flush(10s));
    const auto all = store.audit(AuditQuery{});
    REQUIRE(all.size() == 3);
    CHECK(all[0].action == AuditAction::OverrideCleared);
    CHECK(all[1].action == AuditAction::Recheck);
    CHECK(all[1].outcome == AuditOutcome::Refused);
    CHECK(all[1].why == "rechecked less than 5s ago; retry in 3s");
    CHECK(all[2].principal == "oncall");
    CHECK(all[2].client == "127.0.0.1:50312");
    CHECK(all[2].detail == "verdict=unhealthy ttl=30m by=alice reason=drill");
    CHECK(all[2].at == k_start - 3h);
    CHECK(all[0].id > all[1].id);
    CHECK(store.audit(AuditQuery{1, std::nullopt, ""}).size() == 1);
    CHECK(store.audit(AuditQuery{100, k_start - 2h, ""}).size() == 2);
    const auto db = store.audit(AuditQuery{100, std::nullopt, "db"});
    REQUIRE(db.size() == 2);
    CHECK(db[0].target == "db");
    // Only override lines (what a restart reloads for `crosscheck explain`).
    const auto overrides = store.audit(AuditQuery{100, std::nullopt, "", true});
    REQUIRE(overrides.size() == 2);
    CHECK(overrides[0].action == AuditAction::OverrideCleared);
    CHECK(overrides[1].action == AuditAction::OverrideSet);
    CHECK(store.audit(AuditQuery{100, std::nullopt, "web", true}).empty());
  }
  // Durable: a new store on the same file reads them all.
  Store reopened(test_options(dir.path()), clock);
  CHECK(reopened.audit(AuditQuery{}).size() == 3);
}

TEST_CASE("retention removes audit lines older than its window and keeps the rest",
          "[storage][audit]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = consensus::Duration{std::chrono::hours{24}};
  options.retention_batch = 2;  // several transactions
  Store store(options, clock);
  for (int i = 0; i < 5; ++i) {
    store.record_audit(line(k_start - 48h - std::chrono::minutes{i}, AuditAction::Acknowledge, ""));
  }
  store.record_audit(line(k_start - 1h, AuditAction::Reload, ""));
  REQUIRE(store.flush(10s));
  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(report.summaries_deleted == 5);
  const auto left = store.audit(AuditQuery{});
  REQUIRE(left.size() == 1);
  CHECK(left[0].action == AuditAction::Reload);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM audit_log") == 1);
}

TEST_CASE("audit actions and outcomes have one spelling each", "[storage][audit]") {
  for (const auto action :
       {AuditAction::Recheck, AuditAction::Acknowledge, AuditAction::OverrideSet,
        AuditAction::OverrideCleared, AuditAction::Reload, AuditAction::MaintenanceSet,
        AuditAction::MaintenanceCleared, AuditAction::MaintenanceStarted,
        AuditAction::MaintenanceEnded, AuditAction::ActionRecorded, AuditAction::ActionAcked}) {
    CHECK(parse_audit_action(to_string(action)) == action);
  }
  CHECK(to_string(AuditAction::ActionRecorded) == "action_recorded");
  CHECK(to_string(AuditAction::ActionAcked) == "action_acked");
  for (const auto outcome : {AuditOutcome::Done, AuditOutcome::Refused, AuditOutcome::Failed}) {
    CHECK(parse_audit_outcome(to_string(outcome)) == outcome);
  }
  CHECK_FALSE(parse_audit_action("delete"));
  CHECK_FALSE(parse_audit_outcome("ok"));
}
