// The bundled incidents (tests/scenarios/, made by scripts/make-scenarios.py)
// replayed through the engine: exact transitions against the reviewed
// expected files, plus the property each incident exists to prove.
#include "config/config.hpp"
#include "daemon/replay.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

namespace json = boost::json;
using crosscheck::daemon::ReplayOptions;
using crosscheck::daemon::run_replay;

namespace {

const std::string k_root = CROSSCHECK_SOURCE_DIR;

struct Replayed {
  std::string output;
  std::string errors;
  std::vector<json::object> lines;
  crosscheck::daemon::ReplayStats stats;

  std::vector<std::string> verdicts_of(const std::string& target) const {
    std::vector<std::string> out;
    for (const auto& line : lines) {
      if (line.contains("verdict") && line.at("target").as_string() == target) {
        out.emplace_back(line.at("verdict").as_string());
      }
    }
    return out;
  }
  int escalations(const std::string& kind) const {
    int count = 0;
    for (const auto& line : lines) {
      count += line.contains("escalation") && line.at("escalation").as_string() == kind ? 1 : 0;
    }
    return count;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Replayed replay(const std::string& scenario, const std::string& config_file) {
  const auto loaded = crosscheck::config::load_config(k_root + "/" + config_file);
  REQUIRE(loaded.ok());
  std::ifstream input(k_root + "/tests/scenarios/" + scenario + ".jsonl");
  REQUIRE(input);
  std::ostringstream out;
  std::ostringstream err;
  ReplayOptions options;
  options.json = true;
  Replayed result;
  result.stats = run_replay(input, scenario, *loaded.config, options, out, err);
  result.output = out.str();
  result.errors = err.str();
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    result.lines.push_back(json::parse(line).as_object());
  }
  CHECK(result.errors.empty());
  CHECK(result.stats.skipped == 0);
  CHECK(result.output == read_file(k_root + "/tests/scenarios/" + scenario + ".expected.jsonl"));
  return result;
}

const std::string k_example = "packaging/crosscheck.yaml";

}  // namespace

TEST_CASE(
    "an empty DNS answer from one domain is disputed, held healthy and escalated, never "
    "unhealthy",
    "[scenario]") {
  const auto result = replay("empty-dns-answer", k_example);
  CHECK(result.verdicts_of("dynamodb-use1") ==
        std::vector<std::string>{"healthy", "disputed", "healthy"});
  CHECK(result.escalations("dispute") == 1);
  CHECK(result.escalations("dispute_resolved") == 1);
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("verdict").as_string() == "disputed") {
      CHECK(line.at("held").as_string() == "healthy");
      CHECK_THAT(std::string(line.at("reason").as_string()),
                 Catch::Contains("last-known-good addresses: fix DNS, do not fail over"));
    }
  }
}

TEST_CASE("a congested vantage turns suspect and every verdict stays healthy", "[scenario]") {
  const auto result = replay("congested-vantage", k_example);
  for (const auto* target : {"dynamodb-use1", "db-primary", "api-gateway", "root-zone"}) {
    CHECK(result.verdicts_of(target) == std::vector<std::string>{"healthy"});
  }
  CHECK(result.escalations("vantage_suspect") == 1);
  CHECK(result.escalations("vantage_cleared") == 1);
  CHECK(result.escalations("dispute") == 0);
}

TEST_CASE("a true outage goes healthy to unhealthy with no dispute and recovers after rise",
          "[scenario]") {
  const auto result = replay("true-outage", k_example);
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  CHECK(result.escalations("dispute") == 0);
}

TEST_CASE("a flapping vantage is held as one flapping episode instead of paging every cycle",
          "[scenario]") {
  const auto result = replay("flapping-vantage", k_example);
  const auto verdicts = result.verdicts_of("api-gateway");
  CHECK(verdicts.back() == "healthy");
  CHECK(std::count(verdicts.begin(), verdicts.end(), "unhealthy") == 0);
  CHECK(result.escalations("flapping") == 1);
  CHECK(result.escalations("flapping_stopped") == 1);
  // Twenty minutes of 70-second cycles would be 17 disputes without the hold.
  CHECK(result.escalations("dispute") <= 2);
}

TEST_CASE("silent peers and vantages make verdicts unknown holding healthy, never unhealthy",
          "[scenario]") {
  const auto result = replay("silent-peers", "tests/scenarios/two-oracles.yaml");
  for (const auto* target : {"dynamodb-use1", "db-primary"}) {
    CHECK(result.verdicts_of(target) == std::vector<std::string>{"healthy", "unknown", "healthy"});
  }
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("verdict").as_string() == "unknown") {
      CHECK(line.at("held").as_string() == "healthy");
    }
  }
}

TEST_CASE("an operator override wins until it expires, then the evidence rules", "[scenario]") {
  const auto result = replay("override-expires", k_example);
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  REQUIRE(result.lines.size() == 4);
  CHECK(result.lines[2].at("event").as_string() == "override_expired");
  CHECK(result.lines[2].at("t").as_string() == "2025-11-02T22:13:00Z");
}

// Issue 14: one bundled incident per class of false-failover bug, each with
// the property it exists to show (scripts/make-scenarios.py says how).

TEST_CASE("an override expiring inside dispute_grace never republishes an unhealthy verdict",
          "[scenario]") {
  const auto result = replay("override-expires-in-grace", k_example);
  // Confirmed unhealthy, overridden healthy, then quad9 alone says down:
  // the published verdict (healthy) is kept through the grace, then held.
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy", "disputed"});
  bool expired = false;
  for (const auto& line : result.lines) {
    expired = expired || (line.contains("event") && line.at("event") == "override_expired");
    if (expired && line.contains("verdict")) {
      CHECK(line.at("verdict") != "unhealthy");
    }
  }
  CHECK(expired);
}

TEST_CASE(
    "every observation delivered three times counts once: one blip per domain is no "
    "outage",
    "[scenario]") {
  const auto result = replay("duplicated-observations", k_example);
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy"});
  CHECK(result.stats.duplicates == 2 * result.stats.records);
  CHECK(result.escalations("dispute") == 0);
}

TEST_CASE(
    "a canary down from every domain is a broken canary: no observer turns suspect and "
    "a real outage is still confirmed",
    "[scenario]") {
  const auto result = replay("broken-canary", k_example);
  CHECK(result.escalations("canary_down") == 1);
  CHECK(result.escalations("vantage_suspect") == 0);
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy", "unhealthy"});
}

TEST_CASE("a peer claiming a local domain counts as its own domain and cannot mask an outage",
          "[scenario]") {
  const auto result = replay("peer-claims-local-domain", "tests/scenarios/two-oracles.yaml");
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.escalations("split") == 0);
  CHECK(result.escalations("dispute") == 0);
}

TEST_CASE("a target overridden healthy spends none of the blast-radius budget", "[scenario]") {
  const auto result = replay("blast-radius-override", "tests/scenarios/five-services.yaml");
  // svc-a is down but published healthy by override: 2 of 5 unhealthy
  // (svc-b, svc-c) is within max_unhealthy_fraction 0.5.
  CHECK(result.verdicts_of("svc-b") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.verdicts_of("svc-c") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.escalations("blast_radius") == 0);
}

TEST_CASE("the vantage that sees a real outage first is not suspected for it", "[scenario]") {
  const auto result = replay("outage-seen-first-by-one", k_example);
  CHECK(result.escalations("vantage_suspect") == 0);
  CHECK(result.escalations("dispute") == 0);
  for (const auto* target : {"dynamodb-use1", "db-primary", "api-gateway"}) {
    CHECK(result.verdicts_of(target) == std::vector<std::string>{"healthy", "unhealthy"});
  }
}

TEST_CASE(
    "two lying vantages in two split domains never fail the target over, and the split "
    "escalates once",
    "[scenario]") {
  const auto result = replay("split-domains", "tests/scenarios/split-domains.yaml");
  const auto verdicts = result.verdicts_of("db-primary");
  CHECK(std::count(verdicts.begin(), verdicts.end(), "unhealthy") == 0);
  CHECK(result.escalations("split") == 1);
  CHECK(result.escalations("split_resolved") == 1);
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("verdict") == "unknown") {
      CHECK(line.at("held") == "healthy");
      CHECK_THAT(std::string(line.at("reason").as_string()),
                 Catch::Contains("2 split (cloudflare, quad9"));
    }
  }
}

TEST_CASE("a suspect liar claiming everything is up cannot get the honest vantage suspected",
          "[scenario]") {
  // Found by a hostile review: c fails the canary and turns suspect, then
  // claims every target is up; b goes silent; t1 and t2 really go down,
  // seen by a alone. c's votes no longer make a look alone: a real outage
  // seen by one domain is disputed and escalated, never hidden.
  const auto result =
      replay("suspect-liar-frames-honest", "tests/scenarios/three-plus-canary.yaml");
  CHECK(result.escalations("vantage_suspect") == 1);  // c only
  for (const auto& line : result.lines) {
    if (line.contains("escalation") && line.at("escalation") == "vantage_suspect") {
      CHECK(line.at("vantage") == "c");
    }
  }
  CHECK(result.verdicts_of("t1").back() == "disputed");
  CHECK(result.verdicts_of("t2").back() == "disputed");
}

TEST_CASE("a broken canary pages once and recovers only when a domain sees it up", "[scenario]") {
  // Found by a hostile review: a canary nobody sees up, while one vantage
  // misses a few probes every 2 minutes, paged canary_down/canary_recovered
  // every 2 minutes under new keys.
  const auto result = replay("canary-churn", "tests/scenarios/three-plus-canary.yaml");
  CHECK(result.escalations("canary_down") == 1);
  CHECK(result.escalations("canary_recovered") == 0);
  CHECK(result.escalations("vantage_suspect") == 0);
}
