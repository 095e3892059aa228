// crosscheck's durable memory: what observations carry (their outcome
// changes, each pair's latest one, periodic summaries), current verdicts and their
// generations, the verdict log, escalations, overrides, ad-hoc
// maintenance windows and the action ledger in one SQLite file
// (<data_dir>/crosscheck.db, WAL). Callers never wait on the disk and never
// get an exception from it: write calls only enqueue for one writer thread,
// and a failing disk turns health() degraded. Retention never deletes the
// record in force.
#pragma once

#include "consensus/clock.hpp"
#include "consensus/types.hpp"
#include "storage/types.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace crosscheck::storage {

class BatchWriter;
struct BatchOutcome;
class Reader;
class RecordQueue;
struct QueuedRecord;
struct RetentionCursor;

// The clock is read only on the threads that call the Store, never on its
// writer thread: the writer works with the latest time a caller saw, so a
// ManualClock needs no locking. Thread-safe: any thread may call anything.
class Store {
 public:
  // Opens (creating and migrating) the database, or starts degraded with the
  // reason in health(); never throws for disk problems. Starts the writer.
  Store(Options options, const consensus::Clock& clock);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  Store(Store&&) = delete;
  Store& operator=(Store&&) = delete;
  // close().
  ~Store();

  // What was in force at the last shutdown; nullopt when the database cannot
  // be read (health() says why): the caller must not take that for "empty".
  std::optional<RestoredState> restore();

  // Enqueue only: never block on the disk, never throw for it. Each call
  // returns the record's seq (1, 2, 3... in call order), which
  // Options::on_committed reports once it is committed.
  std::uint64_t record_observation(const consensus::Observation& observation);
  // Upserts the target's current verdict; appends a transition when `changed`.
  std::uint64_t record_verdict(const consensus::Verdict& verdict, bool changed);
  // Opens (escalation) or resolves (resolution, by key) an escalation row;
  // verdict changes and override expiries need no row and are ignored (0).
  // `escalation_id` (when not 0) is the id the row gets, so the ids the API
  // hands out stay valid across restarts; see RestoredState::max_escalation_id.
  std::uint64_t record_event(const consensus::Event& event, std::int64_t escalation_id = 0);
  // Marks escalation `id` acknowledged by `by` at `at`.
  std::uint64_t acknowledge(std::int64_t escalation_id, std::string by, consensus::WallTime at);
  // Sets or replaces the target's operator override.
  std::uint64_t set_override(const std::string& target, const consensus::Override& value);
  // Removes the target's override; a cleared override stays cleared after a restart.
  std::uint64_t clear_override(const std::string& target);
  // Sets or replaces the target's ad-hoc maintenance window.
  std::uint64_t set_maintenance(const std::string& target,
                                const consensus::AdHocMaintenance& value);
  // Removes the target's ad-hoc window; a cleared window stays cleared after a restart.
  std::uint64_t clear_maintenance(const std::string& target);
  // Appends one line to the audit log (its id is set when it is written).
  std::uint64_t record_audit(AuditEntry entry);
  // Stores an action ledger entry (own or a peer's) under its id: inserts
  // it, or updates the stored one, keeping the stored ack if there is one
  // (the first ack wins; a copy arriving without one never un-acks it).
  // `issued_here`: this node just recorded it, and its sequence raises the
  // node's high-water mark (RestoredState::issued_sequences) in the same
  // transaction.
  std::uint64_t record_action(const consensus::RecordedAction& action, bool issued_here = false);
  // Acknowledges ledger entry `id` unless it already is (the first ack
  // stays); an unknown id changes nothing.
  std::uint64_t ack_action(const std::string& id, const consensus::ActionAck& ack);

  // Committed verdict transitions of `target`, newest first; empty when unreadable.
  std::vector<Transition> history(const std::string& target, std::size_t limit);
  // Committed observations of `target`, newest first: each outcome change
  // (the newest of each vantage began its current outcome); empty when
  // unreadable.
  std::vector<consensus::Observation> observations(const std::string& target, std::size_t limit);
  // Committed escalations not resolved, oldest first; empty when unreadable.
  std::vector<EscalationRecord> open_escalations();
  // Committed audit lines matching `query`, newest first; empty when unreadable.
  std::vector<AuditEntry> audit(const AuditQuery& query);
  // Committed ledger entries matching `query`, newest first; empty when
  // unreadable. A row that no longer parses is left out and counted in
  // Health::errors (last_error says which).
  std::vector<consensus::RecordedAction> actions(const ActionQuery& query);

  // Waits up to `timeout` until every record enqueued before the call is
  // committed (or dropped); false on timeout, e.g. while degraded. Blocks:
  // for start-up, stop and tests; a loop that must not wait listens to
  // Options::on_committed instead.
  bool flush(std::chrono::milliseconds timeout);
  // Runs one full retention pass on the writer at the clock's current time
  // and waits for it (bounded); for tests and operators.
  RetentionReport run_retention_now();
  // Caps the file at `pages` pages (0 lifts the cap), applied by the writer
  // before its next write or re-open: simulates a full disk in tests.
  void set_page_limit(std::uint32_t pages);
  // A config reload's new storage.retention and storage.history_retention
  // (nullopt: the history is kept always), used from the next pass on.
  void set_retention(consensus::Duration retention,
                     std::optional<consensus::Duration> history_retention);

  Health health() const;
  // Commits what is queued (unless degraded), stops the writer and closes
  // the file. Records still queued count as dropped. Idempotent.
  void close();

 private:
  struct RetentionRequest {
    bool pending = false;
    bool answered = false;
    consensus::WallTime now;  // the pass's time
    RetentionReport report;
  };

  template <typename Value>
  std::uint64_t enqueue(Value value);
  // The seq up to which every record is committed or dropped; under mutex_.
  std::uint64_t done_through_locked() const;
  // Counts a record dropped unwritten; names it for the next report unless
  // it is an observation. Under mutex_.
  void note_dropped_locked(const QueuedRecord& record);
  // Counts the period summaries a committed batch left out (refused) as errors.
  void note_summaries_refused_locked(const BatchOutcome& outcome);
  // Tells Options::on_committed when done_through grew (writer thread, no lock held).
  void report_commits();
  void sync_reader();
  bool stop_requested() const;
  void run_writer() noexcept;
  void writer_iteration(std::vector<QueuedRecord>& batch, bool& running);
  bool wait_for_work(std::unique_lock<std::mutex>& lock, const std::vector<QueuedRecord>& batch);
  void start_retention_locked(bool stopping);
  bool ensure_open();
  void commit_batch(std::vector<QueuedRecord>& batch);
  void retention_step();
  void finish_retention(bool completed);
  void mark_failed(const std::string& reason);
  void mark_ok();
  void note_read_error(const std::string& message);
  // Rows a read left out (RestoredState::skipped): errors, not a failed read.
  void note_skipped(const std::vector<std::string>& skipped);

  const Options options_;
  const consensus::Clock& clock_;
  const std::filesystem::path path_;
  consensus::Duration retention_window_;  // options_.retention until a reload; under mutex_
  std::optional<consensus::Duration> history_window_;  // options_.history_retention, likewise
  // A fresh retention pass at `now` by the windows in force (under mutex_).
  RetentionCursor new_pass_locked(consensus::WallTime now) const;

  mutable std::mutex mutex_;  // everything below up to the writer-only block
  std::condition_variable wake_writer_;
  std::condition_variable progress_;  // flush and retention waiters
  std::unique_ptr<RecordQueue> queue_;
  std::uint64_t in_flight_first_seq_;  // oldest seq in the writer's batch
  std::size_t in_flight_size_ = 0;
  std::size_t flush_waiters_ = 0;
  bool prompt_ = false;  // a record someone waits on is queued: commit it now
  bool stopping_ = false;
  bool accepting_ = true;   // false once the writer has stopped
  consensus::Instant now_;  // the latest time a caller read from the clock
  RetentionRequest retention_request_;
  Health health_;
  std::set<std::uint64_t> refused_;  // dropped unwritten, not yet reported (not observations)
  std::atomic<std::uint32_t> page_limit_;
  std::atomic<std::uint64_t> file_epoch_{0};  // bumped on every writer (re)open

  std::mutex retention_call_mutex_;  // one run_retention_now() at a time
  std::mutex read_mutex_;
  std::unique_ptr<Reader> reader_;
  std::uint64_t reader_epoch_ = 0;

  // Writer thread only (and the constructor, before the thread starts).
  std::unique_ptr<BatchWriter> writer_;
  std::uint32_t applied_page_limit_ = 0;
  bool failing_ = false;
  std::uint64_t reported_through_ = 0;  // the last seq on_committed was given
  consensus::Duration backoff_{0};
  consensus::MonoTime last_retention_;
  std::unique_ptr<RetentionCursor> retention_;  // a pass in progress
  RetentionReport retention_report_;
  bool retention_requested_ = false;  // the pass in progress answers a request

  std::thread thread_;
  std::once_flag closed_;
};

}  // namespace crosscheck::storage
