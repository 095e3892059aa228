// Tiny owning wrappers around the SQLite C API (connection, statement,
// transaction) that report failures as values (base's Expected and Status,
// the error's code the primary SQLite result code: SQLITE_FULL, ...).
// Internal to storage/: never throws, never logs, and keeps <sqlite3.h> out
// of every header.
#pragma once

#include "base/expected.hpp"

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace crosscheck::storage::sqlite {

// "SQLITE_FULL" for a primary result code (or "SQLITE_<n>" when unnamed).
std::string code_name(int code);

// True for failures of the disk or the file (full, read-only, I/O error,
// corrupt, not a database, cannot open, busy): retrying later may succeed.
// False for failures of one statement's data, which retrying never fixes.
bool is_environmental(int code);

enum class Mode : std::uint8_t { ReadWrite, ReadOnly };

struct CloseConnection {
  void operator()(sqlite3* db) const;
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const;
};

// One open database handle; closed on destruction.
class Connection {
 public:
  // Opens (ReadWrite also creates) the file at `path`; no I/O error throws.
  static Expected<Connection> open(const std::filesystem::path& path, Mode mode);

  bool is_open() const { return db_ != nullptr; }
  void close() { db_.reset(); }
  // Runs one or more statements that return no rows we need.
  Status exec(std::string_view sql, std::string_view context);
  // Runs a single-row, single-column query (e.g. "PRAGMA user_version").
  Expected<std::int64_t> query_integer(std::string_view sql);
  Expected<std::string> query_text(std::string_view sql);
  // True when SQLite could only open the file read-only (file system or permissions).
  bool is_read_only() const;
  // Rows the latest INSERT, UPDATE or DELETE changed.
  std::int64_t changes() const;
  // True while a transaction is open on this connection.
  bool in_transaction() const;
  void set_busy_timeout(int milliseconds);
  // The connection's latest error, prefixed with `context`.
  Error last_error(std::string_view context) const;
  sqlite3* handle() const { return db_.get(); }

 private:
  std::unique_ptr<sqlite3, CloseConnection> db_;
};

// One prepared statement, reused across executions.
class Statement {
 public:
  Statement() = default;
  // Compiles `sql` on `connection`.
  static Expected<Statement> prepare(Connection& connection, std::string_view sql);

  // Binds are 1-based, as in SQL text ("?1"); the first failure is kept for run()/finish().
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  // Steps to completion (rows ignored), then resets the statement.
  Status run();
  // Steps once: true with a row to read; false when done or failed.
  // `while (row.next()) { ... } return row.finish();`
  bool next();
  // The first failure since the last finish() (a bind or a step), or ok;
  // resets for the next execution and clears bindings.
  Status finish();

  bool is_null(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;

 private:
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> statement_;
  sqlite3* db_ = nullptr;
  Status status_;  // the first failure of a bind or a step since finish()
};

// One statement to prepare and its SQL (prepare_all()).
struct StatementSql {
  Statement* statement = nullptr;
  std::string_view sql;
};

// Prepares each statement on `connection`, in order. At the first failure
// every one of them is reset (none is left half-prepared) and it is returned.
Status prepare_all(Connection& connection, std::initializer_list<StatementSql> statements);

// Finalizes each statement: before their connection closes.
void finalize_all(std::initializer_list<Statement*> statements);

// An open write transaction (BEGIN IMMEDIATE); rolled back on destruction
// unless committed, so a failed batch leaves the database as it was.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status begin();
  Status commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace crosscheck::storage::sqlite
