#include "storage/retention_rows.hpp"

#include "storage/codec.hpp"

#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::storage {
namespace {

using sqlite::Statement;

// Expired rows, oldest first from the cursor on, that nothing in force needs:
// not the newest observation of its (target, vantage) pair (the evidence of
// a current verdict), and not taken in the first retention window (?5 ms)
// of an open escalation about its target (or its vantage, for a vantage
// escalation): how the episode began. Why not everything since it opened:
// an episode can stay open for days, and a vantage's covers every target;
// in the hour's soak (bench row 8, 10,000 targets) 2,300 flapping episodes
// stayed open, and the observations they kept grew by 92,000 rows (15 MB)
// in 45 minutes with retention at 10 minutes. Its latest window stays
// anyway, as everyone's does.
// Why the newest is the last written (the largest id), not the latest
// t_wall: the writer takes the last written as the pair's newest (see
// k_upsert_latest in batch_writer.cpp). Example: up at 04:00, down at 12:00
// (a clock stepped forward), up at 05:00 (stepped back): the pair is up
// since the 05:00 row; by t_wall retention kept the 12:00 row and deleted
// the 05:00 one (a hostile review). The largest id stays the largest: the
// row holding it is never deleted, so SQLite never hands a smaller one out.
constexpr std::string_view k_find_expired = R"sql(
SELECT o.id, o.t_wall FROM observations AS o
WHERE o.t_wall < ?1
  AND (o.t_wall, o.id) > (?2, ?3)
  AND o.id <> (SELECT max(newest.id) FROM observations AS newest
               WHERE newest.target = o.target AND newest.vantage = o.vantage)
  AND NOT EXISTS (SELECT 1 FROM escalations AS e
                  WHERE e.target = o.target AND e.resolved_at IS NULL
                    AND e.opened_at <= o.t_wall AND e.opened_at > o.t_wall - ?5)
  AND NOT EXISTS (SELECT 1 FROM escalations AS e
                  WHERE e.target = '' AND e.vantage = o.vantage AND e.resolved_at IS NULL
                    AND e.opened_at <= o.t_wall AND e.opened_at > o.t_wall - ?5)
ORDER BY o.t_wall, o.id
LIMIT ?4
)sql";

// Summaries of periods that ended before the cutoff, with the same
// protection as observations: none about a target (or vantage) whose open
// escalation's first retention window (?3 ms) the period overlaps.
constexpr std::string_view k_delete_expired_summaries = R"sql(
DELETE FROM observation_summaries WHERE rowid IN (
  SELECT s.rowid FROM observation_summaries AS s
  WHERE s.period_end < ?1
    AND NOT EXISTS (SELECT 1 FROM escalations AS e
                    WHERE e.target = s.target AND e.resolved_at IS NULL
                      AND e.opened_at <= s.period_end AND e.opened_at > s.period_start - ?3)
    AND NOT EXISTS (SELECT 1 FROM escalations AS e
                    WHERE e.target = '' AND e.vantage = s.vantage AND e.resolved_at IS NULL
                      AND e.opened_at <= s.period_end AND e.opened_at > s.period_start - ?3)
  LIMIT ?2)
)sql";

// Audit lines age out like summaries: with the retention window, oldest first.
constexpr std::string_view k_delete_expired_audit = R"sql(
DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ?1 ORDER BY at LIMIT ?2)
)sql";

// Finished entries past the window, oldest first; one in cooldown stays
// even when acked (its cooldown is what a restart must still see ended).
constexpr std::string_view k_delete_expired_actions = R"sql(
DELETE FROM actions WHERE rowid IN (
  SELECT rowid FROM actions WHERE at < ?1 AND cooldown_until <= ?2 ORDER BY at LIMIT ?3)
)sql";

// storage.history_retention: verdict changes before ?1, oldest first, but
// never a target's newest (what its current verdict came from: GET
// .../history and a restart's history show it). Why a setting apart from
// storage.retention: the contract keeps this history always by default; a
// fleet flapping like the soak's (bench row 8, 1,500 changes a minute)
// grew it by about 0.55 MB a minute with no end.
constexpr std::string_view k_delete_expired_verdict_log = R"sql(
DELETE FROM verdict_log WHERE id IN (
  SELECT v.id FROM verdict_log AS v
  WHERE v.at < ?1
    AND v.id <> (SELECT max(newest.id) FROM verdict_log AS newest WHERE newest.target = v.target)
  ORDER BY v.at LIMIT ?2)
)sql";

// Escalations resolved before ?1, oldest first: never an open one (what a
// restart restores, acked or not); never the one with the largest id: ids
// continue from it after a restart (MAX(id)), and an ack names an id, so an
// id must never be handed out twice; and never one whose key its target's
// current generation used (the schema's escalation_keys_in_use, which a
// restart reads so the engine never hands one out again: sinks dedupe by
// key, and a reused key would swallow a page).
constexpr std::string_view k_delete_expired_escalations = R"sql(
DELETE FROM escalations WHERE id IN (
  SELECT e.id FROM escalations AS e
  WHERE e.resolved_at IS NOT NULL AND e.resolved_at < ?1
    AND e.id <> (SELECT max(newest.id) FROM escalations AS newest)
    AND NOT EXISTS (SELECT 1 FROM escalation_keys_in_use AS used WHERE used.id = e.id)
  ORDER BY e.resolved_at LIMIT ?2)
)sql";

// The retention window the pass deletes by: from its cutoff to its time.
std::int64_t window_millis(const RetentionCursor& cursor) {
  return to_millis(cursor.now) - to_millis(cursor.cutoff);
}

}  // namespace

Status RetentionRows::prepare(sqlite::Connection& connection) {
  auto status = sqlite::prepare_all(
      connection, {
                      {&find_expired_, k_find_expired},
                      {&delete_observation_, "DELETE FROM observations WHERE id = ?1"},
                      {&delete_expired_summaries_, k_delete_expired_summaries},
                      {&delete_expired_audit_, k_delete_expired_audit},
                      {&delete_expired_actions_, k_delete_expired_actions},
                      {&delete_expired_verdict_log_, k_delete_expired_verdict_log},
                      {&delete_expired_escalations_, k_delete_expired_escalations},
                  });
  connection_ = status ? &connection : nullptr;
  return status;
}

void RetentionRows::close() {
  sqlite::finalize_all({&find_expired_, &delete_observation_, &delete_expired_summaries_,
                        &delete_expired_audit_, &delete_expired_actions_,
                        &delete_expired_verdict_log_, &delete_expired_escalations_});
  connection_ = nullptr;
}

RetentionStep RetentionRows::delete_expired(RetentionCursor& cursor, std::size_t limit) {
  if (cursor.observations_done) {
    return delete_expired_summaries(cursor, limit);
  }
  RetentionStep step;
  sqlite::Transaction transaction(*connection_);
  if (step.status = transaction.begin(); !step.status) {
    return step;
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> expired;  // (id, t_wall)
  find_expired_.bind(1, to_millis(cursor.cutoff))
      .bind(2, cursor.after_t_wall)
      .bind(3, cursor.after_id)
      .bind(4, static_cast<std::int64_t>(limit))
      .bind(5, window_millis(cursor));
  while (find_expired_.next()) {
    expired.emplace_back(find_expired_.integer(0), find_expired_.integer(1));
  }
  if (step.status = find_expired_.finish(); !step.status) {
    return step;
  }
  for (const auto& [id, t_wall] : expired) {
    if (step.status = delete_observation_.bind(1, id).run(); !step.status) {
      return step;
    }
  }
  if (step.status = transaction.commit(); !step.status) {
    return step;
  }
  step.deleted = expired.size();
  // Observations first, then summaries: the pass is finished after both.
  cursor.observations_done = expired.size() < limit;
  if (!expired.empty()) {
    cursor.after_id = expired.back().first;
    cursor.after_t_wall = expired.back().second;
  }
  return step;
}

RetentionStep RetentionRows::delete_expired_summaries(const RetentionCursor& cursor,
                                                      std::size_t limit) {
  RetentionStep step;
  step.summaries = true;
  sqlite::Transaction transaction(*connection_);
  if (step.status = transaction.begin(); !step.status) {
    return step;
  }
  step.status = delete_expired_summaries_.bind(1, to_millis(cursor.cutoff))
                    .bind(2, static_cast<std::int64_t>(limit))
                    .bind(3, window_millis(cursor))
                    .run();
  if (!step.status) {
    return step;
  }
  const auto summaries = static_cast<std::uint64_t>(connection_->changes());
  step.status = delete_expired_audit_.bind(1, to_millis(cursor.cutoff))
                    .bind(2, static_cast<std::int64_t>(limit))
                    .run();
  if (!step.status) {
    return step;
  }
  const auto audit_lines = static_cast<std::uint64_t>(connection_->changes());
  step.status = delete_expired_actions_.bind(1, to_millis(cursor.cutoff))
                    .bind(2, to_millis(cursor.now))
                    .bind(3, static_cast<std::int64_t>(limit))
                    .run();
  if (!step.status) {
    return step;
  }
  const auto actions = static_cast<std::uint64_t>(connection_->changes());
  std::uint64_t verdict_changes = 0;
  std::uint64_t escalations = 0;
  if (cursor.history_cutoff) {
    const auto cutoff = to_millis(*cursor.history_cutoff);
    const auto batch = static_cast<std::int64_t>(limit);
    if (step.status = delete_expired_verdict_log_.bind(1, cutoff).bind(2, batch).run();
        !step.status) {
      return step;
    }
    verdict_changes = static_cast<std::uint64_t>(connection_->changes());
    if (step.status = delete_expired_escalations_.bind(1, cutoff).bind(2, batch).run();
        !step.status) {
      return step;
    }
    escalations = static_cast<std::uint64_t>(connection_->changes());
  }
  if (step.status = transaction.commit(); !step.status) {
    return step;
  }
  // Finished once none found a full batch; `deleted` counts summaries and audit lines.
  step.finished = summaries < limit && audit_lines < limit && actions < limit &&
                  verdict_changes < limit && escalations < limit;
  step.deleted = summaries + audit_lines;
  step.actions = actions;
  step.history = verdict_changes + escalations;
  return step;
}

}  // namespace crosscheck::storage
