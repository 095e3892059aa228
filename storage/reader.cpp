#include "storage/reader.hpp"

#include "storage/action_rows.hpp"
#include "storage/codec.hpp"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

namespace crosscheck::storage {
namespace {

using sqlite::Statement;

// The open escalation key is only restored while that escalation is open,
// and only for the episodes a verdict itself belongs to (a dispute, flapping
// or a blast-radius hold): a file written before the writer linked only
// those may name a split or quorum_unreachable key here, which the engine
// continues as its own episode instead (RestoredEpisode).
constexpr std::string_view k_restore_verdicts = R"sql(
SELECT v.target, v.kind, v.held, v.generation, v.since, v.reason_code,
       CASE WHEN e.key IS NULL THEN '' ELSE v.open_escalation_key END,
       o.verdict, o.reason, o.set_by, o.set_at, o.expires_at, e.kind, e.silenced, v.definition,
       v.stable_from, v.maintenance
FROM verdicts AS v
LEFT JOIN escalations AS e ON e.key = v.open_escalation_key AND e.resolved_at IS NULL
                          AND e.kind IN ('dispute', 'flapping', 'blast_radius')
LEFT JOIN overrides AS o ON o.target = v.target AND o.expires_at > ?1
ORDER BY v.target
)sql";

// Every escalation key a target used in its current generation, opened or
// resolved. Keys are "KIND/TARGET/GENERATION" with ".2", ".3" on reuse
// within one generation, and a verdict change starts a new generation, so
// older keys can never be handed out again: these are all the engine must
// avoid. Example: generation 7 with dispute/db/7 (resolved), flapping/db/7
// and dispute/db/7.2 returns those three, and not dispute/db/6.
constexpr std::string_view k_used_keys = R"sql(
SELECT target, key FROM escalation_keys_in_use ORDER BY id
)sql";

constexpr std::string_view k_overrides_in_force = R"sql(
SELECT target, verdict, reason, set_by, set_at, expires_at FROM overrides
WHERE expires_at > ?1 ORDER BY target
)sql";

constexpr std::string_view k_maintenance_in_force = R"sql(
SELECT target, reason, set_by, set_at, expires_at FROM maintenance
WHERE expires_at > ?1 ORDER BY target
)sql";

constexpr std::string_view k_open_escalations = R"sql(
SELECT id, key, kind, target, vantage, reason, opened_at, resolved_at, acked_at, acked_by,
       silenced
FROM escalations WHERE resolved_at IS NULL ORDER BY opened_at, id
)sql";

constexpr std::string_view k_history = R"sql(
SELECT target, generation, at, kind, held, reason_code, reason, votes FROM verdict_log
WHERE target = ?1 ORDER BY id DESC LIMIT ?2
)sql";

// The pair's newest and its changes; UNION drops the newest's copy when it
// was a change too.
constexpr std::string_view k_observations = R"sql(
SELECT target, vantage, t_wall, outcome, layer, last_known_good, latency_ms, detail, answers
FROM (SELECT target, vantage, t_wall, outcome, layer, last_known_good, latency_ms, detail, answers
      FROM latest_observations WHERE target = ?1
      UNION
      SELECT target, vantage, t_wall, outcome, layer, last_known_good, latency_ms, detail, answers
      FROM observations WHERE target = ?1)
ORDER BY t_wall DESC, vantage LIMIT ?2
)sql";

std::int64_t as_limit(std::size_t limit) {
  constexpr auto k_max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit > k_max ? k_max : limit);
}

std::optional<consensus::WallTime> optional_time(const Statement& row, int column) {
  if (row.is_null(column)) {
    return std::nullopt;
  }
  return from_millis(row.integer(column));
}

// Reads what an override and a maintenance window share from columns
// first..first+3 (reason, by, set_at, expires_at) into `value`.
template <typename Value>
Value& read_setting(const Statement& row, int first, Value& value) {
  value.reason = row.text(first);
  value.by = row.text(first + 1);
  value.set_at = from_millis(row.integer(first + 2));
  value.expires_at = from_millis(row.integer(first + 3));
  return value;
}

// Reads an override from columns first..first+4 (verdict, reason, by, set_at, expires_at).
std::optional<consensus::Override> override_at(const Statement& row, int first) {
  if (row.is_null(first)) {
    return std::nullopt;  // no override row joined
  }
  const auto verdict = consensus::parse_verdict_kind(row.text(first));
  if (!verdict) {
    return std::nullopt;
  }
  consensus::Override value;
  value.verdict = *verdict;
  return read_setting(row, first + 1, value);
}

// Reads a maintenance window from columns first..first+3 (reason, by, set_at, expires_at).
std::optional<consensus::AdHocMaintenance> maintenance_at(const Statement& row, int first) {
  consensus::AdHocMaintenance value;
  return read_setting(row, first, value);
}

// Rows whose kind no longer parses (damaged by hand) are skipped.
std::optional<EscalationRecord> escalation_of(const Statement& row) {
  const auto kind = parse_event_kind(row.text(2));
  if (!kind) {
    return std::nullopt;
  }
  EscalationRecord record;
  record.id = row.integer(0);
  record.key = row.text(1);
  record.kind = *kind;
  record.target = row.text(3);
  record.vantage = row.text(4);
  record.reason = row.text(5);
  record.opened_at = from_millis(row.integer(6));
  record.resolved_at = optional_time(row, 7);
  record.acked_at = optional_time(row, 8);
  record.acked_by = row.text(9);
  record.silenced = row.integer(10) != 0;
  return record;
}

Status read_verdicts(sqlite::Connection& connection, consensus::WallTime now,
                     std::vector<consensus::RestoredVerdict>& out) {
  auto prepared = Statement::prepare(connection, k_restore_verdicts);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, to_millis(now));
  while (row.next()) {
    const auto kind = consensus::parse_verdict_kind(row.text(1));
    const auto code = parse_reason_code(row.text(5));
    if (!kind || !code) {
      continue;
    }
    consensus::RestoredVerdict verdict;
    verdict.target = row.text(0);
    verdict.kind = *kind;
    verdict.held = row.is_null(2) ? std::nullopt : consensus::parse_verdict_kind(row.text(2));
    verdict.generation = static_cast<std::uint64_t>(row.integer(3));
    verdict.since = from_millis(row.integer(4));
    verdict.reason_code = *code;
    verdict.open_escalation_key = row.text(6);
    verdict.override_in_force = override_at(row, 7);
    verdict.definition = row.text(14);
    verdict.stable_from = optional_time(row, 15);
    verdict.window = window_from_json(row.text(16));
    if (!verdict.open_escalation_key.empty()) {
      // The episode's own kind: the row's reason_code is the one of the last
      // verdict change, and flapping can start while the verdict stays
      // disputed (no change, no new row).
      verdict.open_escalation_kind = parse_event_kind(row.text(12));
      verdict.open_escalation_silenced = row.integer(13) != 0;
    }
    out.push_back(std::move(verdict));
  }
  return row.finish();
}

// Fills each verdict's used_keys (verdicts are ordered by target).
Status read_used_keys(sqlite::Connection& connection,
                      std::vector<consensus::RestoredVerdict>& verdicts) {
  auto prepared = Statement::prepare(connection, k_used_keys);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  while (row.next()) {
    const auto target = row.text(0);
    const auto found =
        std::lower_bound(verdicts.begin(), verdicts.end(), target,
                         [](const consensus::RestoredVerdict& verdict, const std::string& name) {
                           return verdict.target < name;
                         });
    if (found != verdicts.end() && found->target == target) {
      found->used_keys.push_back(row.text(1));
    }
  }
  return row.finish();
}

// The rows of `sql` (target, then the setting from column 1) in force at
// `now`: overrides or maintenance windows, read by `read` (nullopt skips a row).
template <typename Value, typename Read>
Status read_in_force(sqlite::Connection& connection, std::string_view sql, consensus::WallTime now,
                     Read read, std::vector<std::pair<std::string, Value>>& out) {
  auto prepared = Statement::prepare(connection, sql);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, to_millis(now));
  while (row.next()) {
    if (std::optional<Value> value = read(row, 1)) {
      out.emplace_back(row.text(0), std::move(*value));
    }
  }
  return row.finish();
}

Status read_open_escalations(sqlite::Connection& connection, std::vector<EscalationRecord>& out) {
  auto prepared = Statement::prepare(connection, k_open_escalations);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  while (row.next()) {
    if (auto record = escalation_of(row)) {
      out.push_back(std::move(*record));
    }
  }
  return row.finish();
}

}  // namespace

Status Reader::ensure_open() {
  if (connection_.is_open()) {
    return {};
  }
  auto opened = open_for_reading(spec_);
  if (!opened) {
    return opened.failure();
  }
  connection_ = std::move(*opened);
  return {};
}

Expected<RestoredState> Reader::restore(consensus::WallTime now) {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  // One read transaction: verdicts, escalations, overrides, windows and
  // the action ledger from one instant.
  if (auto status = connection_.exec("BEGIN", "starting a read"); !status) {
    return status.failure();
  }
  RestoredState out;
  auto status = read_verdicts(connection_, now, out.verdicts);
  if (status) {
    status = read_used_keys(connection_, out.verdicts);
  }
  if (status) {
    status = read_open_escalations(connection_, out.open_escalations);
  }
  if (status) {
    status = read_in_force(connection_, k_overrides_in_force, now, override_at, out.overrides);
  }
  if (status) {
    status =
        read_in_force(connection_, k_maintenance_in_force, now, maintenance_at, out.maintenance);
  }
  if (status) {
    status = read_live_actions(connection_, now, out.actions, out.skipped);
  }
  if (status) {
    status = read_issued_sequences(connection_, out.issued_sequences);
  }
  if (status) {
    if (auto max_id = connection_.query_integer("SELECT COALESCE(MAX(id), 0) FROM escalations")) {
      out.max_escalation_id = *max_id;
    } else {
      status = max_id.failure();
    }
  }
  static_cast<void>(connection_.exec("COMMIT", "ending a read"));
  if (!status) {
    return status.failure();
  }
  return out;
}

constexpr std::string_view k_audit = R"sql(
SELECT id, at, action, principal, client, target, escalation_id, detail, outcome, why
FROM audit_log WHERE at >= ?1 AND (?2 = '' OR target = ?2)
  AND (?4 = 0 OR action IN ('override_set', 'override_cleared')) ORDER BY id DESC LIMIT ?3
)sql";

Expected<std::vector<AuditEntry>> Reader::audit(const AuditQuery& query) {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  auto prepared = Statement::prepare(connection_, k_audit);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, query.since ? to_millis(*query.since) : std::numeric_limits<std::int64_t>::min())
      .bind(2, query.target)
      .bind(3, as_limit(query.limit))
      .bind(4, std::int64_t{query.overrides_only ? 1 : 0});
  std::vector<AuditEntry> out;
  while (row.next()) {
    const auto action = parse_audit_action(row.text(2));
    const auto outcome = parse_audit_outcome(row.text(8));
    if (!action || !outcome) {
      continue;  // written by a newer build: not ours to show
    }
    out.push_back(AuditEntry{row.integer(0), from_millis(row.integer(1)), *action, row.text(3),
                             row.text(4), row.text(5), row.integer(6), row.text(7), *outcome,
                             row.text(9)});
  }
  if (auto status = row.finish(); !status) {
    return status.failure();
  }
  return out;
}

Expected<std::vector<consensus::RecordedAction>> Reader::actions(
    const ActionQuery& query, std::vector<std::string>& skipped) {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  std::vector<consensus::RecordedAction> out;
  if (auto status = read_actions(connection_, query, out, skipped); !status) {
    return status.failure();
  }
  return out;
}

Expected<std::vector<Transition>> Reader::history(const std::string& target, std::size_t limit) {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  auto prepared = Statement::prepare(connection_, k_history);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, target).bind(2, as_limit(limit));
  std::vector<Transition> out;
  while (row.next()) {
    const auto kind = consensus::parse_verdict_kind(row.text(3));
    const auto code = parse_reason_code(row.text(5));
    if (!kind || !code) {
      continue;
    }
    Transition transition;
    transition.target = row.text(0);
    transition.generation = static_cast<std::uint64_t>(row.integer(1));
    transition.at = from_millis(row.integer(2));
    transition.kind = *kind;
    transition.held = row.is_null(4) ? std::nullopt : consensus::parse_verdict_kind(row.text(4));
    transition.reason_code = *code;
    transition.reason = row.text(6);
    transition.votes = votes_from_json(row.text(7));
    out.push_back(std::move(transition));
  }
  if (auto status = row.finish(); !status) {
    return status.failure();
  }
  return out;
}

Expected<std::vector<consensus::Observation>> Reader::observations(const std::string& target,
                                                                   std::size_t limit) {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  auto prepared = Statement::prepare(connection_, k_observations);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, target).bind(2, as_limit(limit));
  std::vector<consensus::Observation> out;
  while (row.next()) {
    const auto outcome = consensus::parse_outcome(row.text(3));
    const auto layer = consensus::parse_layer(row.text(4));
    const auto last_known_good = consensus::parse_last_known_good(row.text(5));
    if (!outcome || !layer || !last_known_good) {
      continue;
    }
    consensus::Observation observation;
    observation.target = row.text(0);
    observation.vantage = row.text(1);
    observation.at.wall = from_millis(row.integer(2));
    observation.outcome = *outcome;
    observation.layer = *layer;
    observation.last_known_good = *last_known_good;
    observation.latency_ms = row.real(6);
    observation.detail = row.text(7);
    observation.answers = answers_from_json(row.text(8));
    out.push_back(std::move(observation));
  }
  if (auto status = row.finish(); !status) {
    return status.failure();
  }
  return out;
}

Expected<std::vector<EscalationRecord>> Reader::open_escalations() {
  if (auto status = ensure_open(); !status) {
    return status.failure();
  }
  std::vector<EscalationRecord> out;
  if (auto status = read_open_escalations(connection_, out); !status) {
    return status.failure();
  }
  return out;
}

}  // namespace crosscheck::storage
