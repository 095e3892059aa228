// The action ledger's rows (table `actions`, schema version 5): one row per
// consensus::RecordedAction, own or replicated from a peer, keyed by its
// globally unique id. The writer side (ActionRows, on the writer's
// connection, writer thread only) inserts, merges and acknowledges entries
// (retention_rows deletes finished ones); the read side (free functions, on
// the Reader's connection) lists them and loads them at start-up.
//
// An ack is never lost: the first ack of an entry stays, whatever arrives
// later (a peer's copy without it, or another ack).
#pragma once

#include "storage/record_queue.hpp"
#include "storage/sqlite.hpp"
#include "storage/types.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace crosscheck::storage {

class ActionRows {
 public:
  // Prepares the statements on `connection` (the writer's, just opened).
  Status prepare(sqlite::Connection& connection);
  // Finalizes them: before their connection closes.
  void close();

  // Inside the caller's transaction. Recording an id already stored updates
  // its fields but keeps its ack, if it has one; acking an unknown or
  // already acked id changes nothing (not an error).
  Status apply(const ActionRecord& record);
  Status apply(const ActionAckRecord& record);

 private:
  sqlite::Statement upsert_;
  sqlite::Statement ack_;
  sqlite::Statement raise_mark_;
};

// Ledger entries matching `query`, newest first (by `at`, then the order
// they were first stored). A row that no longer parses is left out and
// described in `skipped`.
Status read_actions(sqlite::Connection& connection, const ActionQuery& query,
                    std::vector<consensus::RecordedAction>& out, std::vector<std::string>& skipped);

// Each node's action id high-water mark (RestoredState::issued_sequences).
Status read_issued_sequences(sqlite::Connection& connection,
                             std::map<std::string, std::uint64_t>& out);

// What a restart loads (RestoredState::actions): at most
// k_restored_actions_max entries, newest first, each either still in
// cooldown at `now` or recorded within k_restored_actions_window of it.
// When more qualify, the entries still holding a gate (in cooldown, not
// acked) are taken first, then the newest of the rest.
Status read_live_actions(sqlite::Connection& connection, consensus::WallTime now,
                         std::vector<consensus::RecordedAction>& out,
                         std::vector<std::string>& skipped);

}  // namespace crosscheck::storage
