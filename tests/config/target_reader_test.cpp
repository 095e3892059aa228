// Tests config/target_reader.cpp: target checks (dns, tcp, http), their value
// errors with exact text and position, and inheritance from defaults/quorum.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::Config;
using crosscheck::config::Duration;
using crosscheck::config::ReachMode;
using crosscheck::config::RrType;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;

namespace {

// Vantages on lines 1-4, "targets:" on line 5, the row's target from line 6.
std::string with_targets(const std::string& targets) {
  return std::string(k_valid_vantages) + "targets:\n" + targets;
}

}  // namespace

TEST_CASE("bad values inside a target's checks are reported at the value", "[targets][values]") {
  auto [targets, expected] = GENERATE(table<std::string, std::string>({
      {"  - {name: t, dns: {name: 'a..b'}}\n",
       "test.yaml:6:27: error: invalid DNS name 'a..b' for targets[0].dns.name"},
      {"  - {name: t, dns: {name: x.example, type: AAA}}\n",
       "test.yaml:6:44: error: invalid record type 'AAA' for targets[0].dns.type: expected one "
       "of A, AAAA, CAA, CNAME, MX, NS, PTR, SOA, SRV, TXT"},
      {"  - {name: t, dns: {name: x.example, min_answers: -1}}\n",
       "test.yaml:6:51: error: targets[0].dns.min_answers must be at least 0, got -1"},
      {"  - {name: t, dns: {name: x.example, expect_addresses: [10.0.0.0/8, 10.0.0.1/8]}}\n",
       "test.yaml:6:69: error: invalid CIDR '10.0.0.1/8' for targets[0].dns.expect_addresses[1]: "
       "expected an address or address/prefix without host bits, e.g. 192.0.2.0/24"},
      {"  - {name: t, dns: {name: x.example}, tcp: {port: 70000}}\n",
       "test.yaml:6:51: error: targets[0].tcp.port must be between 1 and 65535, got 70000"},
      {"  - {name: t, dns: {name: x.example}, tcp: {port: 0}}\n",
       "test.yaml:6:51: error: targets[0].tcp.port must be between 1 and 65535, got 0"},
      {"  - {name: t, tcp: {port: 22, host: 'a b'}}\n",
       "test.yaml:6:37: error: invalid host 'a b' for targets[0].tcp.host: expected a host name "
       "or an IP address"},
      {"  - {name: t, http: {url: 'ftp://x.example/'}}\n",
       "test.yaml:6:27: error: invalid URL 'ftp://x.example/' for targets[0].http.url: "
       "unsupported scheme 'ftp', expected http or https"},
      {"  - {name: t, http: {url: 'https:///healthz'}}\n",
       "test.yaml:6:27: error: invalid URL 'https:///healthz' for targets[0].http.url: missing "
       "host"},
      {"  - {name: t, http: {url: 'http://x/', expect_status: [200, 600]}}\n",
       "test.yaml:6:61: error: targets[0].http.expect_status[1] must be between 100 and 599, got "
       "600"},
      {"  - {name: t, http: {url: 'http://x/', method: get}}\n",
       "test.yaml:6:48: error: invalid HTTP method 'get' for targets[0].http.method: expected an "
       "upper-case method such as GET or HEAD"},
      {"  - {name: t, http: {url: 'http://x/', body_regex: true, expect_body: 'ok('}}\n",
       "test.yaml:6:71: error: invalid regex 'ok(' for targets[0].http.expect_body: Unmatched "
       "marking parenthesis ( or \\(.  The error occurred while parsing the regular expression: "
       "'ok(>>>HERE>>>'."},
      {"  - {name: t, http: {url: 'http://x/', body_regex: true, expect_body: 'a{2,1}'}}\n",
       "test.yaml:6:71: error: invalid regex 'a{2,1}' for targets[0].http.expect_body: Invalid "
       "content of repeat range.  The error occurred while parsing the regular expression: "
       "'a{2,>>>HERE>>>1}'."},
      {"  - {name: t, http: {url: 'http://x/', headers: {'X Probe': yes}}}\n",
       "test.yaml:6:50: error: invalid header name 'X Probe' in targets[0].http.headers"},
      {"  - {name: t, http: {url: 'http://x/', headers: {X-Probe: {a: b}}}}\n",
       "test.yaml:6:59: error: targets[0].http.headers.X-Probe: expected a string, got a mapping"},
      {"  - {name: t, http: {url: 'http://x/', headers: {X-A: a, x-a: b}}}\n",
       "test.yaml:6:58: error: duplicate header 'x-a' (first at line 6)"},
      {"  - {name: t, http: {url: 'http://x/', headers: [a]}}\n",
       "test.yaml:6:49: error: targets[0].http.headers: expected a mapping, got a sequence"},
      {"  - {name: t, http: {url: 'http://x/', tls_verify: no}}\n",
       "test.yaml:6:52: error: targets[0].http.tls_verify: expected true or false, got 'no'"},
      {"  - {name: t, http: {url: 'http://x/', max_body_bytes: 0}}\n",
       "test.yaml:6:56: error: targets[0].http.max_body_bytes must be at least 1, got 0"},
      {"  - {name: t, dns: {name: x.example}, reach: some}\n",
       "test.yaml:6:46: error: invalid reach 'some' for targets[0].reach: expected any or all"},
      {"  - {name: t, dns: {name: x.example}, quorum: {down: most}}\n",
       "test.yaml:6:54: error: invalid quorum 'most' for targets[0].quorum.down: expected majority "
       "or a positive integer"},
      {"  - {name: t, dns: {name: x.example}, quorum: {up: 0}}\n",
       "test.yaml:6:52: error: invalid quorum '0' for targets[0].quorum.up: expected majority or "
       "a positive integer"},
      {"  - {name: 'db primary', dns: {name: x.example}}\n",
       "test.yaml:6:12: error: invalid name 'db primary' for targets[0]: use only letters, "
       "digits, '.', '_' and '-', at most 128"},
      {"  - {name: '', dns: {name: x.example}}\n",
       "test.yaml:6:12: error: targets[0].name must not be empty"},
      {"  - {dns: {name: x.example}}\n",
       "test.yaml:6:5: error: missing required key 'name' in targets[0]"},
      {"  - {name: t, dns: {type: A}}\n",
       "test.yaml:6:20: error: missing required key 'name' in targets[0].dns"},
      {"  - {name: t, tcp: {host: db.example}}\n",
       "test.yaml:6:20: error: missing required key 'port' in targets[0].tcp"},
      {"  - {name: t, http: {method: GET}}\n",
       "test.yaml:6:21: error: missing required key 'url' in targets[0].http"},
  }));
  const std::string yaml = with_targets(targets);
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a target without any check is an error", "[targets][checks]") {
  const std::string yaml = with_targets(
      "  - {name: t, dns: {name: t.example}}\n"
      "  - name: x\n"
      "    interval: 20s\n"
      "  - {canary: true}\n");
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:7:5: error: targets[1] 'x': needs at least one check (dns, tcp, http, "
              "redis, postgres or mysql)",
              "test.yaml:9:5: error: missing required key 'name' in targets[2]",
              "test.yaml:9:5: error: targets[2]: needs at least one check (dns, tcp, http, redis, "
              "postgres or mysql)"});
}

TEST_CASE("a tcp check needs a host from tcp.host or dns.name, not from the URL",
          "[targets][checks]") {
  const std::string yaml = with_targets(
      "  - name: web\n"
      "    http: {url: 'https://web.example/'}\n"
      "    tcp: {port: 443}\n");
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:8:10: error: targets[0] 'web': the tcp check needs a host (tcp.host or "
              "dns.name)"});
}

TEST_CASE("every target key is read into the target", "[targets][values]") {
  const Config config =
      load_valid(with_targets("  - name: full\n"
                              "    canary: true\n"
                              "    dns:\n"
                              "      name: svc.example.\n"
                              "      type: aaaa\n"
                              "      min_answers: 0\n"
                              "      expect_addresses: [2001:db8::/32, 192.0.2.1]\n"
                              "    tcp: {port: 8443, host: 2001:db8::1}\n"
                              "    http:\n"
                              "      url: 'https://svc.example:8443/health?deep=1'\n"
                              "      method: HEAD\n"
                              "      expect_status: [200, 204]\n"
                              "      expect_body: '^ok$'\n"
                              "      body_regex: true\n"
                              "      headers: {X-Probe: crosscheck, Host: svc.example}\n"
                              "      tls_verify: false\n"
                              "      follow_redirects: true\n"
                              "      max_body_bytes: 1024\n"
                              "    reach: all\n"));
  const auto& target = config.targets.at(0);
  CHECK(target.name == "full");
  CHECK(target.canary);
  REQUIRE(target.dns);
  CHECK(target.dns->name == "svc.example.");
  CHECK(target.dns->type == RrType::AAAA);
  CHECK(target.dns->min_answers == 0);
  REQUIRE(target.dns->expect_addresses.size() == 2);
  CHECK(target.dns->expect_addresses[1].to_string() == "192.0.2.1/32");
  REQUIRE(target.tcp);
  CHECK(target.tcp->port == 8443);
  CHECK(target.tcp->host == "2001:db8::1");
  REQUIRE(target.http);
  CHECK(target.http->url.port == 8443);
  CHECK(target.http->url.target == "/health?deep=1");
  CHECK(target.http->method == "HEAD");
  CHECK(target.http->expect_status == std::vector<int>{200, 204});
  CHECK(target.http->expect_body == "^ok$");
  CHECK(target.http->body_regex);
  CHECK(target.http->headers == std::vector<std::pair<std::string, std::string>>{
                                    {"X-Probe", "crosscheck"}, {"Host", "svc.example"}});
  CHECK_FALSE(target.http->tls_verify);
  CHECK(target.http->follow_redirects);
  CHECK(target.http->max_body_bytes == 1024);
  CHECK(target.reach == ReachMode::All);
  CHECK(target.pos.line == 6);
  CHECK(target.pos.column == 5);
}

TEST_CASE("unset target keys take their documented defaults", "[targets][values]") {
  const Config config =
      load_valid(with_targets("  - {name: d, dns: {name: d.example}}\n"
                              "  - {name: h, http: {url: 'http://h.example'}}\n"));
  const auto& dns_only = config.targets.at(0);
  CHECK_FALSE(dns_only.canary);
  CHECK(dns_only.dns->type == RrType::A);
  CHECK(dns_only.dns->min_answers == 1);
  CHECK(dns_only.dns->expect_addresses.empty());
  CHECK_FALSE(dns_only.tcp);
  CHECK_FALSE(dns_only.http);
  CHECK(dns_only.reach == ReachMode::Any);
  const auto& http = *config.targets.at(1).http;
  CHECK(http.method == "GET");
  CHECK(http.expect_status.empty());
  CHECK_FALSE(http.expect_body);
  CHECK_FALSE(http.body_regex);
  CHECK(http.tls_verify);
  CHECK_FALSE(http.follow_redirects);
  CHECK(http.max_body_bytes == 65'536);
  CHECK(http.url.target == "/");
}

TEST_CASE("a non-regex expect_body is a plain substring and is not compiled", "[targets][values]") {
  const Config config =
      load_valid(with_targets("  - {name: t, http: {url: 'http://x/', expect_body: 'ok('}}\n"));
  CHECK(config.targets.at(0).http->expect_body == "ok(");
}

TEST_CASE("a target inherits defaults and overrides only the keys it sets", "[targets][inherit]") {
  const Config config =
      load_valid("defaults: {interval: 20s, timeout: 3s, rise: 4, fall: 5, stale_after: 1m}\n" +
                 with_targets("  - {name: plain, dns: {name: p.example}}\n"
                              "  - {name: tuned, dns: {name: t.example}, interval: 1m, fall: 2,"
                              " stale_after: 5m}\n"));
  const auto& plain = config.targets.at(0).timing;
  CHECK(plain.interval == Duration{20'000});
  CHECK(plain.timeout == Duration{3'000});
  CHECK(plain.rise == 4);
  CHECK(plain.fall == 5);
  CHECK(plain.stale_after == Duration{60'000});
  const auto& tuned = config.targets.at(1).timing;
  CHECK(tuned.interval == Duration{60'000});
  CHECK(tuned.timeout == Duration{3'000});
  CHECK(tuned.rise == 4);
  CHECK(tuned.fall == 2);
  CHECK(tuned.stale_after == Duration{300'000});
  CHECK(config.defaults.interval == Duration{20'000});
}

TEST_CASE("without any defaults section targets use the built-in timing", "[targets][inherit]") {
  const Config config = load_valid(with_targets("  - {name: t, dns: {name: t.example}}\n"));
  const auto& timing = config.targets.at(0).timing;
  CHECK(timing.interval == Duration{10'000});
  CHECK(timing.timeout == Duration{2'000});
  CHECK(timing.rise == 2);
  CHECK(timing.fall == 3);
  CHECK(timing.stale_after == Duration{30'000});
}

TEST_CASE("dispute_grace is the target's, else quorum.dispute_grace, else the target's interval",
          "[targets][inherit]") {
  const std::string targets =
      "  - {name: own, dns: {name: a.example}, dispute_grace: 45s}\n"
      "  - {name: inherit, dns: {name: b.example}, interval: 1m, stale_after: 5m}\n";
  const Config with_quorum_grace =
      load_valid("quorum: {dispute_grace: 25s}\n" + with_targets(targets));
  CHECK(with_quorum_grace.targets.at(0).dispute_grace == Duration{45'000});
  CHECK(with_quorum_grace.targets.at(1).dispute_grace == Duration{25'000});

  const Config without = load_valid(with_targets(targets));
  CHECK(without.targets.at(0).dispute_grace == Duration{45'000});
  CHECK(without.targets.at(1).dispute_grace == Duration{60'000});
}

TEST_CASE("a target's quorum overrides quorum.down and quorum.up separately",
          "[targets][inherit]") {
  const Config config = load_valid(
      "quorum: {down: 3, up: majority}\n" +
      with_targets("  - {name: a, dns: {name: a.example}}\n"
                   "  - {name: b, dns: {name: b.example}, quorum: {down: 2}}\n"
                   "  - {name: c, dns: {name: c.example}, quorum: {up: 1, down: majority}}\n"));
  CHECK(config.targets.at(0).down_quorum.count == 3);
  CHECK(config.targets.at(0).up_quorum.is_majority());
  CHECK(config.targets.at(1).down_quorum.count == 2);
  CHECK(config.targets.at(1).up_quorum.is_majority());
  CHECK(config.targets.at(2).down_quorum.is_majority());
  CHECK(config.targets.at(2).up_quorum.count == 1);
  CHECK(config.targets.at(2).down_quorum.resolve(config.known_domain_count()) == 2);
}
