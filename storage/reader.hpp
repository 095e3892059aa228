// The read side: restore at start-up, the verdict log, recent observations
// and open escalations, through its own read-only connection (WAL lets it
// read while the writer writes). Never writes; not thread-safe (Store locks).
#pragma once

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace crosscheck::storage {

class Reader {
 public:
  explicit Reader(OpenSpec spec) : spec_(std::move(spec)) {}

  // Re-opens on the next read (the writer re-opened the file, or a read failed).
  void reopen() { connection_.close(); }

  // One consistent snapshot of what is in force at `now`.
  sqlite::Status restore(consensus::WallTime now, RestoredState& out);
  // Verdict transitions of `target`, newest first.
  sqlite::Status history(const std::string& target, std::size_t limit,
                         std::vector<Transition>& out);
  // Observations of `target`, newest first (wall time only: monotonic time
  // does not survive a restart, so `at.mono` reads as the epoch).
  sqlite::Status observations(const std::string& target, std::size_t limit,
                              std::vector<consensus::Observation>& out);
  // Escalations not resolved, oldest first.
  sqlite::Status open_escalations(std::vector<EscalationRecord>& out);

 private:
  sqlite::Status ensure_open();

  OpenSpec spec_;
  sqlite::Connection connection_;
};

}  // namespace crosscheck::storage
