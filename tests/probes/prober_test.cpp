// The Prober on a real event loop: moving one pair's turn forward by its
// names (fast confirmation, POST .../recheck) starts that pair's probe and
// no other's. Every turn is an hour apart (phases and jitter fixed by the
// seed), so within the test's few seconds only the turns brought forward
// run.
#include "probes/prober.hpp"

#include "config/config.hpp"
#include "net/system_clock.hpp"
#include "support/fake_dns_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;

namespace {

using Pair = std::pair<std::string, std::string>;  // (target, vantage)

struct ProberWorld {
  testing::FakeDnsServer resolver{"127.0.0.65"};
  boost::asio::io_context io;
  net::SystemClock clock;
  std::vector<Pair> reported;
  std::unique_ptr<probes::Prober> prober;

  ProberWorld() {
    resolver.set_default(testing::FakeDnsBehaviour::silent());
    const auto at = "\"127.0.0.65:" + std::to_string(resolver.endpoint().port) + "\"";
    std::string yaml =
        "node: { name: a, data_dir: /tmp/crosscheck-prober-test }\n"
        "api: { listen: \"127.0.0.1:9481\" }\n"
        "vantages:\n";
    for (const auto* name : {"1", "2", "3"}) {
      yaml +=
          std::string("  - { name: v") + name + ", domain: d" + name + ", resolver: " + at + " }\n";
    }
    yaml += "targets:\n";
    for (const auto* name : {"t1", "t2", "t3", "t4"}) {
      yaml += std::string("  - { name: ") + name + ", dns: { name: " + name +
              ".test }, interval: 1h, timeout: 200ms, stale_after: 2h }\n";
    }
    auto loaded = config::load_config_text(yaml, "prober.yaml");
    std::string diagnostics;
    for (const auto& diagnostic : loaded.diagnostics) {
      diagnostics += diagnostic.to_string() + "\n";
    }
    INFO(diagnostics);
    REQUIRE(loaded.ok());
    prober = std::make_unique<probes::Prober>(
        io, std::make_shared<const config::Config>(*loaded.config), clock, 11,
        [this](const probes::ProbeReport& report) {
          reported.emplace_back(report.observation.target, report.observation.vantage);
        });
    prober->start();
  }

  // Runs the loop until `count` reports came, for 3 s at most.
  void run_until(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (reported.size() < count && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(20ms);
    }
  }

  bool reported_pair(const Pair& pair) const {
    return std::find(reported.begin(), reported.end(), pair) != reported.end();
  }
};

}  // namespace

TEST_CASE("bringing a pair forward by its names starts that pair's probe", "[prober]") {
  ProberWorld world;
  const auto now = world.clock.monotonic();
  CHECK(world.prober->bring_forward("t3", "v2", now));
  CHECK(world.prober->bring_forward("t1", "v3", now));
  CHECK(world.prober->bring_forward("t4", "v1", now));
  // Already due now: not moved again.
  CHECK_FALSE(world.prober->bring_forward("t3", "v2", now));
  // Unknown names move nothing.
  CHECK_FALSE(world.prober->bring_forward("t5", "v1", now));
  CHECK_FALSE(world.prober->bring_forward("t1", "v4", now));
  CHECK_FALSE(world.prober->bring_forward("", "", now));
  world.run_until(3);
  CAPTURE(world.reported);
  CHECK(world.reported_pair({"t3", "v2"}));
  CHECK(world.reported_pair({"t1", "v3"}));
  CHECK(world.reported_pair({"t4", "v1"}));
}

TEST_CASE("a recheck by name starts the target's probe from every vantage", "[prober]") {
  ProberWorld world;
  CHECK(world.prober->recheck("t5") == 0);
  CHECK(world.prober->recheck("t2") == 3);
  // Each pair now waits or runs: a second recheck moves none.
  CHECK(world.prober->recheck("t2") == 0);
  world.run_until(3);
  CAPTURE(world.reported);
  for (const auto* vantage : {"v1", "v2", "v3"}) {
    CHECK(world.reported_pair({"t2", vantage}));
  }
}
