#include "storage/schema.hpp"

#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>
#include <system_error>

namespace crosscheck::storage {
namespace {

// Migration i (1-based) takes a database from version i - 1 to version i.
// Append only: a shipped migration is never edited, a change is a new one.
// Times are INTEGER milliseconds since the Unix epoch; enums are the
// consensus to_string() names; votes and answers are JSON text.
constexpr std::array<std::string_view, 10> k_migrations{
    R"sql(
CREATE TABLE observations (
  id INTEGER PRIMARY KEY,
  target TEXT NOT NULL,
  vantage TEXT NOT NULL,
  t_wall INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  layer TEXT NOT NULL,
  last_known_good TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  detail TEXT NOT NULL,
  answers TEXT NOT NULL
);
CREATE INDEX observations_by_pair ON observations (target, vantage, t_wall);
CREATE INDEX observations_by_time ON observations (t_wall);

CREATE TABLE verdicts (
  target TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  held TEXT,
  generation INTEGER NOT NULL,
  since INTEGER NOT NULL,
  evaluated_at INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL,
  open_escalation_key TEXT NOT NULL DEFAULT '',
  fresh INTEGER NOT NULL
);

CREATE TABLE verdict_log (
  id INTEGER PRIMARY KEY,
  target TEXT NOT NULL,
  generation INTEGER NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  held TEXT,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL,
  votes TEXT NOT NULL
);
CREATE INDEX verdict_log_by_target ON verdict_log (target, id);

CREATE TABLE escalations (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  vantage TEXT NOT NULL,
  reason TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  resolved_at INTEGER,
  acked_at INTEGER,
  acked_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX escalations_open ON escalations (target, vantage, opened_at)
  WHERE resolved_at IS NULL;

CREATE TABLE overrides (
  target TEXT PRIMARY KEY,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql",
    // 2: store what carries information. `observations` now holds only the
    // observations whose outcome or failing layer differs from the pair's
    // previous one; `latest_observations` the newest of each pair, replaced
    // in place; `observation_summaries` one row per pair and period (counts
    // by outcome, latency quantiles of the `up` ones). Rows written before
    // stay in `observations` until retention removes them.
    R"sql(
CREATE TABLE latest_observations (
  target TEXT NOT NULL,
  vantage TEXT NOT NULL,
  t_wall INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  layer TEXT NOT NULL,
  last_known_good TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  detail TEXT NOT NULL,
  answers TEXT NOT NULL,
  PRIMARY KEY (target, vantage)
);
-- Each pair's newest, found by skipping from pair to pair along the index
-- (two seeks per pair), not by visiting every row: a file that stored every
-- observation may hold billions of them, and this runs before start-up ends.
WITH RECURSIVE pairs (target, vantage) AS (
  SELECT target, vantage FROM (SELECT target, vantage FROM observations
                               ORDER BY target, vantage LIMIT 1)
  UNION ALL
  SELECT (SELECT o.target FROM observations AS o WHERE (o.target, o.vantage) > (p.target, p.vantage)
          ORDER BY o.target, o.vantage LIMIT 1),
         (SELECT o.vantage FROM observations AS o WHERE (o.target, o.vantage) > (p.target, p.vantage)
          ORDER BY o.target, o.vantage LIMIT 1)
  FROM pairs AS p WHERE p.target IS NOT NULL)
INSERT INTO latest_observations
SELECT o.target, o.vantage, o.t_wall, o.outcome, o.layer, o.last_known_good, o.latency_ms,
       o.detail, o.answers
FROM pairs AS p JOIN observations AS o
  ON o.id = (SELECT newest.id FROM observations AS newest
             WHERE newest.target = p.target AND newest.vantage = p.vantage
             ORDER BY newest.t_wall DESC, newest.id DESC LIMIT 1)
WHERE p.target IS NOT NULL;

CREATE TABLE observation_summaries (
  target TEXT NOT NULL,
  vantage TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  up INTEGER NOT NULL,
  down INTEGER NOT NULL,
  observer_error INTEGER NOT NULL,
  p50_ms REAL,
  p90_ms REAL,
  p99_ms REAL,
  PRIMARY KEY (target, vantage, period_start)
);
CREATE INDEX observation_summaries_by_time ON observation_summaries (period_end);
)sql",
    // 3: the audit log: every write and reload with who, from where, what
    // and how it ended; retention removes lines older than its window.
    R"sql(
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  principal TEXT NOT NULL,
  client TEXT NOT NULL,
  target TEXT NOT NULL,
  escalation_id INTEGER NOT NULL,
  detail TEXT NOT NULL,
  outcome TEXT NOT NULL,
  why TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_target ON audit_log (target, id);
)sql",
    // 4: maintenance windows. `maintenance` holds the ad-hoc windows set over
    // the API (like `overrides`: one per target, gone when cleared);
    // `escalations.silenced` marks an episode opened inside a window, so a
    // restart keeps its resolution silenced too. Rows written before are not
    // silenced, which is what they were.
    R"sql(
CREATE TABLE maintenance (
  target TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
ALTER TABLE escalations ADD COLUMN silenced INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: the action ledger (consensus::RecordedAction), own entries and the
    // ones peers replicate, one row per globally unique id ("oracle-a-17").
    // `expect` is a verdict name, `gate_for` a consensus::GateFor name. The
    // ack columns are all NULL until the entry is acknowledged, then all set
    // (acked_at tells which). Tables before are untouched.
    R"sql(
CREATE TABLE actions (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  target TEXT NOT NULL,
  expect TEXT NOT NULL,
  gate_for TEXT NOT NULL,
  generation INTEGER NOT NULL,
  acted_by TEXT NOT NULL,
  what TEXT NOT NULL,
  principal TEXT NOT NULL,
  at INTEGER NOT NULL,
  cooldown_until INTEGER NOT NULL,
  acked_by TEXT,
  ack_note TEXT,
  acked_at INTEGER,
  ack_node TEXT
);
CREATE INDEX actions_by_target ON actions (target, at);
CREATE INDEX actions_by_time ON actions (at);
)sql",
    // 6: each node's action id high-water mark: the largest SEQ of the
    // "NODE-SEQ" ids it recorded here. Retention deletes finished `actions`
    // rows, and a restart after a quiet week would otherwise start again
    // below ids it already gave out. Seeded from the rows still there (own
    // and peers': which node is this one is not known here); afterwards only
    // this node's own records raise it. A non-numeric SEQ counts as 0.
    R"sql(
CREATE TABLE action_sequences (
  node TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
);
INSERT INTO action_sequences (node, last_seq)
SELECT node, MAX(CAST(substr(id, length(node) + 2) AS INTEGER)) FROM actions GROUP BY node;
)sql",
    // 7: a group's definition (threshold, members) with its verdict row, so
    // a restart under a changed `groups:` entry judges the group anew, one
    // generation on, as a reload does. '' (rows from before): unchanged.
    R"sql(
ALTER TABLE verdicts ADD COLUMN definition TEXT NOT NULL DEFAULT '';
)sql",
    // 8: when the verdict last left a maintenance window (ms; NULL: never
    // since its change) and the window it is in (JSON; '': none), so a gate's
    // stable_for still counts from a window's end after a restart, and a
    // window that ended while the daemon was stopped is ended at the start.
    R"sql(
ALTER TABLE verdicts ADD COLUMN stable_from INTEGER;
ALTER TABLE verdicts ADD COLUMN maintenance TEXT NOT NULL DEFAULT '';
)sql",
    // 9: a summary's period is its start and its end: with
    // storage.summary_period changed across a restart (5m -> 1h), the hour
    // 06:00-07:00 and the five minutes 06:00-06:05 are two rows, where
    // keyed by the start alone the hour's counts were added into the
    // five-minute row (a hostile review). SQLite cannot change a primary
    // key in place: the table is copied, rows unchanged.
    R"sql(
CREATE TABLE observation_summaries_by_period (
  target TEXT NOT NULL,
  vantage TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  up INTEGER NOT NULL,
  down INTEGER NOT NULL,
  observer_error INTEGER NOT NULL,
  p50_ms REAL,
  p90_ms REAL,
  p99_ms REAL,
  PRIMARY KEY (target, vantage, period_start, period_end)
);
INSERT INTO observation_summaries_by_period
SELECT target, vantage, period_start, period_end, up, down, observer_error, p50_ms, p90_ms,
       p99_ms
FROM observation_summaries;
DROP TABLE observation_summaries;
ALTER TABLE observation_summaries_by_period RENAME TO observation_summaries;
CREATE INDEX observation_summaries_by_time ON observation_summaries (period_end);
)sql",
    // 10: storage.history_retention deletes old verdict changes and resolved
    // escalations oldest first; without these it would scan both tables.
    // The view: the escalation keys its target's current generation used
    // ("KIND/TARGET/GENERATION", with ".2", ".3" on reuse within one
    // generation). A restart reads them (the engine must never hand one out
    // again) and retention never deletes their rows: one rule for both.
    R"sql(
CREATE INDEX verdict_log_by_time ON verdict_log (at);
CREATE INDEX escalations_resolved ON escalations (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE VIEW escalation_keys_in_use AS
SELECT id, target, key FROM (
  SELECT e.id AS id, e.target AS target, e.key AS key,
         e.kind || '/' || e.target || '/' || v.generation AS base
  FROM escalations AS e JOIN verdicts AS v ON v.target = e.target)
WHERE key = base OR substr(key, 1, length(base) + 1) = base || '.';
)sql",
};

// An error of ours, not SQLite's, with the code SQLite would give it.
Error schema_error(std::string message, int code = SQLITE_ERROR) {
  return fail(std::move(message), code);
}

// `context: message`, keeping the code.
Error in_context(const std::string& context, const Error& error) {
  return fail(context + ": " + error.message, error.code);
}

Status migrate(sqlite::Connection& connection, const std::filesystem::path& path,
               std::int64_t from) {
  for (auto version = from + 1; version <= schema_version(); ++version) {
    sqlite::Transaction transaction(connection);
    if (auto status = transaction.begin(); !status) {
      return status;
    }
    const auto index = static_cast<std::size_t>(version - 1);
    const auto context = path.string() + ": migration to schema version " + std::to_string(version);
    if (auto status = connection.exec(k_migrations.at(index), context); !status) {
      return status;
    }
    // user_version lives in the file header and moves with the transaction.
    if (auto status = connection.exec("PRAGMA user_version = " + std::to_string(version), context);
        !status) {
      return status;
    }
    if (auto status = transaction.commit(); !status) {
      return status;
    }
  }
  return {};
}

Status check_not_newer(const std::filesystem::path& path, std::int64_t version) {
  if (version > schema_version()) {
    return schema_error(path.string() + ": written by a newer crosscheck (schema version " +
                        std::to_string(version) + "; this build knows up to " +
                        std::to_string(schema_version()) + "); refusing to use it");
  }
  return {};
}

}  // namespace

int schema_version() {
  return static_cast<int>(k_migrations.size());
}

std::string_view migration_sql(int version) {
  return k_migrations.at(static_cast<std::size_t>(version - 1));
}

Expected<sqlite::Connection> open_for_writing(const OpenSpec& spec) {
  std::error_code error;
  const auto directory = spec.path.parent_path();
  if (!directory.empty() && !std::filesystem::is_directory(directory, error)) {
    std::filesystem::create_directories(directory, error);
    if (error) {
      return schema_error("cannot create data directory " + directory.string() + ": " +
                          error.message());
    }
  }
  auto opened = sqlite::Connection::open(spec.path, sqlite::Mode::ReadWrite);
  if (!opened) {
    return opened.failure();
  }
  auto& connection = *opened;
  const auto context = spec.path.string();
  // SQLite quietly falls back to read-only when it cannot write the file.
  if (connection.is_read_only()) {
    return schema_error(context +
                            ": can only be opened read-only (read-only file system or "
                            "permissions) (SQLITE_READONLY)",
                        SQLITE_READONLY);
  }
  connection.set_busy_timeout(static_cast<int>(spec.busy_timeout.count()));
  // The first read of the file: a corrupt file or a non-database fails here.
  const auto journal_mode = connection.query_text("PRAGMA journal_mode = WAL");
  if (!journal_mode) {
    return in_context(context, journal_mode.failure());
  }
  if (*journal_mode != "wal") {
    return schema_error(context + ": cannot switch to WAL (journal_mode is " + *journal_mode + ")");
  }
  // FULL, not NORMAL: with NORMAL a WAL commit survives a kill -9 but not a
  // power loss or kernel crash, and what the API answered 200 (an ack, a
  // generation) or a sink already saw (an escalation key, kept in fsynced
  // files) would be taken back. Writes come in batches, so one fsync a batch.
  if (auto status = connection.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                                    context + ": setting pragmas");
      !status) {
    return status.failure();
  }
  const auto version = connection.query_integer("PRAGMA user_version");
  if (!version) {
    return in_context(context, version.failure());
  }
  if (auto status = check_not_newer(spec.path, *version); !status) {
    return status.failure();
  }
  if (auto status = migrate(connection, spec.path, *version); !status) {
    return status.failure();
  }
  if (spec.page_limit != 0) {
    if (auto status = apply_page_limit(connection, spec.page_limit); !status) {
      return status.failure();
    }
  }
  return opened;
}

Expected<sqlite::Connection> open_for_reading(const OpenSpec& spec) {
  auto opened = sqlite::Connection::open(spec.path, sqlite::Mode::ReadOnly);
  if (!opened) {
    return opened.failure();
  }
  opened->set_busy_timeout(static_cast<int>(spec.busy_timeout.count()));
  const auto version = opened->query_integer("PRAGMA user_version");
  if (!version) {
    return in_context(spec.path.string(), version.failure());
  }
  if (auto status = check_not_newer(spec.path, *version); !status) {
    return status.failure();
  }
  if (*version != schema_version()) {
    return schema_error(spec.path.string() + ": schema version " + std::to_string(*version) +
                        " is not migrated yet (expected " + std::to_string(schema_version()) + ")");
  }
  return opened;
}

Status apply_page_limit(sqlite::Connection& connection, std::uint32_t pages) {
  // 1073741823 is SQLite's default maximum: "no cap" for our purposes.
  constexpr std::uint32_t k_no_cap = 1073741823;
  const auto value = pages == 0 ? k_no_cap : pages;
  const auto applied = connection.query_integer("PRAGMA max_page_count = " + std::to_string(value));
  return applied ? Status{} : applied.failure();
}

}  // namespace crosscheck::storage
