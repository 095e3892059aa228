// storage.summary_period at its edges: 1m..24h inclusive, in any spelling
// of a duration; just outside, or not a duration, is refused.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::config::test::k_file;
using crosscheck::config::test::k_valid_tail;

TEST_CASE("summary_period accepts exactly 1m to 24h in any spelling", "[config]") {
  const auto [text, ms] = GENERATE(table<std::string, long long>({
      {"1m", 60'000},
      {"60s", 60'000},
      {"60000ms", 60'000},
      {"24h", 86'400'000},
      {"1440m", 86'400'000},
      {"1d", 86'400'000},
      {"7m", 420'000},
  }));
  CAPTURE(text);
  const auto result = crosscheck::config::load_config_text(
      "storage:\n  summary_period: " + text + "\n" + std::string(k_valid_tail), k_file);
  REQUIRE(result.config);
  CHECK(result.diagnostics.empty());
  CHECK(result.config->storage.summary_period.count() == ms);
}

TEST_CASE("summary_period refuses just outside 1m to 24h and nonsense", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "59999ms", "59s", "86400001ms", "24h1ms",
                                    "0s", "-1h", "1h garbage", "9223372036854775807ms");
  CAPTURE(text);
  const auto result = crosscheck::config::load_config_text(
      "storage:\n  summary_period: " + text + "\n" + std::string(k_valid_tail), k_file);
  CHECK_FALSE(result.config);
  REQUIRE_FALSE(result.diagnostics.empty());
  CHECK_THAT(result.diagnostics.front().message, Catch::Contains("summary_period"));
}
