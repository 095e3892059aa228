// `crosscheck replay` over generated input: a skipped line has no effect at
// all (verdicts, known domains, the simulated clock), input is bounded, and
// the work is linear in the records, not in the time between them.
#include "cli/replay.hpp"
#include "cli/replay_input.hpp"
#include "config/config.hpp"
#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <random>
#include <sstream>

using crosscheck::cli::k_replay_max_echo_bytes;
using crosscheck::cli::ReplayOptions;
using crosscheck::cli::ReplayStats;
using crosscheck::cli::run_replay;
namespace cs = crosscheck::consensus;

namespace {

const std::string k_root = CROSSCHECK_SOURCE_DIR;
const std::string k_example = k_root + "/packaging/crosscheck.yaml";  // 3 local domains
const std::string k_two_oracles =
    k_root + "/tests/scenarios/two-oracles.yaml";  // 2 + peer oracle-b

struct Replayed {
  std::string output;
  std::string errors;
  ReplayStats stats;
};

Replayed replay(const std::string& input, const std::string& config_file,
                bool skip_settled_gaps = true) {
  const auto loaded = crosscheck::config::load_config(config_file);
  REQUIRE(loaded.ok());
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  ReplayOptions options;
  options.json = true;
  options.skip_settled_gaps = skip_settled_gaps;
  Replayed result;
  result.stats = run_replay(in, "input", *loaded.config, options, out, err);
  result.output = out.str();
  result.errors = err.str();
  return result;
}

// RFC 3339 text `seconds` after 2025-03-04T08:00:00Z.
std::string at(long long seconds) {
  const cs::WallTime base = *cs::parse_rfc3339("2025-03-04T08:00:00Z");
  return cs::format_rfc3339(base + std::chrono::seconds(seconds));
}

std::string observation(long long seconds, const std::string& target, const std::string& vantage,
                        const std::string& outcome, const std::string& extra = "") {
  return R"({"t": ")" + at(seconds) + R"(", "target": ")" + target + R"(", "vantage": ")" +
         vantage + R"(", "outcome": ")" + outcome + '"' + extra + "}\n";
}

// A real outage seen by two of three domains: cloudflare and quad9 (local)
// go down for 200 s while the peer's hetzner stays up. Every 10 s, from 0 s.
// With `unconfigured`, each moment also has lines from three nodes that are
// not peers, each line ending with those fields.
std::string two_of_three_outage(const std::optional<std::string>& unconfigured = std::nullopt) {
  std::string input;
  for (int i = 0; i < 60; ++i) {
    const bool down = i >= 20 && i < 40;
    input += observation(i * 10, "db-primary", "cloudflare", down ? "down" : "up");
    input += observation(i * 10, "db-primary", "quad9", down ? "down" : "up");
    input +=
        observation(i * 10, "db-primary", "oracle-b/hetzner", "up", R"(, "domain": "hetzner")");
    if (unconfigured) {
      for (const auto* vantage : {"oracle-c/v1", "oracle-d/v2", "oracle-e/v3"}) {
        input += observation(i * 10, "db-primary", vantage, "up", *unconfigured);
      }
    }
  }
  return input;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE(
    "a line naming an unconfigured peer's vantage is skipped and leaves verdicts and quorum "
    "exactly as without it",
    "[replay]") {
  const auto plain = replay(two_of_three_outage(), k_two_oracles);
  REQUIRE(plain.errors.empty());
  // The outage is confirmed by 2 of the 3 known domains, with no dispute.
  CHECK_THAT(plain.output,
             Catch::Contains(R"("verdict":"unhealthy")") &&
                 Catch::Contains("2 of 3 domains down (cloudflare, quad9); quorum 2") &&
                 !Catch::Contains("disputed"));

  const auto extra = GENERATE(as<std::string>{}, ", \"domain\": \"elsewhere\"", "");
  const auto padded = replay(two_of_three_outage(extra), k_two_oracles);
  CHECK(padded.output == plain.output);
  CHECK(padded.stats.records == plain.stats.records);
  CHECK(padded.stats.skipped == 3 * 60);
  CHECK_THAT(padded.errors,
             Catch::Contains("input:4: vantage 'oracle-c/v1': its node is not a configured peer "
                             "(peers: oracle-b) (line skipped)"));
}

TEST_CASE("a refused line with a later time does not move the clock for the lines after it",
          "[replay]") {
  std::vector<std::string> good;
  for (int i = 0; i < 12; ++i) {
    good.push_back(observation(i * 10, "db-primary", "cloudflare", "up"));
    good.push_back(observation(i * 10 + 3, "db-primary", "quad9", "up"));
  }
  const auto [bad, reason] = GENERATE(table<std::string, std::string>({
      {observation(86'400, "no-such-target", "cloudflare", "down"),
       "unknown target 'no-such-target'"},
      {observation(86'400, "db-primary", "no-such-vantage", "down"),
       "unknown vantage 'no-such-vantage'"},
      {observation(86'400, "db-primary", "oracle-z/x", "down"),
       "vantage 'oracle-z/x': its node is not a configured peer"},
      {observation(86'400, "db-primary", "quad9", "down", R"(, "domain": "google")"),
       "vantage 'quad9' is this node's, in domain 'quad9'"},
      {R"({"t": ")" + at(86'400) +
           R"(", "override": {"target": "nope", "verdict": "healthy", "reason": "r", "ttl": "1h"}})"
           "\n",
       "override: unknown target 'nope'"},
      {R"({"t": ")" + at(86'400) + R"(", "clear_override": "db-primary"})" + "\n",
       "clear_override: no override in force for 'db-primary'"},
  }));
  std::string expected_input;
  std::string input;
  for (std::size_t i = 0; i < good.size(); ++i) {
    expected_input += good[i];
    input += good[i];
    if (i == 3) {
      input += bad;  // line 5, a day ahead of the lines after it
    }
  }
  const auto expected = replay(expected_input, k_example);
  const auto replayed = replay(input, k_example);
  CHECK(replayed.stats.skipped == 1);
  CHECK(count_lines(replayed.errors) == 1);
  CHECK_THAT(replayed.errors, Catch::StartsWith("input:5: " + reason));
  CHECK_THAT(replayed.errors, !Catch::Contains("time goes backwards"));
  CHECK(replayed.output == expected.output);
  CHECK(replayed.stats.records == expected.stats.records);
  CHECK(replayed.stats.evaluations == expected.stats.evaluations);
}

TEST_CASE("a peer's vantage keeps the failure domain it was first seen in", "[replay]") {
  std::string input;
  for (int i = 0; i < 12; ++i) {
    input += observation(i * 10, "db-primary", "cloudflare", "down");
    // Only the first line names the domain; the others inherit it.
    input += observation(i * 10, "db-primary", "oracle-b/hetzner", "down",
                         i == 0 ? R"(, "domain": "hetzner")" : "");
  }
  input += observation(130, "db-primary", "oracle-b/hetzner", "down", R"(, "domain": "ovh")");
  const auto result = replay(input, k_two_oracles);
  // The peer may speak for no listed domain: its votes count as one domain,
  // named after it, whatever domain a line names.
  CHECK_THAT(result.output, Catch::Contains("2 of 3 domains down (cloudflare, oracle-b)"));
  CHECK(result.stats.skipped == 1);
  CHECK_THAT(result.errors,
             Catch::Contains("input:25: vantage 'oracle-b/hetzner' was first seen in domain "
                             "'hetzner'; a later line cannot move it to 'ovh'"));
}

TEST_CASE("an over-long line is skipped without being kept and the next line still applies",
          "[replay]") {
  std::string before;
  std::string after;
  for (int i = 0; i < 6; ++i) {
    before += observation(i * 10, "db-primary", "cloudflare", "up");
    before += observation(i * 10 + 3, "db-primary", "quad9", "up");
    after += observation(60 + i * 10, "db-primary", "cloudflare", "up");
    after += observation(63 + i * 10, "db-primary", "quad9", "up");
  }
  const std::string huge = R"({"t": ")" + at(59) +
                           R"(", "target": "db-primary", "vantage": "google", "outcome": "up", )"
                           R"("detail": ")" +
                           std::string(std::size_t{1024} * 1024, 'x') + "\"}\n";
  const auto expected = replay(before + after, k_example);
  const auto replayed = replay(before + huge + after, k_example);
  CHECK(replayed.output == expected.output);
  CHECK(replayed.stats.records == 24);
  CHECK(replayed.stats.skipped == 1);
  CHECK(replayed.errors == "input:13: line of " + std::to_string(huge.size() - 1) +
                               " bytes is longer than the limit of 65536 (line skipped)\n");
}

TEST_CASE("a message about a huge input value echoes at most 200 bytes of it", "[replay]") {
  const std::string huge(60'000, '#');  // within the line limit
  const std::string domain = R"(, "domain": ")" + huge + "\"";
  const std::string half(30'000, '#');  // two in one line
  const auto [input, config] = GENERATE_COPY(table<std::string, std::string>({
      {observation(0, huge, "cloudflare", "up"), k_example},
      {observation(0, "db-primary", huge, "up"), k_example},
      {observation(0, "db-primary", "oracle-b/" + huge, "up"), k_example},
      {observation(0, "db-primary", huge + "/v", "up"), k_two_oracles},
      {observation(0, "db-primary", "cloudflare", huge), k_example},
      {observation(0, "db-primary", "cloudflare", "up", domain), k_example},
      {observation(0, "db-primary", "cloudflare", "up", R"(, ")" + huge + R"(": 1)"), k_example},
      {R"({"t": ")" + huge + "\"}\n", k_example},
      {R"({"t": ")" + at(0) + R"(", "clear_override": ")" + huge + "\"}\n", k_example},
      {R"({"t": ")" + at(0) + R"(", "override": {"target": ")" + huge +
           R"(", "verdict": "healthy", "reason": "r", "ttl": "1h"}})" + "\n",
       k_example},
      // Three values in one message share the budget.
      {observation(0, "db-primary", "oracle-b/" + half, "up", R"(, "domain": ")" + half + "\"") +
           observation(1, "db-primary", "oracle-b/" + half, "up",
                       R"(, "domain": "2)" + half + "\""),
       k_two_oracles},
  }));
  const auto result = replay(input, config);
  REQUIRE(result.stats.skipped == 1);
  INFO(result.errors.substr(0, 80));
  const auto echoed =
      static_cast<std::size_t>(std::count(result.errors.begin(), result.errors.end(), '#'));
  CHECK(echoed <= k_replay_max_echo_bytes);
  CHECK(echoed >= 60);  // it does say which value
  CHECK_THAT(result.errors, Catch::Contains("…"));
  // The rest is our own words and the config's path.
  CHECK(result.errors.size() <= 300 + config.size());
}

TEST_CASE("records a day apart replay with a number of evaluations linear in the records",
          "[replay]") {
  constexpr int k_records = 2'000;
  std::string input;
  for (int i = 0; i < k_records; ++i) {
    input += observation(i * 86'400LL, "db-primary", i % 2 == 0 ? "cloudflare" : "quad9", "up");
  }
  const auto result = replay(input, k_two_oracles);
  CHECK(result.stats.records == k_records);
  CHECK(result.errors.empty());
  // two-oracles.yaml: stale_after 30s, dispute_grace 10s (one interval),
  // tick 1s: a gap is stepped for at most 30 + 10 + 4 ticks, then skipped.
  // Stepping every tick would be 86,400 a gap.
  CHECK(result.stats.evaluations <= static_cast<long long>(k_records) * (30 + 10 + 4 + 1));
}

TEST_CASE("what happens during a long gap fires at the same time as when every tick is evaluated",
          "[replay]") {
  std::string input;
  for (int i = 0; i < 4; ++i) {
    for (const auto* vantage : {"cloudflare", "quad9", "google"}) {
      input += observation(i * 10, "db-primary", vantage, "up");
      input += observation(i * 10, "api-gateway", vantage, "up");
    }
  }
  // Both healthy at 10s; the last observations are at 30s, then a 20-hour
  // gap, with an override on db-primary set at 30s for 2h.
  input += R"({"t": ")" + at(30) +
           R"(", "override": {"target": "db-primary", "verdict": "unhealthy", "reason": "drill", )"
           R"("ttl": "2h"}})"
           "\n";
  input += observation(72'000, "db-primary", "cloudflare", "up");
  const auto result = replay(input, k_example);
  REQUIRE(result.errors.empty());
  const auto line = [](long long seconds, const std::string& rest) {
    return R"({"t":")" + at(seconds) + R"(",)" + rest;
  };
  // api-gateway's votes go stale 30s after 30s: unknown on the next tick.
  CHECK_THAT(
      result.output,
      Catch::Contains(line(61, R"("target":"api-gateway","verdict":"unknown","held":"healthy")")));
  // db-primary is overridden at 30s; the override expires at 2h30s, on its
  // tick, and the (long stale) evidence rules again.
  CHECK_THAT(result.output, Catch::Contains(line(
                                30, R"("target":"db-primary","verdict":"unhealthy","held":null)")));
  CHECK_THAT(result.output,
             Catch::Contains(line(7'230, R"("event":"override_expired","target":"db-primary")")));
  CHECK_THAT(result.output,
             Catch::Contains(
                 line(7'230, R"("target":"db-primary","verdict":"unknown","held":"healthy")")));
  // 2 healthy, 1 unhealthy, 1 expiry, 2 unknown, and 2 gate lines: the
  // override lets a service failover through at 30s, nothing from 2h30s.
  CHECK(count_lines(result.output) == 8);
  CHECK(result.stats.evaluations < 200);  // not 72,000
}

namespace {

// A seeded random recording for packaging/crosscheck.yaml: every vantage's
// view of every target flips now and then (disputes, outages, flapping),
// with gaps of seconds and, now and then, of up to 15 minutes (staleness,
// grace and flap windows running out inside a gap), and overrides.
std::string random_world(unsigned seed) {
  std::mt19937 rng(seed);
  const auto chance = [&](unsigned percent) { return rng() % 100 < percent; };
  const std::array<std::string, 4> targets{"dynamodb-use1", "db-primary", "api-gateway",
                                           "root-zone"};
  const std::array<std::string, 3> vantages{"cloudflare", "quad9", "google"};
  std::map<std::pair<std::size_t, std::size_t>, bool> up;
  std::string input;
  long long t = 0;
  for (int step = 0; step < 150; ++step) {
    t += chance(8) ? 31 + rng() % 900 : 5 + rng() % 6;
    if (chance(4)) {
      input += R"({"t": ")" + at(t) + R"(", "override": {"target": ")" + targets[rng() % 3] +
               R"(", "verdict": ")" + (chance(50) ? "healthy" : "unhealthy") +
               R"(", "reason": "drill", "ttl": ")" + std::to_string(1 + rng() % 30) + "m\"}}\n";
    }
    for (std::size_t v = 0; v < vantages.size(); ++v) {
      for (std::size_t i = 0; i < targets.size(); ++i) {
        auto& state = up.try_emplace({v, i}, true).first->second;
        state = chance(12) ? !state : state;
        if (chance(85)) {
          input += observation(t, targets[i], vantages[v], state ? "up" : "down");
        }
      }
    }
  }
  return input;
}

}  // namespace

TEST_CASE("skipping settled gaps prints exactly what evaluating every tick prints", "[replay]") {
  bool saw_flapping_end = false;
  bool saw_override_expiry = false;
  bool saw_staleness = false;
  for (unsigned seed = 1; seed <= 6; ++seed) {
    INFO("seed " << seed);
    const auto input = random_world(seed);
    const auto every_tick = replay(input, k_example, false);
    const auto skipping = replay(input, k_example, true);
    CHECK(skipping.output == every_tick.output);
    CHECK(skipping.errors == every_tick.errors);
    CHECK(skipping.stats.evaluations < every_tick.stats.evaluations);
    saw_flapping_end =
        saw_flapping_end || every_tick.output.find("flapping_stopped") != std::string::npos;
    saw_override_expiry =
        saw_override_expiry || every_tick.output.find("override_expired") != std::string::npos;
    saw_staleness =
        saw_staleness || every_tick.output.find("only 0 of 3 domains up") != std::string::npos;
  }
  // The worlds do reach the rules that fire inside gaps.
  CHECK(saw_flapping_end);
  CHECK(saw_override_expiry);
  CHECK(saw_staleness);
}

TEST_CASE("an observation delivered three times replays exactly as once, and is no error",
          "[replay]") {
  // At-least-once delivery: a replay file merged from several logs. Before,
  // each copy moved the fall streak, so one failed probe per domain could
  // confirm an outage.
  const auto once = two_of_three_outage();
  std::string thrice;
  std::istringstream lines(once);
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    thrice += line + "\n" + line + "\n" + line + "\n";
    ++count;
  }
  const auto expected = replay(once, k_two_oracles);
  const auto actual = replay(thrice, k_two_oracles);
  REQUIRE_FALSE(expected.output.empty());
  CHECK(actual.output == expected.output);
  CHECK(actual.errors.empty());
  CHECK(actual.stats.skipped == 0);
  CHECK(actual.stats.duplicates == 2 * count);
  CHECK(actual.stats.records == expected.stats.records);
}

TEST_CASE(
    "a line telling another result for an observation already counted is a conflict, "
    "refused with its reason",
    "[replay]") {
  const auto once = two_of_three_outage();
  // Line 61 (t=200 s, cloudflare down) is followed by its contradiction.
  std::string input;
  std::istringstream lines(once);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    input += line + "\n";
    if (++number == 61) {
      const std::string down = R"("outcome": "down")";
      REQUIRE_THAT(line, Catch::Contains(down) && Catch::Contains(R"("cloudflare")"));
      auto liar = line;
      liar.replace(liar.find(down), down.size(), R"("outcome": "up")");
      input += liar + "\n";
    }
  }
  const auto expected = replay(once, k_two_oracles);
  const auto actual = replay(input, k_two_oracles);
  CHECK(actual.output == expected.output);
  CHECK(actual.stats.duplicates == 0);
  CHECK(count_lines(actual.errors) == 1);
  CHECK_THAT(actual.errors,
             Catch::StartsWith("input:62: observation refused: another result for the same "
                               "(target, vantage, time) was already counted"));
}
