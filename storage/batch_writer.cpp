#include "storage/batch_writer.hpp"

#include "storage/codec.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

namespace crosscheck::storage {
namespace {

using sqlite::Statement;

// An observation this many periods behind the latest one seen means the
// wall clock was stepped back: the latest period restarts from it.
constexpr std::int64_t k_periods_behind_to_reset = 2;

// The verdict's generation never moves backwards in the file: a restart
// never resets a generation, even if a caller publishes a lower one. A
// restored verdict re-published unchanged keeps the reason code it was
// judged with, so the next restart still knows which episode is open. A new
// row links the target's open verdict episode (see links_to_verdict()).
constexpr std::string_view k_upsert_verdict = R"sql(
INSERT INTO verdicts (target, kind, held, generation, since, evaluated_at, valid_until,
                      reason_code, reason, fresh, definition, stable_from, maintenance,
                      open_escalation_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
        COALESCE((SELECT key FROM escalations
                  WHERE target = ?1 AND resolved_at IS NULL
                    AND kind IN ('dispute', 'flapping', 'blast_radius')
                  ORDER BY opened_at DESC, id DESC LIMIT 1), ''))
ON CONFLICT (target) DO UPDATE SET
  kind = excluded.kind,
  held = excluded.held,
  generation = max(verdicts.generation, excluded.generation),
  since = excluded.since,
  evaluated_at = excluded.evaluated_at,
  valid_until = excluded.valid_until,
  reason_code = CASE WHEN excluded.reason_code = 'restored' THEN verdicts.reason_code
                     ELSE excluded.reason_code END,
  reason = excluded.reason,
  fresh = excluded.fresh,
  definition = CASE WHEN excluded.definition = '' THEN verdicts.definition
                    ELSE excluded.definition END,
  stable_from = excluded.stable_from,
  maintenance = excluded.maintenance
)sql";

// An observation is a change (kept in `observations`) when the pair's
// newest one so far had another outcome or failing layer, or there is none.
// Example: up, up, down (dns), down (dns), up stores the first up, the
// first down and the last up; the others only replace the pair's newest.
constexpr std::string_view k_insert_change = R"sql(
INSERT INTO observations (target, vantage, t_wall, outcome, layer, last_known_good,
                          latency_ms, detail, answers)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
WHERE NOT EXISTS (SELECT 1 FROM latest_observations
                  WHERE target = ?1 AND vantage = ?2 AND outcome = ?4 AND layer = ?5)
)sql";

// Always replaced: records are applied in the order they were made, so the
// last written is the newest. Not by time: a wall clock stepped back (or a
// row dated in the future) froze the pair's newest row, and every
// observation after it then counted as a change (a hostile review).
constexpr std::string_view k_upsert_latest = R"sql(
INSERT INTO latest_observations (target, vantage, t_wall, outcome, layer, last_known_good,
                                 latency_ms, detail, answers)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (target, vantage) DO UPDATE SET
  t_wall = excluded.t_wall, outcome = excluded.outcome, layer = excluded.layer,
  last_known_good = excluded.last_known_good, latency_ms = excluded.latency_ms,
  detail = excluded.detail, answers = excluded.answers
)sql";

// A period summarized twice (the part before a stop and the part after
// the next start) adds the counts; the quantiles are those of the part
// with more `up` observations (quantiles cannot be merged exactly). A
// period is its start and its end: one of another length (summary_period
// changed across a restart) is a row of its own, never merged.
constexpr std::string_view k_upsert_summary = R"sql(
INSERT INTO observation_summaries (target, vantage, period_start, period_end, up, down,
                                   observer_error, p50_ms, p90_ms, p99_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (target, vantage, period_start, period_end) DO UPDATE SET
  p50_ms = CASE WHEN excluded.up > observation_summaries.up THEN excluded.p50_ms
                ELSE observation_summaries.p50_ms END,
  p90_ms = CASE WHEN excluded.up > observation_summaries.up THEN excluded.p90_ms
                ELSE observation_summaries.p90_ms END,
  p99_ms = CASE WHEN excluded.up > observation_summaries.up THEN excluded.p99_ms
                ELSE observation_summaries.p99_ms END,
  up = observation_summaries.up + excluded.up,
  down = observation_summaries.down + excluded.down,
  observer_error = observation_summaries.observer_error + excluded.observer_error
)sql";

constexpr std::string_view k_append_audit = R"sql(
INSERT INTO audit_log (at, action, principal, client, target, escalation_id, detail, outcome, why)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
)sql";

constexpr std::string_view k_append_transition = R"sql(
INSERT INTO verdict_log (target, generation, at, kind, held, reason_code, reason, votes)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
)sql";

// Opening an episode whose key was resolved before re-opens that row, under
// the new episode's id: the id is what the API hands out and an ack names.
// Example: config/06:48:00Z opened as 3 and resolved, the wall clock steps
// back, a rejection opens config/06:48:00Z as 9; the row must become 9, or
// "ack 9" updates nothing (a hostile review).
constexpr std::string_view k_open_escalation = R"sql(
INSERT INTO escalations (id, key, kind, target, vantage, reason, opened_at, silenced)
VALUES (NULLIF(?7, 0), ?1, ?2, ?3, ?4, ?5, ?6, ?8)
ON CONFLICT (key) DO UPDATE SET
  id = CASE WHEN ?7 <> 0 THEN ?7 ELSE escalations.id END,
  kind = excluded.kind, target = excluded.target, vantage = excluded.vantage,
  reason = excluded.reason, opened_at = excluded.opened_at, silenced = excluded.silenced,
  resolved_at = NULL, acked_at = NULL, acked_by = ''
WHERE escalations.resolved_at IS NOT NULL
)sql";

// Only the episodes a published verdict belongs to (a dispute, flapping, a
// blast-radius hold) are the verdict's open_escalation_key. A split, an
// unreachable quorum or a broken canary runs beside them (a split can stay
// open while the verdict is healthy) and is restored as its own episode.
bool links_to_verdict(consensus::EventKind kind) {
  return kind == consensus::EventKind::DisputeOpened ||
         kind == consensus::EventKind::FlappingStarted ||
         kind == consensus::EventKind::BlastRadiusHeld;
}

Statement& bind_optional_real(Statement& statement, int index, std::optional<double> value) {
  if (value) {
    return statement.bind(index, *value);
  }
  return statement.bind_null(index);
}

Statement& bind_optional_kind(Statement& statement, int index,
                              const std::optional<consensus::VerdictKind>& kind) {
  if (kind) {
    return statement.bind(index, consensus::to_string(*kind));
  }
  return statement.bind_null(index);
}

}  // namespace

BatchWriter::BatchWriter(consensus::Duration summary_period)
    : summary_period_(std::max(summary_period, consensus::Duration{1})) {}

Status BatchWriter::open(const OpenSpec& spec) {
  close();
  auto opened = open_for_writing(spec);
  if (!opened) {
    return opened.failure();
  }
  connection_ = std::move(*opened);
  auto prepared = sqlite::prepare_all(
      connection_,
      {
          {&insert_observation_, k_insert_change},
          {&upsert_latest_, k_upsert_latest},
          {&upsert_summary_, k_upsert_summary},
          {&upsert_verdict_, k_upsert_verdict},
          {&append_transition_, k_append_transition},
          {&open_escalation_, k_open_escalation},
          {&link_escalation_, "UPDATE verdicts SET open_escalation_key = ?2 WHERE target = ?1"},
          {&resolve_escalation_,
           "UPDATE escalations SET resolved_at = ?2 WHERE key = ?1 AND resolved_at IS NULL"},
          {&unlink_escalation_,
           "UPDATE verdicts SET open_escalation_key = '' WHERE open_escalation_key = ?1"},
          {&acknowledge_, "UPDATE escalations SET acked_at = ?2, acked_by = ?3 WHERE id = ?1"},
          {&append_audit_, k_append_audit},
      });
  if (!prepared) {
    close();
    return prepared;
  }
  for (auto status : {operator_rows_.prepare(connection_), action_rows_.prepare(connection_),
                      retention_rows_.prepare(connection_)}) {
    if (!status) {
      close();
      return status;
    }
  }
  return {};
}

void BatchWriter::close() {
  // Statements first: a connection closes only after its statements finalize.
  sqlite::finalize_all({&insert_observation_, &upsert_latest_, &upsert_summary_, &upsert_verdict_,
                        &append_transition_, &open_escalation_, &link_escalation_,
                        &resolve_escalation_, &unlink_escalation_, &acknowledge_, &append_audit_});
  operator_rows_.close();
  action_rows_.close();
  retention_rows_.close();
  connection_.close();
}

Status BatchWriter::set_page_limit(std::uint32_t pages) {
  return apply_page_limit(connection_, pages);
}

BatchOutcome BatchWriter::commit(const std::vector<QueuedRecord>& batch) {
  BatchOutcome outcome;
  sqlite::Transaction transaction(connection_);
  if (outcome.status = transaction.begin(); !outcome.status) {
    return outcome;
  }
  staged_.clear();
  staged_period_.reset();
  refusals_ = Refusals{};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    outcome.status =
        std::visit([this](const auto& record) { return apply(record); }, batch[i].record);
    if (!outcome.status) {
      if (!sqlite::is_environmental(outcome.status.failure().code)) {
        outcome.refused = i;
      }
      staged_.clear();
      staged_period_.reset();
      refusals_ = Refusals{};
      return outcome;  // the transaction rolls back
    }
  }
  outcome.status = transaction.commit();
  if (outcome.status) {
    for (auto& [pair, tally] : staged_) {
      tallies_[pair] = std::move(tally);
    }
    latest_period_ = staged_period_.value_or(latest_period_);
    outcome.summaries_refused = refusals_.count;
    outcome.summary_error = std::move(refusals_.error);
  }
  staged_.clear();
  staged_period_.reset();
  refusals_ = Refusals{};
  return outcome;
}

RetentionStep BatchWriter::delete_expired(RetentionCursor& cursor, std::size_t limit) {
  return retention_rows_.delete_expired(cursor, limit);
}

// Why the pair's newest row is not replaced at every observation: each
// replacement dirties a page of `latest_observations`, and at 2,000 targets
// x 5 vantages every 10 s that wrote about 85 GB a day to the WAL and the
// database for rows that repeated themselves (bench/scale.sh row 9). The
// row is replaced when the outcome or layer changes, with the change row;
// the live newest is in memory (the API's evidence).
Status BatchWriter::apply(const consensus::Observation& observation) {
  // The change first: it compares with the pair's newest before this one.
  for (auto* statement : {&insert_observation_, &upsert_latest_}) {
    statement->bind(1, observation.target)
        .bind(2, observation.vantage)
        .bind(3, to_millis(observation.at.wall))
        .bind(4, consensus::to_string(observation.outcome))
        .bind(5, consensus::to_string(observation.layer))
        .bind(6, consensus::to_string(observation.last_known_good))
        .bind(7, observation.latency_ms)
        .bind(8, observation.detail)
        .bind(9, answers_to_json(observation.answers));
    if (auto status = statement->run(); !status) {
      return status;
    }
    if (statement == &insert_observation_ && connection_.changes() == 0) {
      break;  // not a change: the stored newest stands
    }
  }
  return tally(observation);
}

// Why every pair's summary at once: written one by one, as each pair's
// first observation of the next period came, the rows' index pages were
// each dirtied and written again by dozens of small commits (32 MB at every
// boundary for 10,000 pairs). In key order in one batch, each page is
// written once. A period after `start` (dated by a clock that was stepped
// back since) is closed too: nothing else would write it.
Status BatchWriter::close_periods_before(std::int64_t start) {
  for (const auto& [pair, committed] : tallies_) {
    if (committed.period_start != start) {
      staged_.try_emplace(pair, committed);
    }
  }
  for (auto& [pair, tally] : staged_) {
    if (tally.period_start == start) {
      continue;
    }
    if (auto status = write_summary(pair, tally); !status) {
      return status;
    }
    tally = PeriodTally{};
    tally.period_start = start;
  }
  return {};
}

Status BatchWriter::tally(const consensus::Observation& observation) {
  const auto period = summary_period_.count();
  const auto at = to_millis(observation.at.wall);
  // Floor division: a period starts at a multiple of its length.
  const auto start = at >= 0 ? at / period * period : (at - period + 1) / period * period;
  const auto latest = staged_period_.value_or(latest_period_);
  if (start > latest) {
    if (auto status = close_periods_before(start); !status) {
      return status;
    }
    staged_period_ = start;
  } else if (latest - start > k_periods_behind_to_reset * period) {
    // Why a period far behind the latest one resets it: the wall clock was
    // stepped back. Example, 1-minute periods: a step forward of a day and
    // back left the latest period a day ahead, and no period closed for
    // every pair until real time caught up: an idle pair's summary stayed
    // in memory (lost at a kill -9) and the others were written one by one
    // (a hostile review). A straggler is a probe's timeout late, not this.
    staged_period_ = start;
  }
  Pair pair{observation.target, observation.vantage};
  auto staged = staged_.find(pair);
  if (staged == staged_.end()) {
    const auto committed = tallies_.find(pair);
    staged = staged_.emplace(pair, committed != tallies_.end() ? committed->second : PeriodTally{})
                 .first;
  }
  auto& current = staged->second;
  if (current.period_start != start) {
    // A straggler (its period was closed) or a clock stepped back: the
    // summary upsert adds to a period written before.
    if (auto status = write_summary(pair, current); !status) {
      return status;
    }
    current = PeriodTally{};
    current.period_start = start;
  }
  switch (observation.outcome) {
    case consensus::Outcome::Up:
      ++current.up;
      current.up_latencies.add(observation.latency_ms);
      break;
    case consensus::Outcome::Down:
      ++current.down;
      break;
    default:
      ++current.observer_error;
      break;
  }
  return {};
}

// Why a refused summary costs itself only: it was charged to whichever
// observation closed the period; that one was dropped, the next one closed
// the period again and was dropped too, and so on: one summary a trigger or
// a constraint refuses lost every later observation of every pair (a
// hostile review). A statement refused for its data (RAISE(ABORT), a
// constraint) undoes that statement only, and the transaction goes on; a
// failure of the disk (full, I/O) still fails the batch, which is retried
// whole and counts nothing twice.
Status BatchWriter::write_summary(const Pair& pair, const PeriodTally& tally) {
  if (tally.empty()) {
    return {};
  }
  upsert_summary_.bind(1, pair.first)
      .bind(2, pair.second)
      .bind(3, tally.period_start)
      .bind(4, tally.period_start + summary_period_.count())
      .bind(5, tally.up)
      .bind(6, tally.down)
      .bind(7, tally.observer_error);
  bind_optional_real(upsert_summary_, 8, tally.up_latencies.quantile(0.5));
  bind_optional_real(upsert_summary_, 9, tally.up_latencies.quantile(0.9));
  bind_optional_real(upsert_summary_, 10, tally.up_latencies.quantile(0.99));
  auto status = upsert_summary_.run();
  if (status || sqlite::is_environmental(status.failure().code) || !connection_.in_transaction()) {
    return status;
  }
  ++refusals_.count;
  refusals_.error = "summary of " + pair.first + " from " + pair.second + " for the period at " +
                    std::to_string(tally.period_start) + " ms refused: " + status.error();
  return {};
}

BatchOutcome BatchWriter::write_open_summaries() {
  BatchOutcome outcome;
  if (tallies_.empty() || !is_open()) {
    return outcome;
  }
  refusals_ = Refusals{};
  sqlite::Transaction transaction(connection_);
  if (outcome.status = transaction.begin(); !outcome.status) {
    return outcome;
  }
  for (auto& [pair, tally] : tallies_) {
    if (outcome.status = write_summary(pair, tally); !outcome.status) {
      return outcome;
    }
  }
  if (outcome.status = transaction.commit(); !outcome.status) {
    return outcome;
  }
  tallies_.clear();
  outcome.summaries_refused = refusals_.count;
  outcome.summary_error = std::move(refusals_.error);
  refusals_ = Refusals{};
  return outcome;
}

Status BatchWriter::apply(const VerdictRecord& verdict) {
  upsert_verdict_.bind(1, verdict.target).bind(2, consensus::to_string(verdict.kind));
  bind_optional_kind(upsert_verdict_, 3, verdict.held)
      .bind(4, static_cast<std::int64_t>(verdict.generation))
      .bind(5, to_millis(verdict.since))
      .bind(6, to_millis(verdict.evaluated_at))
      .bind(7, to_millis(verdict.valid_until))
      .bind(8, consensus::to_string(verdict.reason_code))
      .bind(9, verdict.reason)
      .bind(10, std::int64_t{verdict.fresh ? 1 : 0})
      .bind(11, verdict.definition)
      .bind(13, verdict.maintenance ? window_to_json(*verdict.maintenance) : std::string());
  if (verdict.stable_from) {
    upsert_verdict_.bind(12, to_millis(*verdict.stable_from));
  } else {
    upsert_verdict_.bind_null(12);
  }
  if (auto status = upsert_verdict_.run(); !status || !verdict.changed) {
    return status;
  }
  append_transition_.bind(1, verdict.target)
      .bind(2, static_cast<std::int64_t>(verdict.generation))
      .bind(3, to_millis(verdict.since))
      .bind(4, consensus::to_string(verdict.kind));
  bind_optional_kind(append_transition_, 5, verdict.held)
      .bind(6, consensus::to_string(verdict.reason_code))
      .bind(7, verdict.reason)
      .bind(8, votes_to_json(verdict.votes));
  return append_transition_.run();
}

Status BatchWriter::apply(const EscalationRecordEvent& record) {
  const auto& event = record.event;
  if (!event.is_escalation()) {
    return {};  // verdict changes arrive through record_verdict; expiries need no row
  }
  if (event.is_resolution()) {
    if (auto status =
            resolve_escalation_.bind(1, event.key).bind(2, to_millis(event.at.wall)).run();
        !status) {
      return status;
    }
    return unlink_escalation_.bind(1, event.key).run();
  }
  if (auto status = open_escalation_.bind(1, event.key)
                        .bind(2, consensus::to_string(event.kind))
                        .bind(3, event.target)
                        .bind(4, event.vantage)
                        .bind(5, event.reason)
                        .bind(6, to_millis(event.at.wall))
                        .bind(7, record.id)
                        .bind(8, std::int64_t{event.silenced ? 1 : 0})
                        .run();
      !status) {
    return status;
  }
  if (event.target.empty() || !links_to_verdict(event.kind)) {
    return {};
  }
  return link_escalation_.bind(1, event.target).bind(2, event.key).run();
}

Status BatchWriter::apply(const Acknowledgement& ack) {
  return acknowledge_.bind(1, ack.escalation_id).bind(2, to_millis(ack.at)).bind(3, ack.by).run();
}

Status BatchWriter::apply(const AuditEntry& entry) {
  return append_audit_.bind(1, to_millis(entry.at))
      .bind(2, to_string(entry.action))
      .bind(3, entry.principal)
      .bind(4, entry.client)
      .bind(5, entry.target)
      .bind(6, entry.escalation_id)
      .bind(7, entry.detail)
      .bind(8, to_string(entry.outcome))
      .bind(9, entry.why)
      .run();
}

}  // namespace crosscheck::storage
