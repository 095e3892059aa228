// Hostile review of the DoT vantage keys (resolver: tls://, tls_name,
// tls_pins, tls_ca): every malformed value is refused with its position, and
// nothing the loader accepts leaves a vantage that can never vote. A failing
// case is a finding.
#include "config/config.hpp"
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;

constexpr const char* k_pin = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
constexpr const char* k_other_pin = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

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

// The vantage `{name: a, domain: dot, resolver: RESOLVER, EXTRA}`.
std::string dot(const std::string& resolver, const std::string& extra) {
  return with_vantage("{name: a, domain: dot, resolver: '" + resolver + "', " + extra + "}");
}

bool has_error(const Lines& lines) {
  for (const auto& line : lines) {
    if (line.find(": error: ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("dot config attack: resolvers that are not tls://IP[:PORT] are errors",
          "[config][dot][attack]") {
  const std::string resolver = GENERATE(
      as<std::string>{}, "tls://", "tls://dns.google", "tls://1.1.1.1:0", "tls://1.1.1.1:65536",
      "tls://1.1.1.1:", "tls://[1.1.1.1]:853", "tls://[2606:4700::1111", "TLS://1.1.1.1",
      "tls:/1.1.1.1", "tls:// 1.1.1.1", "tls://1.1.1.1/", "tls://tls://1.1.1.1", "https://1.1.1.1");
  INFO(resolver);
  const auto lines = diagnostics_of(dot(resolver, "tls_name: one.one.one.one"));
  CAPTURE(lines);
  CHECK(has_error(lines));
}

TEST_CASE("dot config attack: a bare IPv6 address takes port 853", "[config][dot][attack]") {
  const auto config = load_valid(dot("tls://2606:4700::1111", "tls_name: one.one.one.one"));
  REQUIRE(config.vantages[0].resolver);
  CHECK(config.vantages[0].resolver->to_string() == "[2606:4700::1111]:853");
}

TEST_CASE("dot config attack: pins that are not sha256/<32 bytes of base64> are errors",
          "[config][dot][attack]") {
  const std::string pin = GENERATE(
      as<std::string>{}, "", "sha256/",
      "sha1/2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "SHA256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",       // no padding
      "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",      // left-over bits
      "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==",     // too much padding
      "sha256/ 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",     // a space
      "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",    // a newline
      "sha256/47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=",      // url-safe
      "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUAAAA=",  // 35 bytes
      "sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // hex
  INFO(pin);
  const auto lines = diagnostics_of(dot("tls://1.1.1.1", "tls_pins: [\"" + pin + "\"]"));
  CAPTURE(lines);
  CHECK(has_error(lines));
}

TEST_CASE("dot config attack: tls_pins that is not a list or is an empty one is an error",
          "[config][dot][attack]") {
  const std::string value =
      GENERATE(as<std::string>{}, "[]", "~", "'" + std::string(k_pin) + "'", "{a: b}", "[[]]");
  INFO(value);
  const auto lines = diagnostics_of(dot("tls://1.1.1.1", "tls_pins: " + value));
  CAPTURE(lines);
  CHECK(has_error(lines));
}

TEST_CASE(
    "dot config attack: a duplicated pin is flagged (a backup pin pasted twice leaves no "
    "backup for the rotation the docs ask for)",
    "[config][dot][attack]") {
  const auto lines = diagnostics_of(
      dot("tls://1.1.1.1", std::string("tls_pins: ['") + k_pin + "', '" + k_pin + "']"));
  CAPTURE(lines);
  CHECK_FALSE(lines.empty());
}

TEST_CASE("dot config attack: two different pins load as two", "[config][dot][attack]") {
  const auto config = load_valid(
      dot("tls://1.1.1.1", std::string("tls_pins: ['") + k_pin + "', '" + k_other_pin + "']"));
  REQUIRE(config.vantages[0].tls);
  CHECK(config.vantages[0].tls->pins.size() == 2);
}

TEST_CASE("dot config attack: tls_name values no certificate can carry are errors",
          "[config][dot][attack]") {
  const std::string name = GENERATE(as<std::string>{}, "", ".", "*.example", "a..b",
                                    "dns.example:853", "[::1]", "dns example", "tls://dns.example");
  INFO(name);
  const auto lines = diagnostics_of(dot("tls://1.1.1.1", "tls_name: '" + name + "'"));
  CAPTURE(lines);
  CHECK(has_error(lines));
}

TEST_CASE(
    "dot config attack: tls_name with a trailing dot is refused or loses the dot (OpenSSL matches "
    "the name as written so the dot makes every handshake fail)",
    "[config][dot][attack]") {
  const auto loaded = crosscheck::config::load_config_text(
      dot("tls://1.1.1.1", "tls_name: one.one.one.one."), "test.yaml");
  if (loaded.config && loaded.diagnostics.empty()) {
    REQUIRE(loaded.config->vantages[0].tls);
    CHECK(loaded.config->vantages[0].tls->name == "one.one.one.one");
  } else {
    CHECK_FALSE(loaded.diagnostics.empty());
  }
}

TEST_CASE("dot config attack: tls_name in capitals is accepted (names match without case)",
          "[config][dot][attack]") {
  const auto config = load_valid(dot("tls://1.1.1.1", "tls_name: One.One.One.One"));
  REQUIRE(config.vantages[0].tls);
  REQUIRE(config.vantages[0].tls->name);
}

TEST_CASE("dot config attack: tls_ca with pins alone is an error even when the file is fine",
          "[config][dot][attack]") {
  const auto lines = diagnostics_of(
      dot("tls://1.1.1.1", std::string("tls_pins: ['") + k_pin + "'], tls_ca: /dev/null"));
  CAPTURE(lines);
  CHECK(has_error(lines));
}

TEST_CASE("dot config attack: the system resolver cannot be DoT", "[config][dot][attack]") {
  const auto lines = diagnostics_of(
      with_vantage("{name: a, domain: dot, resolver: system, tls_name: one.one.one.one}"));
  CAPTURE(lines);
  CHECK(has_error(lines));
}
