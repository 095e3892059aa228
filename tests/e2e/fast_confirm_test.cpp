// Fast confirmation through the real binary: with `fall: 3` a service that
// goes down for every domain is confirmed unhealthy in about a second per
// `fall`, not in `fall` intervals, and crosscheck_time_to_confirm_seconds
// shows the difference against `fast_confirm: false`.
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using namespace crosscheck::testing;

namespace {

struct Confirmation {
  double metric_seconds = -1;  // crosscheck_time_to_confirm_seconds_sum
  double count = 0;            // its _count
  std::string log;
};

std::string verdict_of(unsigned short port) {
  boost::system::error_code ec;
  const auto body =
      boost::json::parse(http_request("127.0.0.1", port, "GET", "/v1/verdicts/web").body, ec);
  const auto* object = ec ? nullptr : body.if_object();
  const auto* kind = object != nullptr ? object->if_contains("verdict") : nullptr;
  return kind != nullptr && kind->is_string() ? std::string(kind->as_string()) : "";
}

// One oracle, three domains, web probed every 5 s with fall 3: healthy,
// then web answers 503 from every domain; how long until unhealthy.
Confirmation confirm_outage(bool fast) {
  TempDir dir;
  FakeHttpServer web;
  web.set("/health", FakeResponse::with_status(200, "ready"));
  const std::array<const char*, 3> addresses{"127.0.0.131", "127.0.0.132", "127.0.0.133"};
  std::array<std::unique_ptr<FakeDnsServer>, 3> resolvers;
  std::ostringstream yaml;
  const auto port = free_port("127.0.0.1");
  yaml << "node: { name: fast, data_dir: " << dir.path().string() << " }\n"
       << "api: { listen: 127.0.0.1:" << port << " }\n"
       << "defaults: { interval: 5s, timeout: 500ms, rise: 1, fall: 3, stale_after: 20s, "
       << "fast_confirm: " << (fast ? "true" : "false") << " }\n"
       << "vantages:\n";
  for (std::size_t i = 0; i < resolvers.size(); ++i) {
    resolvers[i] = std::make_unique<FakeDnsServer>(addresses[i]);
    resolvers[i]->set("web.test", FakeDnsBehaviour::answer({FakeRecord{"A", "127.0.0.1", 60, ""}}));
    yaml << "  - { name: v" << i << ", domain: d" << i << ", resolver: \""
         << resolvers[i]->endpoint().to_string() << "\" }\n";
  }
  yaml << "targets:\n  - name: web\n    dns: { name: web.test }\n    http: { url: \""
       << web.url("web.test", "/health") << "\", expect_status: [200] }\n";
  const auto config = dir.path() / "fast.yaml";
  std::ofstream(config) << yaml.str();
  ChildProcess oracle({CROSSCHECK_BINARY, "run", "--config", config.string()},
                      dir.path() / "fast.log");
  Confirmation out;
  const bool healthy = OracleHarness::wait_for([&] { return verdict_of(port) == "healthy"; },
                                               std::chrono::seconds(20));
  if (!healthy) {
    out.log = oracle.log();
    return out;
  }
  web.set("/health", FakeResponse::with_status(503, "down"));
  const bool unhealthy = OracleHarness::wait_for([&] { return verdict_of(port) == "unhealthy"; },
                                                 std::chrono::seconds(30));
  const auto metrics = http_request("127.0.0.1", port, "GET", "/metrics").body;
  if (unhealthy) {
    out.metric_seconds =
        metric_sample(metrics, "crosscheck_time_to_confirm_seconds_sum").value_or(-1);
    out.count = metric_sample(metrics, "crosscheck_time_to_confirm_seconds_count").value_or(0);
  }
  out.log = oracle.log();
  return out;
}

}  // namespace

TEST_CASE("fast confirmation confirms an outage seen by every domain in seconds, not intervals",
          "[e2e][fast]") {
  const auto fast = confirm_outage(true);
  INFO(fast.log);
  REQUIRE(fast.count == 1);
  // Slowest case with it: the round's first turns within 1 s, then two more
  // 1.25 s apart, each probe up to 500 ms: about 4.5 s.
  CHECK(fast.metric_seconds < 6.0);
  CHECK_THAT(fast.log, Catch::Contains("fast confirmation: web seen down"));

  const auto slow = confirm_outage(false);
  INFO(slow.log);
  REQUIRE(slow.count == 1);
  // Without it the first domain down needs two more scheduled probes: at
  // least two intervals (5 s each, jitter under 0.5 s) after its first down.
  CHECK(slow.metric_seconds >= 9.0);
  CHECK(fast.metric_seconds < slow.metric_seconds);
}
