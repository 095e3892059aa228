#include "storage/store.hpp"

#include "storage/batch_writer.hpp"
#include "storage/reader.hpp"
#include "storage/record_queue.hpp"

#include "consensus/group_definition.hpp"

#include <algorithm>
#include <exception>
#include <type_traits>
#include <utility>

namespace crosscheck::storage {
namespace {

// run_retention_now() gives up waiting after this long (the writer answers
// far sooner unless the disk hangs; a hung disk must not hang the caller).
constexpr std::chrono::seconds k_retention_wait{60};

// Refused records named to on_committed at most: the rest are forgotten
// (see note_dropped_locked()).
constexpr std::size_t k_refusals_kept = 65536;

// Zero or negative sizes and intervals would stall or spin the writer.
Options sanitized(Options options) {
  constexpr consensus::Duration k_shortest{1};
  options.max_queue = std::max<std::size_t>(options.max_queue, 1);
  options.batch = std::max<std::size_t>(options.batch, 1);
  options.retention_batch = std::max<std::size_t>(options.retention_batch, 1);
  options.flush_interval = std::max(options.flush_interval, k_shortest);
  options.retention_interval = std::max(options.retention_interval, k_shortest);
  options.summary_period = std::max(options.summary_period, k_shortest);
  options.retry_min = std::max(options.retry_min, k_shortest);
  options.retry_max = std::max(options.retry_max, options.retry_min);
  options.busy_timeout = std::max(options.busy_timeout, consensus::Duration{0});
  return options;
}

VerdictRecord record_of(const consensus::Verdict& verdict, bool changed) {
  VerdictRecord record;
  record.target = verdict.target;
  record.kind = verdict.kind;
  record.held = verdict.held;
  record.generation = verdict.generation;
  record.since = verdict.since;
  record.evaluated_at = verdict.evaluated_at;
  record.valid_until = verdict.valid_until;
  record.reason_code = verdict.reason_code;
  record.reason = verdict.reason;
  record.fresh = verdict.fresh;
  record.changed = changed;
  record.votes = verdict.votes;
  record.stable_from = verdict.stable_from;
  record.maintenance = verdict.maintenance;
  if (verdict.group) {
    std::vector<std::string> members;
    members.reserve(verdict.group->members.size());
    for (const auto& member : verdict.group->members) {
      members.push_back(member.target);
    }
    record.definition = consensus::group_definition(verdict.group->healthy_at_least, members);
  }
  return record;
}

}  // namespace

Store::Store(Options options, const consensus::Clock& clock)
    : options_(sanitized(std::move(options))),
      clock_(clock),
      path_(options_.data_dir / k_database_file),
      retention_window_(options_.retention),
      history_window_(options_.history_retention),
      queue_(std::make_unique<RecordQueue>(options_.max_queue)),
      in_flight_first_seq_(k_no_seq),
      now_(clock.now()),
      page_limit_(options_.page_limit),
      reader_(std::make_unique<Reader>(OpenSpec{path_, options_.busy_timeout, 0})),
      writer_(std::make_unique<BatchWriter>(options_.summary_period)),
      last_retention_(now_.mono) {
  // Opened here, before the writer starts, so that restore() right after
  // construction finds the schema in place.
  ensure_open();
  thread_ = std::thread([this] { run_writer(); });
}

Store::~Store() {
  close();
}

void Store::close() {
  std::call_once(closed_, [this] {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_writer_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
    writer_->close();
    const std::lock_guard read_lock(read_mutex_);
    reader_->reopen();
  });
}

template <typename Value>
std::uint64_t Store::enqueue(Value value) {
  // Why a record other than an observation wakes the writer at once: the
  // service holds back the snapshot (and an ack's answer) that shows it
  // until it is committed; waiting for a full batch or the flush interval
  // would only delay the API.
  constexpr bool prompt = !std::is_same_v<Value, consensus::Observation>;
  const auto now = clock_.now();
  const std::lock_guard lock(mutex_);
  now_ = now;
  ++health_.enqueued;
  if (!accepting_) {
    ++health_.dropped;  // closed: nobody will write it
    return 0;
  }
  if (auto dropped = queue_->push(Record{std::move(value)})) {
    note_dropped_locked(*dropped);
  }
  prompt_ = prompt_ || prompt;
  if (queue_->size() >= options_.batch || prompt) {
    wake_writer_.notify_one();
  }
  return queue_->last_seq();
}

std::uint64_t Store::record_observation(const consensus::Observation& observation) {
  return enqueue(observation);
}

std::uint64_t Store::record_verdict(const consensus::Verdict& verdict, bool changed) {
  return enqueue(record_of(verdict, changed));
}

std::uint64_t Store::record_event(const consensus::Event& event, std::int64_t escalation_id) {
  if (!event.is_escalation()) {
    return 0;
  }
  return enqueue(EscalationRecordEvent{event, escalation_id});
}

std::uint64_t Store::acknowledge(std::int64_t escalation_id, std::string by,
                                 consensus::WallTime at) {
  return enqueue(Acknowledgement{escalation_id, std::move(by), at});
}

std::uint64_t Store::set_override(const std::string& target, const consensus::Override& value) {
  return enqueue(OverrideSet{target, value});
}

std::uint64_t Store::clear_override(const std::string& target) {
  return enqueue(OverrideCleared{target});
}

std::uint64_t Store::set_maintenance(const std::string& target,
                                     const consensus::AdHocMaintenance& value) {
  return enqueue(MaintenanceSet{target, value});
}

std::uint64_t Store::clear_maintenance(const std::string& target) {
  return enqueue(MaintenanceCleared{target});
}

std::uint64_t Store::record_audit(AuditEntry entry) {
  return enqueue(std::move(entry));
}

std::uint64_t Store::record_action(const consensus::RecordedAction& action, bool issued_here) {
  return enqueue(ActionRecord{action, issued_here});
}

std::uint64_t Store::ack_action(const std::string& id, const consensus::ActionAck& ack) {
  return enqueue(ActionAckRecord{id, ack});
}

std::uint64_t Store::done_through_locked() const {
  const auto oldest = std::min(in_flight_first_seq_, queue_->oldest_seq());
  return oldest == k_no_seq ? queue_->last_seq() : oldest - 1;
}

void Store::note_dropped_locked(const QueuedRecord& record) {
  ++health_.dropped;
  if (std::holds_alternative<consensus::Observation>(record.record)) {
    return;
  }
  // Bounded. Why forgetting the oldest is safe: so many go
  // unreported only while no batch commits, i.e. storage is degraded, and
  // then whoever waits is answered "not durable" anyway.
  if (refused_.size() >= k_refusals_kept) {
    refused_.erase(refused_.begin());
  }
  refused_.insert(record.seq);
}

void Store::report_commits() {
  CommitReport report;
  {
    const std::lock_guard lock(mutex_);
    report.through = done_through_locked();
    if (report.through <= reported_through_) {
      return;
    }
    const auto covered = std::upper_bound(refused_.begin(), refused_.end(), report.through);
    report.refused.assign(refused_.begin(), covered);
    refused_.erase(refused_.begin(), covered);
  }
  reported_through_ = report.through;
  if (options_.on_committed) {
    options_.on_committed(report);
  }
}

void Store::set_page_limit(std::uint32_t pages) {
  page_limit_.store(pages);
}

void Store::set_retention(consensus::Duration retention,
                          std::optional<consensus::Duration> history_retention) {
  const std::lock_guard lock(mutex_);
  retention_window_ = retention;
  history_window_ = history_retention;
}

RetentionCursor Store::new_pass_locked(consensus::WallTime now) const {
  RetentionCursor cursor;
  cursor.cutoff = now - retention_window_;
  cursor.now = now;
  if (history_window_) {
    cursor.history_cutoff = now - *history_window_;
  }
  return cursor;
}

bool Store::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto target = queue_->last_seq();
  const auto done = [&] { return done_through_locked() >= target; };
  if (done()) {
    return true;
  }
  ++flush_waiters_;
  wake_writer_.notify_one();
  const bool flushed = progress_.wait_for(lock, timeout, done);
  --flush_waiters_;
  return flushed;
}

RetentionReport Store::run_retention_now() {
  const std::lock_guard one_at_a_time(retention_call_mutex_);
  const auto now = clock_.now();
  std::unique_lock lock(mutex_);
  now_ = now;
  if (!accepting_) {
    return {};
  }
  retention_request_ = RetentionRequest{};
  retention_request_.pending = true;
  retention_request_.now = now.wall;
  wake_writer_.notify_one();
  progress_.wait_for(lock, k_retention_wait, [&] { return retention_request_.answered; });
  auto report = retention_request_.answered ? retention_request_.report : RetentionReport{};
  retention_request_ = RetentionRequest{};
  return report;
}

Health Store::health() const {
  const std::lock_guard lock(mutex_);
  auto health = health_;
  health.queued = queue_->size() + in_flight_size_;
  return health;
}

bool Store::stop_requested() const {
  const std::lock_guard lock(mutex_);
  return stopping_;
}

// The writer thread. Everything that can fail reports into health_; nothing
// escapes, so a storage problem never ends the process.
void Store::run_writer() noexcept {
  std::vector<QueuedRecord> batch;
  bool running = true;
  while (running) {
    try {
      writer_iteration(batch, running);
    } catch (const std::exception& error) {
      mark_failed(std::string("storage writer: ") + error.what());
      running = !stop_requested();  // never let a repeating failure hang close()
    } catch (...) {
      mark_failed("storage writer: unknown exception");
      running = !stop_requested();
    }
  }
  finish_retention(false);
  // The periods in progress, summarized so far (the next start adds to them).
  if (!failing_ && writer_->is_open()) {
    const auto written = writer_->write_open_summaries();
    if (!written.status) {
      mark_failed(path_.string() + ": writing summaries at close: " + written.status.error());
    } else {
      const std::lock_guard lock(mutex_);
      note_summaries_refused_locked(written);
    }
  }
  const std::lock_guard lock(mutex_);
  accepting_ = false;
  health_.dropped += batch.size() + queue_->clear();
  batch.clear();
  in_flight_first_seq_ = k_no_seq;
  in_flight_size_ = 0;
  if (retention_request_.pending) {
    retention_request_.pending = false;
    retention_request_.answered = true;
  }
  progress_.notify_all();
}

void Store::writer_iteration(std::vector<QueuedRecord>& batch, bool& running) {
  bool attempt = true;
  bool stopping = false;
  {
    std::unique_lock lock(mutex_);
    attempt = wait_for_work(lock, batch);
    stopping = stopping_;
    if (batch.empty()) {
      prompt_ = false;
      queue_->take(options_.batch, batch);
      in_flight_first_seq_ = batch.empty() ? k_no_seq : batch.front().seq;
      in_flight_size_ = batch.size();
    }
    start_retention_locked(stopping);
  }
  if (!attempt && !stopping) {
    finish_retention(false);  // backing off: a retention request gets "unavailable" now
    return;
  }
  if (!ensure_open()) {
    finish_retention(false);
    running = !stopping;
    return;
  }
  if (!batch.empty()) {
    commit_batch(batch);
  } else {
    mark_ok();
  }
  if (retention_) {
    if (failing_ || stopping) {
      finish_retention(false);
    } else {
      retention_step();
    }
  }
  if (stopping) {
    const std::lock_guard lock(mutex_);
    // Drain what is queued, unless the disk failed again: then stop now.
    running = !failing_ && !(batch.empty() && queue_->empty());
  }
}

bool Store::wait_for_work(std::unique_lock<std::mutex>& lock,
                          const std::vector<QueuedRecord>& batch) {
  if (failing_) {
    // Backing off: only stopping or a retention request cuts the wait short.
    const bool woken = wake_writer_.wait_for(
        lock, backoff_, [&] { return stopping_ || retention_request_.pending; });
    return !woken;
  }
  if (!batch.empty() || retention_) {
    return true;  // work in progress: keep going
  }
  wake_writer_.wait_for(lock, options_.flush_interval, [&] {
    return stopping_ || retention_request_.pending ||
           (!queue_->empty() &&
            (queue_->size() >= options_.batch || flush_waiters_ > 0 || prompt_));
  });
  return true;
}

void Store::start_retention_locked(bool stopping) {
  if (retention_ || stopping) {
    return;
  }
  if (retention_request_.pending) {
    retention_request_.pending = false;
    retention_requested_ = true;
    retention_ = std::make_unique<RetentionCursor>(new_pass_locked(retention_request_.now));
  } else if (now_.mono - last_retention_ >= options_.retention_interval) {
    retention_requested_ = false;
    retention_ = std::make_unique<RetentionCursor>(new_pass_locked(now_.wall));
  } else {
    return;
  }
  last_retention_ = now_.mono;
  retention_report_ = RetentionReport{};
}

bool Store::ensure_open() {
  if (!writer_->is_open()) {
    const auto limit = page_limit_.load();
    if (auto status = writer_->open(OpenSpec{path_, options_.busy_timeout, limit}); !status) {
      mark_failed("cannot open the database: " + status.error());
      return false;
    }
    applied_page_limit_ = limit;
    file_epoch_.fetch_add(1);
  }
  if (const auto limit = page_limit_.load(); limit != applied_page_limit_) {
    if (auto status = writer_->set_page_limit(limit); !status) {
      mark_failed(path_.string() + ": setting the page limit: " + status.error());
      writer_->close();
      return false;
    }
    applied_page_limit_ = limit;
  }
  return true;
}

void Store::commit_batch(std::vector<QueuedRecord>& batch) {
  // Each pass either commits, or removes one refused record, or gives up
  // until the next retry: at most batch.size() + 1 passes.
  std::string failure;
  while (!batch.empty()) {
    auto outcome = writer_->commit(batch);
    const std::lock_guard lock(mutex_);
    if (outcome.status) {
      health_.committed += batch.size();
      batch.clear();
      note_summaries_refused_locked(outcome);
    } else if (outcome.refused) {
      // Retrying cannot help a record SQLite refuses: drop it, keep the rest.
      const auto refused = batch.begin() + static_cast<std::ptrdiff_t>(*outcome.refused);
      note_dropped_locked(*refused);
      ++health_.errors;
      health_.last_error = "record refused: " + outcome.status.error();
      batch.erase(refused);
    } else {
      failure = outcome.status.error();
      break;
    }
    in_flight_first_seq_ = batch.empty() ? k_no_seq : batch.front().seq;
    in_flight_size_ = batch.size();
    progress_.notify_all();
  }
  if (batch.empty()) {
    mark_ok();
    report_commits();
    return;
  }
  mark_failed(path_.string() + ": writing " + std::to_string(batch.size()) +
              " records failed, retrying: " + failure);
  writer_->close();  // the retry re-opens: the file may have been replaced or remounted
}

void Store::note_summaries_refused_locked(const BatchOutcome& outcome) {
  if (outcome.summaries_refused == 0) {
    return;
  }
  health_.summaries_refused += outcome.summaries_refused;
  health_.errors += outcome.summaries_refused;
  health_.last_error = outcome.summary_error;
}

void Store::retention_step() {
  const auto step = writer_->delete_expired(*retention_, options_.retention_batch);
  if (!step.status) {
    mark_failed(path_.string() + ": retention: " + step.status.error());
    writer_->close();
    finish_retention(false);
    return;
  }
  if (step.summaries) {
    retention_report_.summaries_deleted += step.deleted;
  } else {
    retention_report_.deleted += step.deleted;
    retention_report_.transactions += step.deleted > 0 ? 1 : 0;
  }
  retention_report_.actions_deleted += step.actions;
  retention_report_.history_deleted += step.history;
  {
    const std::lock_guard lock(mutex_);
    health_.retention_deleted += step.deleted + step.actions + step.history;
  }
  if (step.finished) {
    finish_retention(true);
  }
}

void Store::finish_retention(bool completed) {
  if (!retention_) {
    return;
  }
  retention_.reset();
  retention_report_.completed = completed;
  if (retention_requested_) {
    retention_requested_ = false;
    const std::lock_guard lock(mutex_);
    retention_request_.report = retention_report_;
    retention_request_.answered = true;
    progress_.notify_all();
  }
}

void Store::mark_failed(const std::string& reason) {
  const std::lock_guard lock(mutex_);
  ++health_.errors;
  health_.last_error = reason;
  health_.reason = reason;
  if (!failing_) {
    health_.since = now_.wall;
  }
  health_.ok = false;
  backoff_ = failing_ ? std::min(backoff_ * 2, options_.retry_max) : options_.retry_min;
  failing_ = true;
}

void Store::mark_ok() {
  if (!failing_) {
    return;
  }
  const std::lock_guard lock(mutex_);
  failing_ = false;
  backoff_ = consensus::Duration{0};
  health_.ok = true;
  health_.reason.clear();
  health_.since.reset();
}

}  // namespace crosscheck::storage
