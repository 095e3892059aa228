// The mysql check: MariaDB Connector/C in its non-blocking mode, driven by
// the io_context. The library runs each call as a coroutine that stops
// wherever it would block and says what it waits for (MYSQL_WAIT_*); we wait
// on its socket with Asio and resume it. It never blocks the loop: not to
// connect, not to query, not to close.
#include "probes/app_checks.hpp"

#include "config/secret_file.hpp"
#include "probes/app_judge.hpp"
#include "probes/mysql_answers.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mysql.h>
#include <mysqld_error.h>

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
using mysql::failure_of;
using mysql::k_protocol;
using mysql::one_line;
using mysql::read_only_of;
using mysql::replication_facts;

// Bytes of one packet from the server (MYSQL_OPT_MAX_ALLOWED_PACKET).
constexpr unsigned long k_max_packet = 65'536;
// MariaDB 10.5.1+ and MySQL 8.0.22+ know SHOW REPLICA STATUS; older servers
// answer it with a parse error and get the old spelling.
constexpr std::string_view k_replica_status = "SHOW REPLICA STATUS";
constexpr std::string_view k_slave_status = "SHOW SLAVE STATUS";
constexpr std::string_view k_read_only = "SELECT @@global.read_only";
// Resuming an operation with MYSQL_WAIT_TIMEOUT on a shut-down socket ends
// it in one round (the read or write it waits for fails at once); a few more
// rounds tolerate a library that tries once more before it gives up.
constexpr int k_unwind_rounds = 8;

struct ResultFree {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using Result = std::unique_ptr<MYSQL_RES, ResultFree>;

// One MYSQL handle and the non-blocking call it may have in flight. Every
// start/resume returns 0 when the call finished, else the MYSQL_WAIT_*
// events it waits for. Closing never blocks (see close()).
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;
  ~Connection() { close(); }

  // A handle in non-blocking mode, TCP only, that never sends a local file
  // (a hostile server may ask for one in answer to any query), bound to
  // `source` when set. An empty string on success, else what failed.
  std::string open(const std::optional<config::IpAddress>& source) {
    mysql_ = mysql_init(nullptr);
    if (mysql_ == nullptr) {
      return "mysql_init failed";
    }
    if (mysql_options(mysql_, MYSQL_OPT_NONBLOCK, nullptr) != 0) {
      return "cannot enable non-blocking mode";
    }
    nonblocking_ = true;
    unsigned int protocol = MYSQL_PROTOCOL_TCP;
    unsigned int local_infile = 0;
    mysql_options(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(mysql_, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    // The answers are a row or two of short fields: a server sending more
    // per packet is refused at once, not buffered (a hostile server's 1 MB
    // rows grew the daemon by gigabytes).
    unsigned long max_packet = k_max_packet;
    mysql_options(mysql_, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
    mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "crosscheck");
    if (source) {
      bind_address_ = source->to_string();
      if (mysql_options(mysql_, MYSQL_OPT_BIND, bind_address_.c_str()) != 0) {
        return "cannot set the source address " + bind_address_;
      }
    }
    return {};
  }

  MYSQL* get() const { return mysql_; }
  int socket() const {
    return mysql_ == nullptr ? MARIADB_INVALID_SOCKET : mysql_get_socket(mysql_);
  }
  unsigned error_code() const { return mysql_errno(mysql_); }
  std::string error_message() const { return one_line(mysql_error(mysql_)); }

  // The strings must outlive the call: the library reads them when resumed.
  int start_connect(const std::string& host, const std::string& user, const std::string& password,
                    unsigned int port) {
    op_ = Op::Connect;
    return track(mysql_real_connect_start(&connected_, mysql_, host.c_str(), user.c_str(),
                                          password.c_str(), nullptr, port, nullptr, 0));
  }
  bool connected() const { return connected_ != nullptr; }

  int start_query(std::string_view sql) {
    op_ = Op::Query;
    return track(mysql_real_query_start(&query_status_, mysql_, sql.data(), sql.size()));
  }
  bool query_failed() const { return query_status_ != 0; }

  int start_store() {
    op_ = Op::Store;
    stored_ = nullptr;
    return track(mysql_store_result_start(&stored_, mysql_));
  }
  Result take_result() { return std::move(result_); }

  int resume(int events) {
    switch (op_) {
      case Op::Connect:
        return track(mysql_real_connect_cont(&connected_, mysql_, events));
      case Op::Query:
        return track(mysql_real_query_cont(&query_status_, mysql_, events));
      case Op::Store:
        return track(mysql_store_result_cont(&stored_, mysql_, events));
      case Op::None:
        break;
    }
    return 0;
  }

  // Ends the call in flight, if any, and frees the handle; bounded, never
  // waits on the network. A call in flight first gets its socket shut down
  // (every read then sees EOF, every write EPIPE, none returns EAGAIN) and
  // is resumed with MYSQL_WAIT_TIMEOUT, so it fails at once. An idle
  // connection then says COM_QUIT, the polite goodbye that keeps the server's
  // Aborted_clients quiet: a 5-byte send with MSG_DONTWAIT into a socket
  // whose earlier requests the server has all answered, so nothing is
  // queued; should the send still not complete, the same shutdown ends it.
  // A library still suspended after k_unwind_rounds (never seen) keeps its
  // handle, leaked rather than waited for.
  void close() {
    if (mysql_ == nullptr) {
      return;
    }
    for (int round = 0; op_ != Op::None && round < k_unwind_rounds; ++round) {
      shutdown_socket();
      resume(MYSQL_WAIT_TIMEOUT);
    }
    result_.reset();
    MYSQL* const mysql = std::exchange(mysql_, nullptr);
    if (op_ != Op::None) {
      return;  // still suspended: leaked, see above
    }
    if (!nonblocking_) {
      mysql_close(mysql);  // never connected: nothing to say, no socket
      return;
    }
    int status = mysql_close_start(mysql);
    for (int round = 0; status != 0 && round < k_unwind_rounds; ++round) {
      const int fd = mysql_get_socket(mysql);
      if (fd != MARIADB_INVALID_SOCKET) {
        ::shutdown(fd, SHUT_RDWR);
      }
      status = mysql_close_cont(mysql, MYSQL_WAIT_TIMEOUT);
    }
  }

 private:
  enum class Op : std::uint8_t { None, Connect, Query, Store };

  int track(int status) {
    if (status == 0) {
      if (op_ == Op::Store) {
        result_.reset(std::exchange(stored_, nullptr));
      }
      op_ = Op::None;
    }
    return status;
  }

  void shutdown_socket() const {
    const int fd = socket();
    if (fd != MARIADB_INVALID_SOCKET) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }

  MYSQL* mysql_ = nullptr;
  bool nonblocking_ = false;
  std::string bind_address_;
  Op op_ = Op::None;
  MYSQL* connected_ = nullptr;
  int query_status_ = 0;
  MYSQL_RES* stored_ = nullptr;
  Result result_;
};

class MysqlSession : public std::enable_shared_from_this<MysqlSession> {
 public:
  MysqlSession(asio::io_context& io, const consensus::Clock& clock, config::MysqlCheck check,
               AppRequest request, AppCallback done)
      : socket_(io),
        deadline_(io),
        library_timer_(io),
        check_(std::move(check)),
        request_(std::move(request)),
        done_(std::move(done)),
        stopwatch_(clock),
        where_(config::Endpoint{request_.address, check_.port}.to_string()) {}

  MysqlSession(const MysqlSession&) = delete;
  MysqlSession& operator=(const MysqlSession&) = delete;
  MysqlSession(MysqlSession&&) = delete;
  MysqlSession& operator=(MysqlSession&&) = delete;
  // Normally finish() has done this; an io_context destroyed with the check
  // pending must still not let Asio close the library's socket.
  ~MysqlSession() {
    try {
      stop_watching();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to do in a destructor
    }
  }

  void start() {
    stopwatch_.restart();
    deadline_.expires_at(request_.deadline);
    deadline_.async_wait(
        [self = shared_from_this()](boost::system::error_code ec) { self->on_deadline(ec); });
    if (check_.password_file) {
      // Read at each check: a rotated password needs no reload.
      auto secret = config::read_secret_file("mysql.password_file", *check_.password_file,
                                             config::SecretKind::Key);
      if (!secret) {
        return finish(reach_result(ReachFailure::ObserverAuth, "observer: " + secret.error()));
      }
      password_ = std::move(*secret);
    }
    if (const auto problem = connection_.open(request_.source); !problem.empty()) {
      return finish(reach_result(ReachFailure::Observer, "observer: mysql: " + problem));
    }
    host_ = request_.address.to_string();
    phase_ = Phase::Connect;
    run(connection_.start_connect(host_, check_.user, password_, check_.port));
  }

 private:
  enum class Phase : std::uint8_t {
    Connect,
    ReplicaQuery,
    ReplicaStore,
    ReadOnlyQuery,
    ReadOnlyStore
  };

  // After a start or a resume: wait for what the library asks, or go on.
  void run(int status) {
    if (finished_) {
      return;
    }
    if (status != 0) {
      return wait_for(status);
    }
    switch (phase_) {
      case Phase::Connect:
        std::fill(password_.begin(), password_.end(), '\0');
        if (!connection_.connected()) {
          return fail();
        }
        return query(Phase::ReplicaQuery, k_replica_status);
      case Phase::ReplicaQuery:
      case Phase::ReadOnlyQuery:
        if (connection_.query_failed()) {
          if (phase_ == Phase::ReplicaQuery && !legacy_status_ &&
              connection_.error_code() == ER_PARSE_ERROR) {
            legacy_status_ = true;
            return query(Phase::ReplicaQuery, k_slave_status);
          }
          return fail();
        }
        phase_ = phase_ == Phase::ReplicaQuery ? Phase::ReplicaStore : Phase::ReadOnlyStore;
        return run(connection_.start_store());
      case Phase::ReplicaStore:
      case Phase::ReadOnlyStore:
        return stored(connection_.take_result());
    }
  }

  void query(Phase phase, std::string_view sql) {
    phase_ = phase;
    run(connection_.start_query(sql));
  }

  void stored(Result result) {
    const bool replica_status = phase_ == Phase::ReplicaStore;
    const std::string_view sql =
        replica_status ? (legacy_status_ ? k_slave_status : k_replica_status) : k_read_only;
    if (!result) {
      if (connection_.error_code() != 0) {
        return fail();
      }
      return finish(app_failed(ReachFailure::AppError, k_protocol, where_,
                               "answered " + std::string(sql) + " without a result set"));
    }
    if (replica_status) {
      auto facts = replication_facts(result.get());
      if (!facts) {
        return finish(app_failed(ReachFailure::AppError, k_protocol, where_,
                                 "answered " + std::string(sql) + " with an unexpected result"));
      }
      facts_ = std::move(*facts);
      return query(Phase::ReadOnlyQuery, k_read_only);
    }
    const auto read_only = read_only_of(result.get());
    if (!read_only) {
      return finish(app_failed(ReachFailure::AppError, k_protocol, where_,
                               "answered " + std::string(sql) + " with an unexpected result"));
    }
    if (*read_only && !facts_.replica) {
      facts_.role_text = "read_only";
    }
    // A primary promoted with STOP REPLICA; RESET REPLICA (without ALL)
    // keeps its replication settings: a row, both threads stopped. Taking
    // writes, it is the primary; read-only, a replica whose replication died.
    if (facts_.replica && facts_.replication_stopped && !*read_only) {
      facts_.replica = false;
      facts_.role_text = "read_only OFF, replication stopped (settings left from before)";
    }
    if (check_.writable) {
      facts_.writable = !*read_only;
      if (*read_only) {
        facts_.write_refusal = "read_only is ON";
      }
    }
    finish(judge_server(k_protocol, where_, judgement_of(check_), facts_));
  }

  void fail() { finish(failure_of(connection_.error_code(), connection_.error_message(), where_)); }

  void wait_for(int events) {
    const std::uint64_t wait = ++wait_id_;
    constexpr int k_socket_events = MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT;
    if ((events & (k_socket_events | MYSQL_WAIT_TIMEOUT)) == 0) {
      return finish(app_failed(ReachFailure::AppError, k_protocol, where_,
                               "failed: the client library waits for nothing"));
    }
    if ((events & k_socket_events) != 0) {
      // The library owns the descriptor: Asio only watches it between a
      // suspension and its resume, and releases it before the library runs
      // again (it may close it), never closing it itself.
      boost::system::error_code ec;
      socket_.assign(connection_.socket(), ec);
      if (ec) {
        return finish(reach_result(ReachFailure::Observer,
                                   "observer: mysql: cannot watch the socket: " + ec.message()));
      }
      const auto watch = [&](asio::posix::descriptor_base::wait_type type, int event) {
        socket_.async_wait(
            type, [self = shared_from_this(), wait, event](boost::system::error_code wait_ec) {
              if (wait_ec != asio::error::operation_aborted) {
                self->on_event(wait, event);
              }
            });
      };
      if ((events & MYSQL_WAIT_READ) != 0) {
        watch(asio::posix::descriptor_base::wait_read, MYSQL_WAIT_READ);
      }
      if ((events & MYSQL_WAIT_WRITE) != 0) {
        watch(asio::posix::descriptor_base::wait_write, MYSQL_WAIT_WRITE);
      }
      if ((events & MYSQL_WAIT_EXCEPT) != 0) {
        watch(asio::posix::descriptor_base::wait_error, MYSQL_WAIT_EXCEPT);
      }
    }
    if ((events & MYSQL_WAIT_TIMEOUT) != 0) {
      // The library's own timeout (we set none; honoured should one come).
      library_timer_.expires_after(
          std::chrono::milliseconds(mysql_get_timeout_value_ms(connection_.get())));
      library_timer_.async_wait([self = shared_from_this(), wait](boost::system::error_code ec) {
        if (!ec) {
          self->on_event(wait, MYSQL_WAIT_TIMEOUT);
        }
      });
    }
  }

  void on_event(std::uint64_t wait, int event) {
    if (finished_ || wait != wait_id_) {
      return;  // a stale wait: another event of the same wait came first
    }
    ++wait_id_;
    stop_watching();
    run(connection_.resume(event));
  }

  void on_deadline(boost::system::error_code ec) {
    if (ec || finished_) {
      return;
    }
    if (phase_ == Phase::Connect && !tcp_connected()) {
      return finish(connect_failed(ReachFailure::ConnectTimeout, where_, "timed out"));
    }
    finish(app_failed(ReachFailure::AppTimeout, k_protocol, where_,
                      "did not answer within the timeout"));
  }

  // Whether the TCP connection is up (the greeting or the login may not be).
  bool tcp_connected() const {
    const int fd = connection_.socket();
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    return fd != MARIADB_INVALID_SOCKET &&
           ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer),  // NOLINT(*-reinterpret-cast)
                         &length) == 0;
  }

  void stop_watching() {
    boost::system::error_code ignored;
    if (socket_.is_open()) {
      socket_.cancel(ignored);
      socket_.release();
    }
    library_timer_.cancel();
  }

  void finish(ReachResult result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    ++wait_id_;
    stop_watching();
    deadline_.cancel();
    result.latency_ms = stopwatch_.elapsed_ms();
    connection_.close();
    done_(std::move(result));
  }

  // Declared before socket_, destroyed after it: the descriptor is released
  // before the library closes the socket.
  Connection connection_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer deadline_;
  asio::steady_timer library_timer_;
  config::MysqlCheck check_;
  AppRequest request_;
  AppCallback done_;
  Stopwatch stopwatch_;
  std::string where_;
  std::string host_;
  std::string password_;
  Phase phase_ = Phase::Connect;
  ServerFacts facts_;
  bool legacy_status_ = false;
  bool finished_ = false;
  std::uint64_t wait_id_ = 0;
};

}  // namespace

void check_mysql(asio::io_context& io, const consensus::Clock& clock,
                 const config::MysqlCheck& check, const AppRequest& request, AppCallback done) {
  auto session = std::make_shared<MysqlSession>(io, clock, check, request, std::move(done));
  // Complete through the io_context even on immediate failures, so callers
  // never see their callback run inside check_mysql().
  asio::post(io, [session] { session->start(); });
}

}  // namespace crosscheck::probes
