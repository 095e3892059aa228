// GET /metrics from a running oracle: what Prometheus would scrape after the
// first probes, checked by Prometheus' own promtool.
#include "oracle_harness.hpp"
#include "support/promtool.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::testing::OracleHarness;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a running oracle serves metrics that promtool accepts, with verdicts, votes and probes",
          "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  REQUIRE(oracle.wait_for([&] { return oracle.get("/readyz").status == 200; }));
  // Probe counts reach the snapshot at the next publish (within 500 ms).
  std::string body;
  REQUIRE(oracle.wait_for([&] {
    const auto answer = oracle.get("/metrics");
    body = answer.body;
    return answer.status == 200 && contains(body, R"(crosscheck_probes_total{vantage="gamma")");
  }));
  CHECK(oracle.get("/metrics").header("Content-Type") ==
        "text/plain; version=0.0.4; charset=utf-8");

  const auto checked = crosscheck::testing::promtool_check_metrics(body);
  INFO(checked.output);
  CHECK(checked.exit_status == 0);
  CHECK(checked.output.empty());

  CHECK(contains(body, "crosscheck_verdict{target=\"web\",verdict=\"healthy\"} 1\n"));
  for (const std::string vantage : {"alpha", "beta", "gamma"}) {
    CAPTURE(vantage);
    CHECK(contains(body, "crosscheck_vantage_vote{target=\"web\",vantage=\"" + vantage +
                             "\",node=\"e2e\",domain=\"" + vantage + "\",vote=\"up\"} 1\n"));
    CHECK(contains(
        body, "crosscheck_probes_total{vantage=\"" + vantage + "\",outcome=\"up\",class=\"ok\"} "));
  }
  CHECK(contains(body, "crosscheck_probe_duration_seconds_bucket{check=\"dns\",le=\"0.001\"} "));
  CHECK(contains(body, "crosscheck_probe_duration_seconds_bucket{check=\"http\",le=\"+Inf\"} "));
  CHECK_FALSE(contains(body, "crosscheck_probe_duration_seconds_count{check=\"dns\"} 0\n"));
  // The scheduler's start lateness reaches /metrics: the probes above were started.
  CHECK(contains(body, "crosscheck_probe_start_lateness_seconds_bucket{le=\"0.0005\"} "));
  CHECK(contains(body, "crosscheck_probe_start_lateness_seconds_bucket{le=\"+Inf\"} "));
  CHECK_FALSE(contains(body, "crosscheck_probe_start_lateness_seconds_count 0\n"));
  // The service thread's passes are timed (twice a second since the start);
  // a snapshot counts the pass that built it in judge, not yet in publish.
  CHECK(crosscheck::testing::metric_sample(
            body, R"(crosscheck_evaluation_duration_seconds_count{phase="judge"})")
            .value_or(0) >= 1);
  CHECK(crosscheck::testing::metric_sample(
            body, R"(crosscheck_evaluation_duration_seconds_sum{phase="judge"})")
            .value_or(0) > 0);
  CHECK(oracle.wait_for([&] {
    return crosscheck::testing::metric_sample(
               oracle.get("/metrics").body,
               R"(crosscheck_evaluation_duration_seconds_sum{phase="publish"})")
               .value_or(0) > 0;
  }));
  CHECK(contains(body, "crosscheck_ready 1\n"));
  CHECK(contains(body, "crosscheck_storage_ok 1\n"));
  CHECK(contains(body, "process_resident_memory_bytes "));
  CHECK(oracle.send("POST", "/metrics", {}, false).status == 405);
}
