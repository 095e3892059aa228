// System test of the postgres check against real PostgreSQL servers the test
// starts on loopback (tests/support/real_postgres.hpp): a primary and its
// streaming replica told apart by role and lag, a fenced primary refusing the
// write probe, a promoted replica, verified TLS, credentials that are our
// problem (never a down vote), and the failures before PostgreSQL speaks:
// nothing listening, a connect that never completes, a silent listener.
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/app_checks.hpp"
#include "probes/tcp_dialogue.hpp"
#include "support/child_process.hpp"
#include "support/real_postgres.hpp"
#include "support/scoped_env.hpp"
#include "support/test_pki.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
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
using config::ServerRole;
using probes::ReachFailure;
using testing::RealPostgres;
using testing::TempDir;
using testing::TempFile;

namespace {

const net::SystemClock k_clock;
const config::IpAddress k_loopback{config::IpAddress::Family::V4, {127, 0, 0, 1}};

std::string where(unsigned short port) {
  return "127.0.0.1:" + std::to_string(port);
}

// A check as the crosscheck user with the password in `password_file`.
config::PostgresCheck check_for(unsigned short port, ServerRole role,
                                const std::string& password_file) {
  config::PostgresCheck check;
  check.port = port;
  check.role = role;
  check.user = RealPostgres::k_user;
  check.password_file = password_file;
  return check;
}

// A name libpq must not resolve (it connects to hostaddr); the TLS name.
constexpr const char* k_host = "postgres.crosscheck.test";

// Runs one check to its end on `io`; exactly one completion, never inside
// check_postgres().
probes::ReachResult run_check(asio::io_context& io, const config::PostgresCheck& check,
                              std::chrono::milliseconds budget = 3s,
                              const std::string& host = k_host) {
  probes::AppRequest request;
  request.address = k_loopback;
  request.host = host;
  request.deadline = std::chrono::steady_clock::now() + budget;
  int completions = 0;
  probes::ReachResult out;
  probes::check_postgres(io, k_clock, check, request, [&](probes::ReachResult result) {
    ++completions;
    out = std::move(result);
  });
  CHECK(completions == 0);  // never inside the call
  io.restart();
  io.run();
  CHECK(completions == 1);
  return out;
}

probes::ReachResult run_check(const config::PostgresCheck& check,
                              std::chrono::milliseconds budget = 3s,
                              const std::string& host = k_host) {
  asio::io_context io;
  return run_check(io, check, budget, host);
}

}  // namespace

// One primary and its replica through their life (a server costs an initdb):
// told apart by role and lag, the primary fenced, then stopped, the
// replica promoted.
TEST_CASE("a postgres check follows a real primary and its replica through fencing and failover",
          "[system][postgres]") {
  TempDir dir;
  const auto primary = RealPostgres::start_primary(dir.path() / "primary");
  const auto replica = RealPostgres::start_replica(*primary, dir.path() / "replica");
  const TempFile password("password", std::string(RealPostgres::k_password) + "\n");

  const auto on_primary =
      run_check(check_for(primary->port(), ServerRole::Primary, password.path()));
  CHECK(on_primary.up());
  CHECK(on_primary.detail == "postgres: " + where(primary->port()) + " primary");
  CHECK(on_primary.latency_ms > 0);

  const auto replica_as_primary =
      run_check(check_for(replica->port(), ServerRole::Primary, password.path()));
  CHECK(replica_as_primary.failure == ReachFailure::AppRole);
  CHECK(replica_as_primary.outcome() == consensus::Outcome::Down);
  CHECK(replica_as_primary.layer() == consensus::Layer::App);
  CHECK(replica_as_primary.detail ==
        "postgres: " + where(replica->port()) + " is a replica (in recovery); role primary wanted");

  auto as_replica = check_for(replica->port(), ServerRole::Replica, password.path());
  as_replica.max_replica_lag = config::Duration{10'000};
  const auto on_replica = run_check(as_replica);
  CHECK(on_replica.up());
  CHECK_THAT(on_replica.detail, Catch::StartsWith("postgres: " + where(replica->port()) +
                                                  " replica (in recovery), lag "));

  const auto primary_as_replica =
      run_check(check_for(primary->port(), ServerRole::Replica, password.path()));
  CHECK(primary_as_replica.failure == ReachFailure::AppRole);

  auto writable = check_for(primary->port(), ServerRole::Primary, password.path());
  writable.writable = true;
  writable.database = "postgres";
  const auto written = run_check(writable);
  CHECK(written.up());
  CHECK(written.detail == "postgres: " + where(primary->port()) + " primary, writable");

  // Any role: the write probe on a hot standby is refused as read-only.
  auto replica_writable = check_for(replica->port(), ServerRole::Any, password.path());
  replica_writable.writable = true;
  const auto refused = run_check(replica_writable);
  CHECK(refused.failure == ReachFailure::AppReadOnly);
  CHECK_THAT(refused.detail, Catch::Contains("read-only transaction"));

  // TLS required of a server without it: the TLS step fails, not the login.
  auto tls = check_for(primary->port(), ServerRole::Primary, password.path());
  tls.sslmode = config::PgSslMode::Require;
  const auto no_tls = run_check(tls);
  CHECK(no_tls.failure == ReachFailure::TlsHandshake);
  CHECK(no_tls.detail ==
        "tls: handshake failed: server does not support SSL, but SSL was required");

  primary->refuse_writes();
  const auto fenced = run_check(writable);
  CHECK(fenced.failure == ReachFailure::AppReadOnly);
  CHECK(fenced.outcome() == consensus::Outcome::Down);
  CHECK(fenced.detail == "postgres: " + where(primary->port()) +
                             " refuses writes: cannot execute CREATE TABLE in a read-only "
                             "transaction");
  // Still a primary for a check that does not ask for writes.
  CHECK(run_check(check_for(primary->port(), ServerRole::Primary, password.path())).up());

  primary->stop();
  replica->wait_until_not_streaming();
  auto lagging = check_for(replica->port(), ServerRole::Replica, password.path());
  lagging.max_replica_lag = config::Duration{5'000};
  const auto orphan = run_check(lagging);
  CHECK(orphan.failure == ReachFailure::AppLag);
  CHECK(orphan.detail == "postgres: " + where(replica->port()) +
                             " is a replica that does not replicate (its link to the primary "
                             "is down)");
  // Without max_replica_lag a replica that serves is up.
  CHECK(run_check(check_for(replica->port(), ServerRole::Replica, password.path())).up());

  replica->promote();
  auto promoted = check_for(replica->port(), ServerRole::Primary, password.path());
  promoted.writable = true;
  const auto after = run_check(promoted);
  CHECK(after.up());
  CHECK(after.detail == "postgres: " + where(replica->port()) + " primary, writable");
  CHECK(run_check(check_for(replica->port(), ServerRole::Replica, password.path())).failure ==
        ReachFailure::AppRole);
}

// One TLS server for both (a server costs an initdb): the logins below run
// over TLS (sslmode prefer).
TEST_CASE("postgres TLS is verified as asked and refused credentials are an observer error",
          "[system][postgres]") {
  TempDir dir;
  testing::TestPki pki(dir.path() / "pki");
  const auto ca = pki.ca("ca");
  const auto other_ca = pki.ca("other-ca");
  const auto leaf = pki.leaf("server", ca, std::string("DNS:") + k_host);
  RealPostgres::hand_over(leaf.key);
  const auto primary = RealPostgres::start_primary(
      dir.path() / "primary",
      {"ssl=on", "ssl_cert_file=" + leaf.cert.string(), "ssl_key_file=" + leaf.key.string()});
  const auto at = where(primary->port());
  const TempFile password("password", RealPostgres::k_password);
  // libpq reads ~/.pgpass (a password we did not give) and ~/.postgresql/
  // (a client certificate): an empty home keeps these logins ours alone.
  std::filesystem::create_directory(dir.path() / "home");
  const testing::ScopedEnv home("HOME", (dir.path() / "home").string());

  auto check = check_for(primary->port(), ServerRole::Primary, password.path());
  check.sslmode = config::PgSslMode::VerifyFull;
  check.ca_file = ca.cert;
  const auto verified = run_check(check);
  CHECK(verified.up());
  CHECK(verified.detail == "postgres: " + at + " primary");

  const auto wrong_name = run_check(check, 3s, "other.crosscheck.test");
  CHECK(wrong_name.failure == ReachFailure::TlsWrongName);
  CHECK_THAT(wrong_name.detail, Catch::Contains("does not match host name"));

  check.ca_file = other_ca.cert;
  const auto untrusted = run_check(check);
  CHECK(untrusted.failure == ReachFailure::TlsCertificate);
  CHECK(untrusted.layer() == consensus::Layer::Tls);

  // The generic tcp check's STARTTLS (docs/checks.md "Send and expect"):
  // PostgreSQL's SSLRequest, answered 'S', then the handshake.
  config::TcpCheck starttls;
  starttls.port = primary->port();
  starttls.starttls = config::StartTls::Postgres;
  starttls.tls_verify = false;
  const auto tls_dialogue = [&] {
    asio::io_context io;
    probes::ReachResult out;
    probes::AppRequest request;
    request.address = k_loopback;
    request.host = k_host;
    request.deadline = std::chrono::steady_clock::now() + 3s;
    probes::check_tcp_dialogue(io, k_clock, net::make_client_tls_context(), starttls, request,
                               [&](probes::ReachResult result) { out = std::move(result); });
    io.run();
    return out;
  };
  const auto upgraded = tls_dialogue();
  CHECK(upgraded.up());
  CHECK_THAT(upgraded.detail, Catch::EndsWith("handshake done"));
  starttls.tls_verify = true;  // our test CA is not in the system store
  CHECK(tls_dialogue().failure == ReachFailure::TlsUnknownCa);
  CHECK_THAT(untrusted.detail, Catch::StartsWith("tls: certificate verify failed"));

  check.sslmode = config::PgSslMode::Disable;
  check.ca_file.reset();
  CHECK(run_check(check).up());

  const TempFile wrong("password", "not-the-password");
  const auto refused = run_check(check_for(primary->port(), ServerRole::Primary, wrong.path()));
  CHECK(refused.failure == ReachFailure::ObserverAuth);
  CHECK(refused.outcome() == consensus::Outcome::ObserverError);
  CHECK(refused.layer() == consensus::Layer::App);
  CHECK(refused.detail == "observer: postgres " + at +
                              " refused our credentials: password authentication failed for "
                              "user \"crosscheck\"");

  auto no_password = check_for(primary->port(), ServerRole::Primary, "");
  no_password.password_file.reset();
  const auto unasked = run_check(no_password);
  CHECK(unasked.failure == ReachFailure::ObserverAuth);
  CHECK(unasked.detail ==
        "observer: postgres " + at + " refused our credentials: fe_sendauth: no password supplied");

  auto no_database = check_for(primary->port(), ServerRole::Primary, password.path());
  no_database.database = "no_such_database";
  const auto missing = run_check(no_database);
  CHECK(missing.failure == ReachFailure::ObserverAuth);
  CHECK(missing.detail == "observer: postgres " + at +
                              " refused our credentials: database \"no_such_database\" does not "
                              "exist");

  const auto unreadable =
      run_check(check_for(primary->port(), ServerRole::Primary, (dir.path() / "missing").string()));
  CHECK(unreadable.failure == ReachFailure::ObserverAuth);
  CHECK(unreadable.observer_error());
  CHECK_THAT(unreadable.detail,
             Catch::StartsWith("observer: cannot read postgres.password_file '"));

  // The server's refusals that are not about us are the server's state.
  primary->sql(std::string("ALTER ROLE ") + RealPostgres::k_user + " CONNECTION LIMIT 0");
  const auto full = run_check(check_for(primary->port(), ServerRole::Primary, password.path()));
  CHECK(full.failure == ReachFailure::AppError);
  CHECK(full.outcome() == consensus::Outcome::Down);
  CHECK(full.detail == "postgres: " + at +
                           " refused the connection: too many connections for role "
                           "\"crosscheck\" (53300)");
  primary->sql(std::string("ALTER ROLE ") + RealPostgres::k_user + " CONNECTION LIMIT -1");

  // A client certificate libpq cannot read fails its TLS attempt; prefer
  // then retries without TLS on a new socket (the check follows the swap).
  std::filesystem::create_directories(dir.path() / "home" / ".postgresql" / "postgresql.crt");
  auto fallback = check_for(primary->port(), ServerRole::Primary, password.path());
  CHECK(run_check(fallback).up());
  fallback.sslmode = config::PgSslMode::Require;
  const auto no_client_cert = run_check(fallback);
  // Our own TLS files: an observer error, never a down vote.
  CHECK(no_client_cert.failure == ReachFailure::Observer);
  CHECK(no_client_cert.outcome() == consensus::Outcome::ObserverError);
  CHECK_THAT(no_client_cert.detail,
             Catch::StartsWith("observer: postgres TLS setup failed on this host: could not "));
}

TEST_CASE("a postgres check with nothing listening is a refused connect", "[system][postgres]") {
  const auto port = testing::free_port("127.0.0.1");
  const TempFile password("password", "unused");
  const auto result = run_check(check_for(port, ServerRole::Primary, password.path()));
  CHECK(result.failure == ReachFailure::ConnectRefused);
  CHECK(result.layer() == consensus::Layer::Connect);
  CHECK(result.detail == "connect: " + where(port) + " connection refused");
}

TEST_CASE("a listener that accepts and stays silent is a postgres app timeout by the deadline",
          "[system][postgres]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  asio::ip::tcp::socket silent(io);
  bool accepted = false;
  acceptor.async_accept(silent, [&](boost::system::error_code ec) { accepted = !ec; });
  const TempFile password("password", "unused");

  const auto started = std::chrono::steady_clock::now();
  const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(accepted);
  CHECK(result.failure == ReachFailure::AppTimeout);
  CHECK(result.layer() == consensus::Layer::App);
  CHECK(result.detail == "postgres: " + where(port) + " did not answer within the timeout");
  CHECK(took >= 290ms);
  CHECK(took < 800ms);
  CHECK(result.latency_ms < 800);
}

TEST_CASE("a postgres connect that never completes is a connect timeout by the deadline",
          "[system][postgres]") {
  // A listener whose accept queue is full drops further SYNs: the next
  // connect stays in SYN_SENT (Linux).
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(loopback.protocol());
  acceptor.bind(loopback);
  acceptor.listen(0);
  const auto port = acceptor.local_endpoint().port();
  // Connects started and never waited for: the first fills the queue.
  std::vector<asio::ip::tcp::socket> fillers;
  for (int i = 0; i < 2; ++i) {
    auto& filler = fillers.emplace_back(io, loopback.protocol());
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = filler.native_handle();
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    // The sockets API takes its address this way.
    const auto* address = reinterpret_cast<const sockaddr*>(&to);  // NOLINT
    static_cast<void>(::connect(fd, address, sizeof to));
  }
  const TempFile password("password", "unused");

  const auto started = std::chrono::steady_clock::now();
  const auto result = run_check(io, check_for(port, ServerRole::Primary, password.path()), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(result.failure == ReachFailure::ConnectTimeout);
  CHECK(result.detail == "connect: " + where(port) + " timed out");
  CHECK(took < 800ms);
}
