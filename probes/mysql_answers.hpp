// The mysql check's reading of what a server said (probes/mysql_check.cpp
// does the talking): error codes as typed reach results, result sets as
// facts about the server's role. Pure: no I/O.
#pragma once

#include "probes/app_judge.hpp"
#include "probes/reach_result.hpp"

#include <mysql.h>

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::probes::mysql {

inline constexpr std::string_view k_protocol = "mysql";

// A whole number of at most 9 digits ("111", "0"); nothing else.
std::optional<int> whole_number(std::string_view text);

// The text with line breaks as spaces: a server message on one log line.
std::string one_line(std::string text);

// The failure mysql_errno() `code` and its `message` name, about `where`.
ReachResult failure_of(unsigned code, const std::string& message, const std::string& where);

// SHOW REPLICA STATUS (or SHOW SLAVE STATUS) as facts; empty when the answer
// has the wrong shape.
std::optional<ServerFacts> replication_facts(MYSQL_RES* result);

// SELECT @@global.read_only; empty when the answer is anything else.
std::optional<bool> read_only_of(MYSQL_RES* result);

}  // namespace crosscheck::probes::mysql
