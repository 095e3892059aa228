// The writer's side of what operators set per target: overrides and ad-hoc
// maintenance windows, one row per target, replaced when set again and
// deleted when cleared (so a cleared one stays cleared after a restart).
// Statements on the writer's connection; only the writer thread calls it.
#pragma once

#include "storage/record_queue.hpp"
#include "storage/sqlite.hpp"

namespace crosscheck::storage {

class OperatorRows {
 public:
  // Prepares the statements on `connection` (the writer's, just opened).
  Status prepare(sqlite::Connection& connection);
  // Finalizes them: before their connection closes.
  void close();

  // Inside the caller's transaction.
  Status apply(const OverrideSet& change);
  Status apply(const OverrideCleared& change);
  Status apply(const MaintenanceSet& change);
  Status apply(const MaintenanceCleared& change);

 private:
  sqlite::Statement set_override_;
  sqlite::Statement clear_override_;
  sqlite::Statement set_maintenance_;
  sqlite::Statement clear_maintenance_;
};

}  // namespace crosscheck::storage
