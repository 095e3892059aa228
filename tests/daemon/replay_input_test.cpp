#include "daemon/replay_input.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::daemon;
namespace cs = crosscheck::consensus;

TEST_CASE("the contract's example line parses into an observation", "[replay]") {
  std::string error;
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00Z", "target": "dynamodb-use1", "vantage": "quad9",)"
      R"( "outcome": "down", "detail": "dns: NOERROR, empty answer"})",
      error);
  REQUIRE(record);
  CHECK(error.empty());
  const auto& observation = std::get<cs::Observation>(record->body);
  CHECK(observation.target == "dynamodb-use1");
  CHECK(observation.vantage == "quad9");
  CHECK(observation.outcome == cs::Outcome::Down);
  CHECK(observation.layer == cs::Layer::Dns);  // from the detail's prefix
  CHECK(observation.detail == "dns: NOERROR, empty answer");
  CHECK(cs::format_rfc3339(observation.at.wall) == "2025-10-20T06:48:00Z");
}

TEST_CASE("optional observation fields are read", "[replay]") {
  std::string error;
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00.5Z", "target": "x", "vantage": "oracle-b/hetzner",)"
      R"( "outcome": "down", "layer": "connect", "latency_ms": 2000, "answers": ["192.0.2.1"],)"
      R"( "last_known_good": "unreachable", "domain": "hetzner"})",
      error);
  REQUIRE(record);
  const auto& observation = std::get<cs::Observation>(record->body);
  CHECK(observation.layer == cs::Layer::Connect);
  CHECK(observation.latency_ms == 2000);
  CHECK(observation.answers == std::vector<std::string>{"192.0.2.1"});
  CHECK(observation.last_known_good == cs::LastKnownGood::Unreachable);
  CHECK(record->domain == "hetzner");
}

TEST_CASE("override lines carry a verdict, a reason and a ttl", "[replay]") {
  std::string error;
  const auto record = parse_replay_line(
      R"({"t": "2025-11-02T22:03:00Z", "override": {"target": "db", "verdict": "unhealthy",)"
      R"( "reason": "drill", "ttl": "10m", "by": "alice"}})",
      error);
  REQUIRE(record);
  const auto& item = std::get<OverrideRecord>(record->body);
  CHECK(item.target == "db");
  CHECK(item.value.verdict == cs::VerdictKind::Unhealthy);
  CHECK(cs::format_rfc3339(item.value.expires_at) == "2025-11-02T22:13:00Z");
  CHECK(item.value.by == "alice");
}

TEST_CASE("bad replay lines are refused with a reason", "[replay]") {
  const auto [line, expected] = GENERATE(table<std::string, std::string>({
      {"not json", "not valid JSON: syntax error"},
      {"[1, 2]", "expected a JSON object"},
      {R"({"target": "x"})", "missing field 't'"},
      {R"({"t": 5})", "field 't' must be a string"},
      {R"({"t": "yesterday"})", "t 'yesterday' is not an RFC 3339 time such as 2025-10-20T06:48:00Z"},
      {R"({"t": "2025-10-20T06:48:00Z", "vantage": "q", "outcome": "up"})",
       "missing field 'target'"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "outcome": "up"})",
       "missing field 'vantage'"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q"})",
       "missing field 'outcome'"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "sideways"})",
       "outcome 'sideways' is not up, down or observer_error"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "outcom": 1})",
       "unknown field 'outcom'"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "down", "layer": "bgp"})",
       "layer 'bgp' is not none, dns, connect, tls or http"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "latency_ms": -1})",
       "field 'latency_ms' must be a non-negative number"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "answers": [1]})",
       "field 'answers' must be an array of strings"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "last_known_good": "maybe"})",
       "last_known_good 'maybe' is not reachable, unreachable or not_tried"},
      {R"({"t": "2025-10-20T06:48:00Z", "override": {"target": "x", "verdict": "disputed", "reason": "r", "ttl": "1m"}})",
       "override: verdict 'disputed' is not healthy or unhealthy"},
      {R"({"t": "2025-10-20T06:48:00Z", "override": {"target": "x", "verdict": "healthy", "reason": "r", "ttl": "soon"}})",
       "override: ttl 'soon' is not a positive duration such as 30m"},
      {R"({"t": "2025-10-20T06:48:00Z", "override": {"target": "x", "verdict": "healthy"}})",
       "override: missing field 'reason'"},
      {R"({"t": "2025-10-20T06:48:00Z", "clear_override": 3})",
       "a clear_override line has only 't' and 'clear_override': \"TARGET\""},
  }));
  std::string error;
  CHECK_FALSE(parse_replay_line(line, error));
  CHECK(error == expected);
}
