// The writer thread's side of the database: applies a batch of queued
// records in one transaction, and deletes expired observations and
// summaries in small transactions. An observation is written where it
// carries information: as a change when its outcome or layer differs from
// the pair's previous one (and then as its pair's newest, replaced in
// place), and into its pair's summary of the period, written for every
// pair at once when the period ends. Only the writer thread
// touches it; it never throws.
#pragma once

#include "storage/action_rows.hpp"
#include "storage/latency_sketch.hpp"
#include "storage/operator_rows.hpp"
#include "storage/record_queue.hpp"
#include "storage/retention_rows.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::storage {

struct BatchOutcome {
  Status status;  // ok when the whole batch committed
  // Set when one record's data was refused (a constraint, not the disk):
  // retrying the same batch would fail the same way, so the caller drops it.
  std::optional<std::size_t> refused;
  // Period summaries SQLite refused in a committed batch (a trigger, a
  // constraint: not the disk), each left out alone; the latest one's error.
  std::uint64_t summaries_refused = 0;
  std::string summary_error;
};

// One pair's observations in the current summary period.
struct PeriodTally {
  std::int64_t period_start = 0;  // ms since the epoch, a multiple of the period
  std::int64_t up = 0;
  std::int64_t down = 0;
  std::int64_t observer_error = 0;
  LatencySketch up_latencies;  // bounded whatever the period's length
  bool empty() const { return up + down + observer_error == 0; }
};

class BatchWriter {
 public:
  // `summary_period`: the length of one observation summary (wall clock
  // aligned: a 5-minute period starts at :00, :05, ...).
  explicit BatchWriter(consensus::Duration summary_period);

  // Opens (or re-opens) the writer's connection and prepares its statements.
  Status open(const OpenSpec& spec);
  void close();
  bool is_open() const { return connection_.is_open(); }
  // Caps the file at `pages` pages (0 lifts the cap); tests use it to fill the disk.
  Status set_page_limit(std::uint32_t pages);

  // Applies every record of `batch` in one transaction: all or nothing.
  BatchOutcome commit(const std::vector<QueuedRecord>& batch);

  // One step of a retention pass, in one transaction (what it deletes and
  // never deletes: RetentionRows::delete_expired). Advances the cursor.
  RetentionStep delete_expired(RetentionCursor& cursor, std::size_t limit);

  // Writes the summaries of the periods still in progress (at a stop), in
  // one transaction; a later start adds to them. A summary SQLite refuses
  // is left out and counted, as in commit().
  BatchOutcome write_open_summaries();

 private:
  using Pair = std::pair<std::string, std::string>;  // (target, vantage)

  Status apply(const consensus::Observation& observation);
  // Counts `observation` into its pair's period. The first observation of
  // a later period than any before closes every pair's other period; one
  // far behind it (a clock stepped back) makes its period the latest.
  Status tally(const consensus::Observation& observation);
  Status close_periods_before(std::int64_t start);
  // Upserts one pair's summary. A summary SQLite refuses for its data
  // (not the disk) is counted in refusals_ and is ok: it costs itself only.
  Status write_summary(const Pair& pair, const PeriodTally& tally);
  Status apply(const VerdictRecord& verdict);
  Status apply(const EscalationRecordEvent& record);
  Status apply(const Acknowledgement& ack);
  // Overrides and maintenance windows: operator_rows_ writes them.
  template <typename Value>
  Status apply(const TargetSet<Value>& change) {
    return operator_rows_.apply(change);
  }
  template <typename Value>
  Status apply(const TargetCleared<Value>& change) {
    return operator_rows_.apply(change);
  }
  Status apply(const AuditEntry& entry);
  Status apply(const ActionRecord& record) { return action_rows_.apply(record); }
  Status apply(const ActionAckRecord& record) { return action_rows_.apply(record); }

  consensus::Duration summary_period_;
  // Committed tallies, and the ones the batch in progress changed (merged
  // on commit, dropped on rollback: a retried batch never counts twice).
  std::map<Pair, PeriodTally> tallies_;
  std::map<Pair, PeriodTally> staged_;
  // The start of the latest period seen (committed, and as the batch in
  // progress moved it).
  std::int64_t latest_period_ = std::numeric_limits<std::int64_t>::min();
  std::optional<std::int64_t> staged_period_;
  // Summaries refused in the transaction in progress (reported when it
  // commits; a rolled-back batch refuses them again when retried).
  struct Refusals {
    std::uint64_t count = 0;
    std::string error;
  };
  Refusals refusals_;

  sqlite::Connection connection_;
  sqlite::Statement insert_observation_;
  sqlite::Statement upsert_latest_;
  sqlite::Statement upsert_summary_;
  sqlite::Statement upsert_verdict_;
  sqlite::Statement append_transition_;
  sqlite::Statement open_escalation_;
  sqlite::Statement link_escalation_;
  sqlite::Statement resolve_escalation_;
  sqlite::Statement unlink_escalation_;
  sqlite::Statement acknowledge_;
  sqlite::Statement append_audit_;
  OperatorRows operator_rows_;
  ActionRows action_rows_;
  RetentionRows retention_rows_;
};

}  // namespace crosscheck::storage
