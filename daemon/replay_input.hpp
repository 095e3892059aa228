// Reading `replay` input: one JSON object per line, an observation or an
// operator override (DESIGN.md "CLI contract"). Pure parsing of one line;
// no file or clock access.
#pragma once

#include "consensus/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace crosscheck::daemon {

// {"t": ..., "override": {"target", "verdict", "reason", "ttl", "by"}}
struct OverrideRecord {
  std::string target;
  consensus::Override value;
};

// {"t": ..., "clear_override": "TARGET"}
struct ClearOverrideRecord {
  std::string target;
};

struct ReplayRecord {
  consensus::WallTime t;
  std::variant<consensus::Observation, OverrideRecord, ClearOverrideRecord> body;
  // A peer vantage's failure domain from the optional "domain" field.
  std::optional<std::string> domain;
};

// Parses one line. On failure returns nullopt and sets `error` to a
// one-line reason ("missing field 'outcome'").
// Observations: "t", "target", "vantage", "outcome" (up|down|observer_error)
// are required; "detail", "layer", "latency_ms", "answers",
// "last_known_good" and "domain" are optional. Without "layer", a down
// observation's layer comes from its detail prefix ("dns: ..." -> dns).
std::optional<ReplayRecord> parse_replay_line(std::string_view line, std::string& error);

}  // namespace crosscheck::daemon
