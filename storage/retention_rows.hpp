// Retention on the writer's connection: deletes, in small transactions,
// what has aged out of storage.retention, and never what something in force
// still needs (the Oct 2025 lesson). Only the writer thread calls it.
#pragma once

#include "consensus/types.hpp"
#include "storage/sqlite.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace crosscheck::storage {

// Where a retention pass has got to: it walks expired rows oldest first.
struct RetentionCursor {
  consensus::WallTime cutoff;  // observations before this may go
  consensus::WallTime now;     // the pass's time: ledger entries in cooldown then stay
  std::int64_t after_t_wall = std::numeric_limits<std::int64_t>::min();
  std::int64_t after_id = 0;
  bool observations_done = false;  // then summaries (period_end before the cutoff)
  // storage.history_retention's cutoff: verdict changes and resolved
  // escalations before it may go; nullopt (the default) keeps them always.
  std::optional<consensus::WallTime> history_cutoff;
};

struct RetentionStep {
  Status status;
  std::uint64_t deleted = 0;
  bool summaries = false;     // `deleted` counts summaries and audit lines, not observations
  std::uint64_t actions = 0;  // ledger entries removed (with the summaries)
  // Verdict changes and resolved escalations removed (with the summaries).
  std::uint64_t history = 0;
  bool finished = false;  // nothing expired and unreferenced left to visit (history included)
};

class RetentionRows {
 public:
  // Prepares the statements on `connection` (the writer's, just opened).
  Status prepare(sqlite::Connection& connection);
  // Finalizes them: before their connection closes.
  void close();

  // One step of the pass `cursor` describes, in its own transaction; the
  // pass is over when a step says `finished`. Observations first: up to
  // `limit` older than the cutoff, never (a) the newest observation of a
  // (target, vantage) pair, which is what a current verdict stands on, nor
  // (b) one taken within the retention window (now - cutoff) from the
  // opening of an open escalation about its target (or, for a vantage
  // escalation, its vantage). Then, per step, up to `limit` each of
  // summaries (same protection, for periods overlapping that window), audit
  // lines, and action ledger entries recorded before the cutoff whose
  // cooldown ended by `cursor.now` (never one still in cooldown, acked or
  // not), and, when `cursor.history_cutoff` is set, verdict changes before
  // it (never a target's newest: the change that led to its current
  // verdict) and escalations resolved before it (never an open one, nor
  // the one holding the largest id, so ids are never handed out twice, nor
  // one in escalation_keys_in_use, so keys are not either). Advances the
  // cursor.
  RetentionStep delete_expired(RetentionCursor& cursor, std::size_t limit);

 private:
  RetentionStep delete_expired_summaries(const RetentionCursor& cursor, std::size_t limit);

  sqlite::Connection* connection_ = nullptr;
  sqlite::Statement find_expired_;
  sqlite::Statement delete_observation_;
  sqlite::Statement delete_expired_summaries_;
  sqlite::Statement delete_expired_audit_;
  sqlite::Statement delete_expired_actions_;
  sqlite::Statement delete_expired_verdict_log_;
  sqlite::Statement delete_expired_escalations_;
};

}  // namespace crosscheck::storage
