#include "storage/sqlite.hpp"

#include <sqlite3.h>

#include <array>
#include <climits>
#include <utility>

namespace crosscheck::storage::sqlite {
namespace {

struct CodeName {
  int code;
  std::string_view name;
};

constexpr std::array k_code_names{
    CodeName{SQLITE_ERROR, "SQLITE_ERROR"},       CodeName{SQLITE_PERM, "SQLITE_PERM"},
    CodeName{SQLITE_BUSY, "SQLITE_BUSY"},         CodeName{SQLITE_LOCKED, "SQLITE_LOCKED"},
    CodeName{SQLITE_NOMEM, "SQLITE_NOMEM"},       CodeName{SQLITE_READONLY, "SQLITE_READONLY"},
    CodeName{SQLITE_IOERR, "SQLITE_IOERR"},       CodeName{SQLITE_CORRUPT, "SQLITE_CORRUPT"},
    CodeName{SQLITE_FULL, "SQLITE_FULL"},         CodeName{SQLITE_CANTOPEN, "SQLITE_CANTOPEN"},
    CodeName{SQLITE_PROTOCOL, "SQLITE_PROTOCOL"}, CodeName{SQLITE_SCHEMA, "SQLITE_SCHEMA"},
    CodeName{SQLITE_TOOBIG, "SQLITE_TOOBIG"},     CodeName{SQLITE_CONSTRAINT, "SQLITE_CONSTRAINT"},
    CodeName{SQLITE_MISMATCH, "SQLITE_MISMATCH"}, CodeName{SQLITE_MISUSE, "SQLITE_MISUSE"},
    CodeName{SQLITE_AUTH, "SQLITE_AUTH"},         CodeName{SQLITE_RANGE, "SQLITE_RANGE"},
    CodeName{SQLITE_NOTADB, "SQLITE_NOTADB"},
};

Error make_error(int code, std::string_view context, std::string_view detail) {
  const int primary = code & 0xff;
  const int kept = primary == 0 ? SQLITE_ERROR : primary;
  std::string message(context);
  message += ": ";
  message += detail;
  message += " (" + code_name(kept) + ")";
  return fail(std::move(message), kept);
}

// "INSERT INTO observations (target, vantag..." from a multi-line statement.
std::string describe(std::string_view sql) {
  constexpr std::size_t k_shown = 40;
  std::string shown;
  for (const char c : sql) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (shown.empty() || shown.back() == ' ')) {
      continue;
    }
    if (shown.size() == k_shown) {
      return "\"" + shown + "...\"";
    }
    shown.push_back(space ? ' ' : c);
  }
  return "\"" + shown + "\"";
}

int saturate(std::size_t size) {
  return size > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
}

// `sql` prepared and stepped onto its first row; an error when it has none.
Expected<Statement> first_row(Connection& connection, std::string_view sql) {
  auto statement = Statement::prepare(connection, sql);
  if (statement && !statement->next()) {
    const auto status = statement->finish();
    return status ? make_error(SQLITE_ERROR, sql, "no row") : status.failure();
  }
  return statement;
}

}  // namespace

std::string code_name(int code) {
  for (const auto& entry : k_code_names) {
    if (entry.code == (code & 0xff)) {
      return std::string(entry.name);
    }
  }
  return "SQLITE_" + std::to_string(code);
}

bool is_environmental(int code) {
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
      return false;
    default:
      return true;
  }
}

void CloseConnection::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}
void FinalizeStatement::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

Expected<Connection> Connection::open(const std::filesystem::path& path, Mode mode) {
  sqlite3* raw = nullptr;
  const int flags =
      mode == Mode::ReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  const int code = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // Even a failed open may allocate a handle that carries the message.
  std::unique_ptr<sqlite3, CloseConnection> handle(raw);
  if (code != SQLITE_OK) {
    const std::string detail = handle ? sqlite3_errmsg(handle.get()) : sqlite3_errstr(code);
    return make_error(code, "opening " + path.string(), detail);
  }
  sqlite3_extended_result_codes(handle.get(), 1);
  Connection out;
  out.db_ = std::move(handle);
  return out;
}

Status Connection::exec(std::string_view sql, std::string_view context) {
  const std::string text(sql);
  char* error = nullptr;
  const int code = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  const std::unique_ptr<char, decltype(&sqlite3_free)> owned(error, &sqlite3_free);
  if (code != SQLITE_OK) {
    return make_error(code, context, owned ? owned.get() : sqlite3_errstr(code));
  }
  return {};
}

Expected<std::int64_t> Connection::query_integer(std::string_view sql) {
  auto row = first_row(*this, sql);
  if (!row) {
    return row.failure();
  }
  return row->integer(0);
}

Expected<std::string> Connection::query_text(std::string_view sql) {
  auto row = first_row(*this, sql);
  if (!row) {
    return row.failure();
  }
  return row->text(0);
}

bool Connection::is_read_only() const {
  return db_ != nullptr && sqlite3_db_readonly(db_.get(), "main") == 1;
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_.get());
}

bool Connection::in_transaction() const {
  return db_ != nullptr && sqlite3_get_autocommit(db_.get()) == 0;
}

void Connection::set_busy_timeout(int milliseconds) {
  sqlite3_busy_timeout(db_.get(), milliseconds);
}

Error Connection::last_error(std::string_view context) const {
  if (!db_) {
    return make_error(SQLITE_MISUSE, context, "database is not open");
  }
  return make_error(sqlite3_extended_errcode(db_.get()), context, sqlite3_errmsg(db_.get()));
}

Expected<Statement> Statement::prepare(Connection& connection, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int code = sqlite3_prepare_v3(connection.handle(), sql.data(), saturate(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Statement out;
  out.statement_.reset(raw);
  out.db_ = connection.handle();
  if (code != SQLITE_OK) {
    return connection.last_error("preparing " + describe(sql));
  }
  return out;
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int code = sqlite3_bind_int64(statement_.get(), index, value);
  if (code != SQLITE_OK && status_.ok()) {
    status_ = make_error(code, "binding a value", sqlite3_errstr(code));
  }
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int code = sqlite3_bind_double(statement_.get(), index, value);
  if (code != SQLITE_OK && status_.ok()) {
    status_ = make_error(code, "binding a value", sqlite3_errstr(code));
  }
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int code = sqlite3_bind_text64(statement_.get(), index, value.data(), value.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
  if (code != SQLITE_OK && status_.ok()) {
    status_ = make_error(code, "binding a value", sqlite3_errstr(code));
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int code = sqlite3_bind_null(statement_.get(), index);
  if (code != SQLITE_OK && status_.ok()) {
    status_ = make_error(code, "binding a value", sqlite3_errstr(code));
  }
  return *this;
}

Status Statement::run() {
  while (next()) {
  }
  return finish();
}

bool Statement::next() {
  if (!status_.ok()) {
    return false;
  }
  const int code = sqlite3_step(statement_.get());
  if (code == SQLITE_ROW) {
    return true;
  }
  if (code != SQLITE_DONE) {
    status_ =
        make_error(code, "running " + describe(sqlite3_sql(statement_.get())), sqlite3_errmsg(db_));
  }
  return false;
}

Status Statement::finish() {
  sqlite3_reset(statement_.get());
  sqlite3_clear_bindings(statement_.get());
  return std::exchange(status_, Status{});
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

double Statement::real(int column) const {
  return sqlite3_column_double(statement_.get(), column);
}

std::string Statement::text(int column) const {
  const auto* bytes = sqlite3_column_text(statement_.get(), column);
  const int size = sqlite3_column_bytes(statement_.get(), column);
  if (bytes == nullptr || size <= 0) {
    return {};
  }
  // SQLite hands out text as unsigned char; the bytes are UTF-8.
  return {reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size)};
}

Transaction::~Transaction() {
  if (open_ && connection_.in_transaction()) {
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; the
    // check above keeps this from failing with "no transaction is active".
    static_cast<void>(connection_.exec("ROLLBACK", "rolling back"));
  }
}

Status Transaction::begin() {
  auto status = connection_.exec("BEGIN IMMEDIATE", "beginning a transaction");
  open_ = status.ok();
  return status;
}

Status Transaction::commit() {
  auto status = connection_.exec("COMMIT", "committing");
  if (status) {
    open_ = false;
  }
  return status;
}

Status prepare_all(Connection& connection, std::initializer_list<StatementSql> statements) {
  for (const auto& [statement, sql] : statements) {
    auto prepared = Statement::prepare(connection, sql);
    if (!prepared) {
      for (const auto& each : statements) {
        *each.statement = Statement{};
      }
      return prepared.failure();
    }
    *statement = std::move(*prepared);
  }
  return {};
}

void finalize_all(std::initializer_list<Statement*> statements) {
  for (auto* statement : statements) {
    *statement = Statement{};
  }
}

}  // namespace crosscheck::storage::sqlite
