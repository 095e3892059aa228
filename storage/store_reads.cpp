// Store's read side: restore, history, observations and open escalations,
// through the Reader's own read-only connection (WAL: reads never wait for
// the writer). A failed read counts as an error and reopens the connection.
#include "storage/reader.hpp"
#include "storage/store.hpp"

namespace crosscheck::storage {

std::optional<RestoredState> Store::restore() {
  const auto now = clock_.system();
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  RestoredState state;
  if (auto status = reader_->restore(now, state); !status) {
    note_read_error(status.message);
    return std::nullopt;
  }
  return state;
}

std::vector<Transition> Store::history(const std::string& target, std::size_t limit) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  std::vector<Transition> out;
  if (auto status = reader_->history(target, limit, out); !status) {
    note_read_error(status.message);
    out.clear();
  }
  return out;
}

std::vector<consensus::Observation> Store::observations(const std::string& target,
                                                        std::size_t limit) {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  std::vector<consensus::Observation> out;
  if (auto status = reader_->observations(target, limit, out); !status) {
    note_read_error(status.message);
    out.clear();
  }
  return out;
}

std::vector<EscalationRecord> Store::open_escalations() {
  const std::lock_guard lock(read_mutex_);
  sync_reader();
  std::vector<EscalationRecord> out;
  if (auto status = reader_->open_escalations(out); !status) {
    note_read_error(status.message);
    out.clear();
  }
  return out;
}

void Store::sync_reader() {
  // The writer re-opened the file (perhaps a new one): read the new one.
  if (const auto epoch = file_epoch_.load(); epoch != reader_epoch_) {
    reader_->reopen();
    reader_epoch_ = epoch;
  }
}

void Store::note_read_error(const std::string& message) {
  reader_->reopen();  // the next read starts from a fresh connection
  const std::lock_guard lock(mutex_);
  ++health_.errors;
  health_.last_error = "reading: " + message;
}

}  // namespace crosscheck::storage
