// `crosscheck status`, `explain` and `status --watch` against a real oracle
// (probes, engine, API server) on loopback, through run_cli as a user runs them.
#include "oracle_harness.hpp"
#include "support/cli_run.hpp"

#include <catch2/catch.hpp>

#include <future>

using crosscheck::testing::CliRun;
using crosscheck::testing::OracleHarness;

namespace {

CliRun cli(const std::vector<std::string>& args) {
  return crosscheck::testing::run_cli_captured(args);
}

}  // namespace

TEST_CASE("status lists each target with its verdict and votes", "[e2e][status]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto run = cli({"status", "--api", oracle.oracle_url()});
  CHECK(run.status == 0);
  CHECK(run.err.empty());
  CHECK_THAT(run.out, Catch::StartsWith("crosscheck e2e, revision "));
  CHECK_THAT(run.out, Catch::Matches("(.|\n)*\nweb +healthy +- +.+ +3/0/0 +- +3 of 3 "
                                     "domains up(.|\n)*"));
  const auto json = cli({"status", "--json", "--api", oracle.oracle_url()});
  CHECK(json.status == 0);
  CHECK_THAT(json.out, Catch::StartsWith("{\"revision\":"));
}

TEST_CASE("explain of a disputed target names the down vantage and the held verdict",
          "[e2e][status]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  oracle.lie(oracle.gamma);
  REQUIRE(oracle.wait_for_verdict("disputed"));
  const auto run = cli({"explain", "web", "--api", oracle.oracle_url()});
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::StartsWith("web is DISPUTED, holding its last confirmed verdict "
                                        "HEALTHY"));
  CHECK_THAT(run.out, Catch::Contains("failure domains down (gamma)"));
  CHECK_THAT(run.out, Catch::Contains("gamma (domain gamma) resolved an EMPTY answer while "
                                      "alpha and beta resolved 127.0.0.1"));
  CHECK_THAT(run.out, Catch::Contains("would HOLD (exit 3)"));
  const auto missing = cli({"explain", "nope", "--api", oracle.oracle_url()});
  CHECK(missing.status == 1);
  CHECK(missing.err == "crosscheck explain: no target named 'nope' (known: web)\n");
}

TEST_CASE("status --watch prints the change an empty DNS answer causes", "[e2e][status]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  auto watch = std::async(std::launch::async, [&] {
    return cli({"status", "--watch", "--count", "1", "--for", "20s", "--api", oracle.oracle_url()});
  });
  // The table comes first; then the lie, so the change happens while watching.
  REQUIRE(oracle.wait_for([&] { return oracle.get("/v1/verdicts").status == 200; }));
  oracle.lie(oracle.beta);
  const auto run = watch.get();
  CHECK(run.status == 0);
  INFO(run.out << run.err);
  CHECK_THAT(run.out, Catch::Contains(" web  healthy -> disputed (held healthy)  gen "));
  CHECK_THAT(run.out, Catch::Contains("domains down (beta)"));
}

TEST_CASE("status and explain exit 1 with a hint when the oracle is not running", "[e2e][status]") {
  OracleHarness oracle;  // configured, never started: nothing listens
  const auto run = cli({"status", "--api", oracle.oracle_url(), "--timeout", "2s"});
  CHECK(run.status == 1);
  CHECK_THAT(run.err, Catch::Contains("connection refused — is `crosscheck run` running?"));
  CHECK(cli({"status", "--watch", "--for", "1s", "--api", oracle.oracle_url()}).status == 1);
}
