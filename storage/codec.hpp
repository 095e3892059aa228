// How consensus values are spelled in the database: times as milliseconds
// since the Unix epoch, enums as their to_string() names, votes and DNS
// answers as JSON text. Pure functions; never touches SQLite or a clock.
#pragma once

#include "consensus/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::storage {

// Wall time <-> the INTEGER columns (milliseconds since the Unix epoch).
std::int64_t to_millis(consensus::WallTime at);
consensus::WallTime from_millis(std::int64_t millis);

// The inverse of consensus::to_string for the enums consensus has no parser
// for; nullopt for text no value spells.
std::optional<consensus::ReasonCode> parse_reason_code(std::string_view text);
std::optional<consensus::EventKind> parse_event_kind(std::string_view text);

// {"up":2,"down":1,"unknown":0,"down_quorum":2,"up_quorum":2,"known_domains":4,
//  "up_domains":["quad9","google"],"down_domains":["cloudflare"],"split":1,
//  "split_domains":["aws"]}
std::string votes_to_json(const consensus::VoteCounts& votes);
// Missing or malformed fields read as zero / empty (a damaged log row, or
// one written before split domains were counted, still shows).
consensus::VoteCounts votes_from_json(std::string_view text);

// A maintenance window as a verdict row keeps it; "" or anything that is
// not a JSON object reads as none.
std::string window_to_json(const consensus::MaintenanceView& window);
std::optional<consensus::MaintenanceView> window_from_json(std::string_view text);

// ["192.0.2.1","192.0.2.2"]
std::string answers_to_json(const std::vector<std::string>& answers);
std::vector<std::string> answers_from_json(std::string_view text);

}  // namespace crosscheck::storage
