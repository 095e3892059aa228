// A vantage's DNS over TLS: `resolver: tls://IP[:PORT]` with tls_name,
// tls_pins and tls_ca, and every way to get them wrong, with file:line:column.
#include "config/config.hpp"
#include "config_test_helpers.hpp"
#include "support/test_pki.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using crosscheck::config::SpkiPin;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::load_valid;
using crosscheck::config::test::TempDir;
using Lines = std::vector<std::string>;

// The SHA-256 of nothing, base64: any 32 bytes do for a pin.
constexpr const char* k_pin = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

// `first` as vantages[0], then two plain vantages and a target.
std::string with_vantage(const std::string& first) {
  return "vantages:\n"
         "  - " +
         first +
         "\n"
         "  - {name: b, domain: two}\n"
         "  - {name: c, domain: three}\n"
         "targets:\n"
         "  - {name: t, dns: {name: t.example}}\n";
}

}  // namespace

TEST_CASE("a tls:// resolver takes the DoT port by default and keeps a given one",
          "[config][dot]") {
  auto config = load_valid(
      with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1', tls_name: one.one.one.one}"));
  const auto& vantage = config.vantages[0];
  REQUIRE(vantage.resolver);
  CHECK(vantage.resolver->to_string() == "1.1.1.1:853");
  REQUIRE(vantage.tls);
  CHECK(vantage.tls->name == "one.one.one.one");
  CHECK(vantage.tls->pins.empty());
  CHECK_FALSE(vantage.tls->ca_file);
  CHECK(vantage.resolver_label() == "tls://1.1.1.1:853");
  CHECK(config.vantages[1].resolver_label() == "system");
  CHECK_FALSE(config.vantages[1].tls);

  config = load_valid(with_vantage(
      std::string("{name: a, domain: dot, resolver: 'tls://[2606:4700::1111]:8853', tls_pins: ['") +
      k_pin + "']}"));
  CHECK(config.vantages[0].resolver_label() == "tls://[2606:4700::1111]:8853");
  REQUIRE(config.vantages[0].tls);
  CHECK_FALSE(config.vantages[0].tls->name);
  REQUIRE(config.vantages[0].tls->pins.size() == 1);
  CHECK(config.vantages[0].tls->pins[0].to_string() == k_pin);

  config = load_valid(with_vantage("{name: a, domain: plain, resolver: '9.9.9.9'}"));
  CHECK(config.vantages[0].resolver_label() == "9.9.9.9:53");
  CHECK_FALSE(config.vantages[0].tls);
}

TEST_CASE("tls_ca is read against the config's directory and checked as a CA file",
          "[config][dot]") {
  TempDir dir;
  crosscheck::testing::TestPki pki{dir.path() / "pki"};
  const auto ca = pki.ca("dot-ca");
  const auto config = load_valid(with_vantage(
      "{name: a, domain: dot, resolver: 'tls://127.0.0.1:8853', tls_name: dns.test, tls_ca: '" +
      ca.cert.string() + "'}"));
  REQUIRE(config.vantages[0].tls);
  CHECK(config.vantages[0].tls->ca_file == ca.cert);

  const auto garbled = dir.write("garbled.pem", "not a certificate\n");
  const auto lines = diagnostics_of(with_vantage(
      "{name: a, domain: dot, resolver: 'tls://127.0.0.1', tls_name: dns.test, tls_ca: '" +
      garbled.string() + "'}"));
  REQUIRE(lines.size() == 1);
  INFO(lines[0]);
  CHECK(lines[0].starts_with("test.yaml:2:85: error: vantages[0].tls_ca: "));
  CHECK(lines[0].find(garbled.string()) != std::string::npos);
}

TEST_CASE("a DoT vantage without tls_name or tls_pins is an error naming the vantage",
          "[config][dot]") {
  CHECK(diagnostics_of(with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1'}")) ==
        Lines{"test.yaml:2:38: error: vantages[0] ('a') resolves over TLS but sets neither "
              "tls_name nor tls_pins: without them anyone intercepting the path could pose as the "
              "resolver"});
}

TEST_CASE("DoT keys on a plain or system resolver are errors at the key", "[config][dot]") {
  CHECK(
      diagnostics_of(with_vantage("{name: a, domain: one, resolver: 1.1.1.1, tls_name: x.test}")) ==
      Lines{"test.yaml:2:57: error: vantages[0].tls_name applies only to a DNS over TLS "
            "resolver (resolver: tls://IP[:PORT])"});
  CHECK(diagnostics_of(with_vantage(std::string("{name: a, domain: one, tls_pins: ['") + k_pin +
                                    "'], tls_ca: /etc/ssl/ca.pem}")) ==
        Lines{"test.yaml:2:38: error: vantages[0].tls_pins applies only to a DNS over TLS "
              "resolver (resolver: tls://IP[:PORT])",
              "test.yaml:2:103: error: vantages[0].tls_ca applies only to a DNS over TLS "
              "resolver (resolver: tls://IP[:PORT])"});
}

TEST_CASE("bad DoT values are errors with their position", "[config][dot]") {
  CHECK(diagnostics_of(with_vantage("{name: a, domain: dot, resolver: 'tls://dns.google', "
                                    "tls_name: dns.google}")) ==
        Lines{"test.yaml:2:38: error: invalid resolver 'tls://dns.google' for vantages[0]: "
              "expected tls://ip, tls://ip:port or tls://[ipv6]:port"});
  CHECK(diagnostics_of(with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1', "
                                    "tls_name: 'not a name'}")) ==
        Lines{"test.yaml:2:65: error: invalid vantages[0].tls_name 'not a name': expected the "
              "DNS name (or IP address) the resolver's certificate carries"});
  CHECK(diagnostics_of(with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1', "
                                    "tls_pins: ['sha1/AAAA', 'sha256/AAAA']}")) ==
        Lines{"test.yaml:2:66: error: invalid pin 'sha1/AAAA' for vantages[0].tls_pins[0]: "
              "expected sha256/<base64 of the SHA-256 of the certificate's "
              "SubjectPublicKeyInfo>",
              "test.yaml:2:79: error: invalid pin 'sha256/AAAA' for vantages[0].tls_pins[1]: "
              "expected sha256/<base64 of the SHA-256 of the certificate's "
              "SubjectPublicKeyInfo>"});
  CHECK(diagnostics_of(
            with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1', tls_pins: []}")) ==
        Lines{"test.yaml:2:65: error: vantages[0].tls_pins must list at least one pin"});
  CHECK(diagnostics_of(with_vantage(std::string("{name: a, domain: dot, resolver: "
                                                "'tls://1.1.1.1', tls_pins: ['") +
                                    k_pin + "'], tls_ca: /etc/ssl/ca.pem}")) ==
        Lines{"test.yaml:2:130: error: vantages[0].tls_ca needs tls_name: the CA vouches for a "
              "name, and without one only tls_pins are checked",
              // Every problem at once: the file is checked all the same.
              "test.yaml:2:130: error: vantages[0].tls_ca: cannot read ca_file '/etc/ssl/ca.pem': "
              "No such file or directory"});
}

TEST_CASE("tls_name loses one trailing dot and names no certificate carries are errors",
          "[config][dot]") {
  const auto config = load_valid(with_vantage(
      "{name: a, domain: dot, resolver: 'tls://1.1.1.1', tls_name: 'One.one.one.one.'}"));
  REQUIRE(config.vantages[0].tls);
  CHECK(config.vantages[0].tls->name == "One.one.one.one");
  const std::string name = GENERATE(as<std::string>{}, ".", "..", "a..", "");
  CAPTURE(name);
  CHECK(diagnostics_of(with_vantage("{name: a, domain: dot, resolver: 'tls://1.1.1.1', "
                                    "tls_name: '" +
                                    name + "'}")) ==
        Lines{"test.yaml:2:65: error: invalid vantages[0].tls_name '" + name +
              "': expected the DNS name (or IP address) the resolver's certificate carries"});
}

TEST_CASE("a pin listed twice is an error naming it and where it came first", "[config][dot]") {
  CHECK(diagnostics_of(with_vantage(std::string("{name: a, domain: dot, resolver: "
                                                "'tls://1.1.1.1', tls_pins: ['") +
                                    k_pin + "', '" + k_pin + "']}")) ==
        Lines{std::string("test.yaml:2:121: error: vantages[0].tls_pins[1] repeats pin '") + k_pin +
              "' (first at line 2, column 66): a duplicate is no backup pin"});
}

TEST_CASE("a key pin reads and prints as sha256/base64 of 32 bytes", "[config][dot]") {
  const auto pin = SpkiPin::parse(k_pin);
  REQUIRE(pin);
  CHECK(pin->sha256[0] == 0xE3);
  CHECK(pin->to_string() == k_pin);
  CHECK_FALSE(SpkiPin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));   // no padding
  CHECK_FALSE(SpkiPin::parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));         // no prefix
  CHECK_FALSE(SpkiPin::parse("sha256/AAAA"));                                          // 3 bytes
  CHECK_FALSE(SpkiPin::parse("sha256/47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="));  // url-safe
}
