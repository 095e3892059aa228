// Native TLS and mTLS on the REST API, with the real binary on loopback
// and certificates made by the openssl command line tool: a good chain is
// served, each refusal (no client certificate, wrong CA, expired, not
// pinned, plain HTTP, no shared cipher) is counted by reason on /metrics
// and logged with the peer; SIGHUP serves new certificate files to new
// connections while open ones keep working, and a garbled key is refused.
#include "config/tls_files.hpp"
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"
#include "support/tls_test_client.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

using namespace crosscheck::testing;
using namespace std::chrono_literals;

namespace {

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The oracle: `crosscheck run` with api.tls on a free loopback port and an
// offline world (resolvers nobody answers on), so only the API matters.
class TlsOracle {
 public:
  explicit TlsOracle(const std::string& tls_yaml) : certs_(dir_.path()) {
    port_ = free_port("127.0.0.1");
    config_ = dir_.path() / "crosscheck.yaml";
    std::ofstream(config_) << "node: { name: tls-e2e, data_dir: " << dir_.path().string() << " }\n"
                           << "api:\n  listen: 127.0.0.1:" << port_ << "\n  tls:\n"
                           << tls_yaml << "vantages:\n"
                           << "  - { name: a, domain: a, resolver: 127.0.0.91 }\n"
                           << "  - { name: b, domain: b, resolver: 127.0.0.92 }\n"
                           << "targets:\n  - { name: web, dns: { name: web.test } }\n";
  }

  void start() {
    daemon_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{CROSSCHECK_BINARY, "run", "--config", config_.string()},
        dir_.path() / "daemon.log");
    REQUIRE(OracleHarness::wait_for([&] { return contains(log(), "API on https://"); }));
  }

  std::string log() const { return daemon_ ? daemon_->log() : std::string(); }
  void signal(int number) const { ::kill(daemon_->pid(), number); }
  bool running() const { return daemon_->running(); }

  // The exposition, fetched with a client certificate `client` (or none).
  std::string metrics(const ClientOptions& client) const {
    TlsClient scrape(certs_, port_, client);
    return scrape.get("/metrics").body;
  }

  TestCerts& certs() { return certs_; }
  unsigned short port() const { return port_; }
  std::string file(const std::string& name) const { return certs_.path(name); }

 private:
  TempDir dir_;
  TestCerts certs_;
  unsigned short port_ = 0;
  std::filesystem::path config_;
  std::unique_ptr<ChildProcess> daemon_;
};

ClientOptions client(const TlsOracle& oracle, const std::string& name) {
  return ClientOptions{oracle.file(name + ".crt"), oracle.file(name + ".key"), {}};
}

std::string failures(const std::string& reason, int count) {
  return "crosscheck_api_tls_handshake_failures_total{reason=\"" + reason + "\"} " +
         std::to_string(count) + "\n";
}

}  // namespace

TEST_CASE("mTLS on the API: a good chain is served, each refusal counted and logged by reason",
          "[e2e][tls]") {
  auto oracle = std::make_unique<TlsOracle>(
      "    cert_file: server.crt\n    key_file: server.key\n    client_ca_file: ca.crt\n");
  TestCerts& certs = oracle->certs();
  certs.make_ca("ca");
  certs.make_ca("rogue-ca");
  certs.issue("ca", "server", "/CN=oracle");
  certs.issue("ca", "bot", "/O=ops/CN=failover-bot");
  certs.issue("rogue-ca", "rogue", "/CN=rogue");
  certs.issue("ca", "old", "/CN=old", "2020-01-01 00:00:00");
  oracle->start();

  TlsClient good(certs, oracle->port(), client(*oracle, "bot"));
  CHECK(good.served("/v1/verdicts"));
  CHECK(lower(good.server_fingerprint()) == lower(certs.fingerprint("server")));

  CHECK_FALSE(TlsClient(certs, oracle->port()).served());
  CHECK_FALSE(TlsClient(certs, oracle->port(), client(*oracle, "rogue")).served());
  CHECK_FALSE(TlsClient(certs, oracle->port(), client(*oracle, "old")).served());
  CHECK_FALSE(
      TlsClient(certs, oracle->port(),
                ClientOptions{oracle->file("bot.crt"), oracle->file("bot.key"), "AES128-SHA256"})
          .served());
  // Plain HTTP to the TLS port: no HTTP answer, the connection is closed.
  const auto plain = http_request("127.0.0.1", oracle->port(), "GET", "/healthz");
  CHECK(plain.status == 0);

  std::string body;
  CHECK(OracleHarness::wait_for([&] {
    body = oracle->metrics(client(*oracle, "bot"));
    return contains(body, failures("not_tls", 1));
  }));
  CHECK(contains(body, failures("no_client_certificate", 1)));
  CHECK(contains(body, failures("unknown_ca", 1)));
  CHECK(contains(body, failures("expired", 1)));
  CHECK(contains(body, failures("handshake", 1)));
  CHECK(contains(body, failures("fingerprint_mismatch", 0)));
  CHECK(contains(body, "crosscheck_api_tls_certificate_expiry_seconds "));

  const std::string log = oracle->log();
  CHECK(contains(log, "api tls: refused handshake from 127.0.0.1:"));
  for (const std::string reason :
       {"no_client_certificate", "unknown_ca", "expired", "not_tls", "handshake"}) {
    CAPTURE(reason);
    CHECK(contains(log, ": " + reason + " ("));
  }
  CHECK(contains(log, "certificate has expired"));
  // The connection opened first is still served: the server stayed up.
  CHECK(good.served());
}

TEST_CASE("mTLS by fingerprint pins alone accepts a pinned self-signed client, refuses others",
          "[e2e][tls]") {
  TempDir certs_dir;
  TestCerts pins(certs_dir.path());
  pins.self_signed("pinned", "/CN=pinned-bot");
  pins.self_signed("stranger", "/CN=stranger");
  pins.self_signed("pinned-old", "/CN=pinned-old", "2020-01-01 00:00:00");
  auto oracle = std::make_unique<TlsOracle>(
      "    cert_file: server.crt\n    key_file: server.key\n    client_fingerprints: [\"" +
      pins.fingerprint("pinned") + "\", \"" + pins.fingerprint("pinned-old") + "\"]\n");
  TestCerts& certs = oracle->certs();
  certs.make_ca("ca");
  certs.issue("ca", "server", "/CN=oracle");
  certs.issue("ca", "unpinned", "/CN=unpinned");
  oracle->start();

  const ClientOptions pinned{pins.path("pinned.crt"), pins.path("pinned.key"), {}};
  CHECK(TlsClient(certs, oracle->port(), pinned).served("/v1/verdicts"));
  CHECK_FALSE(TlsClient(certs, oracle->port(),
                        ClientOptions{pins.path("stranger.crt"), pins.path("stranger.key"), {}})
                  .served());
  CHECK_FALSE(TlsClient(certs, oracle->port(), client(*oracle, "unpinned")).served());
  // A pin does not outlive the certificate: expired is still refused.
  CHECK_FALSE(TlsClient(certs, oracle->port(),
                        ClientOptions{pins.path("pinned-old.crt"), pins.path("pinned-old.key"), {}})
                  .served());
  std::string body;
  CHECK(OracleHarness::wait_for([&] {
    body = oracle->metrics(pinned);
    return contains(body, failures("fingerprint_mismatch", 2));
  }));
  CHECK(contains(body, failures("expired", 1)));
  // Two refusals for one reason within a minute: one log line (the
  // journal is not a scanner's to fill), both counted above.
  const std::string log = oracle->log();
  const std::string line = ": fingerprint_mismatch (";
  const auto first = log.find(line);
  CHECK(first != std::string::npos);
  CHECK(log.find(line, first + 1) == std::string::npos);
}

TEST_CASE(
    "SIGHUP serves new certificate files to new connections, open ones keep working, a "
    "garbled key is refused and the old certificate stays",
    "[e2e][tls]") {
  auto oracle =
      std::make_unique<TlsOracle>("    cert_file: server.crt\n    key_file: server.key\n");
  TestCerts& certs = oracle->certs();
  certs.make_ca("ca");
  certs.issue("ca", "server", "/CN=oracle");
  oracle->start();

  TlsClient before(certs, oracle->port());
  REQUIRE(before.served());
  const std::string first = before.server_fingerprint();

  certs.issue("ca", "server", "/CN=oracle");  // a new key and certificate, same paths
  const std::string second = certs.fingerprint("server");
  REQUIRE(lower(second) != lower(first));
  oracle->signal(SIGHUP);
  REQUIRE(OracleHarness::wait_for(
      [&] { return contains(oracle->log(), "reload: api tls: new connections get"); }));
  CHECK(before.served());  // the connection opened before keeps its session
  CHECK(lower(before.server_fingerprint()) == lower(first));
  TlsClient after(certs, oracle->port());
  CHECK(after.served());
  CHECK(lower(after.server_fingerprint()) == lower(second));

  std::ofstream(oracle->file("server.key")) << "-----BEGIN PRIVATE KEY-----\ngarbage\n";
  oracle->signal(SIGHUP);
  REQUIRE(OracleHarness::wait_for(
      [&] { return contains(oracle->log(), "the running config stays in force"); }));
  CHECK(contains(oracle->log(), "api.tls.key_file"));
  TlsClient later(certs, oracle->port());
  CHECK(later.served());
  CHECK(lower(later.server_fingerprint()) == lower(second));
  CHECK(oracle->running());
}
