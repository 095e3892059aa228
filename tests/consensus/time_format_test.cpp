#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using namespace std::chrono_literals;

TEST_CASE("RFC 3339 times round-trip in UTC", "[time]") {
  const auto parsed = parse_rfc3339("2025-10-20T06:48:00Z");
  REQUIRE(parsed);
  CHECK(format_rfc3339(*parsed) == "2025-10-20T06:48:00Z");
  CHECK(format_rfc3339(*parsed + 250ms) == "2025-10-20T06:48:00.250Z");
  CHECK(parse_rfc3339("2025-10-20T06:48:00.25Z") == *parsed + 250ms);
  CHECK(parse_rfc3339("2025-10-20T08:48:00+02:00") == parsed);
  CHECK(parse_rfc3339("2025-10-20T01:48:00-05:00") == parsed);
  CHECK(format_rfc3339(WallTime{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("malformed RFC 3339 times are rejected", "[time]") {
  const auto text =
      GENERATE(as<std::string>{}, "", "2025-10-20", "2025-10-20T06:48:00", "2025-13-20T06:48:00Z",
               "2025-02-30T06:48:00Z", "2025-10-20T25:48:00Z", "2025-10-20T06:48:00Zjunk",
               "2025-10-20T06:48:00.Z", "2025-10-20X06:48:00Z", "yesterday");
  CHECK_FALSE(parse_rfc3339(text));
}

TEST_CASE("durations print in their shortest exact unit", "[time]") {
  CHECK(format_duration(10s) == "10s");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(5min) == "5m");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(168h) == "7d");
  CHECK(format_duration(0ms) == "0s");  // as config spells it
}

TEST_CASE("a leap second (seconds field 60) is refused, not read as the next minute", "[time]") {
  CHECK_FALSE(parse_rfc3339("2016-12-31T23:59:60Z"));
  CHECK(parse_rfc3339("2016-12-31T23:59:59Z"));
}
