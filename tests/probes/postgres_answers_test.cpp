// What libpq's and the server's words mean to the postgres check
// (probes/postgres_answers): messages as libpq writes them, verbatim, and
// the role query's row, without a server.
#include "probes/postgres_answers.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <optional>
#include <string>

using namespace crosscheck;
using probes::ReachFailure;
namespace pg = probes::postgres;

namespace {

const std::string k_where = "127.0.0.1:5432";

// The role query's row; nullopt is SQL NULL.
pg::RoleRow row(std::optional<std::string_view> in_recovery, std::optional<std::string_view> lag,
                std::optional<std::string_view> streaming) {
  return pg::RoleRow{in_recovery, lag, streaming};
}

ReachFailure failure_of(std::string_view message, bool was_connecting) {
  return pg::connect_failure_of(pg::parse_message(message), was_connecting, k_where).failure;
}

}  // namespace

TEST_CASE("a server's verbose error gives its SQLSTATE and first line whatever its language",
          "[postgres]") {
  const auto english = pg::parse_message(
      "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password "
      "authentication failed for user \"probe\"\nLOCATION:  auth_failed, auth.c:323\n");
  CHECK(english.sqlstate == "28P01");
  CHECK(english.text == "password authentication failed for user \"probe\"");
  const auto german = pg::parse_message(
      "connection to server at \"127.0.0.1\", port 5432 failed: SCHWERWIEGEND:  28P01: "
      "Passwort-Authentifizierung für Benutzer »probe« fehlgeschlagen\n");
  CHECK(german.sqlstate == "28P01");
  CHECK(pg::connect_failure_of(german, false, k_where).failure == ReachFailure::ObserverAuth);
}

TEST_CASE("only the last connection attempt's words count", "[postgres]") {
  // sslmode prefer: a TLS attempt that failed, then a plain one.
  const auto message = pg::parse_message(
      "connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate verify "
      "failed\nconnection to server at \"127.0.0.1\", port 5432 failed: FATAL:  57P03: the "
      "database system is starting up\n");
  CHECK(message.sqlstate == "57P03");
  CHECK(message.text == "the database system is starting up");
  const auto result = pg::connect_failure_of(message, false, k_where);
  CHECK(result.failure == ReachFailure::AppError);
  CHECK_THAT(result.detail, Catch::Contains("(57P03)"));
}

TEST_CASE("libpq's own errors keep their lines joined on one", "[postgres]") {
  const auto message = pg::parse_message("could not translate host name\n  \"x\" to address\n");
  CHECK(message.sqlstate.empty());
  CHECK(message.text == "could not translate host name \"x\" to address");
  CHECK(pg::one_line("  a \n\n b\t\n") == "a b");
  CHECK(pg::one_line("").empty());
}

TEST_CASE("a line that only looks like a SQLSTATE is not one", "[postgres]") {
  CHECK(pg::parse_message("FATAL:  28p01: lower case").sqlstate.empty());
  CHECK(pg::parse_message("FATAL:  28P0: too short").sqlstate.empty());
  CHECK(pg::parse_message("FATAL:  28P01").sqlstate.empty());
}

TEST_CASE("connect failures are typed: ours are observer errors and the server's are down votes",
          "[postgres]") {
  CHECK(failure_of("FATAL:  3D000: database \"x\" does not exist", false) ==
        ReachFailure::ObserverAuth);
  CHECK(failure_of("FATAL:  42501: permission denied for database \"x\"", false) ==
        ReachFailure::ObserverAuth);
  CHECK(failure_of("FATAL:  53300: sorry, too many clients already", false) ==
        ReachFailure::AppError);
  CHECK(failure_of("fe_sendauth: no password supplied", false) == ReachFailure::ObserverAuth);
  CHECK(failure_of("GSSAPI continuation error", false) == ReachFailure::ObserverAuth);
  CHECK(failure_of("server certificate for \"db\" does not match host name \"x\"", false) ==
        ReachFailure::TlsWrongName);
  CHECK(failure_of("SSL error: certificate verify failed", false) == ReachFailure::TlsCertificate);
  CHECK(failure_of("could not read root certificate file \"/x\": No such file", false) ==
        ReachFailure::Observer);
  CHECK(failure_of("SSL SYSCALL error: EOF detected", false) == ReachFailure::TlsHandshake);
  const std::string refused = std::strerror(ECONNREFUSED);
  CHECK(failure_of("connection to server at \"127.0.0.1\", port 5432 failed: " + refused +
                       "\n\tIs the server running on that host?",
                   true) == ReachFailure::ConnectRefused);
  // A reset after TCP connected is the server's answer, not a connect failure.
  CHECK(failure_of(std::strerror(ECONNRESET), false) == ReachFailure::AppError);
  CHECK(failure_of("server closed the connection unexpectedly", true) ==
        ReachFailure::ConnectOther);
  CHECK(failure_of("server closed the connection unexpectedly", false) == ReachFailure::AppError);
}

TEST_CASE("the role row reads as facts: primary and replica with lag and streaming", "[postgres]") {
  const auto primary = pg::role_facts(row("f", std::nullopt, std::nullopt));
  REQUIRE(primary);
  CHECK_FALSE(primary->replica);
  CHECK_FALSE(primary->lag_seconds);
  CHECK(primary->replicating);

  const auto replica = pg::role_facts(row("t", "12.5", "t"));
  REQUIRE(replica);
  CHECK(replica->replica);
  CHECK(replica->role_text == "in recovery");
  CHECK(replica->lag_seconds == Approx(12.5));
  CHECK(replica->replicating);

  const auto stopped = pg::role_facts(row("t", "0", "f"));
  REQUIRE(stopped);
  CHECK_FALSE(stopped->replicating);
  // The primary's clock ahead of ours: no negative lag.
  const auto ahead = pg::role_facts(row("t", "-3", "t"));
  REQUIRE(ahead);
  CHECK(ahead->lag_seconds == Approx(0.0));
}

TEST_CASE("a role row of another shape is no facts", "[postgres]") {
  CHECK_FALSE(pg::role_facts(row(std::nullopt, std::nullopt, std::nullopt)));
  CHECK_FALSE(pg::role_facts(row("yes", std::nullopt, std::nullopt)));
  CHECK_FALSE(pg::role_facts(row("t", "soon", "t")));
  CHECK_FALSE(pg::role_facts(row("t", "1.5s", "t")));
  CHECK_FALSE(pg::role_facts(row("t", "", "t")));
  CHECK_FALSE(pg::role_facts(row("t", "1 ", "t")));
}
