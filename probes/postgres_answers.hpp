// The postgres check's reading of what libpq and the server said
// (probes/postgres_check.cpp does the talking): libpq's error messages as
// typed reach results, the role query's row as facts about the server.
// Pure: no I/O.
#pragma once

#include "probes/app_judge.hpp"
#include "probes/reach_result.hpp"

#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::probes::postgres {

inline constexpr std::string_view k_protocol = "postgres";

// libpq's text on one line: lines trimmed and joined with a space.
std::string one_line(std::string_view text);

// A libpq error message: the server's SQLSTATE when the server sent it,
// and the words to show.
struct Message {
  std::string sqlstate;  // empty when libpq itself failed
  std::string text;
};

// PQerrorMessage() as written with PQERRORS_VERBOSE, of the last
// connection attempt when libpq made several.
Message parse_message(std::string_view message);

// Our credentials or rights, not the server's health (28xxx, 3D000, 42501).
bool refuses_us(std::string_view sqlstate);

// The socket error libpq put in its words ("... failed: Connection
// refused"), as an error code.
std::optional<boost::system::error_code> socket_error_in(std::string_view text);

// The connection to `where` failed with `message`; `was_connecting`:
// before TCP connected.
ReachResult connect_failure_of(const Message& message, bool was_connecting,
                               const std::string& where);

// The role query's one row, each field's text or nullopt for NULL.
struct RoleRow {
  std::optional<std::string_view> in_recovery;  // "t" or "f"
  std::optional<std::string_view> lag_seconds;  // "12.5"; NULL on a primary
  std::optional<std::string_view> streaming;    // "t", "f"; NULL without pg_monitor
};

// The role row as facts; empty when a field holds something else.
std::optional<ServerFacts> role_facts(const RoleRow& row);

}  // namespace crosscheck::probes::postgres
