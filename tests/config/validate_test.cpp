// Tests config/validate.cpp: rules that need more than one value (unique
// names, quorum versus failure domains, timing pairs, readable files).
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::Severity;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_tail;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::TempDir;
using Lines = std::vector<std::string>;

TEST_CASE("a name used twice is an error at the second use", "[validate][names]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"vantages:\n"
       "  - {name: a, domain: one}\n"
       "  - {name: b, domain: two}\n"
       "  - {name: a, domain: three}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:4:12: error: duplicate vantage name 'a' (first defined at line 2)"},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - name: db\n"
                                       "    dns: {name: a.example}\n"
                                       "  - {name: web, dns: {name: b.example}}\n"
                                       "  - name: db\n"
                                       "    dns: {name: c.example}\n",
       "test.yaml:9:11: error: duplicate target name 'db' (first defined at line 6)"},
      {std::string(k_valid_tail) +
           "peers:\n"
           "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
           "/config/fixtures/peer.key}\n"
           "  - {name: b, url: 'http://c.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
           "/config/fixtures/peer-c.key}\n",
       "test.yaml:9:12: error: duplicate peer name 'b' (first defined at line 8)"},
      {"node: {name: oracle-a}\n" + std::string(k_valid_tail) +
           "peers:\n"
           "  - {name: oracle-a, url: 'http://a.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
           "/config/fixtures/peer.key}\n",
       "test.yaml:9:12: error: peers[0] 'oracle-a': a peer cannot have this node's own name"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a quorum count above the number of failure domains can never be met",
          "[validate][quorum]") {
  // k_valid_tail has three domains; the vantage list below adds a fourth
  // vantage in an existing domain, which does not add a domain.
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"quorum:\n  down: 4\n" + std::string(k_valid_tail),
       "test.yaml:2:9: error: quorum.down (4) is larger than the number of failure domains (3)"},
      {"quorum: {up: 5}\n" + std::string(k_valid_tail),
       "test.yaml:1:14: error: quorum.up (5) is larger than the number of failure domains (3)"},
      {"vantages:\n"
       "  - {name: a, domain: one}\n"
       "  - {name: b, domain: two}\n"
       "  - {name: c, domain: three}\n"
       "  - {name: d, domain: three}\n"
       "targets:\n"
       "  - {name: t0, dns: {name: a.example}}\n"
       "  - {name: t1, dns: {name: b.example}}\n"
       "  - {name: t2, dns: {name: c.example}, quorum: {down: 4}}\n",
       "test.yaml:9:55: error: targets[2].quorum.down (4) is larger than the number of failure "
       "domains (3)"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a quorum equal to the number of failure domains is accepted", "[validate][quorum]") {
  CHECK(diagnostics_of("quorum: {down: 3, up: 3}\n" + std::string(k_valid_tail)).empty());
}

TEST_CASE("a quorum count no local and peer domains together can reach is an error",
          "[validate][quorum]") {
  // Two local domains and two peers: at most four domains, whatever the peers report.
  const std::string peers =
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n"
      "  - {name: c, url: 'http://c.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer-c.key}\n";
  const std::string vantages =
      "vantages:\n"
      "  - {name: a1, domain: one}\n"
      "  - {name: a2, domain: two}\n"
      "  - {name: a3, domain: two}\n";
  auto [yaml, expected] = GENERATE_COPY(table<std::string, std::string>({
      {"quorum: {down: 5}\n" + vantages + "targets:\n  - {name: t, dns: {name: t.example}}\n" +
           peers,
       "test.yaml:1:16: error: quorum.down (5) is larger than the number of failure domains (4: 2 "
       "local + 2 peers)"},
      {"quorum: {up: 5}\n" + vantages + "targets:\n  - {name: t, dns: {name: t.example}}\n" + peers,
       "test.yaml:1:14: error: quorum.up (5) is larger than the number of failure domains (4: 2 "
       "local + 2 peers)"},
      {vantages + "targets:\n  - {name: t, dns: {name: t.example}, quorum: {down: 6}}\n" + peers,
       "test.yaml:6:54: error: targets[0].quorum.down (6) is larger than the number of failure "
       "domains (4: 2 local + 2 peers)"},
      {vantages + "targets:\n  - {name: t, dns: {name: t.example}, quorum: {up: 5}}\n" + peers,
       "test.yaml:6:52: error: targets[0].quorum.up (5) is larger than the number of failure "
       "domains (4: 2 local + 2 peers)"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a quorum count that needs a peer's domain is a warning, and the config still loads",
          "[validate][quorum]") {
  // Local domains one and two (a3 adds none). If peer b's vantages are in
  // domain two, only two domains exist and a count of 3 is never met.
  const std::string vantages =
      "vantages:\n"
      "  - {name: a1, domain: one}\n"
      "  - {name: a2, domain: two}\n"
      "  - {name: a3, domain: two}\n";
  const std::string one_peer =
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n";
  const std::string two_peers =
      one_peer + "  - {name: c, url: 'http://c.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
                 "/config/fixtures/peer-c.key}\n";
  const std::string target = "targets:\n  - {name: t, dns: {name: t.example}}\n";
  auto [yaml, expected] = GENERATE_COPY(table<std::string, std::string>({
      {"quorum: {down: 3}\n" + vantages + target + one_peer,
       "test.yaml:1:16: warning: quorum.down (3) counts on peers: only 2 failure domains are local "
       "(one, two), so 1 more must come from the 1 peer; while a peer does not answer, its "
       "domain votes unknown and no outage can be confirmed"},
      {"quorum: {up: 4}\n" + vantages + target + two_peers,
       "test.yaml:1:14: warning: quorum.up (4) counts on peers: only 2 failure domains are local "
       "(one, two), so 2 more must come from the 2 peers; while a peer does not answer, its "
       "domain votes unknown and no outage can be confirmed"},
      {vantages + "targets:\n  - {name: t, dns: {name: t.example}, quorum: {down: 3}}\n" +
           two_peers,
       "test.yaml:6:54: warning: targets[0].quorum.down (3) counts on peers: only 2 failure "
       "domains are local (one, two), so 1 more must come from the 2 peers; while a peer does not "
       "answer, its domain votes unknown and no outage can be confirmed"},
      {"vantages:\n  - {name: a1, domain: one}\n"
       "targets:\n  - {name: t, dns: {name: t.example}, quorum: {up: 2}}\n" +
           one_peer,
       "test.yaml:4:52: warning: targets[0].quorum.up (2) counts on peers: only 1 failure domain "
       "is local (one), so 1 more must come from the 1 peer; while a peer does not answer, its "
       "domain votes unknown and no outage can be confirmed"},
  }));
  CAPTURE(yaml);
  const auto result = crosscheck::config::load_config_text(yaml, "test.yaml");
  CHECK(result.ok());
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].severity == Severity::Warning);
  CHECK(result.diagnostics[0].to_string() == expected);
}

TEST_CASE("a quorum count the local domains alone can reach needs no peer and no warning",
          "[validate][quorum]") {
  const std::string yaml =
      "quorum: {down: 3, up: 3}\n" + std::string(k_valid_tail) +
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n";
  CHECK(diagnostics_of(yaml).empty());
}

TEST_CASE("a majority quorum is never judged against the peers", "[validate][quorum]") {
  // A majority is taken of the domains that exist at runtime, merged or not.
  const std::string yaml =
      "quorum: {down: majority, up: majority}\n"
      "vantages:\n  - {name: a1, domain: one}\n  - {name: a2, domain: two}\n"
      "targets:\n  - {name: t, dns: {name: t.example}}\n"
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n";
  CHECK(diagnostics_of(yaml).empty());
}

TEST_CASE("a quorum count below 1 is an error, globally and per target", "[validate][quorum]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"quorum: {down: 0}\n" + std::string(k_valid_tail),
       "test.yaml:1:16: error: invalid quorum '0' for quorum.down: expected majority or a positive "
       "integer"},
      {"quorum: {up: -1}\n" + std::string(k_valid_tail),
       "test.yaml:1:14: error: invalid quorum '-1' for quorum.up: expected majority or a positive "
       "integer"},
      {std::string(k_valid_vantages) +
           "targets:\n  - {name: t, dns: {name: t.example}, quorum: {down: 0}}\n",
       "test.yaml:6:54: error: invalid quorum '0' for targets[0].quorum.down: expected majority or "
       "a positive integer"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a single failure domain is a warning, and the config still loads",
          "[validate][domains]") {
  const std::string yaml =
      "vantages:\n"
      "  - {name: cf1, domain: cloudflare}\n"
      "  - {name: cf2, domain: cloudflare}\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n";
  const auto result = crosscheck::config::load_config_text(yaml, "test.yaml");
  REQUIRE(result.ok());
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].severity == Severity::Warning);
  CHECK(result.diagnostics[0].to_string() ==
        "test.yaml:2:3: warning: only 1 failure domain (cloudflare): a lone domain cannot tell an "
        "observer problem from an outage; add vantages in other failure domains");
}

TEST_CASE("one local domain plus a peer is two failure domains and no warning",
          "[validate][domains]") {
  const std::string yaml =
      "vantages:\n"
      "  - {name: cf1, domain: cloudflare}\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n"
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n";
  CHECK(diagnostics_of(yaml).empty());
}

TEST_CASE("timeout must be shorter than interval and stale_after cover interval, jitter, timeout",
          "[validate][timing]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"defaults:\n  interval: 10s\n  timeout: 10s\n" + std::string(k_valid_tail),
       "test.yaml:3:12: error: defaults: timeout (10s) must be shorter than interval (10s)"},
      {"defaults:\n  interval: 1s\n" + std::string(k_valid_tail),
       "test.yaml:2:13: error: defaults: timeout (2s) must be shorter than interval (1s)"},
      {"defaults:\n  stale_after: 5s\n" + std::string(k_valid_tail),
       "test.yaml:2:16: error: defaults: stale_after (5s) must be at least interval + jitter + "
       "timeout = 10s + 999ms + 2s = 12999ms, or a late probe resets the vote"},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - name: db\n"
                                       "    dns: {name: db.example}\n"
                                       "    timeout: 10s\n",
       "test.yaml:8:14: error: targets[0] 'db': timeout (10s) must be shorter than interval "
       "(10s)"},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - name: fast\n"
                                       "    dns: {name: f.example}\n"
                                       "    interval: 1500ms\n",
       "test.yaml:8:15: error: targets[0] 'fast': timeout (2s) must be shorter than interval "
       "(1500ms)"},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - name: slow\n"
                                       "    dns: {name: s.example}\n"
                                       "    interval: 1m\n",
       "test.yaml:8:15: error: targets[0] 'slow': stale_after (30s) must be at least interval + "
       "jitter + timeout = 1m + 5999ms + 2s = 67999ms, or a late probe resets the vote"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a bad timing pair in defaults is reported once, not again for every target",
          "[validate][timing]") {
  const std::string yaml = "defaults: {timeout: 15s}\n" + std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - {name: a, dns: {name: a.example}}\n"
                           "  - {name: b, dns: {name: b.example}}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:1:21: error: defaults: timeout (15s) must be shorter than interval "
              "(10s)"});
}

TEST_CASE("stale_after equal to interval is an error: a late probe would reset the vote",
          "[validate][timing]") {
  // Issue 14 class 6: the next observation can land interval + jitter +
  // timeout after the last one, so the vote went unknown between probes.
  const std::string yaml = "defaults:\n  interval: 10s\n  stale_after: 10s\n" +
                           std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - {name: a, dns: {name: a.example}}\n"
                           "  - {name: b, dns: {name: b.example}}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:3:16: error: defaults: stale_after (10s) must be at least interval + "
              "jitter + timeout = 10s + 999ms + 2s = 12999ms, or a late probe resets the vote"});
}

TEST_CASE("stale_after exactly interval plus jitter plus timeout is accepted, 1 ms less is not",
          "[validate][timing]") {
  auto [interval, timeout, bound_ms, sum] =
      GENERATE(table<std::string, std::string, int, std::string>({
          {"10s", "2s", 12'999, "10s + 999ms + 2s = 12999ms"},
          {"1s", "500ms", 1'599, "1s + 99ms + 500ms = 1599ms"},
          {"300ms", "250ms", 579, "300ms + 29ms + 250ms = 579ms"},
          {"1m", "5s", 70'999, "1m + 5999ms + 5s = 70999ms"},
          {"15ms", "10ms", 25, "15ms + 0s + 10ms = 25ms"},
      }));
  const int short_by_ms = GENERATE(0, 1);
  const bool in_defaults = GENERATE(true, false);
  const std::string stale_after = std::to_string(bound_ms - short_by_ms) + "ms";
  const std::string timing = "interval: " + interval + "\n" + (in_defaults ? "  " : "    ") +
                             "timeout: " + timeout + "\n" + (in_defaults ? "  " : "    ") +
                             "stale_after: " + stale_after + "\n";
  // stale_after is on line 4 column 16 in defaults, line 10 column 18 in the target.
  const std::string yaml = in_defaults ? "defaults:\n  " + timing + std::string(k_valid_tail)
                                       : std::string(k_valid_vantages) +
                                             "targets:\n"
                                             "  - name: db\n"
                                             "    dns: {name: db.example}\n"
                                             "    " +
                                             timing;
  CAPTURE(yaml);
  if (short_by_ms == 0) {
    CHECK(diagnostics_of(yaml).empty());
  } else {
    const std::string where =
        in_defaults ? "test.yaml:4:16: error: defaults" : "test.yaml:10:18: error: targets[0] 'db'";
    CHECK(diagnostics_of(yaml) == Lines{where + ": stale_after (" + stale_after +
                                        ") must be at least interval + jitter + timeout = " + sum +
                                        ", or a late probe resets the vote"});
  }
}

TEST_CASE("a too short stale_after points at the key this section set, after inheritance",
          "[validate][timing]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      // The built-in stale_after (30s) is too short for a 28s interval.
      {"defaults:\n  interval: 28s\n" + std::string(k_valid_tail),
       "test.yaml:2:13: error: defaults: stale_after (30s) must be at least interval + jitter + "
       "timeout = 28s + 2799ms + 2s = 32799ms, or a late probe resets the vote"},
      // Defaults are fine; the target's longer timeout is not, with their stale_after.
      {"defaults: {interval: 10s, stale_after: 13s}\n" + std::string(k_valid_vantages) +
           "targets:\n"
           "  - {name: fine, dns: {name: a.example}}\n"
           "  - name: slow\n"
           "    dns: {name: b.example}\n"
           "    timeout: 5s\n",
       "test.yaml:10:14: error: targets[1] 'slow': stale_after (13s) must be at least interval + "
       "jitter + timeout = 10s + 999ms + 5s = 15999ms, or a late probe resets the vote"},
      // The target's own interval with the defaults' stale_after and timeout.
      {"defaults: {stale_after: 20s}\n" + std::string(k_valid_vantages) +
           "targets:\n"
           "  - {name: t, dns: {name: a.example}, interval: 17s}\n",
       "test.yaml:7:49: error: targets[0] 't': stale_after (20s) must be at least interval + "
       "jitter + timeout = 17s + 1699ms + 2s = 20699ms, or a late probe resets the vote"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("files the daemon must read are checked, each at its value", "[validate][files]") {
  TempDir dir;
  const std::string missing = (dir.path() / "absent").string();
  const std::string directory = dir.path().string();
  const std::string yaml = "api: {token_file: '" + missing + "'}\n" + std::string(k_valid_tail) +
                           "peers:\n"
                           "  - name: b\n"
                           "    url: 'http://b.example:9470'\n"
                           "    key_file: '" +
                           missing +
                           "'\n"
                           "escalation:\n"
                           "  webhook: {url: 'http://127.0.0.1:9000/hook', secret_file: '" +
                           directory + "'}\n";
  CHECK(diagnostics_of(yaml) == Lines{"test.yaml:1:19: error: cannot read token_file '" + missing +
                                          "': No such file or directory",
                                      "test.yaml:11:15: error: cannot read key_file '" + missing +
                                          "': No such file or directory",
                                      "test.yaml:13:61: error: cannot read secret_file '" +
                                          directory + "': Is a directory"});
}

TEST_CASE("readable files pass the check", "[validate][files]") {
  TempDir dir;
  const std::string key = dir.write("key", "secret\n").string();
  const std::string yaml = "api: {token_file: '" + key + "'}\n" + std::string(k_valid_tail) +
                           "peers:\n"
                           "  - {name: b, url: 'http://b.example:9470', key_file: '" +
                           key +
                           "'}\n"
                           "escalation:\n"
                           "  webhook: {url: 'http://127.0.0.1:9000/hook', secret_file: '" +
                           key + "'}\n";
  CHECK(diagnostics_of(yaml).empty());
}

TEST_CASE("a local failure domain named like a peer is an error: the peer counts as that domain",
          "[validate]") {
  const std::string yaml =
      "vantages:\n  - {name: a1, domain: one}\n  - {name: b1, domain: oracle-b}\n"
      "targets:\n  - {name: t, dns: {name: t.example}}\n"
      "peers:\n  - {name: oracle-b, url: 'http://b.example:9470', "
      "key_file: " CROSSCHECK_TEST_DATA_DIR "/config/fixtures/peer.key}\n";
  const auto result = crosscheck::config::load_config_text(yaml, "test.yaml");
  CHECK_FALSE(result.ok());
  bool found = false;
  for (const auto& diagnostic : result.diagnostics) {
    found =
        found || diagnostic.to_string().find(
                     "vantages[1].domain 'oracle-b' is the name of peer oracle-b: a peer "
                     "counts as a failure domain of its own under its name") != std::string::npos;
  }
  CHECK(found);
}

namespace {

// k_valid_tail (domains one, two, three) and peer b declaring `domains`.
std::string with_peer_domains(std::string_view domains) {
  return std::string(k_valid_tail) +
         "peers:\n"
         "  - name: b\n"
         "    url: 'http://b.example:9470'\n"
         "    key_file: " CROSSCHECK_TEST_DATA_DIR
         "/config/fixtures/peer.key\n"
         "    domains: " +
         std::string(domains) + "\n";
}

}  // namespace

TEST_CASE("a peer's domains: is a non-empty list of distinct names", "[validate][peers]") {
  auto [domains, expected] = GENERATE(table<std::string, std::string>({
      {"[]",
       "test.yaml:11:14: error: peers[0].domains must list at least one failure domain; without "
       "the key, the peer's votes count as one domain named after it"},
      {"eu-west", "test.yaml:11:14: error: peers[0].domains: expected a sequence, got 'eu-west'"},
      {"[eu-west, '']",
       "test.yaml:11:24: error: invalid failure domain '' for peers[0].domains[1]: expected a "
       "name of 1 to 128 letters, digits, '.', '_' and '-' (what a peer's export can carry)"},
      {"[eu-west, 'eu west']",
       "test.yaml:11:24: error: invalid failure domain 'eu west' for peers[0].domains[1]: expected "
       "a name of 1 to 128 letters, digits, '.', '_' and '-' (what a peer's export can carry)"},
      {"[eu-west, ovh, eu-west]",
       "test.yaml:11:29: error: peers[0].domains[2] 'eu-west' is listed twice in peers[0].domains"},
      {"[eu-west, {a: b}]",
       "test.yaml:11:24: error: peers[0].domains[1]: expected a string, got a mapping"},
  }));
  CAPTURE(domains);
  CHECK(diagnostics_of(with_peer_domains(domains)) == Lines{expected});
}

TEST_CASE("a peer's declared domains load in order", "[validate][peers]") {
  const auto config = crosscheck::config::test::load_valid(with_peer_domains("[eu-west, ovh]"));
  REQUIRE(config.peers.size() == 1);
  CHECK(config.peers[0].domains == std::vector<std::string>{"eu-west", "ovh"});
  const auto plain = crosscheck::config::test::load_valid(
      std::string(k_valid_tail) + "peers:\n  - {name: b, url: 'http://b.example:9470', key_file: " +
      CROSSCHECK_TEST_DATA_DIR "/config/fixtures/peer.key}\n");
  CHECK_FALSE(plain.peers.at(0).domains.has_value());
}

TEST_CASE("a peer's vantages: is a non-empty list of distinct names, loaded in order",
          "[validate][peers]") {
  const std::string base = with_peer_domains("[eu-west]") + "    vantages: ";
  const auto config = crosscheck::config::test::load_valid(base + "[google, quad9]\n");
  CHECK(config.peers.at(0).vantages == std::vector<std::string>{"google", "quad9"});
  CHECK_FALSE(crosscheck::config::test::load_valid(with_peer_domains("[eu-west]"))
                  .peers.at(0)
                  .vantages.has_value());
  auto [vantages, expected] = GENERATE(table<std::string, std::string>({
      {"[]",
       "test.yaml:12:15: error: peers[0].vantages must list at least one vantage; without the "
       "key, the peer may report any vantage"},
      {"[google, 'a/b']",
       "test.yaml:12:24: error: invalid vantage 'a/b' for peers[0].vantages[1]: expected a "
       "name of 1 to 128 letters, digits, '.', '_' and '-' (what a peer's export can carry)"},
      {"[google, google]",
       "test.yaml:12:24: error: peers[0].vantages[1] 'google' is listed twice in "
       "peers[0].vantages"},
  }));
  CAPTURE(vantages);
  CHECK(diagnostics_of(base + vantages + "\n") == Lines{expected});
}

TEST_CASE("a peer domain equal to a local one, or to another peer's, is a warning: they merge",
          "[validate][peers]") {
  SECTION("a local domain") {
    CHECK(diagnostics_of(with_peer_domains("[eu-west, two]")) ==
          Lines{"test.yaml:11:24: warning: peers[0] 'b' domain 'two' is also a local failure "
                "domain: that peer's votes in it merge with this node's vantages there into one "
                "vote"});
  }
  SECTION("another peer's") {
    const std::string yaml = with_peer_domains("[eu-west]") +
                             "  - name: c\n"
                             "    url: 'http://c.example:9470'\n"
                             "    key_file: " CROSSCHECK_TEST_DATA_DIR
                             "/config/fixtures/peer-c.key\n"
                             "    domains: [ovh, eu-west]\n";
    CHECK(diagnostics_of(yaml) ==
          Lines{"test.yaml:15:20: warning: peers[1] 'c' domain 'eu-west' is also declared by peer "
                "b: both peers' votes in it count as one vote"});
  }
}

TEST_CASE("a peer that declares another peer's name is an error: it would silence that peer",
          "[validate][peers]") {
  const std::string yaml = with_peer_domains("[c]") +
                           "  - name: c\n"
                           "    url: 'http://c.example:9470'\n"
                           "    key_file: " CROSSCHECK_TEST_DATA_DIR
                           "/config/fixtures/peer-c.key\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:11:15: error: peers[0] 'b' domain 'c' is the name of peer c: a peer "
              "counts as a failure domain of its own under its name; rename the domain"});
}

TEST_CASE("a peer's declared domains count toward what a quorum can reach", "[validate][peers]") {
  // Local one, two, three; peer b may speak for x and y: 5 at most.
  CHECK(diagnostics_of("quorum: {down: 5}\n" + with_peer_domains("[x, y]")) ==
        Lines{"test.yaml:1:16: warning: quorum.down (5) counts on peers: only 3 failure domains "
              "are local (one, two, three), so 2 more must come from the 1 peer; while a peer "
              "does not answer, its domain votes unknown and no outage can be confirmed"});
  CHECK(diagnostics_of("quorum: {down: 6}\n" + with_peer_domains("[x, y]")) ==
        Lines{"test.yaml:1:16: error: quorum.down (6) is larger than the number of failure "
              "domains (5: 3 local + 2 from 1 peer)"});
  // A declared local domain adds none: once the peer answers it stands for
  // no domain of its own (its placeholder goes), so it must not be counted.
  CHECK(diagnostics_of("quorum: {down: 5}\n" + with_peer_domains("[one]")) ==
        Lines{"test.yaml:1:16: error: quorum.down (5) is larger than the number of failure "
              "domains (3: 3 local + 0 from 1 peer)",
              "test.yaml:12:15: warning: peers[0] 'b' domain 'one' is also a local failure "
              "domain: that peer's votes in it merge with this node's vantages there into one "
              "vote"});
}

TEST_CASE("two peers signing with one key is a warning: either can sign as the other",
          "[validate][peers]") {
  const std::string peers =
      std::string(k_valid_tail) +
      "peers:\n"
      "  - {name: b, url: 'http://b.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n"
      "  - {name: c, url: 'http://c.example:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key}\n";
  const auto lines = diagnostics_of(peers);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines.front(), Catch::Contains("warning: peers[1] 'c' signs with the same key as "
                                            "peers[0] 'b': either can sign replies as the other"));
}
