// `tls: { min_days }` (docs/checks.md "Certificates"): defaults and a
// target's own, which targets use it, and every error with its position.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;

TEST_CASE("tls.min_days: defaults, a target's own, 0 turns it off", "[config][cert]") {
  const auto config = load_valid(std::string(k_valid_vantages) +
                                 "defaults: {tls: {min_days: 14}}\n"
                                 "targets:\n"
                                 "  - {name: inherits, http: {url: 'https://shop.example/'}}\n"
                                 "  - name: own\n"
                                 "    tcp: {host: mail.example, port: 25, starttls: smtp}\n"
                                 "    tls: {min_days: 30}\n"
                                 "  - name: off\n"
                                 "    http: {url: 'https://api.example/'}\n"
                                 "    tls: {min_days: 0}\n"
                                 "  - {name: plain, dns: {name: plain.example}}\n");
  REQUIRE(config.targets.size() == 4);
  CHECK(config.targets[0].timing.cert_min_days == 14);
  CHECK(config.targets[0].sees_certificate());
  CHECK(config.targets[1].timing.cert_min_days == 30);
  CHECK(config.targets[1].sees_certificate());
  CHECK(config.targets[2].timing.cert_min_days == 0);
  // A target without a handshake inherits the default quietly.
  CHECK(config.targets[3].timing.cert_min_days == 14);
  CHECK_FALSE(config.targets[3].sees_certificate());
}

TEST_CASE("which checks show a certificate", "[config][cert]") {
  const auto config = load_valid(std::string(k_valid_vantages) +
                                 "targets:\n"
                                 "  - {name: a, http: {url: 'http://a.example/'}}\n"
                                 "  - {name: b, tcp: {host: b.example, port: 443, tls: true}}\n"
                                 "  - {name: c, tcp: {host: c.example, port: 443}}\n");
  CHECK_FALSE(config.targets[0].sees_certificate());
  CHECK(config.targets[1].sees_certificate());
  CHECK_FALSE(config.targets[2].sees_certificate());
}

TEST_CASE("every tls.min_days error says what is wrong and where", "[config][cert]") {
  auto [lines, expected] = GENERATE(table<std::string, std::string>({
      {"    http: {url: 'https://db.example/'}\n    tls: {min_days: 400}\n",
       "test.yaml:8:21: error: targets[0].tls.min_days must be between 0 and 365, got 400"},
      {"    http: {url: 'https://db.example/'}\n    tls: {min_days: soon}\n",
       "test.yaml:8:21: error: targets[0].tls.min_days: expected an integer, got 'soon'"},
      {"    http: {url: 'https://db.example/'}\n    tls: {}\n",
       "test.yaml:8:10: error: targets[0].tls needs min_days, like { min_days: 14 }"},
      {"    http: {url: 'https://db.example/'}\n    tls: {min_day: 14}\n",
       "test.yaml:8:11: error: unknown key 'min_day' in targets[0].tls (did you mean "
       "'min_days'?)"},
      {"    http: {url: 'https://db.example/'}\n    tls: 14\n",
       "test.yaml:8:10: error: targets[0].tls: expected a mapping, got '14'"},
      {"    http: {url: 'http://db.example/'}\n    tls: {min_days: 14}\n",
       "test.yaml:8:10: error: targets[0] 'db': tls.min_days needs a check that completes a TLS "
       "handshake (an https URL, or tcp with tls: true or starttls)"},
      {"    http: {url: 'http://db.example/'}\n    tls: {min_days: 0}\n",
       "test.yaml:8:10: error: targets[0] 'db': tls.min_days needs a check that completes a TLS "
       "handshake (an https URL, or tcp with tls: true or starttls)"},
  }));
  const std::string yaml = std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - name: db\n" +
                           lines;
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("dns.dnssec is a boolean, off by default", "[config][dnssec]") {
  const auto config = load_valid(std::string(k_valid_vantages) +
                                 "targets:\n"
                                 "  - {name: signed, dns: {name: a.example, dnssec: true}}\n"
                                 "  - {name: plain, dns: {name: b.example}}\n");
  CHECK(config.targets[0].dns->dnssec);
  CHECK_FALSE(config.targets[1].dns->dnssec);
  CHECK(diagnostics_of(std::string(k_valid_vantages) +
                       "targets:\n"
                       "  - {name: db, dns: {name: a.example, dnssec: sure}}\n") ==
        Lines{"test.yaml:6:47: error: targets[0].dns.dnssec: expected true or false, got 'sure'"});
}

TEST_CASE("dns.rrsig_min_remaining is a duration that needs dnssec", "[config][dnssec]") {
  const auto config = load_valid(std::string(k_valid_vantages) +
                                 "targets:\n"
                                 "  - {name: signed, dns: {name: a.example, dnssec: true, "
                                 "rrsig_min_remaining: 36h}}\n"
                                 "  - {name: plain, dns: {name: b.example, dnssec: true}}\n");
  CHECK(config.targets[0].dns->rrsig_min_remaining == std::chrono::hours{36});
  CHECK_FALSE(config.targets[1].dns->rrsig_min_remaining);
  const auto [line, expected] = GENERATE(table<std::string, std::string>({
      {"{name: a.example, rrsig_min_remaining: 2d}",
       "test.yaml:6:60: error: targets[0].dns.rrsig_min_remaining needs dnssec: true (resolvers "
       "send RRSIGs only to a query with DO set)"},
      {"{name: a.example, dnssec: true, rrsig_min_remaining: 91d}",
       "test.yaml:6:74: error: targets[0].dns.rrsig_min_remaining 91d is longer than 90d: "
       "signatures are valid for days or weeks"},
      {"{name: a.example, dnssec: true, rrsig_min_remaining: 0s}",
       "test.yaml:6:74: error: targets[0].dns.rrsig_min_remaining must be greater than zero, "
       "got '0s'"},
      {"{name: a.example, dnssec: true, rrsig_min_remaining: soon}",
       "test.yaml:6:74: error: invalid duration 'soon' for targets[0].dns.rrsig_min_remaining: "
       "expected a whole number and a unit (ms, s, m, h, d), e.g. 10s"},
  }));
  CAPTURE(line);
  CHECK(diagnostics_of(std::string(k_valid_vantages) + "targets:\n  - {name: db, dns: " + line +
                       "}\n") == Lines{expected});
}
