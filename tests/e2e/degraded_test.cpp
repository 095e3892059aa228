// A gray failure end to end (docs/degraded.md): the service answers every
// check, but slowly from every domain; the oracle publishes degraded, the
// gate holds a failover unless --allow-degraded, /metrics says so, and the
// verdict goes back to healthy when the service is fast again.
#include "cli/gate_command.hpp"
#include "oracle_harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sstream>

using namespace crosscheck;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::OracleHarness;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

int gate(const OracleHarness& oracle, std::vector<std::string> extra) {
  std::vector<std::string> args{"web", "--oracle", oracle.oracle_url(), "--timeout", "3s"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::ostringstream out;
  std::ostringstream err;
  return cli::run_gate_command(args, out, err);
}

std::string gate_code(const OracleHarness& oracle, const std::string& query) {
  const auto answer = oracle.get("/v1/verdicts/web?" + query);
  boost::system::error_code ec;
  const auto body = json::parse(answer.body, ec);
  return ec ? "" : std::string(body.at("gate").at("code").as_string());
}

// Waits up to 30 s for a verdict of `web` that `wanted` accepts. A failed
// wait shows the last one seen: each vantage's vote and latency window.
template <typename Wanted>
void require_verdict(const OracleHarness& oracle, Wanted wanted) {
  json::object seen;
  const bool reached = OracleHarness::wait_for(
      [&] {
        seen = oracle.verdict();
        return wanted(seen);
      },
      30s);
  INFO("last verdict seen: " << json::serialize(seen));
  REQUIRE(reached);
}

}  // namespace

TEST_CASE("a service slow from every domain is degraded, and only an allowed gate acts on it",
          "[e2e][degraded]") {
  OracleHarness oracle;
  // More lines of the target `web` (the harness writes it last): a timeout
  // far above the slow answers, so slow is never down, and the objective.
  oracle.append_config(
      "    interval: 1s\n"
      "    timeout: 900ms\n"
      "    stale_after: 4s\n"
      "    latency: { p90: 150ms, window: 6s }\n");
  // Flapping is not this test's subject: on a loaded machine the windows
  // break and drain apart past the dispute grace, and healthy, disputed,
  // degraded, disputed, healthy is five changes, past the default limit of
  // 4 (the fifth would be held as flapping for flap_window, 10 minutes).
  oracle.add_quorum_setting("flap_limit", "10");
  oracle.web.set("/health", FakeResponse::with_status(200, "ok"));
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  // 6 bytes, one every 60 ms: about 360 ms a check, under the 900 ms timeout.
  oracle.web.set("/health", FakeResponse::slow_body("slowok", 60ms));
  // Degraded once two domains' windows break the objective; wait for all three.
  require_verdict(oracle, [](const json::object& now) {
    return now.at("verdict") == "degraded" && now.at("votes").at("degraded").to_number<int>() == 3;
  });
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("fresh").as_bool());
  CHECK(verdict.at("held").is_null());
  CHECK(verdict.at("scope") == "service");
  CHECK(verdict.at("votes").at("degraded").to_number<int>() == 3);
  CHECK(verdict.at("votes").at("down").to_number<int>() == 0);
  for (const auto& item : verdict.at("evidence").as_array()) {
    CHECK(item.at("vote") == "degraded");
    CHECK(item.at("window_latency_ms").to_number<double>() > 150);
  }
  CHECK_THAT(std::string(verdict.at("reason").as_string()),
             Catch::StartsWith("3 of 3 domains degraded (alpha, beta, gamma)"));
  // The gate: expect unhealthy holds (423, code degraded) unless allowed;
  // expect healthy is confirmed otherwise.
  CHECK(oracle.get("/v1/verdicts/web?expect=unhealthy").status == 423);
  CHECK(gate_code(oracle, "expect=unhealthy") == "degraded");
  CHECK(oracle.get("/v1/verdicts/web?expect=unhealthy&allow_degraded=true").status == 200);
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy").status == 409);
  CHECK(oracle.get("/v1/verdicts/web?expect=unhealthy&allow_degraded=yes").status == 400);
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy&allow_degraded=true").status == 400);
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy&allow_degraded=false").status == 409);
  CHECK(gate(oracle, {"--expect", "unhealthy"}) == cli::k_gate_hold);
  CHECK(gate(oracle, {"--expect", "unhealthy", "--allow-degraded"}) == cli::k_gate_proceed);
  CHECK(gate(oracle, {"--expect", "healthy"}) == cli::k_gate_otherwise);
  CHECK(gate(oracle, {"--expect", "healthy", "--allow-degraded"}) == cli::k_gate_usage);
  // /metrics.
  const auto metrics = oracle.get("/metrics").body;
  CHECK(testing::metric_sample(metrics, R"(crosscheck_verdict{target="web",verdict="degraded"})") ==
        1);
  CHECK(testing::metric_sample(metrics, R"(crosscheck_votes{target="web",vote="degraded"})") == 3);
  // Fast again: healthy, one generation on; or two on a loaded machine,
  // where the domains' latency windows can drain far enough apart for the
  // dispute grace to end first (disputed, then healthy). Never through
  // unhealthy or degraded again, never held as flapping: slow was never
  // down, and the changes stay under the limit set above.
  const auto generation = verdict.at("generation").to_number<std::int64_t>();
  oracle.web.set("/health", FakeResponse::with_status(200, "ok"));
  require_verdict(oracle, [](const json::object& now) { return now.at("verdict") == "healthy"; });
  const auto after = oracle.verdict().at("generation").to_number<std::int64_t>();
  CHECK(after >= generation + 1);
  CHECK(after <= generation + 2);
  const auto history = json::parse(oracle.get("/v1/verdicts/web/history").body);
  for (const auto& item : history.at("history").as_array()) {
    if (item.at("generation").to_number<std::int64_t>() > generation) {
      CHECK(item.at("verdict") != "unhealthy");
      CHECK(item.at("verdict") != "degraded");
      CHECK_THAT(std::string(item.at("reason").as_string()), !Catch::StartsWith("flapping"));
    }
  }
}
