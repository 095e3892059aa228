// Tests config/yaml_reader.cpp through load_config_text(): YAML syntax errors,
// unknown and duplicate keys, wrong types, durations and integer bounds, each
// with its exact message and line:column.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_tail;
using crosscheck::config::test::k_valid_vantages;
using Lines = std::vector<std::string>;

namespace {

std::string with_tail(const std::string& head) {
  return head + std::string(k_valid_tail);
}

}  // namespace

TEST_CASE("a YAML syntax error is reported at yaml-cpp's position and stops there",
          "[loader][syntax]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {"a: [1, 2\nb: 3\n", "test.yaml:2:2: error: yaml syntax: end of sequence flow not found"},
      {"node:\n  name: a\n   data_dir: b\n",
       "test.yaml:3:12: error: yaml syntax: illegal map value"},
      {"targets: *missing\n",
       "test.yaml:1:10: error: yaml syntax: the referenced anchor is not defined"},
      {"node: {name: a\n", "test.yaml:2:1: error: yaml syntax: end of map flow not found"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("an unknown key is reported at the key, with a suggestion within two edits",
          "[loader][unknown-key]") {
  auto [yaml, expected] = GENERATE(table<std::string, Lines>({
      {with_tail("target: []\n"),
       {"test.yaml:1:1: error: unknown key 'target' (did you mean 'targets'?)"}},
      {with_tail("defaults:\n  intreval: 10s\n"),
       {"test.yaml:2:3: error: unknown key 'intreval' in defaults (did you mean 'interval'?)"}},
      {with_tail("quorum:\n  dwon: 2\n"),
       {"test.yaml:2:3: error: unknown key 'dwon' in quorum (did you mean 'down'?)"}},
      {with_tail("node:\n  colour: red\n"), {"test.yaml:2:3: error: unknown key 'colour' in node"}},
      {with_tail("probing:\n  max_inflight: 10\n"),
       {"test.yaml:2:3: error: unknown key 'max_inflight' in probing (did you mean "
        "'max_in_flight'?)"}},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - {name: t, dns: {name: t.example}}\n"
                                       "  - name: u\n"
                                       "    dns: {name: u.example}\n"
                                       "    x: 1\n",
       {"test.yaml:9:5: error: unknown key 'x' in targets[1]"}},
      {std::string(k_valid_vantages) + "targets:\n"
                                       "  - name: u\n"
                                       "    http: {url: 'http://u.example/', methd: HEAD}\n",
       {"test.yaml:7:38: error: unknown key 'methd' in targets[0].http (did you mean "
        "'method'?)"}},
      {"vantages:\n"
       "  - {name: a, domian: one}\n"
       "  - {name: b, domain: two}\n"
       "targets:\n"
       "  - {name: t, dns: {name: t.example}}\n",
       {"test.yaml:2:5: error: missing required key 'domain' in vantages[0]",
        "test.yaml:2:15: error: unknown key 'domian' in vantages[0] (did you mean 'domain'?)"}},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == expected);
}

TEST_CASE("a key given twice in one mapping is an error pointing at the second",
          "[loader][duplicate-key]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("defaults:\n  interval: 5s\n  timeout: 1s\n  interval: 10s\n"),
       "test.yaml:4:3: error: duplicate key 'interval' (first at line 2)"},
      {with_tail("storage: {retention: 1d}\nstorage: {retention: 2d}\n"),
       "test.yaml:2:1: error: duplicate key 'storage' (first at line 1)"},
      {with_tail("quorum: {down: 2, down: 3}\n"),
       "test.yaml:1:19: error: duplicate key 'down' (first at line 1)"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a value of the wrong type names the path, what was expected and what was found",
          "[loader][type]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("defaults:\n  rise: two\n"),
       "test.yaml:2:9: error: defaults.rise: expected an integer, got 'two'"},
      {with_tail("defaults:\n  rise: 2.5\n"),
       "test.yaml:2:9: error: defaults.rise: expected an integer, got '2.5'"},
      {with_tail("defaults:\n  rise:\n"),
       "test.yaml:2:3: error: defaults.rise: expected an integer, got nothing"},
      {with_tail("defaults: 10s\n"),
       "test.yaml:1:11: error: defaults: expected a mapping, got '10s'"},
      {with_tail("node:\n  name: [a, b]\n"),
       "test.yaml:2:9: error: node.name: expected a string, got a sequence"},
      {with_tail("quorum:\n  suspect_fraction: half\n"),
       "test.yaml:2:21: error: quorum.suspect_fraction: expected a number, got 'half'"},
      {with_tail("escalation:\n  exec: {command: /bin/page}\n"),
       "test.yaml:2:19: error: escalation.exec.command: expected a sequence, got '/bin/page'"},
      {std::string(k_valid_vantages) + "targets: {name: t}\n",
       "test.yaml:5:10: error: targets: expected a sequence, got a mapping"},
      {std::string(k_valid_vantages) + "targets:\n  - {name: t, canary: yes, dns: {name: x}}\n",
       "test.yaml:6:23: error: targets[0].canary: expected true or false, got 'yes'"},
      {"- vantages\n", "test.yaml:1:1: error: expected a mapping at the top level, got a sequence"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a bad duration says what a duration looks like", "[loader][duration]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("defaults:\n  interval: ten\n"),
       "test.yaml:2:13: error: invalid duration 'ten' for defaults.interval: expected a whole "
       "number and a unit (ms, s, m, h, d), e.g. 10s"},
      {with_tail("defaults:\n  timeout: 1.5s\n"),
       "test.yaml:2:12: error: invalid duration '1.5s' for defaults.timeout: expected a whole "
       "number and a unit (ms, s, m, h, d), e.g. 10s"},
      {with_tail("quorum:\n  dispute_grace: 10\n"),
       "test.yaml:2:18: error: invalid duration '10' for quorum.dispute_grace: expected a whole "
       "number and a unit (ms, s, m, h, d), e.g. 10s"},
      {with_tail("storage:\n  retention: 36501d\n"),
       "test.yaml:2:14: error: duration '36501d' for storage.retention is too long: the maximum "
       "is 36500d"},
      {with_tail("storage:\n  retention: 99999999999999999999999ms\n"),
       "test.yaml:2:14: error: duration '99999999999999999999999ms' for storage.retention is too "
       "long: the maximum is 36500d"},
      {with_tail("storage:\n  summary_period: 30s\n"),
       "test.yaml:2:19: error: summary_period 30s for storage.summary_period is outside 1m..24h: "
       "each period writes one row per (target, vantage) pair"},
      {with_tail("storage:\n  summary_period: 2d\n"),
       "test.yaml:2:19: error: summary_period 2d for storage.summary_period is outside 1m..24h: "
       "each period writes one row per (target, vantage) pair"},
      {with_tail("quorum:\n  flap_window: {m: 10}\n"),
       "test.yaml:2:16: error: quorum.flap_window: expected a duration, got a mapping"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a zero duration is an error where it makes no sense", "[loader][duration]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("defaults:\n  interval: 0s\n"),
       "test.yaml:2:13: error: defaults.interval must be greater than zero, got '0s'"},
      {with_tail("defaults:\n  timeout: 0ms\n"),
       "test.yaml:2:12: error: defaults.timeout must be greater than zero, got '0ms'"},
      {with_tail("defaults:\n  stale_after: 0m\n"),
       "test.yaml:2:16: error: defaults.stale_after must be greater than zero, got '0m'"},
      {with_tail("quorum:\n  flap_window: 0s\n"),
       "test.yaml:2:16: error: quorum.flap_window must be greater than zero, got '0s'"},
      {with_tail("storage:\n  retention: 0d\n"),
       "test.yaml:2:14: error: storage.retention must be greater than zero, got '0d'"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a zero dispute_grace is accepted: disagreement counts at once", "[loader][duration]") {
  CHECK(diagnostics_of(with_tail("quorum:\n  dispute_grace: 0s\n")).empty());
}

TEST_CASE("rise, fall and other counts below their minimum say the bound", "[loader][integer]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("defaults:\n  rise: 0\n"),
       "test.yaml:2:9: error: defaults.rise must be at least 1, got 0"},
      {with_tail("defaults:\n  fall: -1\n"),
       "test.yaml:2:9: error: defaults.fall must be at least 1, got -1"},
      {with_tail("defaults:\n  rise: 99999999999\n"),
       "test.yaml:2:9: error: defaults.rise must be between 1 and 2147483647, got 99999999999"},
      {with_tail("quorum:\n  flap_limit: 0\n"),
       "test.yaml:2:15: error: quorum.flap_limit must be at least 1, got 0"},
      {with_tail("quorum:\n  blast_radius_min_targets: 0\n"),
       "test.yaml:2:29: error: quorum.blast_radius_min_targets must be at least 1, got 0"},
      {with_tail("probing:\n  max_in_flight: 0\n"),
       "test.yaml:2:18: error: probing.max_in_flight must be at least 1, got 0"},
      {with_tail("probing:\n  max_per_second: 0\n"),
       "test.yaml:2:19: error: probing.max_per_second must be at least 1, got 0"},
      {std::string(k_valid_vantages) + "targets:\n  - {name: t, dns: {name: x}, fall: 0}\n",
       "test.yaml:6:37: error: targets[0].fall must be at least 1, got 0"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("fractions must be greater than 0 and at most 1", "[loader][fraction]") {
  auto [yaml, expected] = GENERATE(table<std::string, std::string>({
      {with_tail("quorum:\n  suspect_fraction: 1.5\n"),
       "test.yaml:2:21: error: quorum.suspect_fraction must be greater than 0 and at most 1, got "
       "1.5"},
      {with_tail("quorum:\n  max_unhealthy_fraction: 0\n"),
       "test.yaml:2:27: error: quorum.max_unhealthy_fraction must be greater than 0 and at most 1, "
       "got 0"},
      {with_tail("quorum:\n  suspect_fraction: nan\n"),
       "test.yaml:2:21: error: quorum.suspect_fraction: expected a number, got 'nan'"},
  }));
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
  CHECK(diagnostics_of(with_tail("quorum:\n  suspect_fraction: 1\n")).empty());
}

TEST_CASE("an empty section reads as all defaults", "[loader][defaults]") {
  CHECK(diagnostics_of(with_tail("quorum:\ndefaults:\nprobing:\n")).empty());
}
