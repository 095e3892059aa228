// api.tls: its keys, its files read and checked as the daemon reads them
// (config/tls_files.cpp), and each error at the position of the key it is
// about. Certificates are made by the openssl command line tool.
#include "config/tls_files.hpp"
#include "config_test_helpers.hpp"
#include "support/test_certs.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace crosscheck::config;
using namespace crosscheck::config::test;
using Lines = std::vector<std::string>;

namespace {

// `api:` with tls lines (each indented by four), then a valid tail; the
// tls keys start on line 4.
std::string with_tls(const std::string& tls_lines) {
  return "api:\n  listen: 127.0.0.1:9470\n  tls:\n" + tls_lines + std::string(k_valid_tail);
}

struct Files {
  TempDir dir;
  crosscheck::testing::TestCerts certs{dir.path()};
  Files() {
    certs.make_ca("ca");
    certs.issue("ca", "server", "/O=ops/CN=oracle-a");
    certs.self_signed("other", "/CN=other");
  }
  std::string at(const std::string& name) const { return certs.path(name); }
};

}  // namespace

TEST_CASE("api.tls with a matching certificate and key, a client CA and pins loads",
          "[config][tls]") {
  const Files files;
  const std::string pin = files.certs.fingerprint("other");
  const Config config = load_valid(with_tls("    cert_file: " + files.at("server.crt") +
                                            "\n    key_file: " + files.at("server.key") +
                                            "\n    client_ca_file: " + files.at("ca.crt") +
                                            "\n    client_fingerprints: [\"" + pin + "\"]\n"));
  REQUIRE(config.api.tls);
  CHECK(config.api.tls->cert_file == files.at("server.crt"));
  CHECK(config.api.tls->requires_client_certificate());
  REQUIRE(config.api.tls->client_fingerprints.size() == 1);
  CHECK(to_string(config.api.tls->client_fingerprints[0]) == [&] {
    std::string lower = pin;
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower;
  }());
  const auto loaded = read_server_tls(*config.api.tls);
  REQUIRE(loaded);
  CHECK(loaded->leaf_subject == "CN=oracle-a,O=ops");  // RFC 2253: most specific first
  CHECK(loaded->not_after > 0);
  CHECK(loaded->client_ca.find("BEGIN CERTIFICATE") != std::string::npos);
}

TEST_CASE("api.tls without tls is plain HTTP and asks for no client certificate", "[config][tls]") {
  CHECK_FALSE(load_valid(std::string(k_valid_tail)).api.tls);
  const Files files;
  const Config config = load_valid(with_tls("    cert_file: " + files.at("server.crt") +
                                            "\n    key_file: " + files.at("server.key") + "\n"));
  REQUIRE(config.api.tls);
  CHECK_FALSE(config.api.tls->requires_client_certificate());
}

TEST_CASE("a plain API off loopback is warned about, with TLS or on loopback it is not",
          "[config][tls]") {
  CHECK(diagnostics_of("api: { listen: 0.0.0.0:9470 }\n" + std::string(k_valid_tail)) ==
        Lines{"test.yaml:1:16: warning: api.listen 0.0.0.0:9470 is not loopback and api.tls is "
              "not set: verdicts, gates and writes travel as plain HTTP on the network (see "
              "docs/tls.md)"});
  CHECK(diagnostics_of("api: { listen: \"[::]:9470\" }\n" + std::string(k_valid_tail)).size() == 1);
  CHECK(diagnostics_of("api: { listen: \"[::1]:9470\" }\n" + std::string(k_valid_tail)).empty());
  CHECK(diagnostics_of("api: { listen: 127.0.0.2:9470 }\n" + std::string(k_valid_tail)).empty());
  const Files files;
  const std::string tls =
      "api:\n  listen: 0.0.0.0:9470\n  tls:\n    cert_file: " + files.at("server.crt") +
      "\n    key_file: " + files.at("server.key") + "\n" + std::string(k_valid_tail);
  CHECK(diagnostics_of(tls).empty());
}

TEST_CASE("api.tls needs both cert_file and key_file", "[config][tls]") {
  const Files files;
  CHECK(diagnostics_of(with_tls("    cert_file: " + files.at("server.crt") + "\n")) ==
        Lines{"test.yaml:4:5: error: missing required key 'key_file' in api.tls"});
  CHECK(diagnostics_of(with_tls("    key_file: " + files.at("server.key") + "\n")) ==
        Lines{"test.yaml:4:5: error: missing required key 'cert_file' in api.tls"});
}

TEST_CASE("each bad api.tls file is an error at its key", "[config][tls]") {
  const Files files;
  files.dir.write("garbled.pem",
                  "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                  "-----END CERTIFICATE-----\n");
  files.dir.write("garbled.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  const std::string absent = files.at("absent.crt");
  const std::string cert = "    cert_file: " + files.at("server.crt") + "\n";
  const std::string key = "    key_file: " + files.at("server.key") + "\n";

  CHECK(diagnostics_of(with_tls("    cert_file: " + absent + "\n" + key)) ==
        Lines{"test.yaml:4:16: error: cannot read api.tls.cert_file '" + absent +
              "': No such file or directory"});
  CHECK(diagnostics_of(with_tls("    cert_file: " + files.at("garbled.pem") + "\n" + key)) ==
        Lines{"test.yaml:4:16: error: api.tls.cert_file '" + files.at("garbled.pem") +
              "': not a PEM certificate chain (-----BEGIN CERTIFICATE-----, leaf first)"});
  CHECK(diagnostics_of(with_tls(cert + "    key_file: " + files.at("garbled.key") + "\n")) ==
        Lines{"test.yaml:5:15: error: api.tls.key_file '" + files.at("garbled.key") +
              "': not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)"});
  CHECK(diagnostics_of(with_tls(cert + "    key_file: " + files.at("other.key") + "\n")) ==
        Lines{"test.yaml:5:15: error: api.tls.key_file '" + files.at("other.key") +
              "': does not match the certificate in cert_file '" + files.at("server.crt") + "'"});
  CHECK(diagnostics_of(
            with_tls(cert + key + "    client_ca_file: " + files.at("server.key") + "\n")) ==
        Lines{"test.yaml:6:21: error: api.tls.client_ca_file '" + files.at("server.key") +
              "': not PEM certificates (-----BEGIN CERTIFICATE-----)"});
  CHECK(diagnostics_of(with_tls(cert + key + "    client_ca_file: " + files.dir.path().string() +
                                "\n")) == Lines{"test.yaml:6:21: error: api.tls.client_ca_file '" +
                                                files.dir.path().string() + "': is a directory"});
}

TEST_CASE("a client fingerprint that is not sha256:<64 hex> is an error at its item",
          "[config][tls]") {
  const Files files;
  const std::string cert = "    cert_file: " + files.at("server.crt") + "\n";
  const std::string key = "    key_file: " + files.at("server.key") + "\n";
  const std::string good = "sha256:" + std::string(64, 'a');
  CHECK(diagnostics_of(with_tls(cert + key + "    client_fingerprints: [\"" + good + "\", \"" +
                                good.substr(0, 70) + "\"]\n")) ==
        Lines{"test.yaml:6:102: error: invalid fingerprint '" + good.substr(0, 70) +
              "' for api.tls.client_fingerprints[1]: expected sha256:<64 hex digits, colons "
              "allowed>, as `openssl x509 -noout -fingerprint -sha256` prints it"});
  CHECK(diagnostics_of(with_tls(cert + key + "    client_fingerprints: sha256:ab\n")).size() == 1);
}

TEST_CASE("fingerprints parse with or without colons, and nothing else does", "[config][tls]") {
  const std::string hex(64, 'A');
  std::string colons;
  for (std::size_t i = 0; i < 32; ++i) {
    colons += (i > 0 ? ":" : "") + std::string("Ab");
  }
  CHECK(parse_fingerprint("sha256:" + hex));
  CHECK(parse_fingerprint("SHA256:" + colons));
  CHECK(to_string(*parse_fingerprint("sha256:" + colons)).substr(0, 12) == "sha256:ab:ab");
  const auto bad = GENERATE(
      as<std::string>{}, "", "sha256:", "sha1:" + std::string(64, 'a'), std::string(64, 'a'),
      "sha256:" + std::string(62, 'a'), "sha256:" + std::string(66, 'a'),
      "sha256:" + std::string(63, 'a') + "g", "sha256:" + std::string(64, 'a') + ":",
      "sha256::" + std::string(64, 'a'), "sha256:a:" + std::string(63, 'a'));
  CAPTURE(bad);
  CHECK_FALSE(parse_fingerprint(bad));
}
