// Store's read side: restore, history, observations, open escalations,
// the audit log and the action ledger,
// through the Reader's own read-only connection (WAL: reads never wait for
// the writer). A failed read counts as an error and reopens the connection.
#include "storage/reader.hpp"
#include "storage/store.hpp"

namespace crosscheck::storage {

std::optional<RestoredState> Store::restore() {
  const auto now = clock_.system();
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  auto state = reader_->restore(now);
  if (!state) {
    note_read_error(state.error());
    return std::nullopt;
  }
  note_skipped(state->skipped);
  return std::move(*state);
}

std::vector<consensus::RecordedAction> Store::actions(const ActionQuery& query) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  std::vector<std::string> skipped;
  auto actions = reader_->actions(query, skipped);
  if (!actions) {
    note_read_error(actions.error());
    return {};
  }
  note_skipped(skipped);
  return std::move(*actions);
}

std::vector<AuditEntry> Store::audit(const AuditQuery& query) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  auto entries = reader_->audit(query);
  if (!entries) {
    note_read_error(entries.error());
    return {};
  }
  return std::move(*entries);
}

std::vector<Transition> Store::history(const std::string& target, std::size_t limit) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  auto transitions = reader_->history(target, limit);
  if (!transitions) {
    note_read_error(transitions.error());
    return {};
  }
  return std::move(*transitions);
}

std::vector<consensus::Observation> Store::observations(const std::string& target,
                                                        std::size_t limit) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  auto observations = reader_->observations(target, limit);
  if (!observations) {
    note_read_error(observations.error());
    return {};
  }
  return std::move(*observations);
}

std::vector<EscalationRecord> Store::open_escalations() {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  auto escalations = reader_->open_escalations();
  if (!escalations) {
    note_read_error(escalations.error());
    return {};
  }
  return std::move(*escalations);
}

void Store::sync_reader() {
  // The writer re-opened the file (perhaps a new one): read the new one.
  if (const auto epoch = file_epoch_.load(); epoch != reader_epoch_) {
    reader_->reopen();
    reader_epoch_ = epoch;
  }
}

void Store::note_skipped(const std::vector<std::string>& skipped) {
  if (skipped.empty()) {
    return;
  }
  const std::lock_guard lock(mutex_);
  health_.errors += skipped.size();
  health_.last_error =
      "reading: " + skipped.back() +
      (skipped.size() > 1 ? " (and " + std::to_string(skipped.size() - 1) + " more rows left out)"
                          : "");
}

void Store::note_read_error(const std::string& message) {
  reader_->reopen();  // the next read starts from a fresh connection
  const std::lock_guard lock(mutex_);
  ++health_.errors;
  health_.last_error = "reading: " + message;
}

}  // namespace crosscheck::storage
