// The check chain end to end against in-process fakes on loopback: resolve
// through the vantage's own resolver, reach the addresses it resolved,
// judge; last-known-good when DNS fails; observer errors kept apart.
#include "probes/chain.hpp"

#include "consensus/time_format.hpp"
#include "probes/http_client.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

using namespace crosscheck;
using namespace std::chrono_literals;
using crosscheck::testing::FakeDnsBehaviour;
using crosscheck::testing::FakeDnsServer;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeRecord;
using crosscheck::testing::FakeResponse;
namespace asio = boost::asio;
using consensus::Layer;
using consensus::Outcome;

namespace {

struct Harness {
  asio::io_context io;
  consensus::ManualClock clock{*consensus::parse_rfc3339("2025-10-20T06:48:00Z")};
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, probes::make_client_tls_context(), lkg, 1h, clock, true};

  probes::ProbeReport probe(const config::TargetConfig& target,
                            const probes::VantageEndpoint& vantage) {
    std::optional<probes::ProbeReport> out;
    probes::run_chain(context, target, vantage,
                      [&out](probes::ProbeReport report) { out = std::move(report); });
    io.restart();
    io.run();
    REQUIRE(out);
    return *out;
  }
};

probes::VantageEndpoint vantage_of(const FakeDnsServer& server, const std::string& name = "alpha") {
  return probes::VantageEndpoint{name, name, server.endpoint(), std::nullopt};
}

config::TargetConfig dns_target(const std::string& name) {
  config::TargetConfig target;
  target.name = "svc";
  target.dns = config::DnsCheck{name, config::RrType::A, 1, {}};
  target.timing.timeout = 1s;
  return target;
}

config::TargetConfig tcp_target(const std::string& name, std::uint16_t port) {
  auto target = dns_target(name);
  target.tcp = config::TcpCheck{port, std::nullopt};
  return target;
}

std::vector<FakeRecord> a_records(std::initializer_list<std::string> addresses) {
  std::vector<FakeRecord> records;
  for (const auto& address : addresses) {
    records.push_back(FakeRecord{"A", address, 60, ""});
  }
  return records;
}

}  // namespace

TEST_CASE("a DNS-only target is judged on resolution alone", "[chain]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::answer(a_records({"192.0.2.10", "192.0.2.11"})));
  Harness h;
  const auto report = h.probe(dns_target("svc.test"), vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Up);
  CHECK(report.observation.detail == "dns: NOERROR, 2 answers");
  CHECK(report.observation.answers == std::vector<std::string>{"192.0.2.10", "192.0.2.11"});
  CHECK(report.observation.target == "svc");
  CHECK(report.observation.vantage == "alpha");
  CHECK(report.observation.at == h.clock.now());
  CHECK(report.addresses.empty());  // nothing was contacted but the resolver
}

TEST_CASE("an empty answer is down at the DNS layer", "[chain]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::empty());
  Harness h;
  const auto report = h.probe(dns_target("svc.test"), vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK(report.observation.layer == Layer::Dns);
  CHECK(report.observation.detail == "dns: NOERROR, empty answer");
  CHECK(report.observation.last_known_good == consensus::LastKnownGood::NotTried);
}

TEST_CASE("the reach step connects to the addresses this vantage resolved", "[chain]") {
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = listener.local_endpoint().port();
  FakeDnsServer honest("127.0.0.61");
  FakeDnsServer lying("127.0.0.62");
  honest.set("db.test", FakeDnsBehaviour::answer(a_records({"127.0.0.1"})));
  // The liar points at an address where nothing listens, as a poisoned
  // resolver would: a real client would fail, and so must this vantage.
  lying.set("db.test", FakeDnsBehaviour::answer(a_records({"127.0.0.63"})));
  Harness h;
  const auto target = tcp_target("db.test", port);
  const auto good = h.probe(target, vantage_of(honest, "honest"));
  CHECK(good.observation.outcome == Outcome::Up);
  CHECK(good.observation.detail == "tcp: connected to 127.0.0.1:" + std::to_string(port));
  const auto bad = h.probe(target, vantage_of(lying, "lying"));
  CHECK(bad.observation.outcome == Outcome::Down);
  CHECK(bad.observation.layer == Layer::Connect);
  CHECK(bad.observation.detail ==
        "connect: 127.0.0.63:" + std::to_string(port) + " connection refused");
  // Both A and AAAA were asked of the vantage's resolver, nobody else's.
  CHECK(lying.udp_queries() == 2);
}

TEST_CASE("reach any is up with one dead address, reach all is down", "[chain]") {
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = listener.local_endpoint().port();
  FakeDnsServer dns("127.0.0.61");
  dns.set("db.test", FakeDnsBehaviour::answer(a_records({"127.0.0.1", "127.0.0.64"})));
  Harness h;
  auto target = tcp_target("db.test", port);
  const auto any = h.probe(target, vantage_of(dns));
  CHECK(any.observation.outcome == Outcome::Up);
  CHECK_THAT(any.observation.detail, Catch::EndsWith("(1 of 2 addresses failed)"));
  REQUIRE(any.addresses.size() == 2);
  CHECK(any.addresses[0].up);
  CHECK_FALSE(any.addresses[1].up);
  CHECK(any.addresses[1].layer == Layer::Connect);

  target.reach = config::ReachMode::All;
  const auto all = h.probe(target, vantage_of(dns));
  CHECK(all.observation.outcome == Outcome::Down);
  CHECK(all.observation.detail == "connect: 127.0.0.64:" + std::to_string(port) +
                                      " connection refused (1 of 2 addresses failed, reach: all)");
}

TEST_CASE("an HTTP check keeps the host name while connecting to the resolved address",
          "[chain]") {
  FakeHttpServer http;
  http.set("/health", FakeResponse::with_status(200, "ready"));
  FakeDnsServer dns("127.0.0.61");
  dns.set("service.test", FakeDnsBehaviour::answer(a_records({"127.0.0.1"})));
  config::TargetConfig target;
  target.name = "api";
  target.timing.timeout = 2s;
  config::HttpCheck check;
  std::string why;
  check.url = *config::Url::parse(http.url("service.test", "/health"), &why);
  check.expect_status = {200};
  check.expect_body = "ready";
  target.http = check;
  Harness h;
  const auto report = h.probe(target, vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::StartsWith("http: 200 OK"));
  const auto seen = http.last_request();
  REQUIRE(seen);
  CHECK(seen->host == "service.test:" + std::to_string(http.port()));
  CHECK(seen->target == "/health");
}

TEST_CASE("when DNS fails the last-known-good addresses are tried and reported", "[chain]") {
  asio::io_context io;
  auto listener = std::make_unique<asio::ip::tcp::acceptor>(
      io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
  const auto port = listener->local_endpoint().port();
  FakeDnsServer dns("127.0.0.61");
  dns.set("db.test", FakeDnsBehaviour::answer(a_records({"127.0.0.1"})));
  Harness h;
  const auto target = tcp_target("db.test", port);
  REQUIRE(h.probe(target, vantage_of(dns)).observation.outcome == Outcome::Up);

  // The record is published empty (Oct 2025); the service still answers.
  dns.set("db.test", FakeDnsBehaviour::empty());
  h.clock.advance(10s);
  const auto broken_dns = h.probe(target, vantage_of(dns));
  CHECK(broken_dns.observation.outcome == Outcome::Down);
  CHECK(broken_dns.observation.layer == Layer::Dns);
  CHECK(broken_dns.used_last_known_good);
  CHECK(broken_dns.observation.last_known_good == consensus::LastKnownGood::Reachable);
  CHECK(broken_dns.observation.detail ==
        "dns: NOERROR, empty answer; last-known-good addresses still answer");

  // Now the service is down too.
  listener.reset();
  h.clock.advance(10s);
  const auto both = h.probe(target, vantage_of(dns));
  CHECK(both.observation.last_known_good == consensus::LastKnownGood::Unreachable);

  // Past last_known_good_max_age (1h here) the old addresses are not used.
  h.clock.advance(2h);
  const auto old = h.probe(target, vantage_of(dns));
  CHECK_FALSE(old.used_last_known_good);
  CHECK(old.observation.last_known_good == consensus::LastKnownGood::NotTried);
}

TEST_CASE("a vantage without a usable resolver is an observer error", "[chain]") {
  Harness h;
  const auto report =
      h.probe(dns_target("svc.test"), probes::VantageEndpoint{"sys", "sys", std::nullopt, {}});
  CHECK(report.observation.outcome == Outcome::ObserverError);
  CHECK_THAT(report.observation.detail, Catch::Contains("no usable resolver"));
}

TEST_CASE("a source address this host does not have is an observer error, not down",
          "[chain]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::answer(a_records({"192.0.2.10"})));
  Harness h;
  auto vantage = vantage_of(dns);
  vantage.source = config::IpAddress::parse("192.0.2.1");
  const auto report = h.probe(dns_target("svc.test"), vantage);
  CHECK(report.observation.outcome == Outcome::ObserverError);
  CHECK(dns.udp_queries() == 0);
}

TEST_CASE("the probe trace names every step in order", "[chain]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::answer(a_records({"192.0.2.10"})));
  Harness h;
  const auto report = h.probe(dns_target("svc.test"), vantage_of(dns));
  REQUIRE(report.trace.size() == 3);
  CHECK_THAT(report.trace[0].text,
             Catch::StartsWith("A svc.test via 127.0.0.61:" + std::to_string(dns.port()) +
                               " (udp): NOERROR, 1 answer in "));
  CHECK_THAT(report.trace[1].text, Catch::Contains("ttl 60  192.0.2.10"));
  CHECK(report.trace[2].step == "result");
}
