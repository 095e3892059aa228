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
           "  - {name: b, url: 'http://b.example:9470', key_file: /dev/null}\n"
           "  - {name: b, url: 'http://c.example:9470', key_file: /dev/null}\n",
       "test.yaml:9:12: error: duplicate peer name 'b' (first defined at line 8)"},
      {"node: {name: oracle-a}\n" + std::string(k_valid_tail) +
           "peers:\n"
           "  - {name: oracle-a, url: 'http://a.example:9470', key_file: /dev/null}\n",
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

TEST_CASE("each peer adds one failure domain to what a quorum may ask for", "[validate][quorum]") {
  const std::string yaml = "quorum: {down: 4}\n" + std::string(k_valid_tail) +
                           "peers:\n"
                           "  - {name: b, url: 'http://b.example:9470', key_file: /dev/null}\n";
  CHECK(diagnostics_of(yaml).empty());
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
      "  - {name: b, url: 'http://b.example:9470', key_file: /dev/null}\n";
  CHECK(diagnostics_of(yaml).empty());
}

TEST_CASE("timeout must be shorter than interval and stale_after at least interval",
          "[validate][timing]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"defaults:\n  interval: 10s\n  timeout: 10s\n" + std::string(k_valid_tail),
       "test.yaml:3:12: error: defaults: timeout (10s) must be shorter than interval (10s)"},
      {"defaults:\n  interval: 1s\n" + std::string(k_valid_tail),
       "test.yaml:2:13: error: defaults: timeout (2s) must be shorter than interval (1s)"},
      {"defaults:\n  stale_after: 5s\n" + std::string(k_valid_tail),
       "test.yaml:2:16: error: defaults: stale_after (5s) must be at least interval (10s)"},
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
       "test.yaml:8:15: error: targets[0] 'slow': stale_after (30s) must be at least interval "
       "(1m)"},
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
