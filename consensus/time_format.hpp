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
// The one spelling of durations (config, reasons, API, CLI): the shortest
// exact one, 10000ms -> "10s", 90000ms -> "90s", 250ms -> "250ms", 0 -> "0s".
std::string format_duration(Duration d);
// "500ms", "10s", "5m", "2h", "7d" (a whole number and one unit), at most
// 36500d so that adding one to a time point can never overflow. Reads back
// everything format_duration writes.
std::optional<Duration> parse_duration(std::string_view text);
// A certificate's notAfter seen from `now`: "expires in 9 days", "expires in
// 0 days" (under a day left), "expired 2 days ago"; whole days, rounded
// toward the past.
std::string cert_expiry_words(WallTime not_after, WallTime now);
// DNSSEC signatures' expiration from `now`, finer than a certificate's
// (they last days, not months): "expire in 20 hours" under two days left,
// "expire in 6 days", "expired 3 hours ago"; rounded toward the past.
std::string signature_expiry_words(WallTime expires, WallTime now);

}  // namespace crosscheck::consensus
