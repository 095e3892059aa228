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

// One dnsmasq per address, each answering web.test with 127.0.0.1 from its
// own hosts file (rewrite it and send SIGHUP to change the answer).
struct Resolvers {
  std::vector<std::unique_ptr<ChildProcess>> processes;
  std::vector<config::Endpoint> endpoints;
  std::vector<std::filesystem::path> hosts;
};

Resolvers start_resolvers(const std::vector<std::string>& addresses, const TempDir& dir) {
  Resolvers out;
  for (const auto& address : addresses) {
    const auto port = testing::free_port(address);
    out.hosts.push_back(dir.path() / ("hosts-" + address));
    std::ofstream(out.hosts.back()) << "127.0.0.1 web.test\n";
    out.processes.push_back(dnsmasq(address, port, out.hosts.back(), dir));
    out.endpoints.push_back(config::Endpoint{*config::IpAddress::parse(address), port});
  }
  return out;
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
  Resolvers real = start_resolvers({"127.0.0.91", "127.0.0.92", "127.0.0.93"}, dir);
  auto& hosts = real.hosts;
  auto& resolvers = real.processes;
  OracleHarness oracle(real.endpoints, "http://web.test:" + std::to_string(web_port) + "/health");
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

TEST_CASE(
    "real resolvers stop resolving a service that still answers: a service failover holds, a "
    "DNS failover proceeds, until the service itself goes down",
    "[e2e]") {
  TempDir dir;
  std::ofstream(dir.path() / "health") << "ok\n";
  const auto web_port = testing::free_port("127.0.0.1");
  auto web = std::make_unique<ChildProcess>(
      std::vector<std::string>{"python3", "-m", "http.server", std::to_string(web_port), "--bind",
                               "127.0.0.1", "--directory", dir.path().string()},
      dir.path() / "web.log");
  Resolvers real = start_resolvers({"127.0.0.94", "127.0.0.95", "127.0.0.96"}, dir);
  auto& hosts = real.hosts;
  auto& resolvers = real.processes;
  OracleHarness oracle(real.endpoints, "http://web.test:" + std::to_string(web_port) + "/health");
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto gate = [&](const std::string& for_) {
    std::ostringstream out;
    std::ostringstream err;
    const int status = cli::run_gate_command({"web", "--expect", "unhealthy", "--for", for_,
                                              "--oracle", oracle.oracle_url(), "--timeout", "2s"},
                                             out, err);
    INFO("gate --for " << for_ << ": " << out.str() << err.str());
    return std::pair{status, out.str()};
  };
  // Every resolver stops publishing web.test (an empty answer); the
  // service still answers at 127.0.0.1, its last-known-good address.
  for (std::size_t i = 0; i < resolvers.size(); ++i) {
    std::ofstream(hosts[i]) << "2001:db8::1 web.test\n";
    ::kill(resolvers[i]->pid(), SIGHUP);
  }
  REQUIRE(oracle.wait_for([&] {
    const auto verdict = oracle.verdict();
    return verdict.at("verdict").as_string() == "unhealthy" &&
           verdict.at("scope").as_string() == "dns";
  }));
  CHECK(oracle.verdict().at("last_known_good").as_string() == "reachable");
  const auto [service_status, service_out] = gate("service");
  CHECK(service_status == cli::k_gate_hold);
  CHECK_THAT(service_out, Catch::Contains("scope is dns"));
  CHECK_THAT(service_out, Catch::Contains("--for dns"));
  CHECK(gate("dns").first == cli::k_gate_proceed);
  CHECK(gate("any").first == cli::k_gate_proceed);
  const auto held = oracle.get("/v1/verdicts/web?expect=unhealthy");
  CHECK(held.status == 423);
  CHECK_THAT(held.body, Catch::Contains(R"("code":"scope")"));
  CHECK_THAT(held.body, Catch::Contains(R"("instead":"dns")"));
  // Now the service itself goes down: its old address stops answering too.
  web.reset();
  REQUIRE(oracle.wait_for([&] { return oracle.verdict().at("scope").as_string() == "service"; }));
  CHECK(oracle.verdict().at("verdict").as_string() == "unhealthy");
  CHECK(gate("service").first == cli::k_gate_proceed);
  const auto [dns_status, dns_out] = gate("dns");
  CHECK(dns_status == cli::k_gate_hold);
  CHECK_THAT(dns_out, Catch::Contains("scope is service"));
}
