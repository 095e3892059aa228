// The writer thread's side of the database: applies a batch of queued
// records in one transaction, and deletes expired observations in small
// transactions. Only the writer thread touches it; it never throws.
#pragma once

#include "storage/record_queue.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace crosscheck::storage {

struct BatchOutcome {
  sqlite::Status status;  // ok when the whole batch committed
  // Set when one record's data was refused (a constraint, not the disk):
  // retrying the same batch would fail the same way, so the caller drops it.
  std::optional<std::size_t> refused;
};

// Where a retention pass has got to: it walks expired rows oldest first.
struct RetentionCursor {
  consensus::WallTime cutoff;  // observations before this may go
  std::int64_t after_t_wall = std::numeric_limits<std::int64_t>::min();
  std::int64_t after_id = 0;
};

struct RetentionStep {
  sqlite::Status status;
  std::uint64_t deleted = 0;
  bool finished = false;  // no expired, unreferenced observation left to visit
};

class BatchWriter {
 public:
  // Opens (or re-opens) the writer's connection and prepares its statements.
  sqlite::Status open(const OpenSpec& spec);
  void close();
  bool is_open() const { return connection_.is_open(); }
  // Caps the file at `pages` pages (0 lifts the cap); tests use it to fill the disk.
  sqlite::Status set_page_limit(std::uint32_t pages);

  // Applies every record of `batch` in one transaction: all or nothing.
  BatchOutcome commit(const std::vector<QueuedRecord>& batch);

  // Deletes, in one transaction, up to `limit` observations older than the
  // cursor's cutoff, never (a) the newest observation of a (target,
  // vantage) pair, which is what a current verdict stands on, nor (b) one
  // taken at or after the opening of an open escalation about its target
  // (or, for a vantage escalation, its vantage). Advances the cursor.
  RetentionStep delete_expired(RetentionCursor& cursor, std::size_t limit);

 private:
  sqlite::Status apply(const consensus::Observation& observation);
  sqlite::Status apply(const VerdictRecord& verdict);
  sqlite::Status apply(const EscalationRecordEvent& record);
  sqlite::Status apply(const Acknowledgement& ack);
  sqlite::Status apply(const OverrideSet& change);
  sqlite::Status apply(const OverrideCleared& change);

  sqlite::Connection connection_;
  sqlite::Statement insert_observation_;
  sqlite::Statement upsert_verdict_;
  sqlite::Statement append_transition_;
  sqlite::Statement open_escalation_;
  sqlite::Statement link_escalation_;
  sqlite::Statement resolve_escalation_;
  sqlite::Statement unlink_escalation_;
  sqlite::Statement acknowledge_;
  sqlite::Statement set_override_;
  sqlite::Statement clear_override_;
  sqlite::Statement find_expired_;
  sqlite::Statement delete_observation_;
};

}  // namespace crosscheck::storage
