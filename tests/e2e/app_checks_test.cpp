// Protocol checks end to end (docs/checks.md): the oracle probes a real
// redis-server through three failure domains; when the primary becomes a
// replica every domain votes down at layer app and the oracle publishes
// unhealthy with scope service, a failover gate proceeds, and promoted
// again the target is healthy. A wrong password of ours is an observer
// error: the verdict holds, it is never unhealthy. The README's case too:
// a Postgres primary fenced read-only is unhealthy, and the failover gate
// proceeds on it.
#include "cli/gate_command.hpp"
#include "oracle_harness.hpp"
#include "support/real_postgres.hpp"
#include "support/real_redis.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace crosscheck;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::OracleHarness;
using crosscheck::testing::RealPostgres;
using crosscheck::testing::RealRedis;
using namespace std::chrono_literals;

namespace {

int gate(const OracleHarness& oracle, const std::string& expect) {
  std::ostringstream out;
  std::ostringstream err;
  return cli::run_gate_command(
      {"web", "--oracle", oracle.oracle_url(), "--timeout", "3s", "--expect", expect}, out, err);
}

// Unhealthy, with every one of the three domains voting down.
bool all_down(const boost::json::object& verdict) {
  return verdict.at("verdict") == "unhealthy" &&
         verdict.at("votes").at("down").to_number<int>() == 3;
}

}  // namespace

TEST_CASE("a redis primary turned replica is unhealthy at layer app, and a gate acts on it",
          "[e2e][app]") {
  RealRedis primary;
  RealRedis other;
  OracleHarness oracle;
  // More lines of the target `web` (the harness writes it last): its
  // addresses (127.0.0.1) must also be a redis master on this port.
  oracle.append_config("    redis: { port: " + std::to_string(primary.port()) +
                       ", role: master }\n");
  oracle.web.set("/health", FakeResponse::with_status(200, "ok"));
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto healthy = oracle.verdict();
  for (const auto& item : healthy.at("evidence").as_array()) {
    CHECK(item.at("vote") == "up");
  }

  // The primary follows another server now: every domain sees a replica.
  primary.cli({"REPLICAOF", "127.0.0.1", std::to_string(other.port())});
  // Unhealthy at the quorum (2 of 3); wait for the third domain's vote too.
  REQUIRE(OracleHarness::wait_for([&] { return all_down(oracle.verdict()); }, 15s));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("failing_layer") == "app");
  CHECK(verdict.at("scope") == "service");
  for (const auto& item : verdict.at("evidence").as_array()) {
    CHECK(item.at("layer") == "app");
    CHECK_THAT(std::string(item.at("detail").as_string()),
               Catch::Contains("is a replica") && Catch::Contains("role primary wanted"));
  }
  CHECK(gate(oracle, "unhealthy") == cli::k_gate_proceed);
  const auto metrics = oracle.get("/metrics").body;
  CHECK(testing::metric_sample(
            metrics, R"(crosscheck_probes_total{vantage="alpha",outcome="down",class="app_role"})")
            .value_or(0) >= 1);

  // Promoted again: healthy.
  primary.cli({"REPLICAOF", "NO", "ONE"});
  REQUIRE(
      OracleHarness::wait_for([&] { return oracle.verdict().at("verdict") == "healthy"; }, 15s));
  CHECK(gate(oracle, "healthy") == cli::k_gate_proceed);
}

TEST_CASE("our own wrong redis password is an observer error: never unhealthy", "[e2e][app]") {
  RealRedis server("the-right-one");
  OracleHarness oracle;
  const auto wrong = oracle.data_dir() / "redis.pass";
  std::ofstream(wrong) << "not-the-right-one\n";
  oracle.append_config("    redis: { port: " + std::to_string(server.port()) +
                       ", password_file: " + wrong.string() + " }\n");
  oracle.web.set("/health", FakeResponse::with_status(200, "ok"));
  oracle.start();
  // Every probe is an observer error: no vote, so no verdict but unknown.
  REQUIRE(OracleHarness::wait_for(
      [&] {
        const auto now = oracle.verdict();
        const auto& evidence = now.at("evidence").as_array();
        return !evidence.empty() && now.at("votes").at("unknown").to_number<int>() == 3 &&
               std::string(evidence[0].at("detail").as_string()).find("refused our credentials") !=
                   std::string::npos;
      },
      10s));
  for (int i = 0; i < 5; ++i) {
    CHECK(oracle.verdict().at("verdict") != "unhealthy");
    std::this_thread::sleep_for(300ms);
  }
  CHECK(gate(oracle, "unhealthy") != cli::k_gate_proceed);
  // The file fixed, no reload: the next checks pass.
  std::ofstream(wrong) << "the-right-one\n";
  REQUIRE(
      OracleHarness::wait_for([&] { return oracle.verdict().at("verdict") == "healthy"; }, 10s));
}

TEST_CASE("a postgres primary that stops taking writes is unhealthy: the failover may proceed",
          "[e2e][app]") {
  testing::TempDir dir;
  const auto primary = RealPostgres::start_primary(dir.path() / "primary");
  OracleHarness oracle;
  const auto password = oracle.data_dir() / "orders-db.pass";
  std::ofstream(password) << RealPostgres::k_password << "\n";
  // More lines of the target `web`: a libpq login (SCRAM) takes longer than
  // the harness' 250 ms timeout may allow on a loaded machine.
  oracle.append_config(
      "    interval: 1s\n"
      "    timeout: 900ms\n"
      "    stale_after: 4s\n"
      "    postgres: { port: " +
      std::to_string(primary->port()) +
      ", role: primary, writable: true, user: crosscheck, password_file: " + password.string() +
      " }\n");
  oracle.web.set("/health", FakeResponse::with_status(200, "ok"));
  oracle.start();
  REQUIRE(
      OracleHarness::wait_for([&] { return oracle.verdict().at("verdict") == "healthy"; }, 20s));
  CHECK(gate(oracle, "unhealthy") == cli::k_gate_otherwise);

  primary->refuse_writes();
  REQUIRE(OracleHarness::wait_for([&] { return all_down(oracle.verdict()); }, 20s));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("failing_layer") == "app");
  CHECK(verdict.at("scope") == "service");
  for (const auto& item : verdict.at("evidence").as_array()) {
    CHECK(item.at("vote") == "down");
    CHECK_THAT(std::string(item.at("detail").as_string()), Catch::Contains("refuses writes"));
  }
  CHECK(gate(oracle, "unhealthy") == cli::k_gate_proceed);
  const auto metrics = oracle.get("/metrics").body;
  CHECK(testing::metric_sample(
            metrics,
            R"(crosscheck_probes_total{vantage="alpha",outcome="down",class="app_read_only"})")
            .value_or(0) >= 1);
}
