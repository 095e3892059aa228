// System test of `dns: { dnssec: true }` (docs/checks.md "DNSSEC") against
// real components: a zone signed here with libldns (ECDSA P-256) and served
// by a real unbound `auth-zone:` on 127.0.57.1; real unbound resolvers that
// reach it through a stub-zone: one validating with the zone's DS as its
// trust anchor and `ede: yes`, the same without Extended DNS Errors (so the
// second question with CD decides), and one that does not validate. All on
// 127.0.57.x; `local-zone: "." static` keeps every unbound from asking
// anyone but the zone's server.
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/chain.hpp"
#include "probes/dns_ede.hpp"
#include "real_resolver.hpp"
#include "support/child_process.hpp"
#include "support/engine_world.hpp"

#include <ldns/ldns.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;
using consensus::Layer;
using consensus::Outcome;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::TempDir;
using probes::DnsStatus;

namespace {

constexpr const char* k_zone = "dnssec.test.";
constexpr const char* k_name = "www.dnssec.test";
constexpr const char* k_authority = "127.0.57.1";
constexpr const char* k_validating = "127.0.57.2";
constexpr const char* k_validating_without_ede = "127.0.57.3";
constexpr const char* k_plain = "127.0.57.4";
constexpr std::int64_t k_day = 86'400;

struct LdnsFree {
  void operator()(ldns_key* key) const { ldns_key_deep_free(key); }
  // ldns_key_list_free frees the keys too; they belong to their ZoneKey.
  void operator()(ldns_key_list* keys) const {
    ldns_key_list_set_key_count(keys, 0);
    ldns_key_list_free(keys);
  }
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
  void operator()(ldns_zone* zone) const { ldns_zone_deep_free(zone); }
  // Strings ldns allocates with malloc.
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
  void operator()(char* text) const { std::free(text); }
};
template <typename T>
using LdnsPtr = std::unique_ptr<T, LdnsFree>;

std::string rr_text(const ldns_rr* rr) {
  const LdnsPtr<char> text(ldns_rr2str(rr));
  REQUIRE(text);
  std::string out(text.get());
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

// A zone key of dnssec.test. (flags 256: it signs every RRset, DNSKEY
// included), its DNSKEY record and the DS (SHA-256) that points at it.
struct ZoneKey {
  ZoneKey() : key(ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256)) {
    REQUIRE(key);
    ldns_key_set_pubkey_owner(key.get(), ldns_dname_new_frm_str(k_zone));  // the key owns it
    ldns_key_set_flags(key.get(), LDNS_KEY_ZONE_KEY);
    dnskey.reset(ldns_key2rr(key.get()));
    REQUIRE(dnskey);
    ldns_rr_set_ttl(dnskey.get(), 60);
    ldns_key_set_keytag(key.get(), ldns_calc_keytag(dnskey.get()));
  }

  std::string ds() const {
    const LdnsPtr<ldns_rr> ds_rr(ldns_key_rr2ds(dnskey.get(), LDNS_SHA256));
    REQUIRE(ds_rr);
    return rr_text(ds_rr.get());
  }

  LdnsPtr<ldns_key> key;
  LdnsPtr<ldns_rr> dnskey;
};

// Writes dnssec.test. (SOA, NS, ns and www A records, the DNSKEY) to
// `path`, signed by `key` with RRSIGs valid from `inception` to
// `expiration` (Unix seconds), NSEC chain included.
void write_signed_zone(const std::filesystem::path& path, const ZoneKey& key,
                       std::int64_t inception, std::int64_t expiration) {
  ldns_key_set_inception(key.key.get(), static_cast<std::uint32_t>(inception));
  ldns_key_set_expiration(key.key.get(), static_cast<std::uint32_t>(expiration));
  const LdnsPtr<ldns_zone> zone(ldns_zone_new());
  const std::array<std::string, 4> records{
      "dnssec.test. 60 IN SOA ns.dnssec.test. hostmaster.dnssec.test. 1 3600 600 86400 60",
      "dnssec.test. 60 IN NS ns.dnssec.test.",
      std::string("ns.dnssec.test. 60 IN A ") + k_authority,
      "www.dnssec.test. 60 IN A 192.0.2.57",
  };
  for (const auto& record : records) {
    ldns_rr* rr = nullptr;
    REQUIRE(ldns_rr_new_frm_str(&rr, record.c_str(), 60, nullptr, nullptr) == LDNS_STATUS_OK);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
      ldns_zone_set_soa(zone.get(), rr);
    } else {
      ldns_zone_push_rr(zone.get(), rr);
    }
  }
  ldns_zone_push_rr(zone.get(), ldns_rr_clone(key.dnskey.get()));
  const LdnsPtr<ldns_key_list> keys(ldns_key_list_new());
  ldns_key_list_push_key(keys.get(), key.key.get());
  const LdnsPtr<ldns_zone> signed_zone(ldns_zone_sign(zone.get(), keys.get()));
  REQUIRE(signed_zone);
  std::ofstream file(path);
  file << rr_text(ldns_zone_soa(signed_zone.get())) << '\n';
  const ldns_rr_list* rrs = ldns_zone_rrs(signed_zone.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
    file << rr_text(ldns_rr_list_rr(rrs, i)) << '\n';
  }
  REQUIRE(file.flush());
}

config::Endpoint endpoint_on(const char* address) {
  return {*config::IpAddress::parse(address), testing::free_port(address)};
}

// The zone's server and the three resolvers that ask it, each started by
// the test and stopped with it.
struct SignedZone {
  TempDir dir;
  config::Endpoint authority = endpoint_on(k_authority);
  config::Endpoint validating = endpoint_on(k_validating);
  config::Endpoint validating_without_ede = endpoint_on(k_validating_without_ede);
  config::Endpoint plain = endpoint_on(k_plain);
  std::unique_ptr<ChildProcess> authority_server;
  std::vector<std::unique_ptr<ChildProcess>> resolvers;

  // Serves the zone file `zone` authoritatively; waits until it answers.
  void serve(const std::filesystem::path& zone) {
    authority_server = testing::start_unbound(
        dir.path(), "authority",
        listen_lines(authority) + "auth-zone:\n  name: \"" + k_zone + "\"\n  zonefile: \"" +
            zone.string() + "\"\n  for-downstream: yes\n  for-upstream: no\n" +
            "  fallback-enabled: no\n");
    if (!testing::wait_until_serving(authority, *authority_server, k_name)) {
      FAIL("the zone's unbound is not serving; its log:\n" << authority_server->log());
    }
  }

  // Starts the resolvers: the validating ones trust `trust_anchor` (a DS);
  // `extra` goes into every one's server: clause.
  void start_resolvers(const std::string& trust_anchor, const std::string& extra = "") {
    const std::string validator = "  trust-anchor: \"" + trust_anchor + "\"\n" + extra;
    start_resolver("validating", validating, validator, "validator iterator");
    start_resolver("validating-without-ede", validating_without_ede, validator + "  ede: no\n",
                   "validator iterator");
    start_resolver("plain", plain, extra, "iterator");
  }

  std::string logs() const {
    std::string out = authority_server ? "authority:\n" + authority_server->log() : "";
    for (const auto& resolver : resolvers) {
      out += "\nresolver:\n" + resolver->log();
    }
    return out;
  }

 private:
  // Where an unbound listens, and dnssec.test. let through `local-zone:
  // "." static` (transparent: with no local data, resolved or served).
  static std::string listen_lines(const config::Endpoint& at) {
    return "  interface: " + at.address.to_string() + "\n  port: " + std::to_string(at.port) +
           "\n  access-control: 127.0.0.0/8 allow\n  local-zone: \"" + k_zone + "\" transparent\n";
  }

  // `do-not-query-localhost: no`: the zone's server is on loopback.
  // `infra-cache-max-rtt: 400`: unbound otherwise keeps retrying a stopped
  // server past 12 s before it answers SERVFAIL (measured): capped, the
  // outage is a SERVFAIL inside a probe's 2 s, as a real one would be
  // once the resolver gives up.
  void start_resolver(const std::string& name, const config::Endpoint& at, const std::string& lines,
                      const std::string& modules) {
    resolvers.push_back(testing::start_unbound(
        dir.path(), name,
        listen_lines(at) +
            "  do-not-query-localhost: no\n  val-log-level: 2\n  infra-cache-max-rtt: 400\n" +
            lines + "stub-zone:\n  name: \"" + k_zone + "\"\n  stub-addr: " +
            authority.address.to_string() + "@" + std::to_string(authority.port) + "\n",
        modules));
    // Ready once it answers a name outside the zone ("." static: NXDOMAIN
    // at once), so nothing of dnssec.test. is cached before the test asks.
    if (!testing::wait_until_serving(at, *resolvers.back(), "ready.example")) {
      FAIL("unbound " << name << " is not serving; its log:\n" << resolvers.back()->log());
    }
  }
};

// One run of the check chain for dns: { name: www.dnssec.test, dnssec:
// true } from a vantage whose resolver is `resolver`, 2 s timeout.
probes::ProbeReport probe(const config::Endpoint& resolver, const std::string& vantage) {
  config::TargetConfig target;
  target.name = "zone";
  target.dns = config::DnsCheck{k_name, config::RrType::A, 1, {}};
  target.dns->dnssec = true;
  target.timing.timeout = 2s;
  boost::asio::io_context io;
  const net::SystemClock clock;
  probes::LastKnownGoodStore last_known_good;
  const auto tls = net::make_client_tls_context();
  probes::ChainContext context{io, tls, last_known_good, 1h, clock, true};
  std::optional<probes::ProbeReport> out;
  probes::run_chain(context, target, probes::VantageEndpoint{vantage, vantage, resolver, {}},
                    [&out](probes::ProbeReport report) { out = std::move(report); });
  io.run();
  REQUIRE(out);
  REQUIRE(out->dns.size() == 1);
  return *out;
}

std::int64_t unix_now() {
  const net::SystemClock clock;
  return std::chrono::duration_cast<std::chrono::seconds>(clock.system().time_since_epoch())
      .count();
}

consensus::WallTime at_unix(std::int64_t seconds) {
  return consensus::WallTime{std::chrono::seconds{seconds}};
}

// A validating resolver's SERVFAIL judged a DNSSEC failure from its own
// Extended DNS Error: "dns: SERVFAIL, DNSSEC validation fails (EDE 7: ...)".
void check_bogus_by_ede(const probes::ProbeReport& report) {
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK(report.observation.layer == Layer::Dns);
  CHECK(report.observation.dnssec_failure);
  CHECK(report.dns_failure == DnsStatus::DnssecBogus);
  CHECK(report.observation.detail.starts_with("dns: SERVFAIL, DNSSEC validation fails (EDE "));
  CHECK(report.dns[0].rcode == 2);
  REQUIRE_FALSE(report.dns[0].extended_errors.empty());
  CHECK(probes::is_dnssec_failure(report.dns[0].extended_errors[0].code));
}

// The same without an EDE: the question again with CD gets the answer.
void check_bogus_by_cd(const probes::ProbeReport& report) {
  CHECK(report.observation.outcome == Outcome::Down);
  CHECK(report.observation.layer == Layer::Dns);
  CHECK(report.observation.dnssec_failure);
  CHECK(report.dns_failure == DnsStatus::DnssecBogus);
  CHECK(report.dns[0].extended_errors.empty());
  CHECK(report.observation.detail ==
        "dns: SERVFAIL, DNSSEC validation fails: with checking disabled (CD) it answers "
        "(NOERROR, 1 answer)");
}

}  // namespace

TEST_CASE(
    "dnssec with real unbound: a correctly signed zone is up and validated and its RRSIG expiry "
    "is the one it was signed with",
    "[dnssec][unbound]") {
  SignedZone world;
  const ZoneKey key;
  const auto now = unix_now();
  const std::int64_t expiration = now + 20 * k_day + 1234;
  write_signed_zone(world.dir.path() / "dnssec.test.zone", key, now - k_day, expiration);
  world.serve(world.dir.path() / "dnssec.test.zone");
  world.start_resolvers(key.ds());

  const auto validating = probe(world.validating, "validating");
  const auto without_ede = probe(world.validating_without_ede, "validating-without-ede");
  const auto plain = probe(world.plain, "plain");
  INFO(world.logs());  // what the servers said, should a check fail
  for (const auto* report_of : {&validating, &without_ede}) {
    const auto& report = *report_of;
    INFO(report.observation.detail);
    CHECK(report.observation.outcome == Outcome::Up);
    CHECK(report.dns[0].status == DnsStatus::Answer);
    CHECK(report.dns[0].authenticated);  // AD: it validated the answer
    CHECK(report.dns[0].extended_errors.empty());
    CHECK(report.dns[0].rrsig_expires == expiration);
    CHECK(report.observation.rrsig_expires == at_unix(expiration));
    CHECK(report.observation.answers == std::vector<std::string>{"192.0.2.57"});
  }
  CHECK(plain.observation.outcome == Outcome::Up);
  CHECK_FALSE(plain.dns[0].authenticated);  // no validation, no AD
  CHECK(plain.dns[0].rrsig_expires == expiration);
}

TEST_CASE(
    "dnssec with real unbound: expired signatures are dnssec_bogus at a validating resolver "
    "while a non-validating one answers",
    "[dnssec][unbound]") {
  SignedZone world;
  const ZoneKey key;
  const auto now = unix_now();
  // Expired three days ago: past unbound's allowance for clock skew (10%
  // of the validity period, at most a day).
  const std::int64_t expiration = now - 3 * k_day;
  write_signed_zone(world.dir.path() / "dnssec.test.zone", key, now - 10 * k_day, expiration);
  world.serve(world.dir.path() / "dnssec.test.zone");
  world.start_resolvers(key.ds());

  const auto validating = probe(world.validating, "validating");
  const auto without_ede = probe(world.validating_without_ede, "validating-without-ede");
  const auto plain = probe(world.plain, "plain");
  INFO(world.logs());
  check_bogus_by_ede(validating);
  CHECK(validating.dns[0].extended_errors.at(0).code == 7);  // Signature Expired
  check_bogus_by_cd(without_ede);
  // The other failure domain: the same zone, not validated, answers.
  CHECK(plain.observation.outcome == Outcome::Up);
  CHECK_FALSE(plain.observation.dnssec_failure);
  CHECK_FALSE(plain.dns[0].authenticated);
  CHECK(plain.dns[0].rrsig_expires == expiration);
  CHECK(plain.observation.rrsig_expires == at_unix(expiration));

  // Through the quorum engine, one failure domain per resolver: the
  // validating one refuses, the other answers, and the verdict says why.
  testing::World engine(testing::make_policy({"validating", "plain"}, {"zone"}));
  for (int round = 0; round < 6; ++round) {  // 60 s: past fall and the dispute grace
    for (auto observation : {validating.observation, plain.observation}) {
      observation.at = engine.now();
      REQUIRE(engine.engine().observe(observation) == consensus::ObserveStatus::Accepted);
    }
    engine.evaluate();
    engine.clock().advance(10s);
  }
  const auto& verdict = engine.verdict("zone");
  INFO(verdict.reason);
  CHECK(verdict.kind == consensus::VerdictKind::Disputed);
  CHECK(verdict.failing_layer == Layer::Dns);
  CHECK_THAT(verdict.reason, Catch::Contains("DNSSEC: validating resolvers refuse the answer"));
}

TEST_CASE(
    "dnssec with real unbound: a trust anchor that matches no DNSKEY of the zone is dnssec_bogus",
    "[dnssec][unbound]") {
  SignedZone world;
  const ZoneKey key;
  const ZoneKey other;  // the DS the resolvers trust points at this one
  const auto now = unix_now();
  write_signed_zone(world.dir.path() / "dnssec.test.zone", key, now - k_day, now + 20 * k_day);
  world.serve(world.dir.path() / "dnssec.test.zone");
  world.start_resolvers(other.ds());

  const auto validating = probe(world.validating, "validating");
  const auto without_ede = probe(world.validating_without_ede, "validating-without-ede");
  const auto plain = probe(world.plain, "plain");
  INFO(world.logs());
  check_bogus_by_ede(validating);
  check_bogus_by_cd(without_ede);
  CHECK(plain.observation.outcome == Outcome::Up);
}

TEST_CASE(
    "dnssec with real unbound: with the zone's server stopped a dnssec check fails as an outage "
    "and not as dnssec_bogus",
    "[dnssec][unbound]") {
  SignedZone world;
  const ZoneKey key;
  const auto now = unix_now();
  write_signed_zone(world.dir.path() / "dnssec.test.zone", key, now - k_day, now + 20 * k_day);
  world.serve(world.dir.path() / "dnssec.test.zone");
  world.start_resolvers(key.ds());
  world.authority_server->stop();

  // Twice, as two probe intervals would: the second question meets
  // whatever the resolvers kept of the first failure.
  std::vector<probes::ProbeReport> reports;
  for (int round = 0; round < 2; ++round) {
    reports.push_back(probe(world.validating, "validating"));
    reports.push_back(probe(world.validating_without_ede, "validating-without-ede"));
    reports.push_back(probe(world.plain, "plain"));
  }
  INFO(world.logs());
  for (const auto& report : reports) {
    INFO(report.observation.vantage << ": " << report.observation.detail);
    CHECK(report.observation.outcome == Outcome::Down);
    CHECK(report.observation.layer == Layer::Dns);
    CHECK_FALSE(report.observation.dnssec_failure);
    CHECK((report.dns_failure == DnsStatus::ServFail || report.dns_failure == DnsStatus::Timeout));
    CHECK_FALSE(report.observation.detail.find("DNSSEC") != std::string::npos);
  }
}

TEST_CASE(
    "dnssec with real unbound: a zone server that stops after the resolvers validated its zone "
    "fails as an outage and not as dnssec_bogus once their caches run out",
    "[dnssec][unbound]") {
  SignedZone world;
  const ZoneKey key;
  const auto now = unix_now();
  write_signed_zone(world.dir.path() / "dnssec.test.zone", key, now - k_day, now + 20 * k_day);
  world.serve(world.dir.path() / "dnssec.test.zone");
  // Everything cached for one second at most, the DNSKEY included: the
  // resolvers must fetch the zone's keys again from a server that is gone.
  world.start_resolvers(key.ds(), "  cache-max-ttl: 1\n");
  const std::vector<config::Endpoint> resolvers{world.validating, world.validating_without_ede,
                                                world.plain};
  std::vector<probes::ProbeReport> healthy;
  healthy.reserve(resolvers.size());
  for (const auto& resolver : resolvers) {
    healthy.push_back(probe(resolver, resolver.address.to_string()));
  }
  world.authority_server->stop();

  // Polled until a whole round fails (the caches ran out), 6 s at most,
  // then once more, as the next probe interval would.
  std::vector<probes::ProbeReport> reports;
  const auto deadline = std::chrono::steady_clock::now() + 6s;
  int failed_rounds = 0;
  while (failed_rounds < 2 && std::chrono::steady_clock::now() < deadline) {
    bool all_down = true;
    for (const auto& resolver : resolvers) {
      reports.push_back(probe(resolver, resolver.address.to_string()));
      all_down = all_down && reports.back().observation.outcome == Outcome::Down;
    }
    failed_rounds += all_down ? 1 : 0;
    std::this_thread::sleep_for(50ms);  // a pause between rounds, not a wait for the condition
  }
  INFO(world.logs());
  for (const auto& report : healthy) {
    INFO(report.observation.vantage << ": " << report.observation.detail);
    CHECK(report.observation.outcome == Outcome::Up);
  }
  CHECK(failed_rounds == 2);
  for (const auto& report : reports) {
    INFO(report.observation.vantage << ": " << report.observation.detail);
    CHECK_FALSE(report.observation.dnssec_failure);
    CHECK(report.dns_failure != DnsStatus::DnssecBogus);
  }
}
