// System test of the mysql check against real MariaDB servers the test
// starts on loopback (tests/support/real_mariadb.hpp): a primary and its
// replica told apart by role, lag and read_only, credentials that are our
// problem (never a down vote), and the failures before MariaDB speaks:
// nothing listening, no SYN-ACK, a listener that never answers or hangs up,
// a source address this host does not have. Every check completes exactly
// once, through the io_context, by its deadline, and leaves no descriptor.
#include "net/system_clock.hpp"
#include "probes/app_checks.hpp"
#include "support/child_process.hpp"
#include "support/real_mariadb.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using config::ServerRole;
using probes::ReachFailure;
using testing::MariadbReplication;
using testing::TempFile;

namespace {

const net::SystemClock k_clock;

std::string where(unsigned short port) {
  return "127.0.0.1:" + std::to_string(port);
}

config::MysqlCheck check_for(unsigned short port, ServerRole role,
                             const std::string& password_file) {
  config::MysqlCheck check;
  check.port = port;
  check.role = role;
  check.user = testing::k_mariadb_user;
  check.password_file = password_file;
  return check;
}

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// Runs one check to its end; exactly one completion, never inside the call,
// and the loop is free again (the connection closed) within 500 ms of the
// deadline: closing never waits on the server.
probes::ReachResult run_check(asio::io_context& io, const config::MysqlCheck& check,
                              std::chrono::milliseconds budget = 2s,
                              std::optional<config::IpAddress> source = std::nullopt) {
  probes::AppRequest request;
  request.address = *config::IpAddress::parse("127.0.0.1");
  request.host = "mysql.crosscheck.test";  // never resolved: the address is
  request.source = source;
  const auto started = std::chrono::steady_clock::now();
  request.deadline = started + budget;
  int completions = 0;
  probes::ReachResult out;
  probes::check_mysql(io, k_clock, check, request, [&](probes::ReachResult result) {
    ++completions;
    out = std::move(result);
  });
  CHECK(completions == 0);
  io.restart();
  io.run();
  CHECK(completions == 1);
  CHECK(std::chrono::steady_clock::now() - started < budget + 500ms);
  return out;
}

probes::ReachResult run_check(const config::MysqlCheck& check,
                              std::chrono::milliseconds budget = 2s,
                              std::optional<config::IpAddress> source = std::nullopt) {
  asio::io_context io;
  return run_check(io, check, budget, source);
}

// One primary and replica for the whole process: each SECTION re-enters
// the test case, and starting MariaDB twice costs seconds.
MariadbReplication& replication() {
  static std::unique_ptr<MariadbReplication> servers;
  static std::string failed;
  if (!servers && failed.empty()) {
    try {
      servers = std::make_unique<MariadbReplication>();
    } catch (const std::exception& error) {
      failed = error.what();
    }
  }
  if (!servers) {
    FAIL("cannot start MariaDB: " << failed);
  }
  return *servers;
}

}  // namespace

TEST_CASE("a mysql check judges a real primary and its replica on role and replication",
          "[system][mysql]") {
  auto& servers = replication();
  const auto primary = servers.primary().port();
  const auto replica = servers.replica().port();
  const TempFile password("password", testing::k_mariadb_password + "\n");

  SECTION("the primary asked to be a primary is up, and says goodbye") {
    const auto aborted_before = servers.primary().sql("SHOW GLOBAL STATUS LIKE 'Aborted_clients'");
    const auto result = run_check(check_for(primary, ServerRole::Primary, password.path()));
    CHECK(result.up());
    CHECK(result.detail == "mysql: " + where(primary) + " primary");
    CHECK(result.latency_ms > 0);
    CHECK(run_check(check_for(primary, ServerRole::Any, password.path())).up());
    // Each check ended with COM_QUIT: none counts as an aborted client.
    CHECK(servers.primary().sql("SHOW GLOBAL STATUS LIKE 'Aborted_clients'") == aborted_before);
  }

  SECTION("the replica asked to be a primary is a down vote at the app layer") {
    const auto result = run_check(check_for(replica, ServerRole::Primary, password.path()));
    CHECK(result.failure == ReachFailure::AppRole);
    CHECK(result.outcome() == consensus::Outcome::Down);
    CHECK(result.layer() == consensus::Layer::App);
    CHECK(result.detail == "mysql: " + where(replica) + " is a replica (replicating from " +
                               where(primary) + "); role primary wanted");
  }

  SECTION("the replica asked to be a replica is up with its lag") {
    auto check = check_for(replica, ServerRole::Replica, password.path());
    check.max_replica_lag = config::Duration{5'000};
    const auto result = run_check(check);
    CHECK(result.up());
    CHECK(result.detail == "mysql: " + where(replica) + " replica (replicating from " +
                               where(primary) + "), lag 0.0s");
    CHECK(run_check(check_for(primary, ServerRole::Replica, password.path())).failure ==
          ReachFailure::AppRole);
  }

  SECTION("writable fails on read_only and passes without it") {
    auto check = check_for(primary, ServerRole::Primary, password.path());
    check.writable = true;
    servers.primary().set_read_only(true);
    const auto fenced = run_check(check);
    servers.primary().set_read_only(false);
    CHECK(fenced.failure == ReachFailure::AppReadOnly);
    CHECK(fenced.outcome() == consensus::Outcome::Down);
    CHECK(fenced.detail == "mysql: " + where(primary) + " refuses writes: read_only is ON");
    const auto open = run_check(check);
    CHECK(open.up());
    CHECK(open.detail == "mysql: " + where(primary) + " primary, writable");
  }

  SECTION("a replica whose replication stopped breaks max_replica_lag") {
    auto check = check_for(replica, ServerRole::Replica, password.path());
    check.max_replica_lag = config::Duration{5'000};
    servers.stop_replication();
    const auto stopped = run_check(check);
    const auto any_role = run_check(check_for(replica, ServerRole::Any, password.path()));
    servers.start_replication();
    CHECK(stopped.failure == ReachFailure::AppLag);
    CHECK(stopped.layer() == consensus::Layer::App);
    CHECK(stopped.detail == "mysql: " + where(replica) +
                                " is a replica that does not replicate (its link to the primary "
                                "is down)");
    CHECK(any_role.up());
    CHECK(any_role.detail == "mysql: " + where(replica) + " replica (not replicating from " +
                                 where(primary) + ": io No, sql No)");
  }

  SECTION("promoted without RESET REPLICA ALL, a writable server is the primary") {
    // The usual promotion: STOP REPLICA, read_only OFF; the replication
    // settings stay behind (a SHOW REPLICA STATUS row, both threads No).
    servers.stop_replication();
    servers.replica().set_read_only(false);
    const auto promoted = run_check(check_for(replica, ServerRole::Primary, password.path()));
    servers.replica().set_read_only(true);
    servers.start_replication();
    CHECK(promoted.up());
    CHECK_THAT(promoted.detail, Catch::Contains("replication stopped (settings left from before)"));
  }

  SECTION("a wrong password is our problem: an observer error, never a down vote") {
    const TempFile wrong("password", "not-the-password");
    const auto result = run_check(check_for(primary, ServerRole::Primary, wrong.path()));
    CHECK(result.failure == ReachFailure::ObserverAuth);
    CHECK(result.outcome() == consensus::Outcome::ObserverError);
    CHECK(result.observer_error());
    CHECK_THAT(result.detail, Catch::StartsWith("observer: mysql " + where(primary) +
                                                " refused our credentials: Access denied for "
                                                "user 'crosscheck'@'127.0.0.1'"));
  }

  SECTION("an account without the privilege for SHOW REPLICA STATUS is an observer error") {
    servers.primary().sql(
        "SET sql_log_bin=0; CREATE USER IF NOT EXISTS 'unprivileged'@'127.0.0.1' IDENTIFIED BY '" +
        testing::k_mariadb_password + "'");
    auto check = check_for(primary, ServerRole::Primary, password.path());
    check.user = "unprivileged";
    const auto result = run_check(check);
    CHECK(result.failure == ReachFailure::ObserverAuth);
    CHECK(result.observer_error());
    CHECK_THAT(result.detail, Catch::Contains("privilege"));
  }

  SECTION("the check connects from the vantage's source address") {
    const auto bound = run_check(check_for(primary, ServerRole::Primary, password.path()), 2s,
                                 config::IpAddress::parse("127.0.0.1"));
    CHECK(bound.up());
    // The account exists for 127.0.0.1 only: from 127.0.0.2 the server
    // names the address it saw, so the bind took effect.
    const auto elsewhere = run_check(check_for(primary, ServerRole::Primary, password.path()), 2s,
                                     config::IpAddress::parse("127.0.0.2"));
    CHECK(elsewhere.failure == ReachFailure::ObserverAuth);
    CHECK_THAT(elsewhere.detail, Catch::Contains("127.0.0.2"));
  }

  SECTION("without a password file the check logs in without a password") {
    config::MysqlCheck check = check_for(primary, ServerRole::Primary, password.path());
    check.password_file.reset();
    const auto result = run_check(check);
    CHECK(result.failure == ReachFailure::ObserverAuth);
    CHECK_THAT(result.detail, Catch::Contains("(using password: NO)"));
  }

  SECTION("a stopped server is a refused connect") {
    // Last: the primary does not come back in this process.
    servers.stop_replication();
    servers.primary().stop();
    const auto result = run_check(check_for(primary, ServerRole::Primary, password.path()));
    CHECK(result.failure == ReachFailure::ConnectRefused);
    CHECK(result.detail == "connect: " + where(primary) + " connection refused");
  }
}

TEST_CASE("an unreadable mysql password file is an observer error and nothing is sent",
          "[system][mysql]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  const auto result =
      run_check(io, check_for(port, ServerRole::Primary, "/nonexistent/crosscheck/password"));
  // No connection waits in the backlog: the check stopped before connecting.
  acceptor.non_blocking(true);
  tcp::socket peer(io);
  boost::system::error_code accept_error;
  acceptor.accept(peer, accept_error);
  CHECK(accept_error == asio::error::would_block);
  CHECK(result.failure == ReachFailure::ObserverAuth);
  CHECK(result.outcome() == consensus::Outcome::ObserverError);
  CHECK(result.detail ==
        "observer: cannot read mysql.password_file '/nonexistent/crosscheck/password': No such "
        "file or directory");
}

TEST_CASE("a mysql check with nothing listening is a refused connect", "[system][mysql]") {
  const auto port = testing::free_port("127.0.0.1");
  const TempFile password("password", "unused");
  const auto result = run_check(check_for(port, ServerRole::Primary, password.path()));
  CHECK(result.failure == ReachFailure::ConnectRefused);
  CHECK(result.layer() == consensus::Layer::Connect);
  CHECK(result.detail == "connect: " + where(port) + " connection refused");
}

TEST_CASE("a mysql source address this host does not have is the observer's error",
          "[system][mysql]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const TempFile password("password", "unused");
  // 192.0.2.1 (TEST-NET-1) is not configured here: bind fails locally.
  const auto result = run_check(
      io, check_for(acceptor.local_endpoint().port(), ServerRole::Primary, password.path()), 2s,
      config::IpAddress::parse("192.0.2.1"));
  CHECK(result.failure == ReachFailure::Observer);
  CHECK(result.observer_error());
  CHECK_THAT(result.detail, Catch::StartsWith("observer: cannot connect from this host to " +
                                              where(acceptor.local_endpoint().port())));
}

TEST_CASE("a mysql connect that gets no SYN-ACK is a connect timeout by the deadline",
          "[system][mysql]") {
  // A listener with a backlog of 0 whose queue is already full drops new
  // SYNs: the connect hangs until our deadline, all on loopback.
  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(local.protocol());
  acceptor.bind(local);
  acceptor.listen(0);
  const auto port = acceptor.local_endpoint().port();
  std::vector<std::unique_ptr<tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(std::make_unique<tcp::socket>(io));
    fillers.back()->open(tcp::v4());
    fillers.back()->non_blocking(true);
    const tcp::endpoint target(local.address(), port);
    // A raw non-blocking connect (EINPROGRESS): Asio's synchronous one waits.
    static_cast<void>(::connect(fillers.back()->native_handle(), target.data(),
                                static_cast<socklen_t>(target.size())));
  }
  const TempFile password("password", "unused");
  const auto descriptors = open_descriptors();
  const auto started = std::chrono::steady_clock::now();
  const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(result.failure == ReachFailure::ConnectTimeout);
  CHECK(result.detail == "connect: " + where(port) + " timed out");
  CHECK(took >= 290ms);
  CHECK(took < 800ms);
  CHECK(open_descriptors() == descriptors);  // the library's socket is closed
}

TEST_CASE("a listener that accepts and stays silent is a mysql app timeout by the deadline",
          "[system][mysql]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  tcp::socket silent(io);
  bool accepted = false;
  acceptor.async_accept(silent, [&](boost::system::error_code ec) { accepted = !ec; });
  const TempFile password("password", "unused");
  const auto descriptors = open_descriptors();

  const auto started = std::chrono::steady_clock::now();
  const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(accepted);
  CHECK(result.failure == ReachFailure::AppTimeout);
  CHECK(result.layer() == consensus::Layer::App);
  CHECK(result.detail == "mysql: " + where(port) + " did not answer within the timeout");
  CHECK(took >= 290ms);
  CHECK(took < 800ms);
  CHECK(result.latency_ms < 800);
  silent.close();
  CHECK(open_descriptors() == descriptors);
}

TEST_CASE("a mysql server that hangs up or refuses at the greeting is an app error",
          "[system][mysql]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  tcp::socket peer(io);
  const TempFile password("password", "unused");

  SECTION("a server that closes at once lost the connection") {
    acceptor.async_accept(peer, [&](boost::system::error_code) { peer.close(); });
    const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()));
    CHECK(result.failure == ReachFailure::AppError);
    CHECK(result.outcome() == consensus::Outcome::Down);
    CHECK_THAT(result.detail,
               Catch::StartsWith("mysql: " + where(port) + " failed: Lost connection"));
  }

  SECTION("a full server's error packet is its words") {
    // What mariadbd sends instead of a greeting when max_connections is
    // reached: an error packet (0xff, code 1040 little-endian, message).
    const std::string message = "Too many connections";
    std::string packet(4, '\0');
    packet += '\xff';
    packet += static_cast<char>(1040 & 0xff);
    packet += static_cast<char>(1040 >> 8);
    packet += message;
    packet[0] = static_cast<char>(packet.size() - 4);
    acceptor.async_accept(peer, [&](boost::system::error_code ec) {
      if (!ec) {
        asio::write(peer, asio::buffer(packet), ec);
      }
    });
    const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()));
    CHECK(result.failure == ReachFailure::AppError);
    CHECK(result.detail == "mysql: " + where(port) + " answered error 1040: Too many connections");
  }
}
