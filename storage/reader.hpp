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
  Expected<RestoredState> restore(consensus::WallTime now);
  // Verdict transitions of `target`, newest first.
  Expected<std::vector<Transition>> history(const std::string& target, std::size_t limit);
  // Observations of `target`, newest first (wall time only: monotonic time
  // does not survive a restart, so `at.mono` reads as the epoch).
  Expected<std::vector<consensus::Observation>> observations(const std::string& target,
                                                             std::size_t limit);
  // Escalations not resolved, oldest first.
  Expected<std::vector<EscalationRecord>> open_escalations();
  // Audit lines matching `query`, newest first.
  Expected<std::vector<AuditEntry>> audit(const AuditQuery& query);
  // Ledger entries matching `query`, newest first; rows that no longer
  // parse are left out and described in `skipped`.
  Expected<std::vector<consensus::RecordedAction>> actions(const ActionQuery& query,
                                                           std::vector<std::string>& skipped);

 private:
  Status ensure_open();

  OpenSpec spec_;
  sqlite::Connection connection_;
};

}  // namespace crosscheck::storage
