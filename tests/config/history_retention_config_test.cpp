// storage.history_retention: absent keeps the verdict and escalation
// history always (the contract's default); any positive duration is taken
// as written; zero, negative or not a duration is refused.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::config::test::k_file;
using crosscheck::config::test::k_valid_tail;

TEST_CASE("history_retention is absent unless set and then taken as written", "[config]") {
  const auto absent = crosscheck::config::load_config_text(
      "storage:\n  retention: 10m\n" + std::string(k_valid_tail), k_file);
  REQUIRE(absent.config);
  CHECK_FALSE(absent.config->storage.history_retention.has_value());

  const auto [text, ms] = GENERATE(table<std::string, long long>({
      {"10m", 600'000},
      {"90d", 90LL * 86'400'000},
      {"1ms", 1},
      {"8760h", 8760LL * 3'600'000},
  }));
  CAPTURE(text);
  const auto result = crosscheck::config::load_config_text(
      "storage:\n  retention: 10m\n  history_retention: " + text + "\n" + std::string(k_valid_tail),
      k_file);
  REQUIRE(result.config);
  CHECK(result.diagnostics.empty());
  REQUIRE(result.config->storage.history_retention.has_value());
  CHECK(result.config->storage.history_retention->count() == ms);
  CHECK(result.config->storage.retention.count() == 600'000);
}

TEST_CASE("history_retention refuses zero, negative and nonsense", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "0s", "0", "-1h", "forever", "1h garbage",
                                    "\"\"", "~", "36501d", "9223372036854775807ms");
  CAPTURE(text);
  const auto result = crosscheck::config::load_config_text(
      "storage:\n  history_retention: " + text + "\n" + std::string(k_valid_tail), k_file);
  CHECK_FALSE(result.config);
  REQUIRE_FALSE(result.diagnostics.empty());
  CHECK_THAT(result.diagnostics.front().message, Catch::Contains("history_retention"));
}
