// What a reload changes (plan_reload) and the one-line status systemd shows,
// both pure.
#include "daemon/reload.hpp"
#include "config/config.hpp"
#include "daemon/notify.hpp"
#include "support/child_process.hpp"
#include "support/test_pki.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace crosscheck;
namespace cs = crosscheck::consensus;

namespace {

constexpr const char* k_base = R"(node: { name: a, data_dir: /tmp/x }
api: { listen: "127.0.0.1:9470" }
vantages:
  - { name: q, domain: quad9, resolver: 9.9.9.9 }
  - { name: c, domain: cloudflare, resolver: 1.1.1.1 }
targets:
  - name: db
    dns: { name: db.example }
    tcp: { port: 5432 }
  - name: web
    http: { url: "https://web.example/" }
)";

config::Config load(const std::string& text) {
  const auto loaded = config::load_config_text(text, "test.yaml");
  for (const auto& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.to_string());
  }
  REQUIRE(loaded.ok());
  return *loaded.config;
}

std::string edited(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("reload plan: the same file changes nothing") {
  const auto plan = daemon::plan_reload(load(k_base), load(k_base));
  CHECK(plan.applicable());
  CHECK(plan.resets.targets.empty());
  CHECK(plan.resets.vantages.empty());
  CHECK_FALSE(plan.token_changed);
}

TEST_CASE("reload plan: identity, database and listener need a restart") {
  const auto running = load(k_base);
  auto plan = daemon::plan_reload(running, load(edited(k_base, "9470", "9471")));
  CHECK_FALSE(plan.applicable());
  CHECK(plan.needs_restart ==
        std::vector<std::string>{"api.listen: 127.0.0.1:9470 -> 127.0.0.1:9471"});
  plan = daemon::plan_reload(running, load(edited(k_base, "name: a,", "name: b,")));
  CHECK(plan.needs_restart == std::vector<std::string>{"node.name: a -> b"});
  plan = daemon::plan_reload(running, load(edited(k_base, "/tmp/x", "/tmp/y")));
  CHECK(plan.needs_restart == std::vector<std::string>{"node.data_dir: /tmp/x -> /tmp/y"});
  auto shorter = running;
  shorter.storage.summary_period = std::chrono::minutes(5);
  plan = daemon::plan_reload(running, shorter);
  CHECK(plan.needs_restart == std::vector<std::string>{"storage.summary_period: 1h -> 5m"});
}

TEST_CASE("reload plan: turning TLS on or off needs a restart, new certificate paths do not") {
  const auto running = load(k_base);
  auto with_tls = running;
  with_tls.api.tls = config::ApiTlsConfig{"/etc/tls/api.crt", "/etc/tls/api.key", {}, {}};
  CHECK(daemon::plan_reload(running, with_tls).needs_restart ==
        std::vector<std::string>{"api.tls: plain http -> tls"});
  CHECK(daemon::plan_reload(with_tls, running).needs_restart ==
        std::vector<std::string>{"api.tls: tls -> plain http"});
  auto rotated = with_tls;
  rotated.api.tls->cert_file = "/etc/tls/api-2027.crt";
  rotated.api.tls->client_ca_file = "/etc/tls/clients.crt";
  CHECK(daemon::plan_reload(with_tls, rotated).applicable());
}

TEST_CASE("reload plan: a changed check or resolver voids old votes, timings do not") {
  const auto running = load(k_base);
  auto plan = daemon::plan_reload(running, load(edited(k_base, "port: 5432", "port: 5433")));
  CHECK(plan.applicable());
  CHECK(plan.resets.targets == std::vector<std::string>{"db"});
  plan = daemon::plan_reload(
      running, load(edited(k_base, "https://web.example/", "https://web.example/up")));
  CHECK(plan.resets.targets == std::vector<std::string>{"web"});
  plan =
      daemon::plan_reload(running, load(edited(k_base, "resolver: 9.9.9.9", "resolver: 9.9.9.10")));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  CHECK(plan.resets.targets.empty());
  // Timing and a new target: applied, nothing reset.
  plan = daemon::plan_reload(
      running,
      load(edited(
          k_base, "    tcp: { port: 5432 }\n",
          "    tcp: { port: 5432 }\n    fall: 5\n  - name: new\n    dns: { name: n.example }\n")));
  CHECK(plan.applicable());
  CHECK(plan.resets.targets.empty());
}

TEST_CASE("reload plan: a new token file is re-read") {
  const testing::TempFile token("api-token", "secret\n");
  const auto plan = daemon::plan_reload(
      load(k_base), load(edited(k_base, "listen: \"127.0.0.1:9470\" }",
                                "listen: \"127.0.0.1:9470\", token_file: " + token.path() + " }")));
  CHECK(plan.applicable());
  CHECK(plan.token_changed);
}

TEST_CASE("the systemd status line counts verdicts and open escalations") {
  snapshot::Snapshot snapshot;
  for (const auto kind :
       {cs::VerdictKind::Healthy, cs::VerdictKind::Healthy, cs::VerdictKind::Disputed}) {
    snapshot::TargetView view;
    view.verdict.kind = kind;
    snapshot.targets.push_back(view);
  }
  snapshot.escalations.emplace_back();
  CHECK(daemon::status_line(snapshot) ==
        "starting: 3 targets: 2 healthy, 1 disputed, 0 unhealthy, 0 unknown; 1 escalation open");
  snapshot.ready = true;
  snapshot.storage.ok = false;
  snapshot.escalations.emplace_back();
  CHECK(daemon::status_line(snapshot) ==
        "3 targets: 2 healthy, 1 disputed, 0 unhealthy, 0 unknown; 2 escalations open; storage "
        "degraded");
  // unreachable is named once there is one.
  snapshot::TargetView behind;
  behind.verdict.kind = cs::VerdictKind::Unreachable;
  snapshot.targets.push_back(behind);
  CHECK(daemon::status_line(snapshot) ==
        "4 targets: 2 healthy, 1 disputed, 0 unhealthy, 0 unknown, 1 unreachable; 2 escalations "
        "open; storage degraded");
}

namespace {

config::ServerTlsFiles tls_files(const std::string& ca, std::vector<std::uint8_t> pins) {
  config::ServerTlsFiles files;
  files.certificate_chain = "chain";
  files.client_ca = ca;
  for (const std::uint8_t pin : pins) {
    config::CertFingerprint fingerprint{};
    fingerprint.front() = pin;
    files.client_fingerprints.push_back(fingerprint);
  }
  return files;
}

}  // namespace

TEST_CASE("api tls change: turning client checks off is loosened, revoking is not") {
  const auto mtls = tls_files("ca", {1, 2});
  SECTION("a new server certificate changes no client check") {
    auto next = mtls;
    next.certificate_chain = "other chain";
    const auto change = daemon::compare_api_tls(mtls, next);
    CHECK(change.summary == "certificate replaced");
    CHECK_FALSE(change.client_checks_changed);
    CHECK(change.loosened.empty());
  }
  SECTION("a pin removed is a revocation: checked again, not a warning") {
    const auto change = daemon::compare_api_tls(mtls, tls_files("ca", {2}));
    CHECK(change.summary == "client_fingerprints 1 removed");
    CHECK(change.client_checks_changed);
    CHECK(change.loosened.empty());
  }
  SECTION("mTLS off names what was removed") {
    const auto change = daemon::compare_api_tls(mtls, tls_files("", {}));
    CHECK(change.summary == "client_ca_file removed, client_fingerprints 2 removed, mTLS off");
    REQUIRE(change.loosened.size() == 1);
    CHECK(change.loosened.front().starts_with("mTLS turned off"));
  }
  SECTION("the CA removed, pins kept: pins only") {
    const auto change = daemon::compare_api_tls(mtls, tls_files("", {1, 2}));
    REQUIRE(change.loosened.size() == 1);
    CHECK(change.loosened.front().starts_with("client_ca_file removed"));
  }
  SECTION("the pins removed, the CA kept: any certificate of the CA") {
    const auto change = daemon::compare_api_tls(mtls, tls_files("ca", {}));
    REQUIRE(change.loosened.size() == 1);
    CHECK(change.loosened.front().starts_with("client_fingerprints removed"));
  }
  SECTION("mTLS on is no warning") {
    const auto change = daemon::compare_api_tls(tls_files("", {}), mtls);
    CHECK(change.summary == "client_ca_file set, client_fingerprints 2 added, mTLS on");
    CHECK(change.loosened.empty());
    CHECK(change.client_checks_changed);
  }
}

TEST_CASE("reload plan: a DoT vantage's name or pins changing voids its votes like a resolver") {
  const std::string dot = edited(k_base, "resolver: 9.9.9.9 }",
                                 "resolver: \"tls://9.9.9.9\", tls_name: dns.quad9.net }");
  const auto running = load(dot);
  CHECK(daemon::plan_reload(running, load(dot)).resets.vantages.empty());
  auto plan = daemon::plan_reload(running, load(edited(dot, "dns.quad9.net", "dns9.quad9.net")));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  plan = daemon::plan_reload(
      running, load(edited(dot, "tls_name: dns.quad9.net",
                           "tls_name: dns.quad9.net, tls_pins: "
                           "[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]")));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  // The same address in plain DNS is another observer, too.
  plan = daemon::plan_reload(running, load(k_base));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
}

// Hostile review: pins alone, and only their value, changing.
TEST_CASE("reload plan attack: changing only a pins-only DoT vantage's tls_pins voids its votes") {
  const std::string pinned = edited(k_base, "resolver: 9.9.9.9 }",
                                    "resolver: \"tls://9.9.9.9\", tls_pins: "
                                    "[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"] }");
  const auto running = load(pinned);
  CHECK(daemon::plan_reload(running, load(pinned)).resets.vantages.empty());
  auto plan = daemon::plan_reload(
      running, load(edited(pinned, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                           "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  // A second pin beside the first (the documented rotation step).
  plan = daemon::plan_reload(
      running, load(edited(pinned, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]",
                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", "
                           "\"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"]")));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  // The other vantage keeps its votes.
  CHECK(std::find(plan.resets.vantages.begin(), plan.resets.vantages.end(), "c") ==
        plan.resets.vantages.end());
}

// A CA rotated in place: tls_ca names the same file, which now holds
// another CA. The reload reads it again and sees the change, as it would a
// new path (the prober, rebuilt on every reload, trusts the new CA).
TEST_CASE("reload plan: a DoT vantage's tls_ca rewritten in place voids its votes") {
  testing::TempDir dir;
  testing::TestPki pki(dir.path() / "pki");
  const auto old_ca = pki.ca("old-ca");
  const auto new_ca = pki.ca("new-ca");
  const auto ca_file = dir.path() / "dot-ca.pem";
  std::filesystem::copy_file(old_ca.cert, ca_file);
  const auto config =
      load(edited(k_base, "resolver: 9.9.9.9 }",
                  R"(resolver: "tls://9.9.9.9", tls_name: dns.quad9.net, tls_ca: ")" +
                      ca_file.string() + R"(" })"));
  const auto running_cas = daemon::read_dot_cas(config);
  REQUIRE(running_cas.contains("q"));
  CHECK(running_cas.at("q").size() == 1);
  CHECK_FALSE(running_cas.contains("c"));  // plain DNS: nothing to read
  // The same content written again is no change.
  std::filesystem::copy_file(old_ca.cert, ca_file,
                             std::filesystem::copy_options::overwrite_existing);
  CHECK(daemon::plan_reload(config, config, running_cas, daemon::read_dot_cas(config))
            .resets.vantages.empty());
  std::filesystem::copy_file(new_ca.cert, ca_file,
                             std::filesystem::copy_options::overwrite_existing);
  const auto plan = daemon::plan_reload(config, config, running_cas, daemon::read_dot_cas(config));
  CHECK(plan.resets.vantages == std::vector<std::string>{"q"});
  // Unreadable since: a change too (the vantage can no longer verify).
  std::filesystem::remove(ca_file);
  CHECK(daemon::plan_reload(config, config, running_cas, daemon::read_dot_cas(config))
            .resets.vantages == std::vector<std::string>{"q"});
}
