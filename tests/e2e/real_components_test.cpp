// The daemon against real components: three dnsmasq resolvers (Debian's
// dnsmasq-base) in three failure domains and a real HTTP server (Python's
// http.server), all started by the test on loopback and stopped after.
#include "cli/gate_command.hpp"
#include "oracle_harness.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace crosscheck;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::OracleHarness;
using crosscheck::testing::TempDir;
namespace json = boost::json;

namespace {

std::string dnsmasq_binary() {
  return std::filesystem::exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq";
}

// A dnsmasq answering .test from `hosts` (re-read on SIGHUP).
std::unique_ptr<ChildProcess> dnsmasq(const std::string& address, unsigned short port,
                                      const std::filesystem::path& hosts, const TempDir& dir) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{dnsmasq_binary(), "--keep-in-foreground", "--no-resolv",
                               "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces",
                               "--listen-address=" + address, "--port=" + std::to_string(port),
                               "--local=/test/", "--addn-hosts=" + hosts.string(), "--local-ttl=60",
                               "--pid-file=", "--user=root", "--log-facility=-"},
      dir.path() / ("dnsmasq-" + address + ".log"));
}

}  // namespace

TEST_CASE(
    "real resolvers and a real web server are healthy until one resolver publishes an empty answer",
    "[e2e]") {
  TempDir dir;
  std::ofstream(dir.path() / "health") << "ok\n";
  const auto web_port = testing::free_port("127.0.0.1");
  ChildProcess web({"python3", "-m", "http.server", std::to_string(web_port), "--bind", "127.0.0.1",
                    "--directory", dir.path().string()},
                   dir.path() / "web.log");
  std::vector<std::unique_ptr<ChildProcess>> resolvers;
  std::vector<config::Endpoint> endpoints;
  const std::vector<std::string> addresses{"127.0.0.91", "127.0.0.92", "127.0.0.93"};
  std::vector<std::filesystem::path> hosts;
  for (const auto& address : addresses) {
    const auto port = testing::free_port(address);
    hosts.push_back(dir.path() / ("hosts-" + address));
    std::ofstream(hosts.back()) << "127.0.0.1 web.test\n";
    resolvers.push_back(dnsmasq(address, port, hosts.back(), dir));
    endpoints.push_back(config::Endpoint{*config::IpAddress::parse(address), port});
  }
  OracleHarness oracle(endpoints, "http://web.test:" + std::to_string(web_port) + "/health");
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  // The third resolver now publishes web.test without an A record: an empty
  // answer, as in Oct 2025 (dnsmasq re-reads its hosts file on SIGHUP).
  std::ofstream(hosts.back()) << "2001:db8::1 web.test\n";
  ::kill(resolvers.back()->pid(), SIGHUP);
  REQUIRE(oracle.wait_for_verdict("disputed"));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("held").as_string() == "healthy");
  CHECK(verdict.at("votes").at("down").to_number<int>() == 1);
  CHECK_THAT(json::serialize(verdict.at("evidence")),
             Catch::Contains("dns: NOERROR, empty answer"));
  CHECK_FALSE(verdict.at("divergence").as_array().empty());
  std::ostringstream out;
  std::ostringstream err;
  CHECK(cli::run_gate_command(
            {"web", "--expect", "healthy", "--oracle", oracle.oracle_url(), "--timeout", "2s"}, out,
            err) == cli::k_gate_hold);
  // The lying resolver is stopped: its queries go unanswered (refused),
  // which is still down for that domain, never enough to fail over.
  resolvers.back()->stop();
  CHECK(oracle.wait_for([&] {
    return json::serialize(oracle.verdict().at("evidence")).find("unreachable") !=
           std::string::npos;
  }));
  CHECK(oracle.verdict().at("verdict").as_string() == "disputed");
}
