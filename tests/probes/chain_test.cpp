// The check chain end to end against in-process fakes on loopback: resolve
// through the vantage's own resolver, reach the addresses it resolved,
// judge; last-known-good when DNS fails; observer errors kept apart.
#include "probes/chain.hpp"

#include "base/text.hpp"
#include "consensus/time_format.hpp"
#include "ipv6_loopback.hpp"
#include "net/tls_client.hpp"
#include "probes/http_client.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>

using namespace crosscheck;
using namespace std::chrono_literals;
using crosscheck::testing::FakeCertificate;
using crosscheck::testing::FakeDnsBehaviour;
using crosscheck::testing::FakeDnsServer;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeHttpServerOptions;
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
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, clock, true};

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

// A target reached at an IP address: tcp {host: ADDRESS, port} or an http
// URL whose host is the address, and no dns: check.
config::TargetConfig literal_tcp_target(const std::string& host, std::uint16_t port) {
  config::TargetConfig target;
  target.name = "db";
  target.tcp = config::TcpCheck{port, host};
  target.timing.timeout = 1s;
  return target;
}

config::TargetConfig literal_http_target(const std::string& url) {
  config::TargetConfig target;
  target.name = "api";
  target.timing.timeout = 2s;
  config::HttpCheck check;
  std::string why;
  const auto parsed = config::Url::parse(url, &why);
  INFO(why);
  REQUIRE(parsed);
  check.url = *parsed;
  check.expect_status = {200};
  target.http = check;
  return target;
}

// "127.0.0.2" -> "127.0.0.2", "::1" -> "[::1]": the host as a URL spells it.
std::string url_host(const std::string& address) {
  return address.find(':') == std::string::npos ? address : "[" + address + "]";
}

void check_no_dns_step(const probes::ProbeReport& report, const FakeDnsServer& resolver) {
  CHECK(report.dns.empty());
  CHECK(resolver.udp_queries() == 0);
  CHECK(resolver.tcp_queries() == 0);
  CHECK(resolver.queries().empty());
}

// tcp: {host: ADDRESS}: up while something listens there, down at the
// connect layer once it stops, and the resolver is never asked a thing.
void tcp_literal_up_then_down(const std::string& address) {
  asio::io_context io;
  auto listener = std::make_unique<asio::ip::tcp::acceptor>(
      io, asio::ip::tcp::endpoint{asio::ip::make_address(address), 0});
  const auto port = listener->local_endpoint().port();
  const auto where = config::Endpoint{*config::IpAddress::parse(address), port}.to_string();
  FakeDnsServer dns("127.0.0.61");  // NXDOMAIN for anything it is asked
  Harness h;
  const auto target = literal_tcp_target(address, port);

  const auto up = h.probe(target, vantage_of(dns));
  CHECK(up.observation.outcome == Outcome::Up);
  CHECK(up.observation.layer == Layer::None);
  CHECK(up.observation.detail == "tcp: connected to " + where);
  CHECK(up.observation.answers == std::vector<std::string>{address});
  REQUIRE(up.addresses.size() == 1);
  CHECK(up.addresses[0].address.to_string() == address);
  check_no_dns_step(up, dns);

  listener.reset();
  const auto down = h.probe(target, vantage_of(dns));
  CHECK(down.observation.outcome == Outcome::Down);
  CHECK(down.observation.layer == Layer::Connect);
  CHECK(down.observation.detail == "connect: " + where + " connection refused");
  CHECK(down.reach_failure == probes::ReachFailure::ConnectRefused);  // what /metrics counts
  CHECK(down.observation.answers == std::vector<std::string>{address});
  CHECK_FALSE(down.used_last_known_good);
  CHECK(down.observation.last_known_good == consensus::LastKnownGood::NotTried);
  check_no_dns_step(down, dns);
}

// An http URL whose host is ADDRESS: 200 is up, 503 down at the http layer,
// a stopped server down at the connect layer; Host carries the literal.
void http_literal_healthy_then_down(const std::string& address) {
  FakeHttpServerOptions options;
  options.address = address;
  auto http = std::make_unique<FakeHttpServer>(options);
  http->set("/health", FakeResponse::with_status(200, "ready"));
  const auto port = http->port();
  const std::string authority = url_host(address) + ":" + std::to_string(port);
  FakeDnsServer dns("127.0.0.61");
  Harness h;
  const auto target = literal_http_target("http://" + authority + "/health");

  const auto healthy = h.probe(target, vantage_of(dns));
  CHECK(healthy.observation.outcome == Outcome::Up);
  CHECK(healthy.observation.detail == "http: 200 OK");
  CHECK(healthy.observation.answers == std::vector<std::string>{address});
  const auto seen = http->last_request();
  REQUIRE(seen);
  CHECK(seen->host == authority);
  CHECK(seen->target == "/health");
  check_no_dns_step(healthy, dns);

  http->set("/health", FakeResponse::with_status(503, "down"));
  const auto failing = h.probe(target, vantage_of(dns));
  CHECK(failing.observation.outcome == Outcome::Down);
  CHECK(failing.observation.layer == Layer::Http);
  CHECK(failing.observation.detail == "http: 503 Service Unavailable, expected 200");

  http.reset();  // nothing listens at the port any more
  const auto stopped = h.probe(target, vantage_of(dns));
  CHECK(stopped.observation.outcome == Outcome::Down);
  CHECK(stopped.observation.layer == Layer::Connect);
  CHECK(stopped.observation.detail == "connect: " + authority + " connection refused");
  CHECK(stopped.observation.answers == std::vector<std::string>{address});
  check_no_dns_step(stopped, dns);
}

// https://ADDRESS/: no SNI (RFC 6066 allows none for an IP), the certificate
// is verified against the address, and Host carries the literal.
void https_literal_verified_without_sni(const std::string& address) {
  FakeHttpServerOptions options;
  options.address = address;
  options.tls = crosscheck::testing::FakeTlsOptions{FakeCertificate::CaSigned, "service.test", 90};
  FakeHttpServer https(options);
  const std::string authority = url_host(address) + ":" + std::to_string(https.port());
  FakeDnsServer dns("127.0.0.61");
  Harness h;
  h.context.tls->add_certificate_authority(asio::buffer(https.ca_pem()));
  const auto report = h.probe(literal_http_target("https://" + authority + "/"), vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::StartsWith("http: 200 OK, TLSv1."));
  const auto seen = https.last_request();
  REQUIRE(seen);
  CHECK(seen->sni.empty());
  CHECK(seen->host == authority);
  check_no_dns_step(report, dns);
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
  CHECK(report.dns_failure == probes::DnsStatus::EmptyAnswer);  // what /metrics counts
  CHECK(report.observation.last_known_good == consensus::LastKnownGood::NotTried);
}

TEST_CASE("dns.dnssec: a SERVFAIL that resolves with checking disabled is a DNSSEC failure",
          "[chain][dnssec]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::bogus({FakeRecord{"A", "192.0.2.10", 300, ""}}));
  Harness h;
  auto target = dns_target("svc.test");
  target.dns->dnssec = true;
  const auto report = h.probe(target, vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK(report.observation.layer == Layer::Dns);
  CHECK(report.observation.dnssec_failure);
  CHECK(report.dns_failure == probes::DnsStatus::DnssecBogus);
  CHECK(report.observation.detail ==
        "dns: SERVFAIL, DNSSEC validation fails: with checking disabled (CD) it answers "
        "(NOERROR, 1 answer)");
  // Two questions: DO on both, CD only on the second.
  const auto queries = dns.queries();
  REQUIRE(queries.size() == 2);
  CHECK(queries[0].dnssec_ok);
  CHECK_FALSE(queries[0].checking_disabled);
  CHECK(queries[1].dnssec_ok);
  CHECK(queries[1].checking_disabled);
}

TEST_CASE("dns.dnssec: a SERVFAIL that fails with checking disabled too stays a SERVFAIL",
          "[chain][dnssec]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::servfail());
  Harness h;
  auto target = dns_target("svc.test");
  target.dns->dnssec = true;
  const auto report = h.probe(target, vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK_FALSE(report.observation.dnssec_failure);
  CHECK(report.dns_failure == probes::DnsStatus::ServFail);
  CHECK(report.observation.detail == "dns: SERVFAIL; with checking disabled (CD): SERVFAIL");
  CHECK(dns.queries().size() == 2);
}

TEST_CASE("without dns.dnssec a SERVFAIL is asked once, without DO", "[chain][dnssec]") {
  FakeDnsServer dns("127.0.0.61");
  dns.set("svc.test", FakeDnsBehaviour::bogus({FakeRecord{"A", "192.0.2.10", 300, ""}}));
  Harness h;
  const auto report = h.probe(dns_target("svc.test"), vantage_of(dns));
  CHECK(report.dns_failure == probes::DnsStatus::ServFail);
  CHECK_FALSE(report.observation.dnssec_failure);
  const auto queries = dns.queries();
  REQUIRE(queries.size() == 1);
  CHECK_FALSE(queries[0].dnssec_ok);
  CHECK_FALSE(queries[0].checking_disabled);
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
  CHECK(any.addresses[0].reach.up());
  CHECK_FALSE(any.addresses[1].reach.up());
  CHECK(any.addresses[1].reach.layer() == Layer::Connect);

  target.reach = config::ReachMode::All;
  const auto all = h.probe(target, vantage_of(dns));
  CHECK(all.observation.outcome == Outcome::Down);
  CHECK(all.observation.detail == "connect: 127.0.0.64:" + std::to_string(port) +
                                      " connection refused (1 of 2 addresses failed, reach: all)");
}

namespace {

// Target "api": GET http://service.test:PORT/health from `http`, expecting
// 200, the name resolved by `dns` to 127.0.0.1.
config::TargetConfig service_target(FakeHttpServer& http, FakeDnsServer& dns) {
  dns.set("service.test", FakeDnsBehaviour::answer(a_records({"127.0.0.1"})));
  config::TargetConfig target;
  target.name = "api";
  target.timing.timeout = 2s;
  config::HttpCheck check;
  std::string why;
  check.url = *config::Url::parse(http.url("service.test", "/health"), &why);
  check.expect_status = {200};
  target.http = check;
  return target;
}

}  // namespace

TEST_CASE("an HTTP check keeps the host name while connecting to the resolved address", "[chain]") {
  FakeHttpServer http;
  http.set("/health", FakeResponse::with_status(200, "ready"));
  FakeDnsServer dns("127.0.0.61");
  auto target = service_target(http, dns);
  target.http->expect_body = "ready";
  Harness h;
  const auto report = h.probe(target, vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::StartsWith("http: 200 OK"));
  const auto seen = http.last_request();
  REQUIRE(seen);
  CHECK(seen->host == "service.test:" + std::to_string(http.port()));
  CHECK(seen->target == "/health");
}

TEST_CASE("what a server says reaches the detail as one printable line without bidi overrides",
          "[chain]") {
  FakeHttpServer http;
  // A reason phrase with a right-to-left override (U+202E) and a C1 CSI
  // (U+009B): shown as is, the detail's own words after it read reversed.
  auto response = FakeResponse::with_status(503, "down");
  response.reason =
      "Service \xE2\x80\xAE"
      "gnp.exe \xC2\x9B"
      "2J";
  http.set("/health", response);
  FakeDnsServer dns("127.0.0.61");
  const auto target = service_target(http, dns);
  Harness h;
  const auto report = h.probe(target, vantage_of(dns));
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK_THAT(report.observation.detail, Catch::StartsWith("http: 503 Service ???gnp.exe ??2J"));
  CHECK(text::is_printable_line(report.observation.detail));
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
  const auto first = h.probe(target, vantage_of(dns));
  REQUIRE(first.observation.outcome == Outcome::Up);
  // The report tells its deadline on the clock it was started on.
  CHECK(first.deadline - first.started == target.timing.timeout);

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
  // The fallback's budget is at least half a timeout from when DNS failed.
  CHECK(broken_dns.deadline - broken_dns.started >= target.timing.timeout);

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

TEST_CASE("a source address this host does not have is an observer error, not down", "[chain]") {
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

TEST_CASE("a tcp target given by an IPv4 address is reached without asking the resolver",
          "[chain]") {
  tcp_literal_up_then_down("127.0.2.5");
}

TEST_CASE("a tcp target given by an IPv6 address is reached without asking the resolver",
          "[chain][ipv6]") {
  if (!crosscheck::testing::ipv6_loopback_usable()) {
    return;
  }
  tcp_literal_up_then_down("::1");
}

TEST_CASE("an http URL with an IPv4 host is judged at connect and http, never at dns", "[chain]") {
  http_literal_healthy_then_down("127.0.0.2");
}

TEST_CASE("an http URL with an IPv6 host is judged at connect and http, never at dns",
          "[chain][ipv6]") {
  if (!crosscheck::testing::ipv6_loopback_usable()) {
    return;
  }
  http_literal_healthy_then_down("::1");
}

TEST_CASE("an https URL with an IPv4 host sends no SNI and verifies the address", "[chain]") {
  https_literal_verified_without_sni("127.0.0.2");
}

TEST_CASE("an https URL with an IPv6 host sends no SNI and verifies the address", "[chain][ipv6]") {
  if (!crosscheck::testing::ipv6_loopback_usable()) {
    return;
  }
  https_literal_verified_without_sni("::1");
}

TEST_CASE("an IP-address target keeps the vantage's source address and the target's timeout",
          "[chain]") {
  FakeHttpServerOptions options;
  options.address = "127.0.0.2";
  FakeHttpServer http(options);
  http.set("/health", FakeResponse::with_status(200, "ready"));
  http.set("/stall", FakeResponse::stall());
  const std::string authority = "127.0.0.2:" + std::to_string(http.port());
  FakeDnsServer dns("127.0.0.61");
  Harness h;
  auto vantage = vantage_of(dns);
  vantage.source = config::IpAddress::parse("127.0.0.9");

  SECTION("the connection comes from the source address") {
    const auto report = h.probe(literal_http_target("http://" + authority + "/health"), vantage);
    CHECK(report.observation.outcome == Outcome::Up);
    const auto seen = http.last_request();
    REQUIRE(seen);
    CHECK(seen->peer_address == "127.0.0.9");
  }
  SECTION("a server that never answers is down at the http layer by the target's timeout") {
    auto target = literal_http_target("http://" + authority + "/stall");
    target.timing.timeout = 300ms;
    const auto started = std::chrono::steady_clock::now();
    const auto report = h.probe(target, vantage);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(report.observation.outcome == Outcome::Down);
    CHECK(report.observation.layer == Layer::Http);
    CHECK(report.observation.detail == "http: timed out waiting for the response");
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 300ms + 700ms);
  }
  SECTION("a source address this host does not have is an observer error") {
    vantage.source = config::IpAddress::parse("192.0.2.1");
    const auto report = h.probe(literal_http_target("http://" + authority + "/health"), vantage);
    CHECK(report.observation.outcome == Outcome::ObserverError);
    CHECK(http.request_count() == 0);
  }
  CHECK(dns.udp_queries() == 0);
}

TEST_CASE("an IP-address target needs no resolver, so a vantage without one still judges it",
          "[chain]") {
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.2.5"), 0});
  Harness h;
  const auto report = h.probe(literal_tcp_target("127.0.2.5", listener.local_endpoint().port()),
                              probes::VantageEndpoint{"sys", "sys", std::nullopt, std::nullopt});
  CHECK(report.observation.outcome == Outcome::Up);
  REQUIRE_FALSE(report.trace.empty());
  CHECK(report.trace.front().step == "dns");
  CHECK(report.trace.front().text == "none: 127.0.2.5 is an IP address, reached directly");
}

// authoritative: true, from an IPv4 source, for a zone whose only server
// has an IPv6 address: the zone's servers cannot be judged from here. That
// never changes the service's own vote, up or down; the detail says so.
TEST_CASE("zone servers this vantage cannot ask leave the service's own vote as it is",
          "[chain][authoritative]") {
  asio::io_context io;
  auto listener = std::make_unique<asio::ip::tcp::acceptor>(
      io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
  const auto port = listener->local_endpoint().port();
  FakeDnsServer resolver("127.0.0.64");
  resolver.set("db.example", config::RrType::A, FakeDnsBehaviour::answer(a_records({"127.0.0.1"})));
  resolver.set("db.example", config::RrType::AAAA, FakeDnsBehaviour::empty());
  resolver.set(
      "db.example", config::RrType::SOA,
      FakeDnsBehaviour::empty().with_authority(
          {{"SOA", "ns1.example. hostmaster.example. 1 3600 600 86400 300", 300, "example."}}));
  resolver.set("example.", config::RrType::NS,
               FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}));
  resolver.set("ns1.example.", config::RrType::A, FakeDnsBehaviour::empty());
  resolver.set("ns1.example.", config::RrType::AAAA,
               FakeDnsBehaviour::answer({{"AAAA", "::1", 300, ""}}));
  auto target = tcp_target("db.example", port);
  target.dns->authoritative = true;
  probes::VantageEndpoint vantage{"alpha", "alpha", resolver.endpoint(),
                                  config::IpAddress::parse("127.0.0.1")};
  Harness h;
  const std::string why =
      "; authoritative: not judged: no address for the NS names of example. in the family of "
      "source 127.0.0.1";

  const auto serving = h.probe(target, vantage);
  CHECK(serving.observation.outcome == Outcome::Up);
  CHECK_THAT(serving.observation.detail, Catch::EndsWith(why));
  CHECK_FALSE(serving.observation.soa_serial_skew);
  CHECK_FALSE(serving.observation.ns_drift);

  listener.reset();  // nothing listens there now
  const auto down = h.probe(target, vantage);
  CHECK(down.observation.outcome == Outcome::Down);
  CHECK(down.observation.layer == Layer::Connect);
  CHECK(down.observation.detail ==
        "connect: 127.0.0.1:" + std::to_string(port) + " connection refused" + why);
}

TEST_CASE("a DoT vantage whose resolver fails TLS is an observer error, never a down vote",
          "[chain][dot]") {
  Harness h;
  FakeDnsServer server;  // plain DNS only: the handshake never completes
  server.set("svc.test", FakeDnsBehaviour::answer({{"A", "192.0.2.1", 60, ""}}));
  auto vantage = vantage_of(server);
  config::DotConfig dot;
  dot.name = "dns.test";
  vantage.tls = probes::make_dot_transport(dot);
  auto target = dns_target("svc.test");
  target.timing.timeout = 300ms;

  const auto report = h.probe(target, vantage);
  CHECK(report.observation.outcome == Outcome::ObserverError);
  CHECK_THAT(report.observation.detail,
             Catch::StartsWith("dot: TLS handshake with tls://" + server.endpoint().to_string()));
  CHECK(server.udp_queries() == 0);
  REQUIRE(report.dns.size() == 1);
  CHECK(report.dns[0].resolver == "tls://" + server.endpoint().to_string());
  CHECK(report.dns[0].over_tls);
  const auto trace = std::find_if(report.trace.begin(), report.trace.end(),
                                  [](const probes::TraceLine& line) { return line.step == "dns"; });
  REQUIRE(trace != report.trace.end());
  CHECK_THAT(trace->text, Catch::Contains(" (tls): "));
}
