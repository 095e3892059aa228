// The bundled incidents (tests/scenarios/, made by scripts/make-scenarios.py)
// replayed through the engine: exact transitions against the reviewed
// expected files, plus the property each incident exists to prove.
#include "cli/replay.hpp"
#include "config/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace json = boost::json;
using crosscheck::cli::ReplayOptions;
using crosscheck::cli::run_replay;

namespace {

const std::string k_root = CROSSCHECK_SOURCE_DIR;

struct Replayed {
  std::string output;
  std::string errors;
  std::vector<json::object> lines;
  crosscheck::cli::ReplayStats stats;

  std::vector<std::string> verdicts_of(const std::string& target) const {
    std::vector<std::string> out;
    for (const auto& line : lines) {
      if (line.contains("verdict") && line.at("target").as_string() == target) {
        out.emplace_back(line.at("verdict").as_string());
      }
    }
    return out;
  }
  // The escalation lines of one kind, in order.
  std::vector<json::object> escalations_of(const std::string& kind) const {
    std::vector<json::object> out;
    for (const auto& line : lines) {
      if (line.contains("escalation") && line.at("escalation").as_string() == kind) {
        out.push_back(line);
      }
    }
    return out;
  }
  // "scope service/dns/any" for each gate line of `target`: the scope and
  // the decisions of the service, dns and any failover gates, in order.
  std::vector<std::string> gates_of(const std::string& target) const {
    std::vector<std::string> out;
    for (const auto& line : lines) {
      if (line.contains("gate_unhealthy") && line.at("target").as_string() == target) {
        const auto& gate = line.at("gate_unhealthy").as_object();
        out.push_back(std::string(line.at("scope").as_string()) + " " +
                      std::string(gate.at("service").as_string()) + "/" +
                      std::string(gate.at("dns").as_string()) + "/" +
                      std::string(gate.at("any").as_string()));
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

// Replays `input` (named `name` in messages) with --json.
Replayed replay_stream(std::istream& input, const std::string& name,
                       const std::string& config_file) {
  const auto loaded = crosscheck::config::load_config(k_root + "/" + config_file);
  REQUIRE(loaded.ok());
  std::ostringstream out;
  std::ostringstream err;
  ReplayOptions options;
  options.json = true;
  Replayed result;
  result.stats = run_replay(input, name, *loaded.config, options, out, err);
  result.output = out.str();
  result.errors = err.str();
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    result.lines.push_back(json::parse(line).as_object());
  }
  return result;
}

// Replays a bundled scenario and compares it with its expected file. Every
// line is expected to replay unless `skipped` says how many must not.
Replayed replay(const std::string& scenario, const std::string& config_file, int skipped = 0) {
  std::ifstream input(k_root + "/tests/scenarios/" + scenario + ".jsonl");
  REQUIRE(input);
  auto result = replay_stream(input, scenario, config_file);
  CHECK(result.stats.skipped == skipped);
  if (skipped == 0) {
    CHECK(result.errors.empty());
  }
  CHECK(result.output == read_file(k_root + "/tests/scenarios/" + scenario + ".expected.jsonl"));
  return result;
}

// The "NAME:LINE: reason (line skipped)" lines of a replay's errors.
std::vector<std::string> error_lines(const Replayed& result) {
  std::vector<std::string> out;
  std::istringstream lines(result.errors);
  for (std::string line; std::getline(lines, line);) {
    out.push_back(line);
  }
  return out;
}

// Exactly one vantage_suspect escalation, for `vantage`, naming `why`.
void check_suspected_once(const Replayed& result, const std::string& vantage,
                          const std::string& why) {
  const auto suspects = result.escalations_of("vantage_suspect");
  REQUIRE(suspects.size() == 1);
  CHECK(suspects.front().at("vantage").as_string() == vantage);
  CHECK_THAT(std::string(suspects.front().at("reason").as_string()), Catch::Contains(why));
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

TEST_CASE("a service failover proceeds on a real outage and never on a DNS-only failure",
          "[scenario][scope]") {
  const auto outage = replay("true-outage", k_example);
  // Connection refused from every domain: the service itself fails.
  CHECK(outage.gates_of("db-primary") == std::vector<std::string>{"service proceed/hold/proceed",
                                                                  "none hold/hold/proceed",
                                                                  "none hold/hold/hold"});
  const auto result = replay("failover-scope", k_example);
  CHECK(result.verdicts_of("dynamodb-use1") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy", "unhealthy", "healthy"});
  CHECK(result.gates_of("dynamodb-use1") ==
        std::vector<std::string>{
            "dns hold/proceed/proceed",      // DNS fails, the old addresses answer
            "service proceed/hold/proceed",  // and then they do not either
            "none hold/hold/proceed",        // recovering: a vote is up again
            "none hold/hold/hold",
            "none hold/hold/proceed",  // one domain at DNS, one at connect
            "none hold/hold/hold",
        });
  for (const auto* target : {"db-primary", "api-gateway", "root-zone"}) {
    CHECK(result.gates_of(target).empty());  // never unhealthy: no failover ever proceeds
  }
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
  REQUIRE(result.lines.size() == 6);
  CHECK(result.lines[3].at("event").as_string() == "override_expired");
  CHECK(result.lines[3].at("t").as_string() == "2025-11-02T22:13:00Z");
  // The override is the operator's word that the service is down: a service
  // failover proceeds while it lasts, and no failover once it expired.
  CHECK(result.gates_of("db-primary") ==
        std::vector<std::string>{"service proceed/hold/proceed",
                                 "none otherwise/otherwise/otherwise"});
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

// Issue 14, the other side of each two-sided boundary: each scenario below
// pairs with one above, and says which broken rule would make it fail.

TEST_CASE(
    "a second observation with the same target, vantage and time but another outcome is "
    "refused as a conflict: the first stays and the outage is confirmed",
    "[scenario]") {
  // Pairs with duplicated-observations (an identical copy counts once,
  // silently). Fails if a conflicting copy replaces the first (every vote
  // stays up: healthy only), counts as one more probe (down, up, down...
  // never reaches fall 2), or is ignored like a copy (no error, skipped 0).
  const auto result = replay("conflicting-observations", k_example, 54);
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.stats.duplicates == 0);
  const auto errors = error_lines(result);
  CHECK(errors.size() == 54);
  for (const auto& line : errors) {
    CHECK_THAT(line, Catch::Contains("observation refused: another result for the same "
                                     "(target, vantage, time) was already counted") &&
                         Catch::EndsWith("(line skipped)"));
  }
}

TEST_CASE("a canary down from one domain only makes that vantage suspect, not a broken canary",
          "[scenario]") {
  // Pairs with broken-canary (down from every domain: canary_down, nobody
  // suspect). Fails if a canary down from any domain were judged broken
  // (canary_down, quad9 not suspect) or the canary rule were dropped (the
  // fraction rule needs 2 lone targets; quad9 has 1): either way quad9's
  // lone db-primary down would count and db-primary turn disputed.
  const auto result = replay("canary-down-one-domain", k_example);
  CHECK(result.escalations("canary_down") == 0);
  check_suspected_once(result, "quad9", "canary 'root-zone' is down from this vantage");
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy"});
  CHECK(result.verdicts_of("root-zone") == std::vector<std::string>{"healthy"});
  CHECK(result.escalations("dispute") == 0);
}

TEST_CASE("a target overridden unhealthy spends blast-radius budget", "[scenario]") {
  // Pairs with blast-radius-override (overridden healthy: spends nothing).
  // svc-a overridden unhealthy, then svc-b and svc-c go down together: svc-b
  // makes 2 of 5, svc-c would make 3 of 5 > 0.5 and is held. Fails if the
  // guard counted only evidence-confirmed targets (svc-c confirmed, no
  // blast_radius) or counted the override twice (svc-b held too).
  const auto result =
      replay("blast-radius-override-unhealthy", "tests/scenarios/five-services.yaml");
  CHECK(result.verdicts_of("svc-a") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.verdicts_of("svc-b") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.verdicts_of("svc-c") == std::vector<std::string>{"healthy", "disputed"});
  CHECK(result.escalations("blast_radius") == 1);
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("target") == "svc-c" &&
        line.at("verdict") == "disputed") {
      CHECK(line.at("held") == "healthy");
      CHECK_THAT(std::string(line.at("reason").as_string()),
                 Catch::StartsWith("blast radius: confirming would make 3 of 5 targets"));
    }
  }
}

TEST_CASE("a vantage that alone sees most targets down past the grace is paged as suspect",
          "[scenario]") {
  // Pairs with outage-seen-first-by-one (alone for seconds: no page). quad9
  // alone sees 3 of 3 services down for four minutes, its canary up, so only
  // the suspect_fraction rule can catch it. Fails if suspicion never ends
  // its grace or the fraction rule is dropped (no vantage_suspect; the lone
  // downs become three disputes), or if a pending suspect's downs were not
  // held (disputes while its suspicion is pending).
  const auto result = replay("vantage-alone-past-grace", k_example);
  check_suspected_once(result, "quad9", "alone sees 3 of 3 targets down");
  CHECK(result.escalations("vantage_cleared") == 1);
  CHECK(result.escalations("dispute") == 0);
  for (const auto* target : {"dynamodb-use1", "db-primary", "api-gateway", "root-zone"}) {
    CHECK(result.verdicts_of(target) == std::vector<std::string>{"healthy"});
  }
}

TEST_CASE(
    "a domain whose fresh vantages all vote down counts down: two such domains confirm an "
    "outage without a split",
    "[scenario]") {
  // Pairs with split-domains (vantages disagree: split, never unhealthy).
  // cloudflare-b is stale, so cloudflare is down on cloudflare-a's word;
  // both quad9 vantages vote down. Fails if a domain needed every vantage
  // (stale ones included) to vote down (D = 1: disputed, escalated), or if
  // a domain with two vantages were split whenever one is stale.
  const auto result = replay("split-domains-all-down", "tests/scenarios/split-domains.yaml");
  CHECK(result.verdicts_of("db-primary") == std::vector<std::string>{"healthy", "unhealthy"});
  CHECK(result.escalations("split") == 0);
  CHECK(result.escalations("dispute") == 0);
  REQUIRE(result.lines.size() == 3);
  CHECK(result.lines[1].at("reason") == "2 of 3 domains down (cloudflare, quad9); quorum 2");
  CHECK(result.gates_of("db-primary") == std::vector<std::string>{"service proceed/hold/proceed"});
}

TEST_CASE("skipped replay lines have no effect: the output is that of the file without them",
          "[scenario]") {
  // Each bad line would change the output if any part of it were applied:
  // one is an hour ahead (the clock would jump, every vote go stale), the
  // others say down while db-primary recovers (a vantage's rise would
  // restart) or name an unconfigured peer (a fourth domain). Fails if a
  // skipped line moved the clock, reached the engine or registered a
  // vantage or domain.
  const auto result = replay("skipped-lines", k_example, 8);
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  std::set<int> bad;
  for (const auto& line : error_lines(result)) {
    CHECK_THAT(line, Catch::StartsWith("skipped-lines:") && Catch::EndsWith("(line skipped)"));
    bad.insert(std::stoi(line.substr(line.find(':') + 1)));
  }
  CHECK(bad.size() == 8);
  std::ifstream input(k_root + "/tests/scenarios/skipped-lines.jsonl");
  std::string kept;
  int number = 0;
  for (std::string line; std::getline(input, line);) {
    if (!bad.contains(++number)) {
      kept += line + "\n";
    }
  }
  std::istringstream clean(kept);
  const auto without = replay_stream(clean, "skipped-lines (clean)", k_example);
  CHECK(without.errors.empty());
  CHECK(without.stats.records == result.stats.records);
  CHECK(without.output == result.output);
}

TEST_CASE(
    "a child failing behind its failed parent is unreachable: its gates hold, the parent's "
    "proceed",
    "[scenario][depends_on]") {
  const auto result = replay("parent-down", "tests/scenarios/parent-down.yaml");
  CHECK(result.verdicts_of("lb-eu") == std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  // Down in every domain with lb-eu: unreachable, never unhealthy; later
  // down on its own: unhealthy by its own votes.
  CHECK(result.verdicts_of("app-eu") ==
        std::vector<std::string>{"healthy", "unreachable", "healthy", "unhealthy", "healthy"});
  CHECK(result.verdicts_of("web-eu") == std::vector<std::string>{"healthy"});
  CHECK(result.gates_of("lb-eu").front() == "service proceed/hold/proceed");
  // app-eu's first gate line is from its own outage: while unreachable no
  // failover of it ever proceeded.
  CHECK(result.gates_of("app-eu") == std::vector<std::string>{"service proceed/hold/proceed",
                                                              "none hold/hold/proceed",
                                                              "none hold/hold/hold"});
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("verdict").as_string() == "unreachable") {
      CHECK_THAT(std::string(line.at("reason").as_string()),
                 Catch::StartsWith("parent lb-eu is unhealthy; "));
      CHECK(line.at("held").as_string() == "healthy");
      CHECK(line.at("t").as_string() == "2025-10-20T08:05:23Z");
    }
    CHECK_FALSE(line.contains("escalation"));  // nothing pages: a real outage, agreed at once
  }
}

TEST_CASE(
    "in a maintenance window every gate holds and the escalation opened there is never sent, "
    "until it outlives the window",
    "[scenario][maintenance]") {
  const auto result = replay("maintenance-window", "tests/scenarios/maintenance.yaml");
  // db-primary fails at 07:12 inside its window (07:10 to 07:25Z): unhealthy,
  // but the first failover that proceeds is at the window's end.
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  REQUIRE_FALSE(result.gates_of("db-primary").empty());
  CHECK(result.gates_of("db-primary").front() == "service proceed/hold/proceed");
  std::vector<std::string> notes;
  for (const auto& line : result.lines) {
    if (line.contains("gate_unhealthy") && line.at("target").as_string() == "db-primary") {
      CHECK(line.at("t").as_string() >= "2025-10-20T07:25:00Z");
    }
    if (line.contains("event")) {
      notes.push_back(std::string(line.at("t").as_string()) + " " +
                      std::string(line.at("event").as_string()) + " " +
                      std::string(line.at("target").as_string()));
    }
  }
  CHECK(notes == std::vector<std::string>{
                     "2025-10-20T07:10:00Z maintenance_started db-primary",
                     "2025-10-20T07:25:00Z maintenance_ended db-primary",
                     "2025-10-20T07:40:00Z maintenance_started api-gateway",
                     "2025-10-20T07:50:00Z maintenance_ended api-gateway",
                 });
  // api-gateway: a dispute outside any window is sent (no silenced field);
  // one opened inside its window is silenced, closed silently at the end,
  // and opened again, sent, because quad9 still disagrees.
  std::vector<std::string> escalations;
  for (const auto& line : result.lines) {
    if (line.contains("escalation")) {
      escalations.push_back(std::string(line.at("escalation").as_string()) + " " +
                            std::string(line.at("key").as_string()) +
                            (line.contains("silenced") ? " silenced" : ""));
    }
  }
  CHECK(escalations == std::vector<std::string>{
                           "dispute dispute/api-gateway/2",
                           "dispute_resolved dispute/api-gateway/2",
                           "dispute dispute/api-gateway/4 silenced",
                           "dispute_resolved dispute/api-gateway/4 silenced",
                           "dispute dispute/api-gateway/4.2",
                           "dispute_resolved dispute/api-gateway/4.2",
                       });
}

TEST_CASE(
    "a recorded action holds the failover that would proceed until it is acknowledged, and a "
    "second one holds again",
    "[scenario][cooldown]") {
  const auto result = replay("cooldown", k_example);
  CHECK(result.verdicts_of("db-primary") ==
        std::vector<std::string>{"healthy", "unhealthy", "healthy"});
  std::vector<std::string> gates;
  for (const auto& line : result.lines) {
    if (line.contains("gate_unhealthy") && line.at("target").as_string() == "db-primary") {
      gates.push_back(std::string(line.at("t").as_string()) + " " +
                      std::string(line.at("gate_unhealthy").at("service").as_string()));
    }
  }
  // Proceeds once confirmed; the action at 07:08 holds it; the ack at 07:20
  // lets it proceed; the second action at 07:22 holds it again.
  CHECK(gates ==
        std::vector<std::string>{"2025-10-20T07:05:13Z proceed", "2025-10-20T07:08:00Z hold",
                                 "2025-10-20T07:20:00Z proceed", "2025-10-20T07:22:00Z hold"});
}

TEST_CASE(
    "a group is unhealthy only once its confirmed members break its threshold, and its gate "
    "holds in its cooldown and its window",
    "[scenario][groups]") {
  const auto result = replay("group-threshold", "tests/scenarios/groups.yaml");
  // db-1 alone down: still 2 of 3 healthy. db-2 disputed (quad9 alone):
  // below the threshold, not confirmed. Both confirmed: unhealthy. Inside
  // the group's own window (09:40 to 09:50) its members still count: the
  // verdict is shown (unhealthy while two fail) and every gate holds.
  CHECK(result.verdicts_of("group:db-cluster") == std::vector<std::string>{"healthy", "disputed",
                                                                           "unhealthy", "healthy",
                                                                           "unhealthy", "healthy"});
  std::vector<std::string> gates;
  for (const auto& line : result.lines) {
    if (line.contains("gate_unhealthy") && line.at("target").as_string() == "group:db-cluster") {
      gates.push_back(std::string(line.at("t").as_string()) + " " +
                      std::string(line.at("gate_unhealthy").at("service").as_string()));
    }
  }
  // Proceeds once both members are confirmed; the action recorded on the
  // group at 09:24 holds it until the ack at 09:26; it never proceeds in
  // the window (09:40 to 09:50).
  CHECK(gates ==
        std::vector<std::string>{"2025-10-20T09:20:20Z proceed", "2025-10-20T09:24:00Z hold",
                                 "2025-10-20T09:26:00Z proceed", "2025-10-20T09:30:03Z hold",
                                 "2025-10-20T09:30:13Z hold"});
  // The group's action held its members too.
  CHECK(result.gates_of("db-1") ==
        std::vector<std::string>{"service proceed/hold/proceed", "service hold/hold/hold",
                                 "service proceed/hold/proceed", "none hold/hold/proceed",
                                 "none hold/hold/hold"});
  for (const auto& line : result.lines) {
    if (line.contains("verdict") && line.at("target").as_string() == "group:db-cluster" &&
        line.at("verdict").as_string() == "unhealthy") {
      const auto t = line.at("t").as_string();
      CHECK((t == "2025-10-20T09:20:20Z" || t == "2025-10-20T09:42:23Z"));
    }
  }
}
