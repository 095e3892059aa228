// What a MariaDB or MySQL server's answers mean: its error codes as typed
// reach results, the result sets of SHOW REPLICA STATUS and
// @@global.read_only as facts. No I/O.
#include "probes/mysql_answers.hpp"

#include "net/errors.hpp"

#include <errmsg.h>
#include <mysqld_error.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>

namespace crosscheck::probes::mysql {
namespace {

// "Can't connect to server on '192.0.2.5' (111)": the errno in the
// parentheses at the end, which Connector/C puts there for connect errors.
std::optional<int> trailing_errno(std::string_view message) {
  const auto open = message.rfind('(');
  if (message.empty() || message.back() != ')' || open == std::string_view::npos) {
    return std::nullopt;
  }
  const auto value = whole_number(message.substr(open + 1, message.size() - open - 2));
  return value && *value > 0 ? value : std::nullopt;
}

bool is_client_error(unsigned code) {
  return (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) || (code >= 5000 && code < 6000);
}

// Our credentials or our account, not the server's health: wrong password,
// no such user, a locked or expired account, a missing privilege, a host
// the server will not take connections from.
bool is_credentials_error(unsigned code) {
  constexpr std::array k_codes{ER_ACCESS_DENIED_ERROR,
                               ER_DBACCESS_DENIED_ERROR,
                               ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
                               ER_SPECIFIC_ACCESS_DENIED_ERROR,
                               ER_TABLEACCESS_DENIED_ERROR,
                               ER_COLUMNACCESS_DENIED_ERROR,
                               ER_HOST_NOT_PRIVILEGED,
                               ER_HOST_IS_BLOCKED,
                               ER_MUST_CHANGE_PASSWORD_LOGIN,
                               ER_MUST_CHANGE_PASSWORD,
                               ER_ACCOUNT_HAS_BEEN_LOCKED,
                               ER_NOT_SUPPORTED_AUTH_MODE,
                               CR_AUTH_PLUGIN_CANNOT_LOAD,
                               CR_AUTH_PLUGIN_ERR};
  return std::find(k_codes.begin(), k_codes.end(), static_cast<int>(code)) != k_codes.end();
}

// The index of the first column named one of `names`, if the result has one.
std::optional<unsigned> column(MYSQL_RES* result, std::initializer_list<std::string_view> names) {
  const std::span<const MYSQL_FIELD> fields(mysql_fetch_fields(result), mysql_num_fields(result));
  for (const auto name : names) {
    for (unsigned i = 0; i < fields.size(); ++i) {
      if (std::string_view(fields[i].name, fields[i].name_length) == name) {
        return i;
      }
    }
  }
  return std::nullopt;
}

// A field of the fetched row; nullopt for SQL NULL.
std::optional<std::string> field(MYSQL_RES* result, MYSQL_ROW row, unsigned index) {
  const auto count = mysql_num_fields(result);
  const std::span<char*> values(row, count);
  const std::span<const unsigned long> lengths(mysql_fetch_lengths(result), count);
  if (index >= count || values[index] == nullptr) {
    return std::nullopt;
  }
  return std::string(values[index], lengths[index]);
}

}  // namespace

std::optional<int> whole_number(std::string_view text) {
  constexpr std::size_t k_max_digits = 9;
  if (text.empty() || text.size() > k_max_digits) {
    return std::nullopt;
  }
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

// The failure mysql_errno() names, classified once here. Connect errors
// carry the errno in the message; a refused connect is ConnectRefused like
// the tcp check's, a bind of the source address that fails is ours.
ReachResult failure_of(unsigned code, const std::string& message, const std::string& where) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR: {
      const auto os_error = trailing_errno(message);
      if (!os_error) {
        return connect_failed(ReachFailure::ConnectOther, where, message);
      }
      const boost::system::error_code ec(*os_error, boost::system::system_category());
      return connect_failed(connect_failure(ec, false), where, net::describe(ec));
    }
    case CR_IPSOCK_ERROR:  // no socket, or none that binds the source address
    case CR_SOCKET_CREATE_ERROR:
    case CR_BIND_ADDR_FAILED:
    case CR_UNKNOWN_HOST:
    case CR_OUT_OF_MEMORY: {
      const auto os_error = trailing_errno(message);
      const std::string reason =
          os_error ? net::describe({*os_error, boost::system::system_category()}) : message;
      return connect_failed(ReachFailure::Observer, where, reason);
    }
    case CR_SSL_CONNECTION_ERROR:
      return tls_failed(ReachFailure::TlsHandshake, message);
    default:
      break;
  }
  if (is_credentials_error(code)) {
    return reach_result(ReachFailure::ObserverAuth,
                        "observer: mysql " + where + " refused our credentials: " + message);
  }
  if (is_client_error(code)) {
    return app_failed(ReachFailure::AppError, k_protocol, where, "failed: " + message);
  }
  return app_failed(ReachFailure::AppError, k_protocol, where,
                    "answered error " + std::to_string(code) + ": " + message);
}

// SHOW REPLICA STATUS: no row on a primary; a row on a replica, replicating
// when both threads run ("Connecting" is not running). MariaDB names the
// columns Slave_* and *_Master, MySQL 8.0.22+ Replica_* and *_Source.
// Empty when the answer has the wrong shape.
std::optional<ServerFacts> replication_facts(MYSQL_RES* result) {
  ServerFacts facts;
  if (mysql_num_rows(result) == 0) {
    facts.replica = false;
    return facts;
  }
  const auto io = column(result, {"Slave_IO_Running", "Replica_IO_Running"});
  const auto sql = column(result, {"Slave_SQL_Running", "Replica_SQL_Running"});
  const auto lag = column(result, {"Seconds_Behind_Master", "Seconds_Behind_Source"});
  const auto host = column(result, {"Master_Host", "Source_Host"});
  const auto port = column(result, {"Master_Port", "Source_Port"});
  MYSQL_ROW row = mysql_fetch_row(result);
  if (!io || !sql || !lag || !host || !port || row == nullptr) {
    return std::nullopt;
  }
  facts.replica = true;
  const auto io_running = field(result, row, *io).value_or("NULL");
  const auto sql_running = field(result, row, *sql).value_or("NULL");
  facts.replicating = io_running == "Yes" && sql_running == "Yes";
  facts.replication_stopped =
      io_running != "Yes" && io_running != "Connecting" && sql_running != "Yes";
  if (const auto seconds = field(result, row, *lag)) {
    const auto value = whole_number(*seconds);  // whole seconds
    if (!value) {
      return std::nullopt;
    }
    facts.lag_seconds = *value;
  }
  std::string source = field(result, row, *host).value_or("");
  if (source.find(':') != std::string::npos) {
    source = "[" + source + "]";
  }
  source += ":" + field(result, row, *port).value_or("");
  facts.role_text = facts.replicating ? "replicating from " + source
                                      : "not replicating from " + source + ": io " + io_running +
                                            ", sql " + sql_running;
  return facts;
}

// SELECT @@global.read_only: 0 or 1 (MariaDB 11 may say OFF, ON, NO_LOCK,
// NO_LOCK_NO_ADMIN). Empty when the answer is anything else.
std::optional<bool> read_only_of(MYSQL_RES* result) {
  if (mysql_num_fields(result) != 1 || mysql_num_rows(result) != 1) {
    return std::nullopt;
  }
  MYSQL_ROW row = mysql_fetch_row(result);
  const auto value = row == nullptr ? std::nullopt : field(result, row, 0);
  if (!value) {
    return std::nullopt;
  }
  if (*value == "0" || *value == "OFF") {
    return false;
  }
  if (*value == "1" || *value == "ON" || *value == "NO_LOCK" || *value == "NO_LOCK_NO_ADMIN") {
    return true;
  }
  return std::nullopt;
}

}  // namespace crosscheck::probes::mysql
