#include "cli/replay_input.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace crosscheck::cli;
namespace cs = crosscheck::consensus;

TEST_CASE("the contract's example line parses into an observation", "[replay]") {
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00Z", "target": "dynamodb-use1", "vantage": "quad9",)"
      R"( "outcome": "down", "detail": "dns: NOERROR, empty answer"})");
  REQUIRE(record);
  const auto& observation = std::get<cs::Observation>(record->body);
  CHECK(observation.target == "dynamodb-use1");
  CHECK(observation.vantage == "quad9");
  CHECK(observation.outcome == cs::Outcome::Down);
  CHECK(observation.layer == cs::Layer::Dns);  // from the detail's prefix
  CHECK(observation.detail == "dns: NOERROR, empty answer");
  CHECK(cs::format_rfc3339(observation.at.wall) == "2025-10-20T06:48:00Z");
}

TEST_CASE("optional observation fields are read", "[replay]") {
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00.5Z", "target": "x", "vantage": "oracle-b/hetzner",)"
      R"( "outcome": "down", "layer": "connect", "latency_ms": 2000, "answers": ["192.0.2.1"],)"
      R"( "last_known_good": "unreachable", "domain": "hetzner"})");
  REQUIRE(record);
  const auto& observation = std::get<cs::Observation>(record->body);
  CHECK(observation.layer == cs::Layer::Connect);
  CHECK(observation.latency_ms == 2000);
  CHECK(observation.answers == std::vector<std::string>{"192.0.2.1"});
  CHECK(observation.last_known_good == cs::LastKnownGood::Unreachable);
  CHECK(record->domain == "hetzner");
}

TEST_CASE("override lines carry a verdict, a reason and a ttl", "[replay]") {
  const auto record = parse_replay_line(
      R"({"t": "2025-11-02T22:03:00Z", "override": {"target": "db", "verdict": "unhealthy",)"
      R"( "reason": "drill", "ttl": "10m", "by": "alice"}})");
  REQUIRE(record);
  const auto& item = std::get<OverrideRecord>(record->body);
  CHECK(item.target == "db");
  CHECK(item.value.verdict == cs::VerdictKind::Unhealthy);
  CHECK(cs::format_rfc3339(item.value.expires_at) == "2025-11-02T22:13:00Z");
  CHECK(item.value.by == "alice");
}

TEST_CASE("action lines say what was done, ack_action lines which one is acknowledged",
          "[replay][cooldown]") {
  const auto action = parse_replay_line(
      R"({"t": "2025-10-20T07:08:00Z", "action": {"target": "db", "what": "promote db-2",)"
      R"( "by": "bot", "for": "any"}})");
  REQUIRE(action);
  const auto& request = std::get<ActionRecord>(action->body).request;
  CHECK(request.target == "db");
  CHECK(request.what == "promote db-2");
  CHECK(request.by == "bot");
  CHECK(request.for_ == cs::GateFor::Any);
  const auto ack = parse_replay_line(R"({"t": "2025-10-20T07:20:00Z", "ack_action": "replay-1"})");
  REQUIRE(ack);
  CHECK(std::get<AckActionRecord>(ack->body).id == "replay-1");
}

TEST_CASE("bad replay lines are refused with a reason", "[replay]") {
  const auto [line, expected] = GENERATE(table<std::string, std::string>({
      {"not json", "not valid JSON: syntax error"},
      {"[1, 2]", "expected a JSON object"},
      {R"({"target": "x"})", "missing field 't'"},
      {R"({"t": 5})", "field 't' must be a string"},
      {R"({"t": "yesterday"})",
       "t 'yesterday' is not an RFC 3339 time such as 2025-10-20T06:48:00Z"},
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
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "b/q", "outcome": "up", "domain": 5})",
       "field 'domain' must be a string"},
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "b/q", "outcome": "up", "domain": ""})",
       "field 'domain' must not be empty"},
      {R"({"t": "2025-10-20T06:48:00Z"} {})", "not valid JSON: extra data"},
      {R"({"t": "2025-10-20T06:48:00Z", "action": {"target": "db"}})",
       "action: what is required: say what was done (\"promote db-2\")"},
      {R"({"t": "2025-10-20T06:48:00Z", "action": {"target": "db", "what": "x", "for": "all"}})",
       "action: for must be service, dns or any"},
      {R"({"t": "2025-10-20T06:48:00Z", "action": "db"})",
       "an action line has only 't' and 'action': {\"target\", \"what\", \"by\"?, \"expect\"?, "
       "\"for\"?}"},
      {R"({"t": "2025-10-20T06:48:00Z", "ack_action": 1})",
       "an ack_action line has only 't' and 'ack_action': \"ID\""},
  }));
  const auto record = parse_replay_line(line);
  REQUIRE_FALSE(record);
  CHECK(record.error() == expected);
}

TEST_CASE("an object naming a key twice is refused instead of one value silently winning",
          "[replay]") {
  const auto [line, key] = GENERATE(table<std::string, std::string>({
      {R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "outcome": "down"})",
       "outcome"},
      {R"({"t": "2025-10-20T06:48:00Z", "t": "2025-10-20T07:48:00Z", "target": "x", "vantage": "q", "outcome": "up"})",
       "t"},
      {R"({"t": "2025-10-20T06:48:00Z", "override": {"target": "x", "verdict": "healthy", "reason": "r", "ttl": "1m", "ttl": "9d"}})",
       "ttl"},
      // Keys compare after unescaping: "\u0074" is "t".
      {R"({"t": "2025-10-20T06:48:00Z", "\u0074": "2025-10-20T07:48:00Z", "target": "x", "vantage": "q", "outcome": "up"})",
       "t"},
  }));
  const auto record = parse_replay_line(line);
  REQUIRE_FALSE(record);
  CHECK(record.error() ==
        "field '" + key + "' appears twice in one object; which one counts would be a guess");
}

TEST_CASE("the same key in different objects of one line is not a duplicate", "[replay]") {
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00Z", "override": {"t": 1, "target": "x", "verdict": "healthy", "reason": "r", "ttl": "1m"}})");
  REQUIRE_FALSE(record);
  CHECK(record.error() ==
        "override: unknown field 't'");  // refused for the field, not as a duplicate
}

TEST_CASE("a time with seconds 60 is refused as a leap second that cannot be represented",
          "[replay]") {
  const auto t = GENERATE(as<std::string>{}, "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z",
                          "2017-01-01T01:59:60+02:00");
  const auto leap =
      parse_replay_line(R"({"t": ")" + t + R"(", "target": "x", "vantage": "q", "outcome": "up"})");
  REQUIRE_FALSE(leap);
  CHECK(leap.error() ==
        "t '" + t +
            "' has seconds 60: a leap second cannot be represented (it would read as "
            "the next minute's :00); record it as :59");
  CHECK(parse_replay_line(
      R"({"t": "2016-12-31T23:59:59Z", "target": "x", "vantage": "q", "outcome": "up"})"));
}

TEST_CASE("answers are bounded in number and in length", "[replay]") {
  const auto answers = [](std::size_t count, std::size_t length) {
    std::string out = "[";
    for (std::size_t i = 0; i < count; ++i) {
      out += (i == 0 ? "\"" : ", \"") + std::string(length, 'a') + "\"";
    }
    return out + "]";
  };
  const auto line = [](const std::string& list) {
    return R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": "up", "answers": )" +
           list + "}";
  };
  const auto at_limit = parse_replay_line(line(answers(64, 256)));
  REQUIRE(at_limit);
  CHECK(std::get<cs::Observation>(at_limit->body).answers.size() == 64);
  const auto too_many = parse_replay_line(line(answers(65, 1)));
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error() == "field 'answers' holds 65 entries, more than 64");
  const auto too_long = parse_replay_line(line(answers(1, 257)));
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error() == "an answer of 257 bytes is longer than 256");
}

TEST_CASE(
    "echoed input is cut to 200 bytes on a character boundary with control characters "
    "escaped",
    "[replay]") {
  CHECK(echo_input("db-primary") == "db-primary");
  CHECK(echo_input("a\nb\tc\x1b[31md\x7f") == R"(a\nb\tc\x1b[31md\x7f)");
  CHECK(echo_input("csi \xc2\x9b, é ok") == "csi \\u009b, é ok");
  CHECK(echo_input("bad \xff\xc3") == R"(bad \xff\xc3)");
  CHECK(echo_input(std::string(200, 'x')) == std::string(200, 'x'));
  CHECK(echo_input(std::string(201, 'x')) == std::string(200, 'x') + "…");
  CHECK(echo_input(std::string(100'000, 'x')).size() == 200 + std::string("…").size());
  // 199 bytes and a 2-byte character: the character is not split.
  CHECK(echo_input(std::string(199, 'x') + "é") == std::string(199, 'x') + "…");
  // Escapes count toward the limit: 60 ESCs are 240 bytes escaped.
  CHECK(echo_input(std::string(60, '\x1b')).size() <= 200 + std::string("…").size());
}

TEST_CASE("a refusal echoes at most 200 bytes of a huge value", "[replay]") {
  const std::string huge(50'000, 'v');
  const auto record = parse_replay_line(
      R"({"t": "2025-10-20T06:48:00Z", "target": "x", "vantage": "q", "outcome": ")" + huge +
      "\"}");
  REQUIRE_FALSE(record);
  const std::string& error = record.error();
  CHECK(error.size() < 300);
  CHECK_THAT(error, Catch::StartsWith("outcome '" + std::string(200, 'v') + "…'"));
}

TEST_CASE("the line reader skips an over-long line whole, keeping none of it, and goes on",
          "[replay]") {
  std::istringstream input("12345678\n123456789\n\n" + std::string(std::size_t{1} << 20, 'y') +
                           "\nnext\nlast");
  LineReader reader(input, 8);
  std::string_view line;
  std::size_t length = 0;
  CHECK(reader.next(line, length) == LineStatus::Read);  // exactly the limit
  CHECK(line == "12345678");
  CHECK(reader.next(line, length) == LineStatus::TooLong);
  CHECK(length == 9);
  CHECK(line.empty());
  CHECK(reader.next(line, length) == LineStatus::Read);
  CHECK(line.empty());
  CHECK(reader.next(line, length) == LineStatus::TooLong);
  CHECK(length == std::size_t{1} << 20);
  CHECK(reader.next(line, length) == LineStatus::Read);
  CHECK(line == "next");
  CHECK(reader.next(line, length) == LineStatus::Read);  // no final newline
  CHECK(line == "last");
  CHECK(reader.next(line, length) == LineStatus::End);
  CHECK(reader.next(line, length) == LineStatus::End);
}
