// `latency:` (docs/degraded.md): defaults and per-target objectives, `off`,
// inheritance, and every error with its position.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;
using namespace std::chrono_literals;

TEST_CASE("latency objectives: defaults, a target's own, and off", "[config][latency]") {
  const auto config = load_valid(std::string(k_valid_vantages) +
                                 "defaults: {interval: 10s, latency: {p90: 300ms}}\n"
                                 "targets:\n"
                                 "  - {name: inherits, dns: {name: a.example}}\n"
                                 "  - name: own\n"
                                 "    dns: {name: b.example}\n"
                                 "    latency: {p99: 1500ms, window: 5m}\n"
                                 "  - {name: none, dns: {name: c.example}, latency: off}\n");
  REQUIRE(config.targets.size() == 3);
  REQUIRE(config.targets[0].timing.latency);
  CHECK(config.targets[0].timing.latency->quantile == 0.9);
  CHECK(config.targets[0].timing.latency->threshold == 300ms);
  CHECK(config.targets[0].timing.latency->window == 1min);  // the default window
  REQUIRE(config.targets[1].timing.latency);
  CHECK(config.targets[1].timing.latency->quantile == 0.99);
  CHECK(config.targets[1].timing.latency->threshold == 1500ms);
  CHECK(config.targets[1].timing.latency->window == 5min);
  CHECK_FALSE(config.targets[2].timing.latency);
  CHECK(crosscheck::config::latency_quantile_name(0.99) == "p99");
}

TEST_CASE("every latency error says what is wrong and where", "[config][latency]") {
  auto [lines, expected] = GENERATE(table<std::string, std::string>({
      {"    latency: {p90: 300ms, p99: 1s}\n",
       "test.yaml:8:14: error: targets[0].latency needs exactly one quantile (p50, p75, p90, p95, "
       "p99 or p999) with its threshold, like { p90: 300ms }"},
      {"    latency: {window: 1m}\n",
       "test.yaml:8:14: error: targets[0].latency needs exactly one quantile (p50, p75, p90, p95, "
       "p99 or p999) with its threshold, like { p90: 300ms }"},
      {"    latency: {p80: 300ms}\n",
       "test.yaml:8:15: error: unknown key 'p80' in targets[0].latency (did you mean 'p50'?)"},
      {"    latency: {p90: 0s}\n",
       "test.yaml:8:20: error: targets[0].latency.p90 must be greater than zero, got '0s'"},
      {"    latency: {p90: fast}\n",
       "test.yaml:8:20: error: invalid duration 'fast' for targets[0].latency.p90: expected a "
       "whole number and a unit (ms, s, m, h, d), e.g. 10s"},
      {"    latency: {p90: 300ms, window: 2h}\n",
       "test.yaml:8:35: error: latency window 2h for targets[0].latency is longer than 1h"},
      {"    latency: on\n",
       "test.yaml:8:14: error: invalid latency 'on' for targets[0].latency: expected off or a "
       "mapping like { p90: 300ms, window: 1m }"},
      {"    latency: {p90: 2s}\n",
       "test.yaml:8:14: error: targets[0] 'db': latency p90 (2s) must be below timeout (2s): a "
       "check slower than the timeout is a down, never slow"},
      {"    interval: 20s\n    latency: {p90: 300ms, window: 90s}\n",
       "test.yaml:9:14: error: targets[0] 'db': latency window (90s) must hold at least 5 "
       "checks and the scheduler's jitter: at least 6 x interval = 2m, or the objective "
       "seldom votes"},
      {"    interval: 10s\n    latency: {p90: 300ms, window: 50s}\n",
       "test.yaml:9:14: error: targets[0] 'db': latency window (50s) must hold at least 5 "
       "checks and the scheduler's jitter: at least 6 x interval = 1m, or the objective "
       "seldom votes"},
  }));
  const std::string yaml = std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - name: db\n"
                           "    dns: {name: db.example}\n" +
                           lines;
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a target's interval is checked against the latency window it inherits",
          "[config][latency]") {
  const std::string yaml = std::string(k_valid_vantages) +
                           "defaults: {latency: {p95: 500ms, window: 1m}}\n"
                           "targets:\n"
                           "  - {name: db, dns: {name: db.example}, interval: 30s, stale_after: "
                           "40s, timeout: 2s}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:7:51: error: targets[0] 'db': latency window (1m) must hold at least 5 "
              "checks and the scheduler's jitter: at least 6 x interval = 3m, or the objective "
              "seldom votes"});
}
