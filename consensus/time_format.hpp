// Text forms of times and durations shared by verdict reasons, the API and
// the CLI. Pure functions.
#pragma once

#include "consensus/types.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::consensus {

// "2025-10-20T06:48:00Z", with ".250" milliseconds only when not whole.
std::string format_rfc3339(WallTime at);
// Accepts "2025-10-20T06:48:00Z", fractional seconds and "+02:00" offsets.
std::optional<WallTime> parse_rfc3339(std::string_view text);
// The shortest exact spelling: 10000ms -> "10s", 90000ms -> "90s", 250ms -> "250ms".
std::string format_duration(Duration d);

}  // namespace crosscheck::consensus
