// Authoritative mode against real servers (docs/checks.md "Authoritative
// mode"): three unbound instances serve example.test. authoritatively on
// 127.0.54.1-3 port 53 (where NS addresses are always asked), three dnsmasq
// resolvers (one per failure domain) forward example.test. to them, and the
// daemon asks each zone server itself. When one server publishes the
// record wrong at the source (the Oct 2025 case) while every resolver still
// answers from its cache, the verdict is unhealthy and names that server.
#include "oracle_harness.hpp"
#include "probes/real_resolver.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace crosscheck;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::OracleHarness;
using crosscheck::testing::TempDir;
namespace json = boost::json;

namespace {

const std::vector<std::string> k_zone_servers{"127.0.54.1", "127.0.54.2", "127.0.54.3"};

// The zone as server `index` publishes it: serial `serial`, www.example.test
// only when `with_www`.
void write_zone(const std::filesystem::path& path, int serial, bool with_www) {
  std::ofstream zone(path);
  zone << "$ORIGIN example.test.\n$TTL 60\n"
       << "@ IN SOA ns1.example.test. hostmaster.example.test. " << serial
       << " 3600 600 86400 60\n";
  for (std::size_t i = 0; i < k_zone_servers.size(); ++i) {
    zone << "@ IN NS ns" << i + 1 << ".example.test.\n"
         << "ns" << i + 1 << " IN A " << k_zone_servers[i] << "\n";
  }
  if (with_www) {
    zone << "www IN A 127.0.0.1\n";
  }
}

// unbound answering example.test. from `zone` as its authoritative server.
std::unique_ptr<ChildProcess> zone_server(const std::string& address,
                                          const std::filesystem::path& zone, const TempDir& dir) {
  const auto conf = dir.path() / ("unbound-" + address + ".conf");
  std::ofstream(conf) << "server:\n"
                      << "  interface: " << address << "\n  port: 53\n"
                      << "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
                      << "  directory: \"" << dir.path().string() << "\"\n"
                      << "  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n"
                      << "  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n"
                      << "  local-zone: \"test.\" nodefault\n"  // unbound refuses .test by default
                      << "auth-zone:\n  name: \"example.test.\"\n"
                      << "  zonefile: \"" << zone.string() << "\"\n"
                      << "  for-downstream: yes\n  for-upstream: no\n  fallback-enabled: no\n";
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{"unbound", "-d", "-c", conf.string()},
      dir.path() / ("unbound-" + address + ".log"));
}

// A dnsmasq resolver: web.test from its hosts file, example.test. forwarded
// to one zone server.
std::unique_ptr<ChildProcess> resolver(const config::Endpoint& at, const std::string& upstream,
                                       const std::filesystem::path& hosts, const TempDir& dir) {
  const auto address = at.address.to_string();
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{
          std::filesystem::exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq",
          "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
          "--bind-interfaces", "--listen-address=" + address, "--port=" + std::to_string(at.port),
          "--local=/test/", "--server=/example.test/" + upstream, "--addn-hosts=" + hosts.string(),
          "--pid-file=", "--user=root", "--log-facility=-"},
      dir.path() / ("dnsmasq-" + address + ".log"));
}

// Three dnsmasq resolvers (alpha, beta, gamma) on `first_address` and the
// next two, each forwarding example.test. to `upstream`, a real web server
// for web.test, and the oracle with target apex (authoritative) started.
struct Watching {
  Watching(const TempDir& dir, int first_address, const std::string& upstream) {
    std::ofstream(dir.path() / "health") << "ok\n";
    const auto hosts = dir.path() / "hosts";
    std::ofstream(hosts) << "127.0.0.1 web.test\n";
    std::vector<config::Endpoint> endpoints;
    for (int i = 0; i < 3; ++i) {
      const auto address = "127.0.54." + std::to_string(first_address + i);
      endpoints.push_back({*config::IpAddress::parse(address), testing::free_port(address)});
      resolvers.push_back(resolver(endpoints.back(), upstream, hosts, dir));
      REQUIRE(testing::wait_until_serving(endpoints.back(), *resolvers.back(), "web.test"));
    }
    const auto web_port = testing::free_port("127.0.0.1");
    web = std::make_unique<ChildProcess>(
        std::vector<std::string>{"python3", "-m", "http.server", std::to_string(web_port), "--bind",
                                 "127.0.0.1", "--directory", dir.path().string()},
        dir.path() / "web.log");
    oracle = std::make_unique<OracleHarness>(
        endpoints, "http://web.test:" + std::to_string(web_port) + "/health");
    // The harness's targets: list ends the file; apex joins it. Each run
    // makes about ten queries in a row: a wider timeout than the harness's.
    oracle->append_config(
        "  - name: apex\n"
        "    dns: { name: www.example.test, authoritative: true }\n"
        "    interval: 1s\n    timeout: 900ms\n");
    oracle->start();
  }

  std::vector<std::unique_ptr<ChildProcess>> resolvers;
  std::unique_ptr<ChildProcess> web;
  std::unique_ptr<OracleHarness> oracle;
};

std::string evidence_of(const json::object& verdict) {
  return json::serialize(verdict.at("evidence"));
}

}  // namespace

TEST_CASE(
    "authoritative mode: a zone server publishing the record wrong at the source is "
    "unhealthy while every resolver still answers",
    "[e2e][authoritative]") {
  TempDir dir;
  std::vector<std::filesystem::path> zones;
  std::vector<std::unique_ptr<ChildProcess>> servers;
  for (std::size_t i = 0; i < k_zone_servers.size(); ++i) {
    zones.push_back(dir.path() / ("example.test." + std::to_string(i + 1) + ".zone"));
    write_zone(zones.back(), 5, true);
    servers.push_back(zone_server(k_zone_servers[i], zones.back(), dir));
  }
  for (std::size_t i = 0; i < servers.size(); ++i) {
    INFO("unbound on " << k_zone_servers[i] << ":53 (needs root to bind port 53)");
    REQUIRE(testing::wait_until_serving({*config::IpAddress::parse(k_zone_servers[i]), 53},
                                        *servers[i], "www.example.test"));
  }
  // Every resolver forwards to server 1: it keeps answering www while
  // server 3 breaks (a resolver asking server 3 would cache its NXDOMAIN).
  Watching watching(dir, 11, k_zone_servers[0]);
  auto& oracle = *watching.oracle;
  const auto wait = std::chrono::seconds(20);
  std::string seen;
  const bool healthy = OracleHarness::wait_for(
      [&] {
        const auto verdict = oracle.verdict("apex");
        seen = evidence_of(verdict);
        return verdict.at("verdict").as_string() == "healthy";
      },
      wait);
  INFO(seen);
  REQUIRE(healthy);
  // The web target beside it is healthy too before apex breaks (python's
  // http.server can take seconds to listen on a loaded machine).
  REQUIRE(oracle.wait_for_verdict("healthy"));
  CHECK_THAT(seen, Catch::Contains("authoritative: 3 servers for example.test. (serial 5)"));
  std::string metrics;
  CHECK(OracleHarness::wait_for(
      [&] {
        metrics = oracle.get("/metrics").body;
        return metrics.find(R"(crosscheck_dns_soa_serial_skew{target="apex",vantage="alpha"} 0)") !=
                   std::string::npos &&
               metrics.find(R"(crosscheck_dns_ns_drift{target="apex",vantage="gamma"} 0)") !=
                   std::string::npos;
      },
      wait));

  // Server 3 publishes a new serial without www: resolvers keep answering
  // (dnsmasq forwards www to servers 1 and 2, or serves its cache).
  servers[2]->stop();
  write_zone(zones[2], 7, false);
  servers[2] = zone_server(k_zone_servers[2], zones[2], dir);
  REQUIRE(testing::wait_until_serving({*config::IpAddress::parse(k_zone_servers[2]), 53},
                                      *servers[2], "ns1.example.test"));
  const bool unhealthy = OracleHarness::wait_for(
      [&] {
        const auto verdict = oracle.verdict("apex");
        seen = evidence_of(verdict);
        return verdict.at("verdict").as_string() == "unhealthy";
      },
      wait);
  INFO(seen);
  REQUIRE(unhealthy);
  const auto verdict = oracle.verdict("apex");
  CHECK(verdict.at("failing_layer").as_string() == "dns");
  CHECK_THAT(seen,
             Catch::Contains("dns: authoritative: server ns3.example.test. (127.0.54.3): NXDOMAIN "
                             "(1 of 3 servers for example.test.)"));
  CHECK(oracle.verdict("web").at("verdict").as_string() == "healthy");
  // Back to one serial everywhere, with www: healthy again, and the skew
  // seen in between is gone.
  servers[2]->stop();
  write_zone(zones[2], 5, true);
  servers[2] = zone_server(k_zone_servers[2], zones[2], dir);
  CHECK(OracleHarness::wait_for(
      [&] {
        const auto again = oracle.verdict("apex");
        seen = evidence_of(again);
        return again.at("verdict").as_string() == "healthy";
      },
      wait));
  INFO(seen);
  CHECK_THAT(seen, Catch::Contains("(serial 5)"));
}

TEST_CASE("authoritative mode: serial skew and NS drift are measured while the data agrees",
          "[e2e][authoritative]") {
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess>> servers;
  const std::vector<std::string> addresses{"127.0.54.21", "127.0.54.22"};
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const auto zone = dir.path() / ("skew" + std::to_string(i) + ".zone");
    std::ofstream(zone) << "$ORIGIN example.test.\n$TTL 60\n"
                        << "@ IN SOA ns1.example.test. hostmaster.example.test. " << 10 + 3 * i
                        << " 3600 600 86400 60\n"
                        << "@ IN NS ns1.example.test.\n@ IN NS ns2.example.test.\n"
                        << (i == 1 ? "@ IN NS ns9.example.test.\n" : "")  // a stale NS set
                        << "ns1 IN A " << addresses[0] << "\nns2 IN A " << addresses[1] << "\n"
                        << "www IN A 127.0.0.1\n";
    servers.push_back(zone_server(addresses[i], zone, dir));
    REQUIRE(testing::wait_until_serving({*config::IpAddress::parse(addresses[i]), 53},
                                        *servers.back(), "www.example.test"));
  }
  Watching watching(dir, 31, addresses[0]);
  auto& oracle = *watching.oracle;
  std::string metrics;
  const bool measured = OracleHarness::wait_for(
      [&] {
        metrics = oracle.get("/metrics").body;
        return metrics.find(R"(crosscheck_dns_soa_serial_skew{target="apex",vantage="beta"} 3)") !=
               std::string::npos;
      },
      std::chrono::seconds(20));
  INFO(metrics.substr(0, 4000));
  REQUIRE(measured);
  CHECK_THAT(metrics,
             Catch::Contains(R"(crosscheck_dns_ns_drift{target="apex",vantage="beta"} 1)"));
  // Skew and drift are never a vote: the verdict settles healthy (measured
  // from the first check on, before the votes settle).
  CHECK(oracle.wait_for_verdict("healthy", "apex"));
  const auto verdict = oracle.verdict("apex");
  CHECK_THAT(evidence_of(verdict),
             Catch::Contains("serials 10..13, skew 3") && Catch::Contains("NS set differs"));
}
