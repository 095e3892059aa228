// The REST API's verdict JSON read back into the types api_json.cpp renders
// it from, so the CLI's formatters work on typed values and reuse the
// server's own rules (consensus/gate.hpp). Pure: no I/O, no clock.
#pragma once

#include "base/expected.hpp"
#include "snapshot/snapshot.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::snapshot {

// GET /v1/verdicts (or a /v1/watch answer): the list and what it was taken at.
struct VerdictList {
  std::uint64_t revision = 0;
  std::string node;  // empty when the answer does not name it (watch)
  std::vector<TargetView> targets;
  // Targets whose item carried `votes` (a full verdict, not a summary).
  std::vector<bool> has_votes;
};

// A verdict summary or full verdict (GET /v1/verdicts/{t}) as a TargetView;
// fields the answer lacks keep their defaults (evidence carries only what
// the API sends: no raw vote, no stale flag). An Error when the
// value is not an object naming a target and a known verdict.
Expected<TargetView> read_verdict(const boost::json::value& value);

// {"revision", "node"?, "verdicts": [...]}; an Error when malformed.
Expected<VerdictList> read_verdict_list(const boost::json::value& value);

// The same from JSON text (an answer's body); malformed JSON is an Error.
Expected<TargetView> read_verdict(std::string_view text);
Expected<VerdictList> read_verdict_list(std::string_view text);

// The JSON text parsed, or an Error ("malformed JSON (...)").
Expected<boost::json::value> parse_json(std::string_view text);

}  // namespace crosscheck::snapshot
