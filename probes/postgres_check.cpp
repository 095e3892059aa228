// The postgres check: libpq driven without blocking on the io_context.
// PQconnectStartParams/PQconnectPoll, then PQsendQuery/PQconsumeInput, each
// waiting on libpq's own socket through a posix::stream_descriptor that only
// borrows it: libpq owns and closes the fd, and may replace it while it
// connects (an SSL fallback, another attempt), so the socket is re-read
// after every poll. One query asks the role and the replay lag; a write in a
// temporary table follows when the target asks for writes. What the server
// said is judged by probes/app_judge; libpq's words become typed failures
// in probes/postgres_answers.
//
// libpq cannot bind a source address: request.source (the vantage's source
// address) is ignored for postgres, and the route picks it (docs say so).
#include "config/secret_file.hpp"
#include "net/errors.hpp"
#include "probes/app_checks.hpp"
#include "probes/app_judge.hpp"
#include "probes/postgres_answers.hpp"
#include "probes/stopwatch.hpp"

#include <libpq-fe.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
using WaitType = asio::posix::descriptor_base::wait_type;

// pg_is_in_recovery(), the replay lag in seconds (0 when all WAL received is
// replayed; NULL on a primary or when nothing was replayed yet), and whether
// a WAL receiver streams. Without pg_read_all_stats (pg_monitor) the status
// column is NULL, and a WAL receiver that exists counts as streaming.
constexpr const char* k_role_query =
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN NOT pg_is_in_recovery() THEN NULL"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END,"
    " CASE WHEN pg_is_in_recovery() THEN (SELECT count(*) FROM pg_stat_wal_receiver"
    " WHERE coalesce(status, 'streaming') = 'streaming') > 0 END";

// Why a plain BEGIN, not BEGIN READ WRITE: an explicit READ WRITE overrides
// default_transaction_read_only, the switch operators use to fence a
// primary, and the probe must fail exactly where an application's write
// would. CREATE is refused in any read-only transaction (SQLSTATE 25006).
constexpr const char* k_write_query =
    "BEGIN; CREATE TEMP TABLE crosscheck_write_probe (at timestamptz) ON COMMIT DROP;"
    " INSERT INTO crosscheck_write_probe VALUES (now()); COMMIT";
constexpr std::size_t k_write_statements = 4;

// Results of one query string; more is not an answer to ours (a server
// that starts a COPY would hand out results forever).
constexpr std::size_t k_max_results = 8;

using postgres::k_protocol;
using postgres::one_line;

struct ConnectionDeleter {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionDeleter>;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// A reactor registration for a socket that libpq owns: forgotten (released,
// never closed) before libpq closes or replaces it.
class BorrowedSocket {
 public:
  explicit BorrowedSocket(asio::io_context& io) : descriptor_(io) {}
  BorrowedSocket(const BorrowedSocket&) = delete;
  BorrowedSocket& operator=(const BorrowedSocket&) = delete;
  BorrowedSocket(BorrowedSocket&&) = delete;
  BorrowedSocket& operator=(BorrowedSocket&&) = delete;
  ~BorrowedSocket() { forget(); }

  // Watches `fd` from now on, forgetting the previous one (even when the
  // number is the same: libpq may have closed it and opened a new socket).
  boost::system::error_code watch(int fd) {
    forget();
    boost::system::error_code ec;
    descriptor_.assign(fd, ec);
    return ec;
  }

  // Pending waits complete with operation_aborted; the fd stays open.
  void forget() {
    if (descriptor_.is_open()) {
      static_cast<void>(descriptor_.release());
    }
  }

  template <class Handler>
  void async_wait(WaitType type, Handler&& handler) {
    descriptor_.async_wait(type, std::forward<Handler>(handler));
  }

 private:
  asio::posix::stream_descriptor descriptor_;
};

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

bool still_connecting(const PGconn* connection) {
  const auto status = PQstatus(connection);
  return status == CONNECTION_STARTED || status == CONNECTION_NEEDED;
}

// Whether the server is in the role asked for, so the write probe can run.
bool role_matches(config::ServerRole wanted, bool replica) {
  return wanted == config::ServerRole::Any || (wanted == config::ServerRole::Primary) != replica;
}

std::string error_field(const PGresult* result, int field) {
  const char* value = PQresultErrorField(result, field);
  return value == nullptr ? std::string() : one_line(value);
}

class PostgresSession : public std::enable_shared_from_this<PostgresSession> {
 public:
  PostgresSession(asio::io_context& io, const consensus::Clock& clock, config::PostgresCheck check,
                  AppRequest request, AppCallback done)
      : socket_(io),
        timer_(io),
        check_(std::move(check)),
        request_(std::move(request)),
        done_(std::move(done)),
        stopwatch_(clock),
        where_(config::Endpoint{request_.address, check_.port}.to_string()) {}

  void start() {
    stopwatch_.restart();
    std::string password;
    if (check_.password_file) {
      auto read = config::read_secret_file("postgres.password_file", *check_.password_file,
                                           config::SecretKind::Key);
      if (!read) {
        return finish(reach_result(ReachFailure::ObserverAuth, "observer: " + read.error()));
      }
      password = std::move(*read);
    }
    connect(password);
  }

 private:
  enum class Step : std::uint8_t { Connecting, AskingRole, Writing };

  void connect(const std::string& password) {
    const auto left = std::max<std::int64_t>(1, time_left(request_.deadline).count());
    std::vector<std::pair<const char*, std::string>> params{
        {"hostaddr", request_.address.to_string()},
        {"port", std::to_string(check_.port)},
        {"sslmode", std::string(config::to_string(check_.sslmode))},
        {"application_name", "crosscheck"},
        {"options", "-c statement_timeout=" + std::to_string(left)},
        // Why: GSSAPI encryption would ask a KDC for credentials, blocking.
        {"gssencmode", "disable"},
        // Set here, so that no PGTARGETSESSIONATTRS in the environment
        // turns the question into another (cli/main.cpp clears PG* too).
        {"target_session_attrs", "any"}};
    if (!request_.host.empty()) {
      params.emplace_back("host", request_.host);  // TLS name check, .pgpass
    }
    if (!check_.user.empty()) {
      params.emplace_back("user", check_.user);
    }
    params.emplace_back("dbname", check_.database.empty() ? check_.user : check_.database);
    if (check_.password_file) {
      params.emplace_back("password", password);
    }
    if (check_.ca_file) {
      params.emplace_back("sslrootcert", check_.ca_file->string());
    }
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (const auto& [keyword, value] : params) {
      keywords.push_back(keyword);
      values.push_back(value.c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    connection_.reset(PQconnectStartParams(keywords.data(), values.data(), 0));
    if (!connection_) {
      return finish(reach_result(ReachFailure::Observer, "observer: libpq cannot allocate"));
    }
    PQsetNoticeProcessor(connection_.get(), ignore_notice, nullptr);
    PQsetErrorVerbosity(connection_.get(), PQERRORS_VERBOSE);  // the SQLSTATE in messages
    if (PQstatus(connection_.get()) == CONNECTION_BAD) {
      return finish(connect_error(true));
    }
    timer_.expires_at(request_.deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) {
        self->finish(self->timed_out());
      }
    });
    wait_to_connect(PGRES_POLLING_WRITING);
  }

  void wait_to_connect(PostgresPollingStatusType polling) {
    if (!watch_socket()) {
      return;
    }
    wait(polling == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write,
         &PostgresSession::poll_connect);
  }

  void poll_connect() {
    const bool was_connecting = still_connecting(connection_.get());
    switch (PQconnectPoll(connection_.get())) {
      case PGRES_POLLING_OK:
        return connected();
      case PGRES_POLLING_FAILED:
        return finish(connect_error(was_connecting));
      case PGRES_POLLING_READING:
        return wait_to_connect(PGRES_POLLING_READING);
      default:
        return wait_to_connect(PGRES_POLLING_WRITING);
    }
  }

  void connected() {
    if (!watch_socket()) {
      return;
    }
    // Why: in blocking mode PQsendQuery and PQfinish may wait for the
    // socket to drain.
    if (PQsetnonblocking(connection_.get(), 1) != 0) {
      return finish(lost("cannot switch libpq to non-blocking mode"));
    }
    send(k_role_query, Step::AskingRole);
  }

  void send(const char* sql, Step step) {
    step_ = step;
    results_.clear();
    if (PQsendQuery(connection_.get(), sql) == 0) {
      return finish(lost("sending"));
    }
    flush();
  }

  // Why wait for writable only: our queries are a few hundred bytes; the
  // server has nothing to say before it read them.
  void flush() {
    const int pending = PQflush(connection_.get());
    if (pending < 0) {
      return finish(lost("sending"));
    }
    if (pending > 0) {
      return wait(WaitType::wait_write, &PostgresSession::flush);
    }
    wait(WaitType::wait_read, &PostgresSession::read);
  }

  void read() {
    if (PQconsumeInput(connection_.get()) == 0) {
      return finish(lost("reading"));
    }
    while (PQisBusy(connection_.get()) == 0) {
      Result result(PQgetResult(connection_.get()));
      if (!result) {
        return answered();
      }
      const auto status = PQresultStatus(result.get());
      if (results_.size() == k_max_results || status == PGRES_COPY_IN || status == PGRES_COPY_OUT ||
          status == PGRES_COPY_BOTH) {
        return finish(protocol_error("unexpected results"));
      }
      results_.push_back(std::move(result));
    }
    wait(WaitType::wait_read, &PostgresSession::read);
  }

  void answered() {
    if (const auto* failed = first_error()) {
      return finish(query_error(failed));
    }
    if (step_ == Step::AskingRole) {
      if (!read_role()) {
        return finish(protocol_error("unexpected answer to the role query"));
      }
      if (check_.writable && role_matches(check_.role, facts_.replica)) {
        return send(k_write_query, Step::Writing);
      }
    } else {
      if (results_.size() != k_write_statements ||
          std::string_view(PQcmdStatus(results_.back().get())) != "COMMIT") {
        return finish(protocol_error("unexpected answer to the write probe"));
      }
      facts_.writable = true;
    }
    finish(judge_server(k_protocol, where_, judgement_of(check_), facts_));
  }

  const PGresult* first_error() const {
    for (const auto& result : results_) {
      const auto status = PQresultStatus(result.get());
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        return result.get();
      }
    }
    return nullptr;
  }

  // One row: in recovery (t/f), the lag in seconds or NULL, streaming or NULL.
  bool read_role() {
    if (results_.size() != 1) {
      return false;
    }
    const PGresult* row = results_.front().get();
    if (PQresultStatus(row) != PGRES_TUPLES_OK || PQntuples(row) != 1 || PQnfields(row) != 3) {
      return false;
    }
    postgres::RoleRow fields;
    for (auto [field, value] :
         {std::pair{0, &fields.in_recovery}, std::pair{1, &fields.lag_seconds},
          std::pair{2, &fields.streaming}}) {
      if (PQgetisnull(row, 0, field) == 0) {
        *value = std::string_view(PQgetvalue(row, 0, field));
      }
    }
    auto facts = postgres::role_facts(fields);
    if (!facts) {
      return false;
    }
    facts_ = std::move(*facts);
    return true;
  }

  // An ERROR answer. A read-only class (25xxx: 25006 on a hot standby or
  // with default_transaction_read_only) refuses the write probe.
  ReachResult query_error(const PGresult* failed) {
    const auto sqlstate = error_field(failed, PG_DIAG_SQLSTATE);
    auto words = error_field(failed, PG_DIAG_MESSAGE_PRIMARY);
    if (words.empty()) {
      words = one_line(PQresultErrorMessage(failed));
    }
    if (step_ == Step::Writing && sqlstate.starts_with("25")) {
      facts_.writable = false;
      facts_.write_refusal = words;
      return judge_server(k_protocol, where_, judgement_of(check_), facts_);
    }
    if (sqlstate == "57014") {  // statement_timeout: our deadline, seen by the server
      return timed_out();
    }
    if (postgres::refuses_us(sqlstate)) {
      return reach_result(
          ReachFailure::ObserverAuth,
          "observer: postgres " + where_ + " refused our rights: " + words + " (" + sqlstate + ")");
    }
    const std::string what = step_ == Step::Writing ? "refused the write probe: "
                                                    : "answered the role query with an error: ";
    return app_failed(ReachFailure::AppError, k_protocol, where_,
                      what + words + (sqlstate.empty() ? "" : " (" + sqlstate + ")"));
  }

  // The connection failed; `was_connecting`: before TCP connected.
  ReachResult connect_error(bool was_connecting) const {
    return postgres::connect_failure_of(postgres::parse_message(PQerrorMessage(connection_.get())),
                                        was_connecting, where_);
  }

  // The connection broke while `doing` a query step.
  ReachResult lost(std::string_view doing) const {
    const auto message = postgres::parse_message(PQerrorMessage(connection_.get()));
    if (message.sqlstate == "57014") {
      return timed_out();
    }
    std::string words = "connection lost " + std::string(doing);
    if (!message.text.empty()) {
      words += ": " + message.text;
    }
    if (!message.sqlstate.empty()) {
      words += " (" + message.sqlstate + ")";
    }
    return app_failed(ReachFailure::AppError, k_protocol, where_, words);
  }

  ReachResult protocol_error(std::string_view what) const {
    return app_failed(ReachFailure::AppError, k_protocol, where_,
                      "protocol error: " + std::string(what));
  }

  ReachResult timed_out() const {
    if (connection_ && still_connecting(connection_.get())) {
      return connect_failed(ReachFailure::ConnectTimeout, where_, "timed out");
    }
    return app_failed(ReachFailure::AppTimeout, k_protocol, where_,
                      "did not answer within the timeout");
  }

  // Registers libpq's current socket; false (and finished) when it cannot.
  bool watch_socket() {
    const int fd = PQsocket(connection_.get());
    if (fd < 0) {
      finish(lost("(libpq has no socket)"));
      return false;
    }
    if (const auto ec = socket_.watch(fd)) {
      finish(reach_result(ReachFailure::Observer,
                          "observer: cannot wait on the postgres socket: " + net::describe(ec)));
      return false;
    }
    return true;
  }

  void wait(WaitType type, void (PostgresSession::*next)()) {
    socket_.async_wait(type, [self = shared_from_this(), next](boost::system::error_code ec) {
      if (self->finished_ || ec == asio::error::operation_aborted) {
        return;
      }
      if (ec) {
        return self->finish(
            reach_result(ReachFailure::Observer,
                         "observer: cannot wait on the postgres socket: " + net::describe(ec)));
      }
      (self.get()->*next)();
    });
  }

  void finish(ReachResult result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    socket_.forget();     // before PQfinish closes the fd
    connection_.reset();  // PQfinish: non-blocking once connected
    result.latency_ms = stopwatch_.elapsed_ms();
    auto done = std::move(done_);
    done(std::move(result));
  }

  // Declared first, destroyed last: the socket forgets the fd before PQfinish.
  Connection connection_;
  BorrowedSocket socket_;
  asio::steady_timer timer_;
  config::PostgresCheck check_;
  AppRequest request_;
  AppCallback done_;
  Stopwatch stopwatch_;
  std::string where_;
  Step step_ = Step::Connecting;
  std::vector<Result> results_;
  ServerFacts facts_;
  bool finished_ = false;
};

}  // namespace

void check_postgres(asio::io_context& io, const consensus::Clock& clock,
                    const config::PostgresCheck& check, const AppRequest& request,
                    AppCallback done) {
  auto session = std::make_shared<PostgresSession>(io, clock, check, request, std::move(done));
  // Through the io_context even when it fails at once: never inside the call.
  asio::post(io, [session] { session->start(); });
}

}  // namespace crosscheck::probes
