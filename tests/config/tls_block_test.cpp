// The `tls:` blocks of peers and sinks: read into TlsClientConfig, and every
// way its files can be unusable is a config error at the block, file:line:column.
#include "config/config.hpp"
#include "config/tls_files.hpp"
#include "config_test_helpers.hpp"
#include "support/test_pki.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using crosscheck::config::load_config_text;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_tail;
using crosscheck::config::test::load_valid;
using crosscheck::config::test::TempDir;
using crosscheck::testing::TestCertificate;
using crosscheck::testing::TestPki;

struct Files {
  TempDir dir;
  TestPki pki{dir.path() / "pki"};
  TestCertificate ca = pki.ca("peers-ca");
  TestCertificate client = pki.leaf("oracle-a", ca, "DNS:oracle-a.test");
  std::string peer_key = dir.write("peer-key", "shared-secret\n").string();
};

// A config with one peer at `url` whose tls block is `tls` (one line, flow style).
std::string with_peer(const Files& files, const std::string& url, const std::string& tls) {
  return std::string(k_valid_tail) + "peers:\n  - name: oracle-b\n    url: " + url +
         "\n    key_file: " + files.peer_key + "\n    tls: " + tls + "\n";
}

std::string block(const std::string& ca, const std::string& cert, const std::string& key) {
  std::string text = "{";
  const auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) {
      text += std::string(text.size() > 1 ? ", " : "") + name + ": " + value;
    }
  };
  add("ca_file", ca);
  add("cert_file", cert);
  add("key_file", key);
  return text + "}";
}

}  // namespace

TEST_CASE("a peer's and the sinks' tls blocks are read", "[config][tls]") {
  Files files;
  const auto ca = files.ca.cert.string();
  const auto cert = files.client.cert.string();
  const auto key = files.client.key.string();
  const auto config = load_valid(
      with_peer(files, "https://oracle-b.test:9470", block(ca, cert, key)) +
      "escalation:\n  webhook: {url: 'https://hooks.test/x', tls: {"
      "ca_file: " +
      ca + "}}\n  alertmanager: {url: 'https://am.test:9093', tls: " + block(ca, cert, key) +
      "}\n");
  REQUIRE(config.peers.size() == 1);
  REQUIRE(config.peers[0].tls);
  CHECK(config.peers[0].tls->ca_file == files.ca.cert);
  CHECK(config.peers[0].tls->cert_file == files.client.cert);
  CHECK(config.peers[0].tls->key_file == files.client.key);
  REQUIRE(config.escalation.webhook->tls);
  CHECK(config.escalation.webhook->tls->ca_file == files.ca.cert);
  CHECK_FALSE(config.escalation.webhook->tls->cert_file);
  REQUIRE(config.escalation.alertmanager->tls);
  CHECK(config.escalation.alertmanager->tls->key_file == files.client.key);
}

TEST_CASE("an unusable tls block is an error at the block", "[config][tls]") {
  Files files;
  const auto ca = files.ca.cert.string();
  const auto cert = files.client.cert.string();
  const auto key = files.client.key.string();
  const auto garbled = files.dir
                           .write("garbled.crt",
                                  "-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
                                  "-----END CERTIFICATE-----\n")
                           .string();
  const auto other = files.pki.leaf("other", files.ca, "DNS:other.test");
  // Line 11, column 10: the peer's `tls:` value (k_valid_tail is 6 lines).
  const std::string at = "test.yaml:11:10: error: peers[0].tls";
  const auto https = std::string("https://oracle-b.test:9470");
  struct Row {
    std::string url;
    std::string tls;
    std::string expected;
  };
  const std::vector<Row> rows{
      Row{"http://oracle-b.test:9470", block(ca, "", ""),
          at + " is set but peers[0].url 'http://oracle-b.test:9470' is http://: TLS settings "
               "apply only to https URLs"},
      Row{https, block("", cert, ""),
          at + ".cert_file needs peers[0].tls.key_file (its private key)"},
      Row{https, block("", "", key),
          at + ".key_file needs peers[0].tls.cert_file (the client certificate)"},
      Row{https, "{}",
          at + " sets none of ca_file, cert_file, key_file; remove it to trust the system "
               "store without a client certificate"},
      Row{https, block(key, "", ""), at + ": ca_file '" + key + "' holds no PEM certificate"},
      Row{https, block(garbled, "", ""), at + ": ca_file '" + garbled + "' holds a garbled "},
      Row{https, block(files.dir.path().string() + "/absent.crt", "", ""),
          at + ": cannot read ca_file '" + files.dir.path().string() +
              "/absent.crt': No such file or directory"},
      Row{https, block("", cert, other.key.string()),
          at + ": key_file '" + other.key.string() + "' does not match cert_file '" + cert +
              "' (the certificate's public key)"},
      Row{https, block("", cert, ca),
          at + ": key_file '" + ca + "' holds no usable PEM private key"}};
  // One PKI for every row (openssl is slow to run), so a loop, not GENERATE.
  for (const auto& row : rows) {
    INFO(row.tls);
    const auto lines = diagnostics_of(with_peer(files, row.url, row.tls));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind(row.expected, 0) == 0);
    CHECK_FALSE(load_config_text(with_peer(files, row.url, row.tls), "test.yaml").ok());
  }
}

TEST_CASE("a tls block with an unknown key is an error at that key", "[config][tls]") {
  Files files;
  const auto lines =
      diagnostics_of(with_peer(files, "https://oracle-b.test:9470",
                               "{ca_file: " + files.ca.cert.string() + ", verify: false}"));
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0].find("verify") != std::string::npos);
  CHECK(lines[0].rfind("test.yaml:11:", 0) == 0);
}

TEST_CASE("every problem of a tls block is reported at once", "[config][tls]") {
  Files files;
  const auto key = files.client.key.string();
  const auto lines = diagnostics_of(with_peer(files, "https://oracle-b.test:9470",
                                              "{ca_file: " + key + ", key_file: " + key + "}"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "test.yaml:11:10: error: peers[0].tls.key_file needs peers[0].tls.cert_file "
        "(the client certificate)");
  CHECK(lines[1] ==
        "test.yaml:11:10: error: peers[0].tls: ca_file '" + key + "' holds no PEM certificate");
}
