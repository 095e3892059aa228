// Tests config/config.cpp: quorum resolution, lookups, diagnostic text and
// the check-config summary line.
#include "config/config.hpp"

#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

using crosscheck::config::Config;
using crosscheck::config::Diagnostic;
using crosscheck::config::QuorumSpec;
using crosscheck::config::Severity;
using crosscheck::config::SourcePos;
using crosscheck::config::summarize;
using crosscheck::config::test::load_valid;

TEST_CASE("majority resolves to n/2+1 of the known domains", "[config][quorum]") {
  auto [known, quorum] = GENERATE(table<int, int>({
      {0, 1},
      {1, 1},
      {2, 2},
      {3, 2},
      {4, 3},
      {5, 3},
      {6, 4},
      {7, 4},
  }));
  CAPTURE(known);
  CHECK(QuorumSpec{}.resolve(known) == quorum);
}

TEST_CASE("an explicit quorum count resolves to itself", "[config][quorum]") {
  const QuorumSpec two{2};
  CHECK(two.resolve(1) == 2);
  CHECK(two.resolve(5) == 2);
  CHECK_FALSE(two.is_majority());
  CHECK(two.to_string() == "2");
  CHECK(QuorumSpec{}.is_majority());
  CHECK(QuorumSpec{}.to_string() == "majority");
}

TEST_CASE("a diagnostic prints as file:line:column: severity: message", "[config][diagnostic]") {
  const Diagnostic error{Severity::Error, "crosscheck.yaml", SourcePos{12, 5}, "bad"};
  CHECK(error.to_string() == "crosscheck.yaml:12:5: error: bad");
  const Diagnostic warning{Severity::Warning, "c.yaml", SourcePos{1, 1}, "careful"};
  CHECK(warning.to_string() == "c.yaml:1:1: warning: careful");
}

TEST_CASE("a diagnostic about the whole file prints without a position", "[config][diagnostic]") {
  const Diagnostic error{Severity::Error, "/etc/crosscheck/crosscheck.yaml", SourcePos{},
                         "cannot read config file: Permission denied"};
  CHECK(error.to_string() ==
        "/etc/crosscheck/crosscheck.yaml: error: cannot read config file: Permission denied");
}

TEST_CASE("the summary counts targets, vantages, domains in first-seen order, and peers",
          "[config][summary]") {
  const Config config = load_valid(
      "vantages:\n"
      "  - {name: v1, domain: zeta}\n"
      "  - {name: v2, domain: alpha}\n"
      "  - {name: v3, domain: zeta}\n"
      "  - {name: v4, domain: mid}\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n"
      "quorum: {down: 3}\n");
  CHECK(summarize(config) ==
        "1 target, 4 vantages, 3 failure domains (zeta, alpha, mid), 0 peers; "
        "quorum down 3, up 2 (majority)");
}

TEST_CASE("the summary counts each peer as one more failure domain", "[config][summary]") {
  crosscheck::config::test::TempDir dir;
  dir.write("peer-key", "secret\n");
  const Config config = load_valid(
      "vantages:\n"
      "  - {name: v1, domain: one}\n"
      "targets:\n"
      "  - {name: t1, dns: {name: t.example}}\n"
      "  - {name: t2, dns: {name: u.example}}\n"
      "peers:\n"
      "  - {name: oracle-b, url: 'http://oracle-b.example:9470', key_file: '" +
      (dir.path() / "peer-key").string() +
      "'}\n"
      "  - {name: oracle-c, url: 'http://oracle-c.example:9470', key_file: '" +
      (dir.path() / "peer-key").string() + "'}\n");
  CHECK(config.known_domain_count() == 3);
  CHECK(summarize(config) ==
        "2 targets, 1 vantage, 3 failure domains (one, peer oracle-b, peer oracle-c), 2 peers; "
        "quorum down 2 (majority), up 2 (majority)");
}

TEST_CASE("targets and vantages are found by name", "[config][lookup]") {
  const Config config = load_valid(std::string(crosscheck::config::test::k_valid_tail));
  REQUIRE(config.find_target("t") != nullptr);
  CHECK(config.find_target("t")->name == "t");
  CHECK(config.find_target("missing") == nullptr);
  REQUIRE(config.find_vantage("b") != nullptr);
  CHECK(config.find_vantage("b")->domain == "two");
  CHECK(config.find_vantage("z") == nullptr);
}

TEST_CASE("a target's host name comes from dns, then tcp.host, then the URL", "[config][lookup]") {
  const Config config = load_valid(std::string(crosscheck::config::test::k_valid_vantages) +
                                   "targets:\n"
                                   "  - name: both\n"
                                   "    dns: {name: db.example}\n"
                                   "    tcp: {port: 5432, host: other.example}\n"
                                   "  - name: tcp-only\n"
                                   "    tcp: {port: 22, host: ssh.example}\n"
                                   "  - name: http-only\n"
                                   "    http: {url: 'https://api.example.com/healthz'}\n");
  CHECK(config.targets[0].host_name() == "db.example");
  CHECK(config.targets[1].host_name() == "ssh.example");
  CHECK(config.targets[2].host_name() == "api.example.com");
}
