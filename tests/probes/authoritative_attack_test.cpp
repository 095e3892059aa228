// Hostile review of authoritative mode (dns: { authoritative: true }):
// each case expects the CORRECT behaviour, so a failing case is a finding.
// Fakes on loopback only (127.0.53.x; the chain cases 127.0.61.x-127.0.65.x).
#include "probes/authoritative.hpp"

#include "probes/authoritative_judge.hpp"
#include "probes/chain.hpp"

#include "consensus/time_format.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "support/fake_dns_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace crosscheck;
using config::RrType;
using probes::DnsStatus;
using testing::FakeDnsBehaviour;
using testing::FakeDnsQuery;
using testing::FakeDnsServer;
using testing::FakeRecord;
using Clock = std::chrono::steady_clock;
const net::SystemClock k_clock;

// Timing slack for a loaded 2-core CI machine.
constexpr auto k_slack = 500ms;
constexpr std::uint32_t k_serial = 2026120501;

std::string soa_data(std::uint32_t serial) {
  return "ns1.example. hostmaster.example. " + std::to_string(serial) + " 3600 600 86400 300";
}

FakeRecord soa_of(const std::string& zone, std::uint32_t serial) {
  return {"SOA", soa_data(serial), 300, zone};
}

std::vector<FakeRecord> ns_records(const std::vector<std::string>& names) {
  std::vector<FakeRecord> records;
  records.reserve(names.size());
  for (const auto& name : names) {
    records.push_back({"NS", name, 300, ""});
  }
  return records;
}

std::string loopback(int index) {
  return "127.0.53." + std::to_string(index);
}

// Fake authoritative servers on 127.0.53.1..count, then on each of `extra`
// (loopback literals), all on one port: the first binds a port the kernel
// picks, the others bind that same port on their own address (tried again
// from the start should one be taken).
struct Servers {
  std::vector<std::unique_ptr<FakeDnsServer>> all;
  std::uint16_t port = 0;

  explicit Servers(int count, const std::vector<std::string>& extra = {}) {
    constexpr int k_attempts = 8;
    for (int attempt = 1; attempt <= k_attempts; ++attempt) {
      all.clear();
      all.push_back(std::make_unique<FakeDnsServer>(loopback(1)));
      port = all.front()->port();
      try {
        for (int i = 2; i <= count; ++i) {
          all.push_back(std::make_unique<FakeDnsServer>(loopback(i), port));
        }
        for (const auto& address : extra) {
          all.push_back(std::make_unique<FakeDnsServer>(address, port));
        }
        return;
      } catch (const std::runtime_error&) {
        // The port is someone's on another address: start over.
      }
    }
    FAIL("no port free on " << count << " loopback addresses");
  }

  FakeDnsServer& operator[](std::size_t index) { return *all.at(index); }
};

// example. served by ns1..nsN.example. at 127.0.53.1..N, each authoritative
// (AA) for www.example. A 192.0.2.10, the SOA (serial k_serial) and the NS
// set; the resolver finds the zone from the SOA in its NODATA reply's
// authority section, as real resolvers do for a name below the apex.
struct Zone {
  FakeDnsServer resolver;
  Servers servers;
  std::vector<std::string> names;

  // `extra`: more fakes on the servers' port (another zone's server, or a
  // witness that no query reaches), servers[count], servers[count + 1], ...
  // The resolver listens on `resolver_address` ("::1" for an IPv6 source).
  explicit Zone(int count, const std::vector<std::string>& extra = {},
                std::string_view resolver_address = "127.0.53.53")
      : resolver(resolver_address), servers(count, extra) {
    for (int i = 1; i <= count; ++i) {
      names.push_back("ns" + std::to_string(i) + ".example.");
    }
    resolver.set("www.example.", RrType::SOA,
                 FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}));
    resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(names)));
    for (int i = 1; i <= count; ++i) {
      const auto& name = names.at(static_cast<std::size_t>(i - 1));
      resolver.set(name, RrType::A, FakeDnsBehaviour::answer({{"A", loopback(i), 300, ""}}));
      resolver.set(name, RrType::AAAA, FakeDnsBehaviour::empty());
      serve(static_cast<std::size_t>(i - 1), k_serial, names);
    }
  }

  // What server `index` serves: the target, the SOA with `serial`, NS `ns`.
  void serve(std::size_t index, std::uint32_t serial, const std::vector<std::string>& ns) {
    auto& server = servers[index];
    server.set("www.example.", RrType::A,
               FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
    server.set("example.", RrType::SOA,
               FakeDnsBehaviour::answer({soa_of("example.", serial)}).with_aa());
    server.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(ns)).with_aa());
  }

  probes::AuthoritativeRequest request(std::chrono::milliseconds budget = 2000ms,
                                       std::string name = "www.example.") const {
    probes::AuthoritativeRequest out;
    out.resolver = resolver.endpoint();
    out.name = std::move(name);
    out.type = RrType::A;
    out.deadline = Clock::now() + budget;
    out.budget = budget;
    out.port = servers.port;
    return out;
  }
};

struct Completion {
  probes::AuthoritativeReport report;
  int calls = 0;
  std::chrono::duration<double, std::milli> elapsed{0};
};

Completion run(const probes::AuthoritativeRequest& request) {
  boost::asio::io_context io;
  Completion completion;
  const auto started = request.budget ? request.deadline - *request.budget : Clock::now();
  probes::check_authoritative(io, k_clock, request, [&](probes::AuthoritativeReport report) {
    ++completion.calls;
    completion.report = std::move(report);
  });
  io.run_for(request.deadline - started + 2s);
  completion.elapsed = Clock::now() - started;
  REQUIRE(io.stopped());  // out of work, not cut off by the bound
  REQUIRE(completion.calls == 1);
  return completion;
}

// The dns: check the servers' answers are held to: www.example A.
config::DnsCheck www_check() {
  config::DnsCheck out;
  out.name = "www.example";
  out.type = RrType::A;
  out.authoritative = true;
  return out;
}

// No down vote from the servers' side: nothing, or an observer error.
bool no_down_vote(const probes::AuthoritativeReport& report, const config::DnsCheck& check) {
  const auto failure = probes::judge_authoritative(report, check).failure;
  if (failure) {
    UNSCOPED_INFO("failure: " << failure->detail);
  }
  return !failure || failure->observer_error();
}

bool no_down_vote(const probes::AuthoritativeReport& report) {
  return no_down_vote(report, www_check());
}

void silence(FakeDnsServer& server) {
  server.set_default(FakeDnsBehaviour::silent());
  server.set("www.example.", RrType::A, FakeDnsBehaviour::silent());
  server.set("example.", RrType::SOA, FakeDnsBehaviour::silent());
  server.set("example.", RrType::NS, FakeDnsBehaviour::silent());
}

}  // namespace

// TESTS
// ---- timing: a slow resolver is the observer's problem, never the zone's ----

TEST_CASE("attack a resolver that never answers the SOA question is no down vote",
          "[authoritative][attack]") {
  // The resolver answers the target's own question (not asked here) but
  // its SOA reply never comes: the NS-address lookups that time out are an
  // observer error, the SOA step timing out must be one too.
  Zone zone(2);
  zone.resolver.set("www.example.", RrType::SOA, FakeDnsBehaviour::silent());
  const auto [report, calls, elapsed] = run(zone.request(600ms));
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a resolver that never answers the NS question is no down vote",
          "[authoritative][attack]") {
  Zone zone(2);
  zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::silent());
  const auto [report, calls, elapsed] = run(zone.request(600ms));
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a slow resolver leaves serving zone servers too little time",
          "[authoritative][attack]") {
  // The resolver takes 800 of 1000ms for the SOA (cold cache); every zone
  // server answers, correctly, in 250ms. The servers serve: no down vote.
  Zone zone(2);
  zone.resolver.set(
      "www.example.", RrType::SOA,
      FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}).delayed(800ms));
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set(
        "www.example.", RrType::A,
        FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa().delayed(250ms));
  }
  const auto [report, calls, elapsed] = run(zone.request(1000ms));
  CHECK(no_down_vote(report));
  CHECK(elapsed < 1000ms + k_slack);
}

TEST_CASE("attack a server answering just before the deadline is judged",
          "[authoritative][attack]") {
  Zone zone(1);
  zone.servers[0].set(
      "www.example.", RrType::A,
      FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa().delayed(600ms));
  const auto [report, calls, elapsed] = run(zone.request(1000ms));
  REQUIRE(report.servers.size() == 1);
  CHECK(report.servers[0].answer.status == DnsStatus::Answer);
  CHECK(no_down_vote(report));
  CHECK(elapsed < 1000ms + k_slack);
}

TEST_CASE("attack every server silent keeps the run within the timeout",
          "[authoritative][attack]") {
  Zone zone(4);
  for (std::size_t i = 0; i < 4; ++i) {
    silence(zone.servers[i]);
  }
  const auto [report, calls, elapsed] = run(zone.request(800ms));
  CHECK(elapsed < 800ms + k_slack);
  CHECK(elapsed > 700ms);
}

// ---- the cap: the servers chosen are not the only ones resolvers use ----

TEST_CASE("attack four dead NS names sorting first hide two serving ones",
          "[authoritative][attack]") {
  // a1..a4.example. do not exist (stale NS records: resolvers skip them
  // and use ns1/ns2, which serve). The cap keeps only the dead four.
  Zone zone(2);
  std::vector<std::string> names = {"a1.example.", "a2.example.",  "a3.example.",
                                    "a4.example.", "ns1.example.", "ns2.example."};
  zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(names)));
  for (int i = 1; i <= 4; ++i) {
    const auto name = "a" + std::to_string(i) + ".example.";
    zone.resolver.set(name, RrType::A, FakeDnsBehaviour::nxdomain());
    zone.resolver.set(name, RrType::AAAA, FakeDnsBehaviour::nxdomain());
  }
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
}

TEST_CASE("attack four silent servers sorting first hide a fifth that serves",
          "[authoritative][attack]") {
  Zone zone(5);
  for (std::size_t i = 0; i < 4; ++i) {
    silence(zone.servers[i]);
  }
  const auto [report, calls, elapsed] = run(zone.request(800ms));
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a huge NS set stays within the query bound", "[authoritative][attack]") {
  Zone zone(2);
  std::vector<std::string> names = {"ns1.example.", "ns2.example."};
  for (int i = 0; i < 300; ++i) {
    names.push_back("z" + std::to_string(i) + ".example.");
  }
  zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(names)));
  const auto [report, calls, elapsed] = run(zone.request());
  int sent = static_cast<int>(zone.resolver.queries().size());
  for (std::size_t i = 0; i < 2; ++i) {
    sent += static_cast<int>(zone.servers[i].queries().size());
  }
  CHECK(sent <= static_cast<int>(probes::authoritative_query_bound("www.example.")));
  CHECK(report.capped);
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a truncated NS reply is retried over TCP and judged", "[authoritative][attack]") {
  Zone zone(2);
  zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::truncated(ns_records(zone.names)));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK_FALSE(report.failure);
  CHECK(report.servers.size() == 2);
  CHECK(no_down_vote(report));
}

// ---- odd or lying resolver ----

TEST_CASE("attack upper-case SOA owner and NS names are the same zone", "[authoritative][attack]") {
  Zone zone(2);
  zone.resolver.set("www.example.", RrType::SOA,
                    FakeDnsBehaviour::empty().with_authority({soa_of("EXAMPLE.", k_serial)}));
  zone.resolver.set("example.", RrType::NS,
                    FakeDnsBehaviour::answer(ns_records({"NS1.Example.", "NS2.EXAMPLE."})));
  const auto [report, calls, elapsed] = run(zone.request(2000ms, "WWW.Example"));
  CHECK(report.zone == "example.");
  CHECK_FALSE(report.failure);
  CHECK(report.servers.size() == 2);
  CHECK(no_down_vote(report));
  CHECK_FALSE(report.ns_drift());
}

TEST_CASE("attack NS names that are CNAMEs still reach the servers", "[authoritative][attack]") {
  Zone zone(2);
  zone.resolver.set("ns1.example.", RrType::A,
                    FakeDnsBehaviour::cname({"host1.other."}, {{"A", loopback(1), 300, ""}}));
  zone.resolver.set("ns1.example.", RrType::AAAA, FakeDnsBehaviour::cname({"host1.other."}, {}));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(report.servers.size() == 2);
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a resolver naming the root as the zone is no down vote",
          "[authoritative][attack]") {
  // The resolver's main answer is fine; its SOA replies name the root.
  // The zone servers were never judged: that is no vote against them.
  Zone zone(2);
  zone.resolver.set("www.example.", RrType::SOA,
                    FakeDnsBehaviour::empty().with_authority({soa_of(".", k_serial)}));
  zone.resolver.set("example.", RrType::SOA,
                    FakeDnsBehaviour::empty().with_authority({soa_of(".", k_serial)}));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(zone.servers[i].queries().empty());
  }
}

TEST_CASE("attack a resolver naming the parent zone whose servers refer to the subzone",
          "[authoritative][attack]") {
  // The name lives in sub.example. (delegated). The resolver names
  // example.; example.'s servers answer RD=0 with a referral to sub.example.
  // (NOERROR, no AA, NS in authority). The name is served: no down vote.
  Zone zone(2);
  zone.resolver.set("www.sub.example.", RrType::SOA,
                    FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}));
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set("www.sub.example.", RrType::A,
                        FakeDnsBehaviour::empty().with_authority(
                            {{"NS", "ns1.sub.example.", 300, "sub.example."}}));
  }
  auto request = zone.request(2000ms, "www.sub.example.");
  const auto [report, calls, elapsed] = run(request);
  auto check = www_check();
  check.name = "www.sub.example";
  CHECK(no_down_vote(report, check));
}

TEST_CASE("attack an NS name pointing at the target itself", "[authoritative][attack]") {
  // NS www.example. whose address is a host that does not speak DNS
  // (silent); ns1 serves. One serving server is enough.
  Zone zone(2);
  silence(zone.servers[1]);
  zone.resolver.set("example.", RrType::NS,
                    FakeDnsBehaviour::answer(ns_records({"ns1.example.", "www.example."})));
  zone.resolver.set("www.example.", RrType::A,
                    FakeDnsBehaviour::answer({{"A", loopback(2), 300, ""}}));
  zone.resolver.set("www.example.", RrType::AAAA, FakeDnsBehaviour::empty());
  const auto [report, calls, elapsed] = run(zone.request(800ms));
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a DNAME above the name is followed to the zone that holds it",
          "[authoritative][attack]") {
  // sub.example. DNAME other.: www.sub.example. is synthesized as
  // CNAME www.other. by example.'s servers: that serves the name.
  Zone zone(2);
  zone.resolver.set("www.sub.example.", RrType::SOA,
                    FakeDnsBehaviour::answer({{"DNAME", "other.", 300, "sub.example."},
                                              {"CNAME", "www.other.", 300, "www.sub.example."}})
                        .with_authority({soa_of("other.", k_serial)}));
  zone.resolver.set("sub.example.", RrType::SOA,
                    FakeDnsBehaviour::answer({{"DNAME", "other.", 300, "sub.example."}})
                        .with_authority({soa_of("example.", k_serial)}));
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set("www.sub.example.", RrType::A,
                        FakeDnsBehaviour::answer({{"DNAME", "other.", 300, "sub.example."},
                                                  {"CNAME", "www.other.", 300, "www.sub.example."}})
                            .with_aa());
  }
  const auto [report, calls, elapsed] = run(zone.request(2000ms, "www.sub.example."));
  CHECK(report.zone == "example.");
  auto check = www_check();
  check.name = "www.sub.example";
  CHECK(no_down_vote(report, check));
}

// ---- servers ----

TEST_CASE("attack mixed AA and non-AA servers: the AA one decides", "[authoritative][attack]") {
  Zone zone(2);
  // ns2 is an open resolver's cache with stale data, no AA: says nothing.
  zone.servers[1].set("www.example.", RrType::A, FakeDnsBehaviour::nxdomain());
  zone.servers[1].set("example.", RrType::SOA,
                      FakeDnsBehaviour::answer({soa_of("example.", k_serial)}));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
}

TEST_CASE("attack an AA NXDOMAIN from a server whose SOA reply lacks AA is still wrong data",
          "[authoritative][attack]") {
  // ns2 answers the name itself with AA NXDOMAIN: every resolver that asks
  // it caches NXDOMAIN. That its SOA reply lacks AA changes nothing.
  Zone zone(2);
  zone.servers[1].set(
      "www.example.", RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.", k_serial)}));
  zone.servers[1].set("example.", RrType::SOA,
                      FakeDnsBehaviour::answer({soa_of("example.", k_serial)}));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK_FALSE(no_down_vote(report));
}

TEST_CASE("attack an in-zone CNAME to a missing name is wrong data", "[authoritative][attack]") {
  // The servers answer www CNAME gone.example. and gone.example. has
  // nothing: resolvers hand out an empty answer. That is a down vote.
  Zone zone(2);
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set("www.example.", RrType::A,
                        FakeDnsBehaviour::cname({"gone.example."}, {})
                            .with_aa()
                            .with_authority({soa_of("example.", k_serial)}));
  }
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK_FALSE(no_down_vote(report));
}

TEST_CASE("attack a CNAME out of zone from a server serves the name", "[authoritative][attack]") {
  Zone zone(2);
  zone.servers[0].set("www.example.", RrType::A,
                      FakeDnsBehaviour::cname({"edge.cdn.test."}, {}).with_aa());
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a server with the right data and another serial is skew only",
          "[authoritative][attack]") {
  Zone zone(2);
  zone.serve(1, k_serial + 5, zone.names);
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
  CHECK(report.serial_skew() == 5);
}

TEST_CASE("attack a wildcard record is served", "[authoritative][attack]") {
  Zone zone(2);
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set(
        "www.example.", RrType::A,
        FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, "www.example."}}).with_aa());
  }
  zone.resolver.set("www.example.", RrType::SOA,
                    FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}));
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
}

TEST_CASE("attack an AAAA check asks AAAA and judges it", "[authoritative][attack]") {
  Zone zone(2);
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set("www.example.", RrType::AAAA,
                        FakeDnsBehaviour::answer({{"AAAA", "2001:db8::10", 300, ""}}).with_aa());
  }
  auto request = zone.request();
  request.type = RrType::AAAA;
  const auto [report, calls, elapsed] = run(request);
  auto check = www_check();
  check.type = RrType::AAAA;
  CHECK(no_down_vote(report, check));
  // and one server empty for AAAA is wrong data
  zone.servers[1].set(
      "www.example.", RrType::AAAA,
      FakeDnsBehaviour::empty().with_aa().with_authority({soa_of("example.", k_serial)}));
  request = zone.request();
  request.type = RrType::AAAA;
  const auto second = run(request);
  CHECK_FALSE(no_down_vote(second.report, check));
}

TEST_CASE("attack min_answers 2 with a server returning 1 is wrong data",
          "[authoritative][attack]") {
  Zone zone(2);
  zone.servers[0].set(
      "www.example.", RrType::A,
      FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}, {"A", "192.0.2.11", 300, ""}})
          .with_aa());
  auto check = www_check();
  check.min_answers = 2;
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK_FALSE(no_down_vote(report, check));
}

// ---- the chain: latency and total time ----

namespace {

struct ChainHarness {
  boost::asio::io_context io;
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, k_clock, true};

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

// A resolver on 127.0.<block>.53 for www.example. (A 192.0.2.10), zone
// example. with one NS ns1.example. at 127.0.<block>.1, whose fake listens
// on port 53 (the chain asks port 53). ctest runs each case in its own
// process, side by side: every case takes its own block, so no two bind
// the same address and port.
struct ChainZone {
  explicit ChainZone(int block)
      : address_prefix{"127.0." + std::to_string(block) + "."},
        resolver{address_prefix + "53"},
        server{address_prefix + "1", 53} {
    resolver.set("www.example.", RrType::A,
                 FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
    resolver.set("www.example.", RrType::AAAA, FakeDnsBehaviour::empty());
    resolver.set("www.example.", RrType::SOA,
                 FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}));
    resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records({"ns1.example."})));
    resolver.set("ns1.example.", RrType::A,
                 FakeDnsBehaviour::answer({{"A", address_prefix + "1", 300, ""}}));
    resolver.set("ns1.example.", RrType::AAAA, FakeDnsBehaviour::empty());
    server.set("www.example.", RrType::A,
               FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
    server.set("example.", RrType::SOA,
               FakeDnsBehaviour::answer({soa_of("example.", k_serial)}).with_aa());
    server.set("example.", RrType::NS,
               FakeDnsBehaviour::answer(ns_records({"ns1.example."})).with_aa());
  }

  std::string address_prefix;
  FakeDnsServer resolver;
  FakeDnsServer server;

  config::TargetConfig target(std::chrono::milliseconds timeout) const {
    config::TargetConfig out;
    out.name = "web";
    out.dns = config::DnsCheck{"www.example", RrType::A, 1, {}};
    out.dns->authoritative = true;
    out.timing.timeout = timeout;
    return out;
  }

  probes::VantageEndpoint vantage() const {
    return probes::VantageEndpoint{"alpha", "alpha", resolver.endpoint(), std::nullopt};
  }
};

}  // namespace

TEST_CASE("attack chain sanity: a serving zone votes up", "[authoritative][attack][chain]") {
  ChainZone zone{61};
  ChainHarness h;
  const auto report = h.probe(zone.target(1000ms), zone.vantage());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Up);
}

TEST_CASE("attack chain latency excludes a slow zone server and the run ends in the timeout",
          "[authoritative][attack][chain]") {
  ChainZone zone{62};
  zone.server.set(
      "www.example.", RrType::A,
      FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa().delayed(600ms));
  ChainHarness h;
  const auto started = Clock::now();
  const auto report = h.probe(zone.target(1000ms), zone.vantage());
  const auto elapsed = Clock::now() - started;
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Up);
  CHECK(report.observation.latency_ms < 300.0);
  CHECK(elapsed < 1000ms + k_slack);
  CHECK(elapsed > 550ms);  // it did wait for the server
}

TEST_CASE("attack chain a silent zone server keeps the run within the timeout",
          "[authoritative][attack][chain]") {
  ChainZone zone{63};
  zone.server.set_default(FakeDnsBehaviour::silent());
  zone.server.set("www.example.", RrType::A, FakeDnsBehaviour::silent());
  zone.server.set("example.", RrType::SOA, FakeDnsBehaviour::silent());
  zone.server.set("example.", RrType::NS, FakeDnsBehaviour::silent());
  ChainHarness h;
  const auto started = Clock::now();
  const auto report = h.probe(zone.target(700ms), zone.vantage());
  const auto elapsed = Clock::now() - started;
  INFO(report.observation.detail);
  CHECK(report.observation.latency_ms < 300.0);
  CHECK(elapsed < 700ms + k_slack);
}

TEST_CASE("attack chain a resolver slow on the SOA only is no down vote",
          "[authoritative][attack][chain]") {
  // The resolver answers www.example. A at once (the service is served);
  // it is slow only for the SOA question of authoritative mode.
  ChainZone zone{64};
  zone.resolver.set("www.example.", RrType::SOA, FakeDnsBehaviour::silent());
  ChainHarness h;
  const auto report = h.probe(zone.target(700ms), zone.vantage());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome != consensus::Outcome::Down);
}

TEST_CASE("attack chain no server reached reports no serial skew and no NS drift",
          "[authoritative][attack][chain]") {
  // Every zone server silent: nothing was measured, so the gauges must
  // not read "skew 0, no drift" (docs: from the last check that reached
  // the servers).
  ChainZone zone{65};
  zone.server.set_default(FakeDnsBehaviour::silent());
  zone.server.set("www.example.", RrType::A, FakeDnsBehaviour::silent());
  zone.server.set("example.", RrType::SOA, FakeDnsBehaviour::silent());
  zone.server.set("example.", RrType::NS, FakeDnsBehaviour::silent());
  ChainHarness h;
  const auto report = h.probe(zone.target(500ms), zone.vantage());
  INFO(report.observation.detail);
  CHECK_FALSE(report.observation.soa_serial_skew.has_value());
}

TEST_CASE("attack an NS set naming only the vantage's own resolver is no down vote",
          "[authoritative][attack]") {
  // A lying resolver names itself as the zone's only server: it answers
  // RD=0 from its cache without AA. It is no zone server: nothing judged.
  Zone zone(1);
  zone.resolver.set("example.", RrType::NS,
                    FakeDnsBehaviour::answer(ns_records({"self.example."})));
  zone.resolver.set("self.example.", RrType::A,
                    FakeDnsBehaviour::answer({{"A", "127.0.53.53", 300, ""}}));
  zone.resolver.set("self.example.", RrType::AAAA, FakeDnsBehaviour::empty());
  zone.resolver.set("www.example.", RrType::A,
                    FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
  auto request = zone.request();
  request.port = zone.resolver.port();  // the zone servers' port is the resolver's
  const auto [report, calls, elapsed] = run(request);
  CHECK(no_down_vote(report));
}

TEST_CASE("attack a vantage whose network drops direct DNS is no down vote",
          "[authoritative][attack]") {
  // Egress to port 53 is allowed only to the vantage's resolver (a common
  // firewall): every zone server is silent from here, while the resolver
  // answers the name and the zone serves it. Silence from here is not the
  // zone's failure.
  Zone zone(2);
  for (std::size_t i = 0; i < 2; ++i) {
    silence(zone.servers[i]);
  }
  const auto [report, calls, elapsed] = run(zone.request(600ms));
  CHECK(no_down_vote(report));
}

TEST_CASE("attack servers that serve the name but refuse the SOA question are no down vote",
          "[authoritative][attack]") {
  Zone zone(2);
  for (std::size_t i = 0; i < 2; ++i) {
    zone.servers[i].set("example.", RrType::SOA, FakeDnsBehaviour::refused());
  }
  const auto [report, calls, elapsed] = run(zone.request());
  CHECK(no_down_vote(report));
}
