// The values storage hands back and takes in: options, health, the verdict
// log's transitions, escalation rows and what a restart restores. Plain
// values; nothing here touches SQLite, a thread or a clock.
#pragma once

#include "consensus/engine.hpp"
#include "consensus/types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::storage {

// The database file inside Options::data_dir.
inline constexpr const char* k_database_file = "crosscheck.db";
// Records waiting for the writer; past this the oldest observation is dropped.
inline constexpr std::size_t k_default_max_queue = 65536;
// Records per write transaction.
inline constexpr std::size_t k_default_batch = 512;
// Observations deleted per retention transaction: short transactions keep
// the writer responsive and never hold the file locked for long.
inline constexpr std::size_t k_default_retention_batch = 500;

// What the writer reports after a commit: every record up to seq `through`
// (the numbers the write calls return) is committed or dropped. `refused`
// names the records among them, other than observations, that were dropped
// unwritten (SQLite refused their data, or a queue full of them pushed them
// out), each reported once, in order: whoever waits on one must not take it
// for written. A dropped observation only loses a sample, so it is not named.
struct CommitReport {
  std::uint64_t through = 0;
  std::vector<std::uint64_t> refused;
};

struct Options {
  std::filesystem::path data_dir;
  consensus::Duration retention{std::chrono::days{7}};
  // Verdict changes and resolved escalations older than this are deleted
  // (storage.history_retention); nullopt keeps them always (the default).
  std::optional<consensus::Duration> history_retention;
  std::size_t max_queue = k_default_max_queue;
  std::size_t batch = k_default_batch;
  std::size_t retention_batch = k_default_retention_batch;
  // The writer commits at least this often while records wait.
  consensus::Duration flush_interval{200};
  // Each (target, vantage) pair's observations are summarized per period
  // this long (counts by outcome, latency quantiles), aligned to the wall
  // clock: with an hour, 10:00-11:00, 11:00-12:00, ... (storage.summary_period)
  consensus::Duration summary_period{3'600'000};
  // A retention pass starts once this much (injected-clock) time has passed.
  consensus::Duration retention_interval{60'000};
  // After a failure the writer retries after retry_min, doubling up to retry_max.
  consensus::Duration retry_min{1'000};
  consensus::Duration retry_max{30'000};
  // How long one SQLite call waits for a lock held by another connection.
  consensus::Duration busy_timeout{5'000};
  // Caps the file at this many pages (PRAGMA max_page_count); 0: no cap.
  // For tests that need a full disk without one.
  std::uint32_t page_limit = 0;
  // Called on the writer thread each time `through` grows (see
  // CommitReport). Must not block or call back into the Store: post and return.
  std::function<void(const CommitReport&)> on_committed;
};

struct Health {
  bool ok = true;
  std::string reason;                        // why not ok ("" when ok)
  std::optional<consensus::WallTime> since;  // when it stopped being ok
  std::string last_error;                    // the latest error, even one since recovered from
  std::uint64_t enqueued = 0;                // records accepted by the write calls
  std::uint64_t committed = 0;               // records durably written
  std::uint64_t dropped = 0;  // records lost: queue full, refused by SQLite, or left at close
  std::uint64_t errors = 0;   // failed SQLite operations (open, batch, retention, read)
  // Period summaries SQLite refused for their data (a trigger, a
  // constraint: not the disk), each left out alone and counted in errors.
  std::uint64_t summaries_refused = 0;
  std::size_t queued = 0;  // records waiting for the writer, including a batch being retried
  // Observations, summaries, audit lines, ledger entries and (with
  // storage.history_retention) verdict changes and resolved escalations
  // removed by retention so far.
  std::uint64_t retention_deleted = 0;
};

// One entry of the append-only verdict log.
struct Transition {
  std::string target;
  std::uint64_t generation = 0;
  consensus::WallTime at;  // when the new verdict began (Verdict::since)
  consensus::VerdictKind kind = consensus::VerdictKind::Unknown;
  std::optional<consensus::VerdictKind> held;
  consensus::ReasonCode reason_code = consensus::ReasonCode::Insufficient;
  std::string reason;
  consensus::VoteCounts votes;  // the votes behind the change
};

// One escalation episode (a dispute, flapping, blast radius, a split domain,
// an unreachable quorum, a broken canary, a suspect vantage, a rejected
// config, an unreachable peer).
struct EscalationRecord {
  std::int64_t id = 0;  // stable row id, for POST /v1/escalations/{id}/ack
  std::string key;      // the episode key consensus gave it
  consensus::EventKind kind = consensus::EventKind::DisputeOpened;
  std::string target;   // empty for a vantage escalation
  std::string vantage;  // set for a vantage escalation
  std::string reason;
  consensus::WallTime opened_at;
  std::optional<consensus::WallTime> resolved_at;
  std::optional<consensus::WallTime> acked_at;
  std::string acked_by;
  bool silenced = false;  // opened inside a maintenance window: no sink hears of it
};

// The episode the engine continues after a restart (Engine::restore_episode),
// silenced when it was opened inside a maintenance window.
inline consensus::RestoredEpisode episode_of(const EscalationRecord& record) {
  return consensus::RestoredEpisode{record.kind,    record.key,    record.target,
                                    record.vantage, record.reason, record.silenced};
}

// The audit log (GET /v1/audit): every write and reload, who asked for it,
// from where, what it asked and how it ended.
enum class AuditAction : std::uint8_t {
  Recheck,
  Acknowledge,
  OverrideSet,
  OverrideCleared,
  Reload,  // a config reload (SIGHUP), tokens and keys re-read with it
  MaintenanceSet,
  MaintenanceCleared,
  // A target entered or left a maintenance window (config or ad-hoc): no
  // caller, the window in the detail.
  MaintenanceStarted,
  MaintenanceEnded,
  // The action ledger: an action recorded (POST /v1/actions, `gate --record`)
  // and its acknowledgement, which ends the target's cooldown.
  ActionRecorded,
  ActionAcked,
};
enum class AuditOutcome : std::uint8_t {
  Done,
  Refused,  // not carried out: `why` says why (unknown target, rate limited, invalid config)
  Failed,   // carried out in part or not confirmed (a recheck past its deadline, storage)
};

// "recheck", "ack", "override_set", "override_cleared", "reload", "maintenance_set",
// "maintenance_cleared", "maintenance_started", "maintenance_ended",
// "action_recorded", "action_acked".
std::string_view to_string(AuditAction action);
std::optional<AuditAction> parse_audit_action(std::string_view text);
// "done", "refused", "failed".
std::string_view to_string(AuditOutcome outcome);
std::optional<AuditOutcome> parse_audit_outcome(std::string_view text);

struct AuditEntry {
  std::int64_t id = 0;  // the row id once written (newest is largest); 0 before
  consensus::WallTime at;
  AuditAction action = AuditAction::Recheck;
  std::string principal;           // the API token's name; "" for a reload by signal
  std::string client;              // the caller's address ("127.0.0.1:50312"); "" for a signal
  std::string target;              // the target acted on, "" when none
  std::int64_t escalation_id = 0;  // Acknowledge
  std::string detail;  // what was asked: "verdict=unhealthy ttl=30m by=alice reason=drill"
  AuditOutcome outcome = AuditOutcome::Done;
  std::string why;  // the refusal or failure, "" when done
};

// Which audit lines to read: newest first, at most `limit`, none before
// `since`, only `target`'s when it is set, only override_set and
// override_cleared lines with `overrides_only`.
struct AuditQuery {
  std::size_t limit = 100;
  std::optional<consensus::WallTime> since;
  std::string target;
  bool overrides_only = false;
};

// Which ledger entries to read (Store::actions): newest first, at most
// `limit`, only `target`'s when it is set.
struct ActionQuery {
  std::size_t limit = 100;
  std::optional<std::string> target;
};

// The most ledger entries a restart loads (RestoredState::actions).
inline constexpr std::size_t k_restored_actions_max = 10'000;
// A restart loads the ledger entries recorded within this long, and older
// ones whose cooldown has not ended.
inline constexpr consensus::Duration k_restored_actions_window{std::chrono::days{7}};

// What a restart hands back to the engine and the API.
struct RestoredState {
  // With override_in_force when one lasts, open_escalation_silenced when the
  // open episode began inside a maintenance window, and used_keys: every
  // escalation key the target used in its current generation.
  std::vector<consensus::RestoredVerdict> verdicts;
  std::vector<EscalationRecord> open_escalations;                      // not resolved, oldest first
  std::vector<std::pair<std::string, consensus::Override>> overrides;  // still in force
  // Ad-hoc maintenance windows still in force (expires_at after the load's now).
  std::vector<std::pair<std::string, consensus::AdHocMaintenance>> maintenance;
  std::int64_t max_escalation_id = 0;  // the largest id ever used, resolved rows included
  // The action ledger at the load's now, newest first, at most
  // k_restored_actions_max: every entry whose cooldown has not ended and
  // every one recorded within k_restored_actions_window, own and peers'.
  // Past the bound, entries still holding a gate (in cooldown, unacked) are
  // kept before older finished ones.
  std::vector<consensus::RecordedAction> actions;
  // The highest action sequence each node recorded here has given out
  // (table `action_sequences`), kept after its entries are gone: a restart
  // continues above it, never repeating an id ("oracle-a-17").
  std::map<std::string, std::uint64_t> issued_sequences;
  // Rows that could not be read and were left out (e.g. an action whose
  // `expect` no longer parses), each with why; also counted in
  // Health::errors. Empty normally.
  std::vector<std::string> skipped;
};

// What one retention pass did.
struct RetentionReport {
  bool completed = false;               // false when the database was unavailable
  std::uint64_t deleted = 0;            // observations removed
  std::uint64_t transactions = 0;       // observation deletion transactions committed
  std::uint64_t summaries_deleted = 0;  // observation summaries and audit lines removed
  std::uint64_t actions_deleted = 0;    // ledger entries removed (their cooldown ended)
  std::uint64_t history_deleted = 0;    // verdict changes and resolved escalations removed
};

}  // namespace crosscheck::storage
