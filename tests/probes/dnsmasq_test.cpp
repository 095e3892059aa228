// System test against a real recursive resolver: dnsmasq (Debian's
// dnsmasq-base) started on loopback by the test. One instance answers for
// the test name, another publishes it with no A record (an empty answer);
// the probe must tell them apart exactly as it does with the fakes.
#include "consensus/clock.hpp"
#include "consensus/time_format.hpp"
#include "probes/chain.hpp"
#include "probes/dns_client.hpp"
#include "real_resolver.hpp"
#include "support/child_process.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <filesystem>

using namespace crosscheck;
using namespace std::chrono_literals;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::TempDir;

namespace {

std::string dnsmasq_binary() {
  for (const char* path : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"}) {
    if (std::filesystem::exists(path)) {
      return path;
    }
  }
  return "dnsmasq";
}

// A dnsmasq on `address`:`port` authoritative for .test (--local) that
// knows only `record` (--host-record).
std::unique_ptr<ChildProcess> start_dnsmasq(const std::string& address, unsigned short port,
                                            const std::string& record,
                                            const std::filesystem::path& log) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{dnsmasq_binary(), "--keep-in-foreground", "--no-resolv",
                               "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces",
                               "--listen-address=" + address, "--port=" + std::to_string(port),
                               "--host-record=" + record, "--local=/test/", "--local-ttl=60",
                               "--pid-file=", "--user=root", "--log-facility=-"},
      log);
}

}  // namespace

TEST_CASE("a real dnsmasq answer and a real empty answer are told apart", "[dnsmasq]") {
  TempDir dir;
  const auto good_port = testing::free_port("127.0.0.71");
  const auto empty_port = testing::free_port("127.0.0.72");
  const config::Endpoint good{*config::IpAddress::parse("127.0.0.71"), good_port};
  const config::Endpoint empty{*config::IpAddress::parse("127.0.0.72"), empty_port};
  auto good_server =
      start_dnsmasq("127.0.0.71", good_port, "dynamodb.test,192.0.2.10", dir.path() / "good.log");
  // Only an AAAA record: an A query gets NOERROR with an empty answer section.
  auto empty_server = start_dnsmasq("127.0.0.72", empty_port, "dynamodb.test,2001:db8::10",
                                    dir.path() / "empty.log");

  if (!testing::wait_until_serving(good, *good_server, "dynamodb.test") ||
      !testing::wait_until_serving(empty, *empty_server, "dynamodb.test")) {
    FAIL("dnsmasq is not serving; its logs:\n"
         << good_server->log() << '\n'
         << empty_server->log());
  }

  SECTION("a single query sees the answer, the empty answer and the name that does not exist") {
    const auto answered = testing::query_a(good, "dynamodb.test");
    CHECK(answered.status == probes::DnsStatus::Answer);
    REQUIRE(answered.answers.size() == 1);
    CHECK(answered.answers[0].data == "192.0.2.10");
    CHECK(answered.answers[0].ttl == 60);
    const auto hollow = testing::query_a(empty, "dynamodb.test");
    CHECK(hollow.status == probes::DnsStatus::EmptyAnswer);
    CHECK(hollow.detail == "dns: NOERROR, empty answer");
    CHECK(hollow.rcode == 0);
  }

  SECTION("the check chain from two vantages reports up and down with the right detail") {
    config::TargetConfig target;
    target.name = "dynamodb";
    target.dns = config::DnsCheck{"dynamodb.test", config::RrType::A, 1, {}};
    target.timing.timeout = 1s;
    boost::asio::io_context io;
    consensus::ManualClock clock(*consensus::parse_rfc3339("2025-10-20T06:48:00Z"));
    probes::LastKnownGoodStore lkg;
    probes::ChainContext context{io, nullptr, lkg, 1h, clock};
    std::vector<probes::ProbeReport> reports;
    for (const auto& [name, server] : {std::pair{"alpha", good}, std::pair{"beta", empty}}) {
      probes::VantageEndpoint vantage{name, name, server, std::nullopt};
      probes::run_chain(context, target, vantage,
                        [&reports](probes::ProbeReport report) { reports.push_back(report); });
    }
    io.run();
    REQUIRE(reports.size() == 2);
    std::sort(reports.begin(), reports.end(), [](const auto& a, const auto& b) {
      return a.observation.vantage < b.observation.vantage;
    });
    CHECK(reports[0].observation.outcome == consensus::Outcome::Up);
    CHECK(reports[0].observation.detail == "dns: NOERROR, 1 answer");
    CHECK(reports[0].observation.answers == std::vector<std::string>{"192.0.2.10"});
    CHECK(reports[1].observation.outcome == consensus::Outcome::Down);
    CHECK(reports[1].observation.layer == consensus::Layer::Dns);
    CHECK(reports[1].observation.detail == "dns: NOERROR, empty answer");
  }
}
