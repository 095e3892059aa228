#include "storage/action_rows.hpp"

#include "consensus/action_ledger.hpp"
#include "consensus/gate.hpp"
#include "storage/codec.hpp"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

namespace crosscheck::storage {
namespace {

using sqlite::Statement;

// A stored ack always wins: an entry arriving again (a peer replicating its
// copy, perhaps from before the ack) updates everything else, and takes the
// incoming ack only when the row has none. The four ack columns move
// together, keyed on acked_at (the SET expressions all read the old row).
constexpr std::string_view k_upsert = R"sql(
INSERT INTO actions (id, node, target, expect, gate_for, generation, acted_by, what, principal,
                     at, cooldown_until, acked_by, ack_note, acked_at, ack_node)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
ON CONFLICT (id) DO UPDATE SET
  node = excluded.node, target = excluded.target, expect = excluded.expect,
  gate_for = excluded.gate_for, generation = excluded.generation,
  acted_by = excluded.acted_by, what = excluded.what, principal = excluded.principal,
  at = excluded.at, cooldown_until = excluded.cooldown_until,
  acked_by = CASE WHEN actions.acked_at IS NULL THEN excluded.acked_by ELSE actions.acked_by END,
  ack_note = CASE WHEN actions.acked_at IS NULL THEN excluded.ack_note ELSE actions.ack_note END,
  ack_node = CASE WHEN actions.acked_at IS NULL THEN excluded.ack_node ELSE actions.ack_node END,
  acked_at = CASE WHEN actions.acked_at IS NULL THEN excluded.acked_at ELSE actions.acked_at END
)sql";

constexpr std::string_view k_ack = R"sql(
UPDATE actions SET acked_by = ?2, ack_note = ?3, acked_at = ?4, ack_node = ?5
WHERE id = ?1 AND acked_at IS NULL
)sql";

// A node's high-water mark only ever rises (a row recorded again, or
// records committed out of order, cannot lower it).
constexpr std::string_view k_raise_mark = R"sql(
INSERT INTO action_sequences (node, last_seq) VALUES (?1, ?2)
ON CONFLICT (node) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
)sql";

constexpr std::string_view k_newest = R"sql(
SELECT id, node, target, expect, gate_for, generation, acted_by, what, principal, at,
       cooldown_until, acked_by, ack_note, acked_at, ack_node
FROM actions ORDER BY at DESC, rowid DESC LIMIT ?1
)sql";

constexpr std::string_view k_newest_of_target = R"sql(
SELECT id, node, target, expect, gate_for, generation, acted_by, what, principal, at,
       cooldown_until, acked_by, ack_note, acked_at, ack_node
FROM actions WHERE target = ?2 ORDER BY at DESC, rowid DESC LIMIT ?1
)sql";

// Entries holding a gate (in cooldown, unacked) are picked first, so that
// the bound never leaves one out for an older finished entry; the picked
// ones come back newest first like everywhere else.
constexpr std::string_view k_live = R"sql(
SELECT id, node, target, expect, gate_for, generation, acted_by, what, principal, at,
       cooldown_until, acked_by, ack_note, acked_at, ack_node
FROM (SELECT rowid AS row_id, * FROM actions
      WHERE cooldown_until > ?1 OR at >= ?2
      ORDER BY (cooldown_until > ?1 AND acked_at IS NULL) DESC, at DESC, rowid DESC LIMIT ?3)
ORDER BY at DESC, row_id DESC
)sql";

std::int64_t as_limit(std::size_t limit) {
  constexpr auto k_max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, k_max));
}

// Reads one row of the columns above; nullopt (and why, in `skipped`) when
// its expect or gate_for text names no value this build knows.
std::optional<consensus::RecordedAction> action_of(const Statement& row,
                                                   std::vector<std::string>& skipped) {
  const auto expect_text = row.text(3);
  const auto for_text = row.text(4);
  const auto expect = consensus::parse_verdict_kind(expect_text);
  const auto gate_for = consensus::parse_gate_for(for_text);
  if (!expect || !gate_for) {
    skipped.push_back("action " + row.text(0) + " (target " + row.text(2) + ") left out: unknown " +
                      (!expect ? "expect '" + expect_text + "'" : "for '" + for_text + "'"));
    return std::nullopt;
  }
  consensus::RecordedAction action;
  action.id = row.text(0);
  action.node = row.text(1);
  action.target = row.text(2);
  action.expect = *expect;
  action.for_ = *gate_for;
  action.generation = static_cast<std::uint64_t>(row.integer(5));
  action.by = row.text(6);
  action.what = row.text(7);
  action.principal = row.text(8);
  action.at = from_millis(row.integer(9));
  action.cooldown_until = from_millis(row.integer(10));
  if (!row.is_null(13)) {
    consensus::ActionAck ack;
    ack.by = row.text(11);
    ack.note = row.text(12);
    ack.at = from_millis(row.integer(13));
    ack.node = row.text(14);
    action.ack = std::move(ack);
  }
  return action;
}

Status read_rows(Statement& row, std::vector<consensus::RecordedAction>& out,
                 std::vector<std::string>& skipped) {
  while (row.next()) {
    if (auto action = action_of(row, skipped)) {
      out.push_back(std::move(*action));
    }
  }
  return row.finish();
}

}  // namespace

Status ActionRows::prepare(sqlite::Connection& connection) {
  return sqlite::prepare_all(connection, {
                                             {&upsert_, k_upsert},
                                             {&ack_, k_ack},
                                             {&raise_mark_, k_raise_mark},
                                         });
}

void ActionRows::close() {
  sqlite::finalize_all({&upsert_, &ack_, &raise_mark_});
}

Status ActionRows::apply(const ActionRecord& record) {
  const auto& action = record.action;
  upsert_.bind(1, action.id)
      .bind(2, action.node)
      .bind(3, action.target)
      .bind(4, consensus::to_string(action.expect))
      .bind(5, consensus::to_string(action.for_))
      .bind(6, static_cast<std::int64_t>(action.generation))
      .bind(7, action.by)
      .bind(8, action.what)
      .bind(9, action.principal)
      .bind(10, to_millis(action.at))
      .bind(11, to_millis(action.cooldown_until));
  if (action.ack) {
    upsert_.bind(12, action.ack->by)
        .bind(13, action.ack->note)
        .bind(14, to_millis(action.ack->at))
        .bind(15, action.ack->node);
  } else {
    upsert_.bind_null(12).bind_null(13).bind_null(14).bind_null(15);
  }
  if (auto status = upsert_.run(); !status || !record.issued_here) {
    return status;
  }
  // Same transaction as the row: a committed id is never above the mark.
  const auto parsed = consensus::parse_action_id(action.id);
  if (!parsed) {
    return {};  // the ledger gives out no such id; nothing to raise
  }
  return raise_mark_.bind(1, parsed->first)
      .bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(
                   parsed->second, std::numeric_limits<std::int64_t>::max())))
      .run();
}

Status ActionRows::apply(const ActionAckRecord& record) {
  return ack_.bind(1, record.id)
      .bind(2, record.ack.by)
      .bind(3, record.ack.note)
      .bind(4, to_millis(record.ack.at))
      .bind(5, record.ack.node)
      .run();
}

Status read_actions(sqlite::Connection& connection, const ActionQuery& query,
                    std::vector<consensus::RecordedAction>& out,
                    std::vector<std::string>& skipped) {
  auto prepared = Statement::prepare(connection, query.target ? k_newest_of_target : k_newest);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, as_limit(query.limit));
  if (query.target) {
    row.bind(2, *query.target);
  }
  return read_rows(row, out, skipped);
}

Status read_issued_sequences(sqlite::Connection& connection,
                             std::map<std::string, std::uint64_t>& out) {
  auto prepared = Statement::prepare(connection, "SELECT node, last_seq FROM action_sequences");
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  while (row.next()) {
    const auto seq = row.integer(1);
    out[row.text(0)] = seq > 0 ? static_cast<std::uint64_t>(seq) : 0;
  }
  return row.finish();
}

Status read_live_actions(sqlite::Connection& connection, consensus::WallTime now,
                         std::vector<consensus::RecordedAction>& out,
                         std::vector<std::string>& skipped) {
  auto prepared = Statement::prepare(connection, k_live);
  if (!prepared) {
    return prepared.failure();
  }
  auto& row = *prepared;
  row.bind(1, to_millis(now))
      .bind(2, to_millis(now - k_restored_actions_window))
      .bind(3, as_limit(k_restored_actions_max));
  return read_rows(row, out, skipped);
}

}  // namespace crosscheck::storage
