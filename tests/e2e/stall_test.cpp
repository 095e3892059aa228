// The real `crosscheck run` stopped with SIGSTOP and resumed: the probes it
// stood still through are observer errors (class observer_stall), counted
// in /metrics and logged once, not down votes (docs/verdicts.md#votes).
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <poll.h>

#include <array>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string k_stall_line = "this oracle stood still for ";
const std::string k_stall_class = "class=\"observer_stall\"";

// The sum of the crosscheck_probes_total samples whose labels hold `label`.
double probes_with(const std::string& metrics, const std::string& label) {
  std::istringstream lines(metrics);
  double sum = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("crosscheck_probes_total{") && line.find(label) != std::string::npos) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

}  // namespace

TEST_CASE("crosscheck run stopped and resumed: the probes it stood still through are no votes",
          "[e2e][stall]") {
  // A resolver that reads nothing and never answers: every probe times out.
  boost::asio::io_context io;
  boost::asio::ip::udp::socket silent(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.66"), 0));
  const auto resolver_port = silent.local_endpoint().port();
  TempDir dir;
  const auto api_port = free_port("127.0.0.1");
  const auto config = dir.path() / "crosscheck.yaml";
  std::ofstream(config) << "node: { name: stall, data_dir: " << dir.path().string() << " }\n"
                        << "api: { listen: 127.0.0.1:" << api_port << " }\n"
                        << "defaults: { interval: 2100ms, timeout: 2s }\n"
                        << "vantages:\n"
                        << "  - { name: alpha, domain: alpha, resolver: \"127.0.0.66:"
                        << resolver_port << "\" }\n"
                        << "targets:\n"
                        << "  - { name: web, dns: { name: web.test } }\n";
  const auto log = dir.path() / "stderr.log";
  ChildProcess oracle({CROSSCHECK_BINARY, "run", "--config", config.string()}, log);
  const auto metrics = [&] { return http_request("127.0.0.1", api_port, "GET", "/metrics").body; };

  // Awake, a timeout is a down vote.
  REQUIRE(OracleHarness::wait_for(
      [&] { return probes_with(metrics(), "class=\"dns_timeout\"") >= 2; }, 15s));
  CHECK(oracle.log().find(k_stall_line) == std::string::npos);

  // Stopped for 3 s as soon as a query reaches the resolver: that probe's
  // deadline comes while it stands still.
  while (silent.available() > 0) {
    std::array<char, 512> drained{};
    silent.receive(boost::asio::buffer(drained));
  }
  pollfd ready{silent.native_handle(), POLLIN, 0};
  REQUIRE(::poll(&ready, 1, 5'000) == 1);
  const auto timeouts_before = probes_with(metrics(), "class=\"dns_timeout\"");
  REQUIRE(::kill(oracle.pid(), SIGSTOP) == 0);
  std::this_thread::sleep_for(3s);
  REQUIRE(::kill(oracle.pid(), SIGCONT) == 0);
  const auto resumed = std::chrono::steady_clock::now();

  std::string seen;
  REQUIRE(OracleHarness::wait_for(
      [&] {
        seen = metrics();
        return probes_with(seen, k_stall_class) >= 1;
      },
      5s));
  // The probe it stood still through is not also a timeout: the next one
  // to time out started after the resume, 2 s ago at the earliest. (One
  // more than before at most: /metrics shows the last published snapshot,
  // which may not have had the timeout just before the stopped probe.)
  if (std::chrono::steady_clock::now() - resumed < 1500ms) {
    CHECK(probes_with(seen, "class=\"dns_timeout\"") <= timeouts_before + 1);
  }
  CHECK(OracleHarness::wait_for(
      [&] { return oracle.log().find(k_stall_line) != std::string::npos; }, 2s));
  // Logged once a minute at most, however many probes it cost.
  const auto text = oracle.log();
  CHECK(text.find(k_stall_line) == text.rfind(k_stall_line));

  // Awake again, the next timeouts are down votes again.
  const auto down_before = probes_with(metrics(), "class=\"dns_timeout\"");
  CHECK(OracleHarness::wait_for(
      [&] { return probes_with(metrics(), "class=\"dns_timeout\"") >= down_before + 2; }, 10s));
  CHECK(oracle.running());
}
