// What libpq and a PostgreSQL server said, as typed reach results and facts.
// No I/O.
#include "probes/postgres_answers.hpp"

#include "net/errors.hpp"
#include "net/http_client.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace crosscheck::probes::postgres {
namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool is_sqlstate(std::string_view code) {
  return code.size() == 5 && std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
         });
}

// libpq writes one paragraph per connection attempt, each opening with
// `connection to server at "127.0.0.1", port 5432 failed: `; with sslmode
// prefer a TLS attempt that failed is followed by a plain one. The last
// attempt ended the connection: its words, without that opening.
std::string_view last_attempt(std::string_view message) {
  constexpr std::string_view k_attempt = "connection to server ";
  auto at = message.rfind(k_attempt);
  while (at != std::string_view::npos && at > 0 && message[at - 1] != '\n') {
    at = message.rfind(k_attempt, at - 1);
  }
  if (at == std::string_view::npos) {
    return message;
  }
  auto attempt = message.substr(at);
  constexpr std::string_view k_failed = " failed: ";
  if (const auto failed = attempt.find(k_failed); failed < attempt.find('\n')) {
    attempt.remove_prefix(failed + k_failed.size());
  }
  return attempt;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

ReachResult credentials_refused(const std::string& where, const std::string& text) {
  return reach_result(ReachFailure::ObserverAuth,
                      "observer: postgres " + where + " refused our credentials: " + text);
}

}  // namespace

std::string one_line(std::string_view text) {
  std::string line;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto part = trimmed(text.substr(0, end));
    if (!part.empty()) {
      line += line.empty() ? "" : " ";
      line += part;
    }
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return line;
}

// Why parse the SQLSTATE: the server's words follow its lc_messages (a
// German server says "Passwort-Authentifizierung ... fehlgeschlagen"), its
// SQLSTATE does not. With PQERRORS_VERBOSE a server error reads
// `FATAL:  28P01: password authentication failed for user "x"` (the
// severity translated) then DETAIL and LOCATION lines: we keep the first
// line's words and 28P01. libpq's own errors keep all their lines.
Message parse_message(std::string_view message) {
  const auto attempt = last_attempt(message);
  const auto line = trimmed(attempt.substr(0, attempt.find('\n')));
  constexpr std::string_view k_severity_end = ":  ";
  if (const auto severity = line.find(k_severity_end); severity != std::string_view::npos) {
    const auto rest = line.substr(severity + k_severity_end.size());
    if (rest.size() > 7 && is_sqlstate(rest.substr(0, 5)) && rest.substr(5, 2) == ": ") {
      return Message{std::string(rest.substr(0, 5)), std::string(trimmed(rest.substr(7)))};
    }
  }
  return Message{"", one_line(attempt)};
}

// Invalid authorization (28000: no pg_hba.conf entry, no such role), a
// wrong password (28P01), no such database (3D000), no CONNECT or TEMP
// privilege (42501).
bool refuses_us(std::string_view sqlstate) {
  return sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42501";
}

// libpq writes strerror() of this process, so the same strerror() finds it.
std::optional<boost::system::error_code> socket_error_in(std::string_view text) {
  constexpr std::array k_errors{ECONNREFUSED, ETIMEDOUT,   EHOSTUNREACH, ENETUNREACH,   ENETDOWN,
                                EHOSTDOWN,    ECONNRESET,  ECONNABORTED, EADDRNOTAVAIL, EADDRINUSE,
                                EMFILE,       ENFILE,      ENOBUFS,      ENOMEM,        EACCES,
                                EPERM,        EAFNOSUPPORT};
  for (const int code : k_errors) {
    if (text.find(std::strerror(code)) != std::string_view::npos) {
      return boost::system::error_code(code, boost::system::system_category());
    }
  }
  return std::nullopt;
}

ReachResult connect_failure_of(const Message& message, bool was_connecting,
                               const std::string& where) {
  const auto& text = message.text;
  if (!message.sqlstate.empty()) {
    if (refuses_us(message.sqlstate)) {
      return credentials_refused(where, text);
    }
    // 57P03 starting up, shutting down, in recovery; 53300 too many clients.
    return app_failed(ReachFailure::AppError, k_protocol, where,
                      "refused the connection: " + text + " (" + message.sqlstate + ")");
  }
  if (text.starts_with("fe_sendauth:") || contains(text, "password")) {
    return credentials_refused(where, text);
  }
  if (contains(text, "does not match host name")) {
    return certificate_refused(net::TlsRefusal::WrongName, text);
  }
  if (contains(text, "certificate verify failed")) {
    return tls_failed(ReachFailure::TlsCertificate, text);
  }
  // Our TLS files: "could not read root certificate file", "could not open
  // certificate file" (a client certificate under ~/.postgresql).
  // They are this host's files: an observer error, never a down vote
  // (every node shares the config and would agree on it).
  if (contains(text, "certificate file") || contains(text, "private key file") ||
      contains(text, "certificate revocation list")) {
    return reach_result(ReachFailure::Observer,
                        "observer: postgres TLS setup failed on this host: " + text);
  }
  // GSSAPI/SSPI asked of us: our (missing) Kerberos credentials.
  if (contains(text, "GSSAPI") || contains(text, "SSPI") || contains(text, "Kerberos")) {
    return credentials_refused(where, text);
  }
  if (contains(text, "SSL")) {
    return tls_failed(ReachFailure::TlsHandshake, text);
  }
  const auto socket_error = socket_error_in(text);
  if (socket_error && (was_connecting || *socket_error == boost::asio::error::connection_refused)) {
    return connect_failed(connect_failure(*socket_error, false), where,
                          net::describe(*socket_error));
  }
  if (was_connecting) {
    return connect_failed(ReachFailure::ConnectOther, where, text);
  }
  return app_failed(ReachFailure::AppError, k_protocol, where, text);
}

std::optional<ServerFacts> role_facts(const RoleRow& row) {
  if (row.in_recovery != "t" && row.in_recovery != "f") {
    return std::nullopt;
  }
  ServerFacts facts;
  facts.replica = row.in_recovery == "t";
  facts.role_text = facts.replica ? "in recovery" : "";
  if (row.lag_seconds) {
    // strtod needs a terminated string, and stops at the first byte it
    // cannot read: the whole field must be read.
    const std::string text(*row.lag_seconds);
    char* end = nullptr;
    const double lag = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      return std::nullopt;
    }
    // A primary's clock ahead of ours makes the lag negative.
    facts.lag_seconds = std::max(0.0, lag);
  }
  facts.replicating = !row.streaming || *row.streaming == "t";
  return facts;
}

}  // namespace crosscheck::probes::postgres
