// Authoritative mode's probe against in-process fakes on loopback: a
// recursive resolver on 127.0.53.53 and the zone's servers on 127.0.53.1,
// .2, ... all on one port, as authoritative servers all listen on 53.
#include "probes/authoritative.hpp"

#include "probes/authoritative_judge.hpp"

#include "net/system_clock.hpp"
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

// What the chain would vote from the servers' side: nullopt is no down vote.
std::optional<probes::DnsResult> vote_against(const probes::AuthoritativeReport& report) {
  return probes::judge_authoritative(report, www_check()).failure;
}

std::vector<std::string> addresses_asked(const probes::AuthoritativeReport& report) {
  std::vector<std::string> out;
  for (const auto& server : report.servers) {
    out.push_back(server.address.to_string());
  }
  return out;
}

bool asked(const FakeDnsServer& server, const std::string& name, RrType type) {
  const auto queries = server.queries();
  return std::any_of(queries.begin(), queries.end(), [&](const FakeDnsQuery& query) {
    return query.name == name && query.type == static_cast<std::uint16_t>(type);
  });
}

}  // namespace

TEST_CASE("authoritative servers that agree show no serial skew and no NS drift",
          "[authoritative]") {
  Zone zone(3);
  const auto [report, calls, elapsed] = run(zone.request());

  REQUIRE_FALSE(report.failure);
  CHECK(report.zone == "example.");
  CHECK(report.delegated_ns == zone.names);
  REQUIRE(report.servers.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& server = report.servers[i];
    CHECK(server.ns == zone.names[i]);
    CHECK(server.address.to_string() == loopback(static_cast<int>(i) + 1));
    CHECK(server.answer.status == DnsStatus::Answer);
    CHECK(server.answer.authoritative_answer);
    CHECK(server.serial == k_serial);
    CHECK(server.ns_answered);
    CHECK(server.ns_set == zone.names);
    CHECK_FALSE(server.lame);
  }
  CHECK(report.serial_skew() == 0);
  CHECK_FALSE(report.ns_drift());
  CHECK_FALSE(report.capped);
  CHECK(report.unresolved_ns.empty());
  CHECK(report.detail == "authoritative: 3 servers for example. (serial 2026120501)");

  // RD clear on every question to a server, set on every one to the resolver.
  for (const auto& server : zone.servers.all) {
    const auto queries = server->queries();
    CHECK(queries.size() == 3);
    for (const auto& query : queries) {
      CHECK_FALSE(query.recursion_desired);
    }
  }
  const auto resolver_queries = zone.resolver.queries();
  CHECK(resolver_queries.size() == 8);  // SOA, NS, 3 x (A, AAAA)
  for (const auto& query : resolver_queries) {
    CHECK(query.recursion_desired);
  }
}

TEST_CASE("a server publishing the record empty is reported with the serial skew",
          "[authoritative]") {
  // The Oct 2025 DynamoDB record: published empty at the source, so one
  // server answers NOERROR with no address, and its zone is 2 serials on.
  Zone zone(3);
  zone.serve(1, k_serial + 2, zone.names);
  zone.servers[1].set(
      "www.example.", RrType::A,
      FakeDnsBehaviour::empty().with_aa().with_authority({soa_of("example.", k_serial + 2)}));
  const auto [report, calls, elapsed] = run(zone.request());

  REQUIRE_FALSE(report.failure);
  REQUIRE(report.servers.size() == 3);
  CHECK(report.servers[0].answer.status == DnsStatus::Answer);
  CHECK(report.servers[1].answer.status == DnsStatus::EmptyAnswer);
  CHECK(report.servers[1].answer.soa_serial == k_serial + 2);
  CHECK(report.servers[2].answer.status == DnsStatus::Answer);
  CHECK(report.servers[1].serial == k_serial + 2);
  CHECK_FALSE(report.servers[1].lame);
  CHECK(report.serial_skew() == 2);
  CHECK_FALSE(report.ns_drift());
  CHECK(report.detail ==
        "authoritative: 3 servers for example. (serials 2026120501..2026120503, skew 2); "
        "server ns2.example. (127.0.53.2): NOERROR, empty answer");
}

TEST_CASE("a server whose NS set differs from the delegation is NS drift", "[authoritative]") {
  Zone zone(3);
  SECTION("one name missing") {
    zone.serve(2, k_serial, {"ns1.example.", "ns2.example."});
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.servers.size() == 3);
    CHECK(report.ns_drift());
    CHECK(report.servers[0].ns_set == zone.names);
    CHECK(report.servers[2].ns_set == std::vector<std::string>{"ns1.example.", "ns2.example."});
    CHECK(report.serial_skew() == 0);
    CHECK(report.detail ==
          "authoritative: 3 servers for example. (serial 2026120501); NS set "
          "differs at server ns3.example. (127.0.53.3)");
  }
  SECTION("an authoritative empty NS set") {
    zone.servers[2].set("example.", RrType::NS, FakeDnsBehaviour::empty().with_aa());
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.servers.size() == 3);
    CHECK(report.servers[2].ns_answered);
    CHECK(report.servers[2].ns_set.empty());
    CHECK(report.ns_drift());
  }
}

TEST_CASE("a server that replies without AA or REFUSED is lame", "[authoritative]") {
  Zone zone(3);
  SECTION("no AA: it answers from a cache, not its zone") {
    zone.servers[1].set("www.example.", RrType::A,
                        FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
    zone.servers[1].set("example.", RrType::SOA,
                        FakeDnsBehaviour::answer({soa_of("example.", k_serial + 9)}));
    zone.servers[1].set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(zone.names)));
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.servers.size() == 3);
    CHECK_FALSE(report.servers[0].lame);
    CHECK(report.servers[1].lame);
    CHECK_FALSE(report.servers[2].lame);
    CHECK_FALSE(report.servers[1].serial);  // not the zone's: no skew from a cache
    CHECK_FALSE(report.servers[1].ns_answered);
    CHECK(report.serial_skew() == 0);
    CHECK_FALSE(report.ns_drift());
    CHECK(report.detail ==
          "authoritative: 3 servers for example. (serial 2026120501); lame: "
          "server ns2.example. (127.0.53.2)");
  }
  SECTION("REFUSED, even with AA") {
    for (const auto type : {RrType::A, RrType::SOA, RrType::NS}) {
      zone.servers[1].set(type == RrType::A ? "www.example." : "example.", type,
                          FakeDnsBehaviour::refused().with_aa());
    }
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.servers.size() == 3);
    CHECK(report.servers[1].lame);
    CHECK(report.servers[1].answer.status == DnsStatus::Refused);
    CHECK_FALSE(report.servers[0].lame);
  }
}

TEST_CASE("a silent server times out on its own and the run ends by the deadline",
          "[authoritative]") {
  Zone zone(3);
  for (const auto type : {RrType::A, RrType::SOA, RrType::NS}) {
    zone.servers[2].set(type == RrType::A ? "www.example." : "example.", type,
                        FakeDnsBehaviour::silent());
  }
  constexpr auto k_budget = 700ms;
  const auto [report, calls, elapsed] = run(zone.request(k_budget));

  REQUIRE_FALSE(report.failure);
  REQUIRE(report.servers.size() == 3);
  CHECK(report.servers[0].answer.up());
  CHECK(report.servers[1].answer.up());
  CHECK(report.servers[2].answer.status == DnsStatus::Timeout);
  CHECK_FALSE(report.servers[2].serial);
  CHECK_FALSE(report.servers[2].lame);  // silence is not lameness
  CHECK(report.serial_skew() == 0);
  CHECK(elapsed < k_budget + k_slack);
  CHECK(
      report.detail.starts_with("authoritative: 3 servers for example. (serial 2026120501); "
                                "server ns3.example. (127.0.53.3): timeout after "));
}

TEST_CASE("a resolver SERVFAIL for the SOA is the run's failure", "[authoritative]") {
  Zone zone(2);
  zone.resolver.set("www.example.", RrType::SOA, FakeDnsBehaviour::servfail());
  const auto [report, calls, elapsed] = run(zone.request());

  REQUIRE(report.failure);
  CHECK(report.failure->status == DnsStatus::ServFail);
  CHECK(report.failure->detail == "dns: authoritative: no zone for www.example.: SERVFAIL");
  CHECK(report.detail == "authoritative: no zone for www.example.: SERVFAIL");
  CHECK(report.zone.empty());
  CHECK(report.servers.empty());
  CHECK(zone.servers[0].queries().empty());
  CHECK_FALSE(asked(zone.resolver, "example.", RrType::NS));
}

TEST_CASE("the resolver steps that fail after the zone are the run's failure", "[authoritative]") {
  Zone zone(2);
  SECTION("no NS for the zone") {
    zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::empty());
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.failure);
    CHECK(report.failure->status == DnsStatus::EmptyAnswer);
    CHECK(report.detail == "authoritative: no NS for example.: NOERROR, empty answer");
  }
  SECTION("no NS name resolves") {
    for (const auto& name : zone.names) {
      zone.resolver.set(name, RrType::A, FakeDnsBehaviour::nxdomain());
      zone.resolver.set(name, RrType::AAAA, FakeDnsBehaviour::nxdomain());
    }
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.failure);
    CHECK(report.failure->status == DnsStatus::NxDomain);
    CHECK(report.unresolved_ns == zone.names);
    CHECK(report.detail ==
          "authoritative: no address for the NS names of example. (ns1.example.): NXDOMAIN");
    CHECK_FALSE(vote_against(report));
  }
  SECTION("every NS name's lookup times out: the resolver's slowness, no vote") {
    for (const auto& name : zone.names) {
      zone.resolver.set(name, RrType::A, FakeDnsBehaviour::silent());
      zone.resolver.set(name, RrType::AAAA, FakeDnsBehaviour::silent());
    }
    const auto [report, calls, elapsed] = run(zone.request(1000ms));
    INFO(report.detail);
    REQUIRE(report.failure);
    CHECK(report.failure->status == DnsStatus::Timeout);
    CHECK_THAT(report.detail,
               Catch::StartsWith("authoritative: no address for the NS names of example. "
                                 "(ns1.example.): timeout after "));
    CHECK_FALSE(vote_against(report));  // not judged: reported, never a vote
  }
  SECTION("one NS name of two does not resolve: the other is still asked") {
    zone.resolver.set("ns2.example.", RrType::A, FakeDnsBehaviour::nxdomain());
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE_FALSE(report.failure);
    REQUIRE(report.servers.size() == 1);
    CHECK(report.servers[0].ns == "ns1.example.");
    CHECK(report.unresolved_ns == std::vector<std::string>{"ns2.example."});
    CHECK(report.detail ==
          "authoritative: 1 server for example. (serial 2026120501); ns2.example. has no address");
  }
}

TEST_CASE("this host's own failure to ask is the run's failure", "[authoritative]") {
  Zone zone(1);
  auto request = zone.request();
  request.source = config::IpAddress::parse("192.0.2.77");  // not an address of this host
  const auto [report, calls, elapsed] = run(request);
  REQUIRE(report.failure);
  CHECK(report.failure->observer_error());
  CHECK(report.detail.starts_with("authoritative: cannot bind source 192.0.2.77"));
  CHECK(zone.resolver.queries().empty());
}

TEST_CASE("the zone of a name below its apex is found from the SOA the resolver sends",
          "[authoritative]") {
  Zone zone(1);
  SECTION("in the authority section of its NODATA reply") {
    zone.resolver.set("a.b.www.example.", RrType::SOA,
                      FakeDnsBehaviour::nxdomain().with_authority({soa_of("example.", k_serial)}));
    zone.servers[0].set("a.b.www.example.", RrType::A, FakeDnsBehaviour::nxdomain().with_aa());
    const auto [report, calls, elapsed] = run(zone.request(2000ms, "A.b.www.Example."));
    REQUIRE_FALSE(report.failure);
    CHECK(report.zone == "example.");
    REQUIRE(report.servers.size() == 1);
    CHECK(report.servers[0].answer.status == DnsStatus::NxDomain);
    CHECK_FALSE(report.servers[0].lame);
    CHECK_FALSE(asked(zone.resolver, "b.www.example.", RrType::SOA));
  }
  SECTION("one label up at a time when the reply carries no SOA") {
    // A resolver with minimal responses: NODATA without the authority SOA.
    zone.resolver.set("www.example.", RrType::SOA, FakeDnsBehaviour::empty());
    zone.resolver.set("example.", RrType::SOA,
                      FakeDnsBehaviour::answer({soa_of("example.", k_serial)}));
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE_FALSE(report.failure);
    CHECK(report.zone == "example.");
    CHECK(asked(zone.resolver, "www.example.", RrType::SOA));
    REQUIRE(report.servers.size() == 1);
    CHECK(report.servers[0].answer.up());
  }
  SECTION("never past the top-level domain") {
    zone.resolver.set("www.example.", RrType::SOA, FakeDnsBehaviour::empty());
    zone.resolver.set("example.", RrType::SOA, FakeDnsBehaviour::empty());
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE(report.failure);
    CHECK(report.failure->status == DnsStatus::EmptyAnswer);
    CHECK(report.detail == "authoritative: no zone for www.example.: NOERROR, empty answer");
    CHECK_FALSE(asked(zone.resolver, ".", RrType::SOA));
  }
}

TEST_CASE("at most 4 NS names and 4 addresses are asked, chosen in sorted order",
          "[authoritative]") {
  // 10 NS names with 3 addresses each, listed unsorted; nothing listens on
  // 127.0.54.x, so every server's query fails fast (port unreachable),
  // which is enough here.
  FakeDnsServer resolver("127.0.53.53");
  std::vector<std::string> names;
  for (int i = 1; i <= 10; ++i) {
    names.push_back("ns" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".example.");
  }
  resolver.set("www.example.", RrType::SOA,
               FakeDnsBehaviour::empty().with_authority({soa_of("example.", k_serial)}));
  auto listed = names;
  std::reverse(listed.begin(), listed.end());
  resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(listed)));
  for (int i = 1; i <= 10; ++i) {
    std::vector<FakeRecord> addresses;
    for (const int j : {3, 1, 2}) {
      addresses.push_back({"A", "127.0.54." + std::to_string(i * 10 + j), 300, ""});
    }
    resolver.set(names.at(static_cast<std::size_t>(i - 1)), RrType::A,
                 FakeDnsBehaviour::answer(addresses));
  }
  probes::AuthoritativeRequest request;
  request.resolver = resolver.endpoint();
  request.name = "www.example.";
  request.deadline = Clock::now() + 2000ms;
  request.budget = 2000ms;
  request.port = 5353;
  const auto [report, calls, elapsed] = run(request);

  REQUIRE_FALSE(report.failure);
  CHECK(report.capped);
  CHECK(report.delegated_ns == names);
  REQUIRE(report.servers.size() == probes::k_max_authoritative_addresses);
  for (std::size_t i = 0; i < 4; ++i) {  // the first 4 names, the lowest address of each
    CHECK(report.servers[i].ns == names[i]);
    CHECK(report.servers[i].address.to_string() == "127.0.54." + std::to_string(i * 10 + 11));
  }
  for (std::size_t i = 4; i < names.size(); ++i) {
    CHECK_FALSE(asked(resolver, names[i], RrType::A));
  }
  // SOA, NS, 4 x (A, AAAA): the resolver's share of the bound.
  CHECK(resolver.queries().size() == 10);
  CHECK(
      report.detail.starts_with("authoritative: 4 servers for example. (no SOA serial); "
                                "capped: 4 of 10 NS names; capped: 4 of 12 addresses; "));
  CHECK(report.detail.size() <= probes::k_max_authoritative_detail);
}

TEST_CASE("the query bound counts the SOA walk, the NS set, the lookups and the servers",
          "[authoritative]") {
  // 2 labels + NS + 4 x (A, AAAA) + 4 x (target, SOA, NS).
  CHECK(probes::authoritative_query_bound("www.example") == 2 + 1 + 8 + 12);
  CHECK(probes::authoritative_query_bound("a.b.www.example.") == 4 + 1 + 8 + 12);
}

TEST_CASE("a CNAME into another zone asks only the name's own zone and votes nothing",
          "[authoritative]") {
  // www.example. CNAME edge.cdn.test.: the resolver follows it, so its reply
  // to "www.example. SOA?" carries cdn.test.'s SOA. cdn.test.'s server
  // (127.0.53.3) must not be asked about www.example. as if it served it.
  Zone zone(2, {loopback(3)});
  auto& cdn = zone.servers[2];
  zone.resolver.set(
      "www.example.", RrType::SOA,
      FakeDnsBehaviour::cname({"edge.cdn.test."}, {}).with_authority({soa_of("cdn.test.", 7)}));
  zone.resolver.set("example.", RrType::SOA,
                    FakeDnsBehaviour::answer({soa_of("example.", k_serial)}));
  zone.resolver.set("cdn.test.", RrType::NS,
                    FakeDnsBehaviour::answer(ns_records({"ns.cdn.test."})));
  zone.resolver.set("ns.cdn.test.", RrType::A,
                    FakeDnsBehaviour::answer({{"A", loopback(3), 300, ""}}));
  for (std::size_t i = 0; i < 2; ++i) {
    // What example.'s servers hold for www: the CNAME, nothing of cdn.test.
    zone.servers[i].set("www.example.", RrType::A,
                        FakeDnsBehaviour::cname({"edge.cdn.test."}, {}).with_aa());
  }
  cdn.set_default(FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
  const auto [report, calls, elapsed] = run(zone.request());

  REQUIRE_FALSE(report.failure);
  CHECK(report.zone == "example.");
  CHECK(addresses_asked(report) == std::vector<std::string>{loopback(1), loopback(2)});
  for (const auto& server : report.servers) {
    CHECK(server.answer.status == DnsStatus::EmptyAnswer);
    CHECK(server.answer.chain.size() == 1);
    CHECK_FALSE(server.lame);
    CHECK(server.serial == k_serial);
  }
  CHECK(cdn.queries().empty());
  CHECK_FALSE(asked(zone.resolver, "cdn.test.", RrType::NS));
  CHECK_FALSE(vote_against(report));
}

TEST_CASE("an NS name whose own zone is unreachable leaves the other servers their time",
          "[authoritative]") {
  // ns.elsewhere.test.'s zone does not answer: the resolver never replies
  // for its A or AAAA. Those lookups end at half the remaining time, and
  // ns1 and ns2 are still asked, and answer, by the deadline.
  Zone zone(2);
  const std::vector<std::string> names{"ns.elsewhere.test.", "ns1.example.", "ns2.example."};
  zone.resolver.set("example.", RrType::NS, FakeDnsBehaviour::answer(ns_records(names)));
  zone.resolver.set("ns.elsewhere.test.", FakeDnsBehaviour::silent());
  for (std::size_t i = 0; i < 2; ++i) {
    zone.serve(i, k_serial, names);
  }
  constexpr auto k_budget = 1000ms;
  const auto [report, calls, elapsed] = run(zone.request(k_budget));

  REQUIRE_FALSE(report.failure);
  CHECK(report.delegated_ns == names);
  CHECK(addresses_asked(report) == std::vector<std::string>{loopback(1), loopback(2)});
  for (const auto& server : report.servers) {
    CHECK(server.answer.status == DnsStatus::Answer);
  }
  CHECK(report.unresolved_ns == std::vector<std::string>{"ns.elsewhere.test."});
  CHECK(elapsed < k_budget + k_slack);
  CHECK_THAT(report.detail, Catch::EndsWith("; ns.elsewhere.test. has no address"));
  CHECK_FALSE(vote_against(report));
}

TEST_CASE("an IPv4 source and an NS with only an AAAA address is no down vote", "[authoritative]") {
  // A witness on ::1, the servers' port: an AAAA-only server must never be
  // sent a packet from an IPv4 source. Without IPv6 loopback the witness is
  // left out; the server list still pins it.
  const bool v6 = FakeDnsServer::can_bind("::1");
  if (!v6) {
    WARN("no ::1 here: the IPv6 witness is left out");
  }
  Zone zone(2, v6 ? std::vector<std::string>{"::1"} : std::vector<std::string>{});
  auto request = zone.request();
  request.source = config::IpAddress::parse("127.0.0.1");
  const auto only_aaaa = [&](const std::string& name) {
    zone.resolver.set(name, RrType::A, FakeDnsBehaviour::empty());
    zone.resolver.set(name, RrType::AAAA, FakeDnsBehaviour::answer({{"AAAA", "::1", 300, ""}}));
  };
  SECTION("one of two NS names: the other is asked") {
    only_aaaa("ns2.example.");
    const auto [report, calls, elapsed] = run(request);
    REQUIRE_FALSE(report.failure);
    CHECK(addresses_asked(report) == std::vector<std::string>{loopback(1)});
    CHECK(report.servers[0].answer.status == DnsStatus::Answer);
    CHECK(report.unresolved_ns == std::vector<std::string>{"ns2.example."});
    CHECK_FALSE(vote_against(report));
  }
  SECTION("every NS name: this vantage cannot ask, which is no vote") {
    only_aaaa("ns1.example.");
    only_aaaa("ns2.example.");
    const auto [report, calls, elapsed] = run(request);
    REQUIRE(report.failure);
    CHECK(report.failure->observer_error());
    CHECK(report.detail ==
          "authoritative: no address for the NS names of example. in the family of source "
          "127.0.0.1");
    CHECK_FALSE(vote_against(report));
  }
  if (v6) {
    CHECK(zone.servers[2].queries().empty());
  }
}

TEST_CASE("a server answering REFUSED is named and is lame, never a vote", "[authoritative]") {
  // The judge's rule: REFUSED (with or without the zone's SOA in the
  // authority section) says the server does not serve the zone now, never
  // what the zone holds: no vote, even when every server refuses.
  Zone zone(2);
  const bool with_soa = GENERATE(false, true);
  CAPTURE(with_soa);
  auto refused = FakeDnsBehaviour::refused();
  if (with_soa) {
    refused = refused.with_authority({soa_of("example.", k_serial + 5)});
  }
  const auto refuse_all = [&](std::size_t index) {
    zone.servers[index].set("www.example.", RrType::A, refused);
    zone.servers[index].set("example.", RrType::SOA, refused);
    zone.servers[index].set("example.", RrType::NS, refused);
  };
  SECTION("one of two") {
    refuse_all(1);
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE_FALSE(report.failure);
    REQUIRE(report.servers.size() == 2);
    CHECK(report.servers[1].answer.status == DnsStatus::Refused);
    CHECK(report.servers[1].lame);
    CHECK_FALSE(report.servers[1].serial);  // a refusal's SOA is no serial of the zone
    CHECK(report.serial_skew() == 0);
    CHECK(report.detail ==
          "authoritative: 2 servers for example. (serial 2026120501); lame: server ns2.example. "
          "(127.0.53.2); server ns2.example. (127.0.53.2): REFUSED");
    CHECK_FALSE(vote_against(report));
  }
  SECTION("every one: not judged, no vote") {
    refuse_all(0);
    refuse_all(1);
    const auto [report, calls, elapsed] = run(zone.request());
    REQUIRE_FALSE(report.failure);
    CHECK(report.detail ==
          "authoritative: 2 servers for example. (no SOA serial); lame: server ns1.example. "
          "(127.0.53.1); lame: server ns2.example. (127.0.53.2); server ns1.example. "
          "(127.0.53.1): REFUSED; server ns2.example. (127.0.53.2): REFUSED");
    const auto judged = probes::judge_authoritative(report, www_check());
    CHECK_FALSE(judged.failure);
    CHECK(judged.not_judged ==
          "none of 2 servers for example. gave an AA answer to judge (2 lame)");
    CHECK_FALSE(judged.serial_skew);
  }
}

TEST_CASE("a zone server that cannot be reached is named as a server, not a resolver",
          "[authoritative]") {
  Zone zone(2);
  zone.servers[1].stop();  // port unreachable
  const auto [report, calls, elapsed] = run(zone.request());
  REQUIRE_FALSE(report.failure);
  CHECK_THAT(
      report.detail,
      Catch::EndsWith("; server ns2.example. (127.0.53.2): server 127.0.53.2:" +
                      std::to_string(zone.servers.port) + " unreachable: connection refused"));
  CHECK_THAT(report.detail, !Catch::Contains("resolver"));
  CHECK_FALSE(vote_against(report));
}

TEST_CASE("NS addresses no server can have are never asked", "[authoritative]") {
  // A lying resolver names this host's wildcard, the broadcast, a group or
  // a link-local address. A witness listens on 127.0.0.1, the servers'
  // port: a packet to 0.0.0.0 would land there (and one to :: on ::1). The
  // source is loopback, so nothing could leave this host even if one got
  // through the filter.
  const bool v6 = FakeDnsServer::can_bind("::1");
  SECTION("IPv4") {
    Zone zone(2, v6 ? std::vector<std::string>{"127.0.0.1", "::1"}
                    : std::vector<std::string>{"127.0.0.1"});
    auto request = zone.request();
    request.source = config::IpAddress::parse("127.0.0.1");
    std::vector<FakeRecord> lies;
    for (const auto* address : {"0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.1.2.3",
                                "240.0.0.1", "169.254.169.254"}) {
      lies.push_back({"A", address, 300, ""});
    }
    SECTION("beside an honest NS: only that one is asked, no vote") {
      zone.resolver.set("ns2.example.", RrType::A, FakeDnsBehaviour::answer(lies));
      const auto [report, calls, elapsed] = run(request);
      REQUIRE_FALSE(report.failure);
      CHECK(addresses_asked(report) == std::vector<std::string>{loopback(1)});
      CHECK(report.unresolved_ns == std::vector<std::string>{"ns2.example."});
      CHECK_THAT(report.detail, Catch::EndsWith("; never asked: 0.0.0.0, 0.1.2.3, "
                                                "255.255.255.255, 224.0.0.1, 239.1.2.3, "
                                                "240.0.0.1, 169.254.169.254"));
      CHECK_FALSE(vote_against(report));
    }
    SECTION("every NS: nothing to ask, which is no vote") {
      zone.resolver.set("ns1.example.", RrType::A, FakeDnsBehaviour::answer(lies));
      zone.resolver.set("ns2.example.", RrType::A, FakeDnsBehaviour::answer(lies));
      const auto [report, calls, elapsed] = run(request);
      REQUIRE(report.failure);
      CHECK(report.failure->observer_error());
      CHECK(report.servers.empty());
      CHECK_THAT(report.detail,
                 Catch::StartsWith("authoritative: no address to ask for the NS names of "
                                   "example. (never asked: 0.0.0.0, "));
      CHECK(zone.servers[0].queries().empty());
      CHECK_FALSE(vote_against(report));
    }
    CHECK(zone.servers[2].queries().empty());  // the witness on 127.0.0.1
    if (v6) {
      CHECK(zone.servers[3].queries().empty());
    }
  }
  SECTION("IPv6, and IPv4 written as IPv6") {
    if (!v6) {
      WARN("no ::1 here: the IPv6 lies are not tried");
      return;
    }
    // The resolver is on ::1 too (the source binds every query); ns1 is the
    // fake on ::1, the servers' port; ns2's AAAA are lies.
    Zone zone(2, {"127.0.0.1", "::1"}, "::1");
    zone.serve(3, k_serial, zone.names);
    auto request = zone.request();
    request.source = config::IpAddress::parse("::1");
    std::vector<FakeRecord> lies;
    for (const auto* address : {"::", "ff02::1", "ff05::2", "fe80::1", "::ffff:0.0.0.0",
                                "::ffff:224.0.0.1", "::ffff:255.255.255.255"}) {
      lies.push_back({"AAAA", address, 300, ""});
    }
    zone.resolver.set("ns1.example.", RrType::AAAA,
                      FakeDnsBehaviour::answer({{"AAAA", "::1", 300, ""}}));
    zone.resolver.set("ns2.example.", RrType::AAAA, FakeDnsBehaviour::answer(lies));
    const auto [report, calls, elapsed] = run(request);
    REQUIRE_FALSE(report.failure);
    CHECK(addresses_asked(report) == std::vector<std::string>{"::1"});
    CHECK(report.unresolved_ns == std::vector<std::string>{"ns2.example."});
    CHECK_THAT(report.detail, Catch::EndsWith("; never asked: ::, ff02::1, ff05::2, fe80::1, "
                                              "::ffff:0.0.0.0, ::ffff:224.0.0.1, "
                                              "::ffff:255.255.255.255"));
    CHECK(zone.servers[3].queries().size() == 3);  // ns1's three questions, nothing sent to ::
    CHECK(zone.servers[2].queries().empty());      // the witness on 127.0.0.1
    CHECK_FALSE(vote_against(report));
  }
}

TEST_CASE("loopback NS addresses are asked only through a loopback resolver", "[authoritative]") {
  // A lying resolver elsewhere must not aim RD=0 queries at this host's
  // own services; a local lab (resolver and servers on loopback) is asked.
  const auto [server, resolver, asked] = GENERATE(table<std::string, std::string, bool>({
      {"127.0.53.1", "127.0.53.53", true},
      {"127.0.0.1", "::1", true},
      {"::1", "127.0.0.53", true},
      {"127.0.0.1", "192.0.2.53", false},
      {"127.255.255.254", "2001:db8::53", false},
      {"::1", "192.0.2.53", false},
      {"::ffff:127.0.0.1", "192.0.2.53", false},
      {"192.0.2.1", "192.0.2.53", true},
      {"192.0.2.1", "127.0.0.53", true},
      {"0.0.0.0", "127.0.0.53", false},
      {"ff02::1", "::1", false},
  }));
  CAPTURE(server, resolver);
  CHECK(probes::may_ask(*config::IpAddress::parse(server), *config::IpAddress::parse(resolver)) ==
        asked);
}
