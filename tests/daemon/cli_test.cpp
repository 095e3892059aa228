#include "cli/cli.hpp"

#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using crosscheck::cli::run_cli;
using crosscheck::testing::TempFile;
namespace fs = std::filesystem;

namespace {

const std::string k_root = CROSSCHECK_SOURCE_DIR;
const std::string k_example = k_root + "/packaging/crosscheck.yaml";

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Run run;
  run.status = run_cli(args, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

}  // namespace

TEST_CASE("check-config prints a one-line summary and exits 0 for a valid file", "[cli]") {
  const auto run = cli({"check-config", k_example});
  CHECK(run.status == 0);
  CHECK(run.out == k_example +
                       ": ok: 4 targets, 3 vantages, 3 failure domains (cloudflare, quad9, "
                       "google), 0 peers; quorum down 2 (majority), up 2 (majority)\n");
  CHECK(run.err.empty());
}

TEST_CASE("check-config exits 2 and reports every error with its position", "[cli]") {
  const TempFile file("bad.yaml",
                      "vantages:\n"
                      "  - name: a\n"
                      "    domain: a\n"
                      "    resolver: 127.0.0.1\n"
                      "targets:\n"
                      "  - name: t\n"
                      "    dns: { name: example.test }\n"
                      "    intreval: 5s\n"
                      "    rise: 0\n");
  const auto run = cli({"check-config", file.path()});
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains(file.path() + ":8:5: error: unknown key 'intreval'"));
  CHECK_THAT(run.err, Catch::Contains(file.path() + ":9:11: error:"));
  CHECK_THAT(run.err, Catch::Contains("warning: only 1 failure domain"));
  CHECK_THAT(run.err, Catch::EndsWith(file.path() + ": 2 errors\n"));
}

TEST_CASE("check-config without a file is a usage error", "[cli]") {
  CHECK(cli({"check-config"}).status == 2);
  CHECK(cli({"check-config", "a", "b"}).status == 2);
}

TEST_CASE("replay skips bad lines, says which, and exits 1", "[cli]") {
  const TempFile file(
      "obs.jsonl",
      R"({"t": "2025-10-20T06:48:00Z", "target": "db-primary", "vantage": "quad9", "outcome": "up"})"
      "\n"
      "garbage\n"
      "\n"
      R"({"t": "2025-10-20T06:48:00Z", "target": "nope", "vantage": "quad9", "outcome": "up"})"
      "\n"
      R"({"t": "2025-10-20T06:48:01Z", "target": "db-primary", "vantage": "mars", "outcome": "up"})"
      "\n"
      R"({"t": "2025-10-20T06:47:00Z", "target": "db-primary", "vantage": "quad9", "outcome": "up"})"
      "\n");
  const auto run = cli({"replay", file.path(), "--config", k_example});
  CHECK(run.status == 1);
  const std::string name = file.path();
  CHECK_THAT(run.err, Catch::Contains(name + ":2: not valid JSON: syntax error (line skipped)"));
  CHECK_THAT(run.err, Catch::Contains(name + ":4: unknown target 'nope'"));
  CHECK_THAT(run.err,
             Catch::Contains(name + ":5: unknown vantage 'mars': expected one of cloudflare, "
                                    "quad9, google, or NODE/VANTAGE for a peer's (line skipped)"));
  // Line 5 (06:48:01) was skipped, so it did not move the clock.
  CHECK_THAT(run.err, Catch::Contains(name + ":6: time goes backwards: 2025-10-20T06:47:00Z after "
                                             "2025-10-20T06:48:00Z (line skipped)"));
  CHECK_THAT(
      run.out,
      Catch::Contains(
          "1 record replayed, 4 skipped, 0 duplicates ignored; 0 verdict changes, 0 escalations"));
}

TEST_CASE("replay exits 2 on usage and config errors", "[cli]") {
  CHECK(cli({"replay"}).status == 2);
  CHECK(cli({"replay", "x.jsonl", "--config", k_root + "/does-not-exist.yaml"}).status == 2);
  CHECK(cli({"replay", k_root + "/tests/scenarios/true-outage.jsonl", "--config", k_example,
             "--tick", "0s"})
            .status == 2);
  CHECK(cli({"replay", k_root + "/no-such-input.jsonl", "--config", k_example}).status == 2);
  CHECK(cli({"replay", "--bogus"}).status == 2);
}

TEST_CASE("replay prints a table with a summary by default", "[cli]") {
  const auto run =
      cli({"replay", k_root + "/tests/scenarios/true-outage.jsonl", "--config", k_example});
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::StartsWith("TIME                  TARGET"));
  CHECK_THAT(run.out, Catch::Contains("db-primary     unhealthy    -          2     2 of 3 "
                                      "domains down (cloudflare, quad9); quorum 2"));
  CHECK_THAT(run.out, Catch::Contains("final: db-primary healthy, generation 3"));
}

TEST_CASE("help and version answer on stdout with status 0", "[cli]") {
  const auto help = cli({"help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("check-config FILE"));
  const auto version = cli({"--version"});
  CHECK(version.status == 0);
  CHECK_THAT(version.out, Catch::StartsWith("crosscheck "));
  CHECK(cli({}).status == 2);
  CHECK(cli({"frobnicate"}).status == 2);
}
