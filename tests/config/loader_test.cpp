// Tests config/loader.cpp: the shipped example configs, reading files,
// section values (node, api, vantages, peers, escalation), relative paths, and
// that a file with many mistakes reports all of them.
#include "config_test_helpers.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using crosscheck::config::Config;
using crosscheck::config::Duration;
using crosscheck::config::IpAddress;
using crosscheck::config::load_config;
using crosscheck::config::RrType;
using crosscheck::config::summarize;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_tail;
using crosscheck::config::test::load_valid;
using crosscheck::config::test::TempDir;
using crosscheck::config::test::test_data;
using Lines = std::vector<std::string>;

namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

TEST_CASE("the packaged example loads with no diagnostics and an exact summary",
          "[loader][examples]") {
  const auto result = load_config(test_data("../packaging/crosscheck.yaml"));
  for (const auto& diagnostic : result.diagnostics) {
    UNSCOPED_INFO(diagnostic.to_string());
  }
  REQUIRE(result.ok());
  CHECK(result.diagnostics.empty());
  const Config& config = *result.config;
  CHECK(summarize(config) ==
        "4 targets, 3 vantages, 3 failure domains (cloudflare, quad9, google), 0 peers; quorum "
        "down 2 (majority), up 2 (majority)");
  CHECK(config.node.name == "oracle-a");
  CHECK(config.api.listen.to_string() == "127.0.0.1:9470");
  REQUIRE(config.find_vantage("quad9") != nullptr);
  CHECK(config.find_vantage("quad9")->resolver->to_string() == "9.9.9.9:53");
  const auto* db = config.find_target("db-primary");
  REQUIRE(db != nullptr);
  CHECK(db->timing.fall == 2);
  CHECK(db->tcp->port == 5432);
  const auto* root = config.find_target("root-zone");
  REQUIRE(root != nullptr);
  CHECK(root->canary);
  CHECK(root->dns->type == RrType::NS);
  CHECK(config.find_target("api-gateway")->http->expect_status == std::vector<int>{200});
  CHECK(config.storage.retention == Duration{7LL * 86'400'000});
  CHECK(config.storage.summary_period == Duration{3'600'000});  // the default
}

TEST_CASE("the DESIGN.md example fails only on its three unreadable files", "[loader][examples]") {
  // Its secret files live in /etc/crosscheck; pointed at a directory that
  // surely does not exist (whatever this machine has installed), each is
  // one error at the value's position.
  TempDir dir;
  const auto absent = (dir.path() / "absent").string();
  const std::string text = replace_all(read_text(test_data("config/fixtures/design_example.yaml")),
                                       "/etc/crosscheck/", absent + "/");
  dir.write("design_example.yaml", text);
  const auto file = dir.path() / "design_example.yaml";
  const auto result = load_config(file);
  CHECK_FALSE(result.ok());
  Lines lines;
  for (const auto& diagnostic : result.diagnostics) {
    lines.push_back(diagnostic.to_string());
  }
  const std::string name = file.string();
  CHECK(lines == Lines{name + ":6:15: error: cannot read token_file '" + absent +
                           "/api-token': No such file or directory",
                       name + ":41:15: error: cannot read key_file '" + absent +
                           "/peer-key': No such file or directory",
                       name + ":43:62: error: cannot read secret_file '" + absent +
                           "/hook-key': No such file or directory"});
}

TEST_CASE("the DESIGN.md example is accepted as written once its files exist",
          "[loader][examples]") {
  TempDir dir;
  for (const char* name : {"api-token", "peer-key", "hook-key"}) {
    dir.write(name, "secret\n");
  }
  const std::string text = replace_all(read_text(test_data("config/fixtures/design_example.yaml")),
                                       "/etc/crosscheck/", dir.path().string() + "/");
  const Config config = load_valid(text);
  CHECK(summarize(config) ==
        "3 targets, 2 vantages, 3 failure domains (cloudflare, quad9, peer oracle-b), 1 peer; "
        "quorum down 2 (majority), up 2 (majority)");
  CHECK(config.api.token_file == dir.path() / "api-token");
  CHECK(config.vantages.at(1).source == IpAddress::parse("192.0.2.10"));
  CHECK_FALSE(config.vantages.at(0).source);
  CHECK(config.quorum.dispute_grace == Duration{10'000});
  CHECK(config.find_target("db-primary")->down_quorum.count == 2);
  CHECK(config.find_target("dynamodb-use1")->http->expect_status == std::vector<int>{200, 400});
  CHECK(config.peers.at(0).url.host == "oracle-b.example");
  CHECK(config.peers.at(0).url.port == 9470);
  REQUIRE(config.escalation.webhook);
  CHECK(config.escalation.webhook->secret_file == dir.path() / "hook-key");
  REQUIRE(config.escalation.alertmanager);
  CHECK(config.escalation.alertmanager->url.port == 9093);
  CHECK(config.escalation.alertmanager->resend_interval == Duration{60'000});
  REQUIRE(config.escalation.exec);
  CHECK(config.escalation.exec->command ==
        std::vector<std::string>{"/usr/local/bin/page-oncall", "--crosscheck"});
}

TEST_CASE("a config file that cannot be read is one error without a position", "[loader][files]") {
  TempDir dir;
  const auto missing = dir.path() / "nope.yaml";
  const auto result = load_config(missing);
  CHECK_FALSE(result.ok());
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].pos.line == 0);
  CHECK(result.diagnostics[0].to_string() ==
        missing.string() + ": error: cannot read config file: No such file or directory");
  CHECK(load_config(dir.path()).diagnostics.at(0).to_string() ==
        dir.path().string() + ": error: cannot read config file: Is a directory");
}

TEST_CASE("a failure domain that is not a name loads with a warning that peers drop its votes",
          "[loader][values]") {
  CHECK(diagnostics_of("vantages:\n"
                       "  - {name: a, domain: 'eu west'}\n"
                       "  - {name: b, domain: two}\n"
                       "targets:\n"
                       "  - {name: t, dns: {name: t.example}}\n") ==
        Lines{"test.yaml:2:23: warning: vantages[0].domain 'eu west' is not a name of letters, "
              "digits, '.', '_' and '-': a peer drops this domain's votes (peers.md), and no "
              "peer's domains: can list it"});
}

TEST_CASE("an empty peers list, even with every entry commented out, means no peers",
          "[loader][required]") {
  CHECK(load_valid(std::string(k_valid_tail) + "peers:\n# - {name: b}\n").peers.empty());
  CHECK(load_valid(std::string(k_valid_tail) + "peers: []\n").peers.empty());
}

TEST_CASE("a peer's unreachable_after defaults to 2m and must be positive", "[loader][values]") {
  const std::string peer =
      "peers:\n  - {name: b, url: 'http://b:9470', key_file: " CROSSCHECK_TEST_DATA_DIR
      "/config/fixtures/peer.key";
  CHECK(load_valid(std::string(k_valid_tail) + peer + "}\n").peers.at(0).unreachable_after ==
        Duration{120'000});
  CHECK(load_valid(std::string(k_valid_tail) + peer + ", unreachable_after: 30s}\n")
            .peers.at(0)
            .unreachable_after == Duration{30'000});
  CHECK_THAT(diagnostics_of(std::string(k_valid_tail) + peer + ", unreachable_after: 0s}\n").at(0),
             Catch::Contains("peers[0].unreachable_after must be greater than zero"));
}

TEST_CASE("an empty file is missing its vantages and targets", "[loader][required]") {
  CHECK(diagnostics_of("") == Lines{"test.yaml:1:1: error: missing required key 'vantages'",
                                    "test.yaml:1:1: error: missing required key 'targets'"});
  CHECK(diagnostics_of("vantages: []\ntargets: []\n") ==
        Lines{"test.yaml:1:11: error: vantages must list at least one vantage",
              "test.yaml:2:10: error: targets must list at least one target"});
}

TEST_CASE("bad addresses, names and URLs outside targets are reported at the value",
          "[loader][values]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"api:\n  listen: 127.0.0.1\n" + std::string(k_valid_tail),
       "test.yaml:2:11: error: invalid listen address '127.0.0.1' for api: expected ip:port or "
       "[ipv6]:port, e.g. 127.0.0.1:9470"},
      {"api:\n  listen: '[::1]:0'\n" + std::string(k_valid_tail),
       "test.yaml:2:11: error: invalid listen address '[::1]:0' for api: expected ip:port or "
       "[ipv6]:port, e.g. 127.0.0.1:9470"},
      {"node: {name: 'oracle a'}\n" + std::string(k_valid_tail),
       "test.yaml:1:14: error: invalid name 'oracle a' for node: use only letters, digits, '.', "
       "'_' and '-', at most 128"},
      {"node: {data_dir: ''}\n" + std::string(k_valid_tail),
       "test.yaml:1:18: error: node.data_dir must not be empty"},
      {"quorum: {down: most}\n" + std::string(k_valid_tail),
       "test.yaml:1:16: error: invalid quorum 'most' for quorum.down: expected majority or a "
       "positive integer"},
      {"vantages:\n"
       "  - {name: a, domain: one, resolver: '1.1.1.1:99999'}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:38: error: invalid resolver '1.1.1.1:99999' for vantages[0]: expected system, "
       "an IP address, ip:port or [ipv6]:port"},
      {"vantages:\n"
       "  - {name: a, domain: one}\n"
       "  - {name: b, domain: two, resolver: dns.google}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:3:38: error: invalid resolver 'dns.google' for vantages[1]: expected system, "
       "an IP address, ip:port or [ipv6]:port"},
      {"vantages:\n"
       "  - {name: a, domain: one, source: 192.0.2.300}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:36: error: invalid source address '192.0.2.300' for vantages[0]: expected an "
       "IP address"},
      {"vantages:\n"
       "  - {name: a, domain: ''}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:23: error: vantages[0].domain must not be empty"},
      {"vantages:\n"
       "  - {name: 'a/b', domain: one}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:12: error: invalid name 'a/b' for vantages[0]: use only letters, digits, "
       "'.', '_' and '-', at most 128"},
      // A peer's export carries names of at most 128 bytes: a longer one
      // would lose every vote of it at the peers.
      {"vantages:\n"
       "  - {name: " +
           std::string(129, 'a') +
           ", domain: one}\n"
           "  - {name: b, domain: two}\n"
           "targets:\n"
           "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:12: error: invalid name '" + std::string(129, 'a') +
           "' for vantages[0]: use only letters, digits, '.', '_' and '-', at most 128"},
      // A domain reaches logs, the API and the status page: no newline, no
      // bidi override (shown as '?' in the message too), at most 128 bytes.
      {"vantages:\n"
       "  - {name: a, domain: \"one\\u202Eeno\"}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:23: error: invalid failure domain 'one???eno' for vantages[0].domain: at "
       "most 128 bytes, without control characters or bidi overrides"},
      {"vantages:\n"
       "  - {name: a, domain: \"one\\nINFO forged\"}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:23: error: invalid failure domain 'one?INFO forged' for vantages[0].domain: "
       "at most 128 bytes, without control characters or bidi overrides"},
      {"vantages:\n"
       "  - {name: a, domain: " +
           std::string(129, 'd') +
           "}\n"
           "  - {name: b, domain: two}\n"
           "targets:\n"
           "  - {name: t, dns: {name: t.example}}\n",
       "test.yaml:2:23: error: invalid failure domain '" + std::string(129, 'd') +
           "' for vantages[0].domain: at most 128 bytes, without control characters or bidi "
           "overrides"},
      {std::string(k_valid_tail) +
           "peers:\n"
           "  - {name: b, url: 'ftp://b.example', key_file: " CROSSCHECK_TEST_DATA_DIR
           "/config/fixtures/peer.key}\n",
       "test.yaml:8:20: error: invalid URL 'ftp://b.example' for peers[0].url: unsupported "
       "scheme 'ftp', expected http or https"},
      {std::string(k_valid_tail) + "peers:\n  - {name: b, url: 'http://b.example'}\n",
       "test.yaml:8:5: error: missing required key 'key_file' in peers[0]"},
      {std::string(k_valid_tail) + "escalation:\n  exec: {command: []}\n",
       "test.yaml:8:19: error: escalation.exec.command must not be empty"},
      {std::string(k_valid_tail) + "escalation:\n  exec: {command: ['', '--x']}\n",
       "test.yaml:8:20: error: escalation.exec.command[0] must not be empty"},
      {std::string(k_valid_tail) + "escalation:\n  alertmanager: {url: 'http://:9093'}\n",
       "test.yaml:8:23: error: invalid URL 'http://:9093' for escalation.alertmanager.url: "
       "missing host"},
      {std::string(k_valid_tail) + "escalation:\n  webhook: {secret_file: " CROSSCHECK_TEST_DATA_DIR
                                   "/config/fixtures/peer.key}\n",
       "test.yaml:8:12: error: missing required key 'url' in escalation.webhook"},
      {std::string(k_valid_tail) +
           "escalation:\n  alertmanager: {url: 'http://a:9093', resend_interval: 0s}\n",
       "test.yaml:8:57: error: escalation.alertmanager.resend_interval must be greater than "
       "zero, got '0s'"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("resolvers accept system, an IP, ip:port and [ipv6]:port", "[loader][values]") {
  const Config config = load_valid(
      "api: {listen: '[::1]:9470'}\n"
      "vantages:\n"
      "  - {name: sys, domain: one}\n"
      "  - {name: sys2, domain: one, resolver: system}\n"
      "  - {name: v4, domain: two, resolver: 1.1.1.1}\n"
      "  - {name: v6, domain: three, resolver: '[2606:4700:4700::1111]:5353', source: '::1'}\n"
      "  - {name: bare6, domain: three, resolver: '2620:fe::fe'}\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n");
  CHECK(config.api.listen.to_string() == "[::1]:9470");
  CHECK_FALSE(config.vantages.at(0).resolver);
  CHECK_FALSE(config.vantages.at(1).resolver);
  CHECK(config.vantages.at(2).resolver->to_string() == "1.1.1.1:53");
  CHECK(config.vantages.at(3).resolver->to_string() == "[2606:4700:4700::1111]:5353");
  CHECK(config.vantages.at(3).source->to_string() == "::1");
  CHECK(config.vantages.at(4).resolver->to_string() == "[2620:fe::fe]:53");
  CHECK(config.local_domains() == std::vector<std::string>{"one", "two", "three"});
}

// The default node.name is the host's name, which the kernel lets be any
// bytes: one that is not a valid name is an error, not a broken header.
// Runs in a child with its own UTS namespace (root only, as in CI).
TEST_CASE("a host name that is not a valid name is an error when node.name is unset",
          "[loader][defaults]") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    constexpr std::string_view k_bad = "bad host;x";
    if (unshare(CLONE_NEWUTS) != 0 || sethostname(k_bad.data(), k_bad.size()) != 0) {
      _exit(77);
    }
    const auto unset = diagnostics_of(std::string(k_valid_tail));
    const auto named = diagnostics_of("node: { name: oracle-a }\n" + std::string(k_valid_tail));
    const bool ok = unset ==
                        std::vector<std::string>{
                            "test.yaml:1:1: error: node.name is not set and this host's name "
                            "'bad host;x' is not a valid name (letters, digits, '.', '_' "
                            "and '-', at most 128): set node.name"} &&
                    named.empty();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    WARN("not checked: no UTS namespace here (needs root, as in CI)");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("unset top-level sections take their documented defaults", "[loader][defaults]") {
  const Config config = load_valid(std::string(k_valid_tail));
  std::array<char, 256> host{};
  REQUIRE(gethostname(host.data(), host.size() - 1) == 0);
  CHECK(config.node.name == host.data());
  CHECK(config.node.data_dir == "/var/lib/crosscheck");
  CHECK(config.api.listen.to_string() == "127.0.0.1:9470");
  CHECK_FALSE(config.api.token_file);
  CHECK(config.quorum.down.is_majority());
  CHECK(config.quorum.up.is_majority());
  CHECK(config.quorum.suspect_fraction == 0.5);
  CHECK_FALSE(config.quorum.dispute_grace);
  CHECK(config.quorum.flap_limit == 4);
  CHECK(config.quorum.flap_window == Duration{600'000});
  CHECK(config.quorum.max_unhealthy_fraction == 0.5);
  CHECK(config.quorum.blast_radius_min_targets == 4);
  CHECK(config.probing.max_in_flight == 256);
  CHECK(config.probing.max_per_second == 500);
  CHECK(config.probing.last_known_good_max_age == Duration{3'600'000});
  CHECK(config.peers.empty());
  CHECK_FALSE(config.escalation.webhook);
  CHECK(config.source == "test.yaml");
}

TEST_CASE("extension keys are read when set", "[loader][values]") {
  const Config config = load_valid(
      "quorum: {flap_limit: 6, flap_window: 15m, max_unhealthy_fraction: 0.25,"
      " blast_radius_min_targets: 10, suspect_fraction: 0.75}\n"
      "probing: {max_in_flight: 32, max_per_second: 50, last_known_good_max_age: 30m}\n" +
      std::string(k_valid_tail));
  CHECK(config.quorum.flap_limit == 6);
  CHECK(config.quorum.flap_window == Duration{900'000});
  CHECK(config.quorum.max_unhealthy_fraction == 0.25);
  CHECK(config.quorum.blast_radius_min_targets == 10);
  CHECK(config.quorum.suspect_fraction == 0.75);
  CHECK(config.probing.max_in_flight == 32);
  CHECK(config.probing.max_per_second == 50);
  CHECK(config.probing.last_known_good_max_age == Duration{1'800'000});
}

TEST_CASE("relative file paths resolve against the config file's directory", "[loader][files]") {
  TempDir dir;
  dir.write("peer-key", "secret\n");
  std::filesystem::create_directory(dir.path() / "keys");
  dir.write("keys/hook-key", "secret\n");
  const auto file = dir.write("crosscheck.yaml", std::string(k_valid_tail) +
                                                     "node: {data_dir: state}\n"
                                                     "peers:\n"
                                                     "  - name: b\n"
                                                     "    url: 'http://b.example:9470'\n"
                                                     "    key_file: peer-key\n"
                                                     "escalation:\n"
                                                     "  webhook:\n"
                                                     "    url: 'http://127.0.0.1:9000/'\n"
                                                     "    secret_file: keys/hook-key\n");
  const auto loaded = load_config(file);
  REQUIRE(loaded.ok());
  CHECK(loaded.diagnostics.empty());
  CHECK(loaded.config->peers.at(0).key_file == dir.path() / "peer-key");
  CHECK(loaded.config->escalation.webhook->secret_file == dir.path() / "keys/hook-key");
  CHECK(loaded.config->node.data_dir == dir.path() / "state");
  CHECK(loaded.config->source == file);

  std::filesystem::remove(dir.path() / "peer-key");
  const auto broken = load_config(file);
  REQUIRE(broken.diagnostics.size() == 1);
  CHECK(broken.diagnostics[0].to_string() ==
        file.string() + ":11:15: error: cannot read key_file '" +
            (dir.path() / "peer-key").string() + "': No such file or directory");
}

TEST_CASE("a file with several mistakes reports every one of them in file order",
          "[loader][several]") {
  const std::string yaml =
      "node:\n"
      "  name: oracle-a\n"
      "defaults:\n"
      "  intreval: 10s\n"
      "  rise: two\n"
      "quorum:\n"
      "  down: 4\n"
      "vantages:\n"
      "  - {name: cloudflare, domain: cloudflare, resolver: '1.1.1.1:99999'}\n"
      "  - {name: quad9, domain: quad9}\n"
      "  - {name: quad9, domain: google}\n"
      "targets:\n"
      "  - name: db\n"
      "    dns: {name: db1.internal}\n"
      "    tcp: {port: 65536}\n"
      "  - name: web\n"
      "    http: {url: 'https://web.example/', expect_status: [200, 700]}\n"
      "    timeout: 10s\n"
      "  - name: lonely\n"
      "target: []\n";
  // Entries split over two literals are wrapped in std::string() so that no
  // reader (or clang-tidy) mistakes them for a missing comma.
  const Lines expected{
      "test.yaml:4:3: error: unknown key 'intreval' in defaults (did you mean 'interval'?)",
      "test.yaml:5:9: error: defaults.rise: expected an integer, got 'two'",
      std::string("test.yaml:7:9: error: quorum.down (4) is larger than the number of failure "
                  "domains (3)"),
      std::string("test.yaml:9:54: error: invalid resolver '1.1.1.1:99999' for vantages[0]: "
                  "expected system, an IP address, ip:port or [ipv6]:port"),
      "test.yaml:11:12: error: duplicate vantage name 'quad9' (first defined at line 10)",
      "test.yaml:15:17: error: targets[0].tcp.port must be between 1 and 65535, got 65536",
      std::string("test.yaml:17:62: error: targets[1].http.expect_status[1] must be between 100 "
                  "and 599, got 700"),
      std::string("test.yaml:18:14: error: targets[1] 'web': timeout (10s) must be shorter than "
                  "interval (10s)"),
      std::string("test.yaml:19:5: error: targets[2] 'lonely': needs at least one check (dns, "
                  "tcp, http, redis, postgres or mysql)"),
      "test.yaml:20:1: error: unknown key 'target' (did you mean 'targets'?)",
  };
  CHECK(diagnostics_of(yaml) == expected);
}

TEST_CASE("a wrongly typed vantage does not also produce a quorum error", "[loader][several]") {
  // With vantages[1] unreadable the domain count is unknown, so quorum.down 3
  // is not judged against it: one mistake, one message.
  const std::string yaml =
      "quorum: {down: 3}\n"
      "vantages:\n"
      "  - {name: a, domain: one}\n"
      "  - just-a-string\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:4:5: error: vantages[1]: expected a mapping, got 'just-a-string'"});
}
