// System test of DNS over TLS vantages against a real DoT server: Debian's
// unbound on loopback with `tls-port`, presenting a leaf of a test CA for
// dns.test. Every TLS failure (wrong name, unknown CA, a key that matches no
// pin) is an observer error that says what failed, never a down vote.
// Authoritative mode through it asks a fake zone server on 127.0.68.1:53.
#include "config/tls_files.hpp"
#include "net/tls_client.hpp"
#include "probes/chain.hpp"
#include "real_resolver.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/test_pki.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck;
using namespace std::chrono_literals;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::FakeDnsBehaviour;
using crosscheck::testing::FakeDnsServer;
using crosscheck::testing::TempDir;
using crosscheck::testing::TestCertificate;
using crosscheck::testing::TestPki;
using probes::DnsStatus;

namespace {

constexpr const char* k_address = "127.0.0.76";

// One unbound answering web.test over plain DNS (for the readiness poll)
// and over TLS, with `server` as its certificate.
struct DotServer {
  // `extra`: more server lines (local-zone, local-data).
  DotServer(const std::filesystem::path& dir, const TestCertificate& server,
            const std::string& extra = "")
      : plain{*config::IpAddress::parse(k_address), testing::free_port(k_address)},
        tls{*config::IpAddress::parse(k_address), testing::free_port(k_address)} {
    const std::string address(k_address);
    process = testing::start_unbound(
        dir, "dot",
        "  interface: " + address + "@" + std::to_string(plain.port) + "\n  interface: " + address +
            "@" + std::to_string(tls.port) + "\n  port: " + std::to_string(plain.port) +
            "\n  tls-port: " + std::to_string(tls.port) + "\n  tls-service-key: \"" +
            server.key.string() + "\"\n  tls-service-pem: \"" + server.cert.string() +
            "\"\n  access-control: 127.0.0.0/8 allow\n"
            "  local-data: \"web.test. 60 IN A 192.0.2.10\"\n" +
            extra);
    if (!testing::wait_until_serving(plain, *process, "web.test")) {
      FAIL("unbound is not serving; its log:\n" << process->log());
    }
  }
  config::Endpoint plain;
  config::Endpoint tls;
  std::unique_ptr<ChildProcess> process;
};

// One A query for web.test over DoT with `dot`'s settings, 2 s deadline.
probes::DnsResult query_dot(const config::Endpoint& server, const config::DotConfig& dot) {
  boost::asio::io_context io;
  probes::DnsResult out;
  probes::DnsRequest request;
  request.server = server;
  request.name = "web.test";
  request.type = config::RrType::A;
  request.deadline = std::chrono::steady_clock::now() + 2s;
  request.tls = probes::make_dot_transport(dot);
  const net::SystemClock clock;
  probes::query_dns(io, clock, request,
                    [&out](probes::DnsResult result) { out = std::move(result); });
  io.run();
  return out;
}

// The public-key pin of the certificate in `file`, as tls_pins spells it.
config::SpkiPin pin_of(const std::filesystem::path& file) {
  const auto material = config::read_tls_files(config::TlsClientConfig{file, {}, {}});
  REQUIRE(material);
  REQUIRE(material->trusted.size() == 1);
  const auto pin = config::certificate_spki_pin(material->trusted.front().get());
  REQUIRE(pin);
  return *pin;
}

struct Fixture {
  TempDir dir;
  TestPki pki{dir.path() / "pki"};
  TestCertificate ca = pki.ca("dot-ca");
  TestCertificate leaf = pki.leaf("dns", ca, "DNS:dns.test");
  DotServer server{dir.path(), leaf};
  std::string label = "tls://" + server.tls.to_string();

  // tls_name `name`, verified against the test CA.
  config::DotConfig named(const std::string& name) const {
    config::DotConfig dot;
    dot.name = name;
    dot.ca_file = ca.cert;
    return dot;
  }
};

}  // namespace

TEST_CASE(
    "a DoT vantage gets its answer over TLS from a resolver whose name the test CA vouches "
    "for",
    "[dot][unbound]") {
  Fixture f;
  auto dot = f.named("dns.test");
  const auto result = query_dot(f.server.tls, dot);
  INFO(result.detail);
  CHECK(result.status == DnsStatus::Answer);
  CHECK(result.detail == "dns: NOERROR, 1 answer");
  CHECK(result.over_tls);
  CHECK(result.resolver == f.label);
  REQUIRE(result.answers.size() == 1);
  CHECK(result.answers[0].data == "192.0.2.10");

  // Name, CA and a matching pin: all three hold.
  dot.pins = {pin_of(f.leaf.cert)};
  CHECK(query_dot(f.server.tls, dot).status == DnsStatus::Answer);
}

TEST_CASE("a DoT vantage with only a pin answers when the resolver's key matches it",
          "[dot][unbound]") {
  Fixture f;
  config::DotConfig dot;
  dot.pins = {*config::SpkiPin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
              pin_of(f.leaf.cert)};
  const auto result = query_dot(f.server.tls, dot);
  INFO(result.detail);
  CHECK(result.status == DnsStatus::Answer);
}

TEST_CASE("a DoT resolver whose key matches no pin is an observer error naming its key",
          "[dot][unbound]") {
  Fixture f;
  const auto other = f.pki.leaf("other", f.ca, "DNS:dns.test");
  config::DotConfig dot;
  dot.pins = {pin_of(other.cert)};
  const auto result = query_dot(f.server.tls, dot);
  CHECK(result.status == DnsStatus::ObserverError);
  CHECK(result.detail == "dot: the certificate of " + f.label +
                             " matches no pin (possible interception): its key is " +
                             pin_of(f.leaf.cert).to_string());
  CHECK(result.answers.empty());
}

TEST_CASE("a DoT resolver whose certificate names another host is an observer error",
          "[dot][unbound]") {
  Fixture f;
  const auto result = query_dot(f.server.tls, f.named("dns.other.test"));
  CHECK(result.status == DnsStatus::ObserverError);
  CHECK(result.detail == "dot: the certificate of " + f.label +
                             " does not name dns.other.test (possible interception)");
}

TEST_CASE("a DoT resolver whose CA is not trusted is an observer error", "[dot][unbound]") {
  Fixture f;
  config::DotConfig dot;
  dot.name = "dns.test";  // the system store does not know the test CA
  const auto result = query_dot(f.server.tls, dot);
  CHECK(result.status == DnsStatus::ObserverError);
  CHECK_THAT(result.detail, Catch::StartsWith("dot: the certificate of " + f.label +
                                              " is not from a trusted CA ("));
  CHECK_THAT(result.detail, Catch::EndsWith("; possible interception)"));
}

TEST_CASE("a DoT vantage pointed at a plain DNS port is an observer error and not a down vote",
          "[dot][unbound]") {
  Fixture f;
  const auto result = query_dot(f.server.plain, f.named("dns.test"));
  CHECK(result.status == DnsStatus::ObserverError);
  CHECK_THAT(result.detail,
             Catch::StartsWith("dot: TLS handshake with tls://" + f.server.plain.to_string()));
}

TEST_CASE(
    "authoritative mode from a DoT vantage finds the zone through unbound over TLS and asks "
    "the zone server plain",
    "[dot][unbound][authoritative]") {
  // Zone example. in unbound (its SOA and NS, ns1.example. at 127.0.68.1);
  // the zone's server itself is a fake on port 53, where the chain asks.
  TempDir dir;
  TestPki pki{dir.path() / "pki"};
  const auto ca = pki.ca("dot-ca");
  const auto leaf = pki.leaf("dns", ca, "DNS:dns.test");
  FakeDnsServer zone_server{"127.0.68.1", 53};
  zone_server.set("www.example.", config::RrType::A,
                  FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
  zone_server.set("example.", config::RrType::SOA,
                  FakeDnsBehaviour::answer({{"SOA",
                                             "ns1.example. hostmaster.example. 2026120501 3600 "
                                             "600 86400 300",
                                             300, "example."}})
                      .with_aa());
  zone_server.set("example.", config::RrType::NS,
                  FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}).with_aa());
  DotServer server{dir.path(), leaf,
                   "  local-zone: \"example.\" static\n"
                   "  local-data: \"example. 300 IN SOA ns1.example. hostmaster.example. "
                   "2026120501 3600 600 86400 300\"\n"
                   "  local-data: \"example. 300 IN NS ns1.example.\"\n"
                   "  local-data: \"ns1.example. 300 IN A 127.0.68.1\"\n"
                   "  local-data: \"www.example. 300 IN A 192.0.2.10\"\n"};
  config::TargetConfig target;
  target.name = "web";
  target.dns = config::DnsCheck{"www.example", config::RrType::A, 1, {}};
  target.dns->authoritative = true;
  target.timing.timeout = 2s;
  probes::VantageEndpoint vantage{"dot", "dot", server.tls, std::nullopt};
  config::DotConfig dot;
  dot.name = "dns.test";
  dot.ca_file = ca.cert;
  vantage.tls = probes::make_dot_transport(dot);
  boost::asio::io_context io;
  const net::SystemClock clock;
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, clock, true};
  std::optional<probes::ProbeReport> report;
  probes::run_chain(context, target, vantage,
                    [&report](probes::ProbeReport out) { report = std::move(out); });
  io.run();
  REQUIRE(report);
  INFO(report->observation.detail);
  CHECK(report->observation.outcome == consensus::Outcome::Up);
  CHECK_THAT(report->observation.detail,
             Catch::Contains("authoritative: 1 server for example. (serial 2026120501)"));
  REQUIRE_FALSE(report->dns.empty());
  CHECK(report->dns.front().over_tls);
  const auto queries = zone_server.queries();
  CHECK(queries.size() == 3);
  for (const auto& query : queries) {
    CHECK_FALSE(query.recursion_desired);
    CHECK_FALSE(query.over_tcp);
  }
}
