// Tests config/dependencies.cpp and the reading of targets[].depends_on:
// every message with its position, and what a clean list becomes.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;

namespace {

// k_valid_vantages (lines 1-4), then `targets:` (line 5) and these lines.
std::string with_targets(const std::string& targets) {
  return std::string(k_valid_vantages) + "targets:\n" + targets;
}

}  // namespace

TEST_CASE("depends_on names other targets, in the order written", "[config][depends_on]") {
  const auto config =
      load_valid(with_targets("  - {name: edge, dns: {name: e.example}}\n"
                              "  - {name: lb, dns: {name: l.example}, depends_on: [edge]}\n"
                              "  - {name: app, dns: {name: a.example}, depends_on: [lb, edge]}\n"));
  CHECK(config.targets[0].depends_on.empty());
  CHECK(config.targets[1].depends_on == std::vector<std::string>{"edge"});
  CHECK(config.targets[2].depends_on == std::vector<std::string>{"lb", "edge"});
}

TEST_CASE("a bad depends_on is an error naming the target", "[config][depends_on]") {
  auto [targets, expected] = GENERATE(table<std::string, Lines>({
      {"  - {name: lb-eu, dns: {name: l.example}}\n"
       "  - {name: app, dns: {name: a.example}, depends_on: [lb-ue]}\n",
       {"test.yaml:7:54: error: targets[1] 'app': depends_on 'lb-ue' is not a target (did you "
        "mean 'lb-eu'?)"}},
      {"  - {name: app, dns: {name: a.example}, depends_on: [nothing-like-it]}\n",
       {"test.yaml:6:54: error: targets[0] 'app': depends_on 'nothing-like-it' is not a target"}},
      {"  - {name: app, dns: {name: a.example}, depends_on: [app]}\n",
       {"test.yaml:6:54: error: targets[0] 'app': depends_on names the target itself"}},
      {"  - {name: lb, dns: {name: l.example}}\n"
       "  - {name: app, dns: {name: a.example}, depends_on: [lb, lb]}\n",
       {"test.yaml:7:58: error: targets[1].depends_on[1] 'lb' is listed twice in "
        "targets[1].depends_on"}},
      {"  - {name: app, dns: {name: a.example}, depends_on: lb}\n",
       {"test.yaml:6:53: error: targets[0].depends_on: expected a sequence, got 'lb'"}},
      {"  - {name: root, canary: true, dns: {name: .}}\n"
       "  - {name: app, dns: {name: a.example}, depends_on: [root]}\n",
       {"test.yaml:7:54: error: targets[1] 'app': depends_on 'root' is a canary: canaries judge "
        "the observers, not a service a target can depend on"}},
      {"  - {name: lb, dns: {name: l.example}}\n"
       "  - {name: root, canary: true, dns: {name: .}, depends_on: [lb]}\n",
       {"test.yaml:7:61: error: targets[1] 'root': a canary cannot have depends_on: a canary "
        "judges the observers, and must be judged on its own evidence"}},
  }));
  CAPTURE(targets);
  CHECK(diagnostics_of(with_targets(targets)) == expected);
}

TEST_CASE("a depends_on cycle is an error that names the cycle once", "[config][depends_on]") {
  auto [targets, expected] = GENERATE(table<std::string, Lines>({
      {"  - {name: a, dns: {name: a.example}, depends_on: [b]}\n"
       "  - {name: b, dns: {name: b.example}, depends_on: [c]}\n"
       "  - {name: c, dns: {name: c.example}, depends_on: [a]}\n",
       {"test.yaml:6:52: error: targets[0] 'a': depends_on cycle: a -> b -> c -> a (a target "
        "cannot depend on itself through others)"}},
      // The cycle is named from its first target in the file, wherever the
      // walk entered it; targets outside it are not named.
      {"  - {name: app, dns: {name: p.example}, depends_on: [c]}\n"
       "  - {name: c, dns: {name: c.example}, depends_on: [b]}\n"
       "  - {name: b, dns: {name: b.example}, depends_on: [c]}\n",
       {"test.yaml:7:52: error: targets[1] 'c': depends_on cycle: c -> b -> c (a target cannot "
        "depend on itself through others)"}},
      // Two cycles, each named once.
      {"  - {name: a, dns: {name: a.example}, depends_on: [b]}\n"
       "  - {name: b, dns: {name: b.example}, depends_on: [a, d]}\n"
       "  - {name: d, dns: {name: d.example}, depends_on: [b]}\n",
       {"test.yaml:6:52: error: targets[0] 'a': depends_on cycle: a -> b -> a (a target cannot "
        "depend on itself through others)",
        "test.yaml:7:55: error: targets[1] 'b': depends_on cycle: b -> d -> b (a target cannot "
        "depend on itself through others)"}},
  }));
  CAPTURE(targets);
  CHECK(diagnostics_of(with_targets(targets)) == expected);
}

TEST_CASE("a long depends_on chain is checked without deep recursion", "[config][depends_on]") {
  std::string targets;
  constexpr int k_chain = 5'000;
  for (int i = 0; i < k_chain; ++i) {
    targets += "  - {name: t" + std::to_string(i) + ", dns: {name: t.example}" +
               (i + 1 < k_chain ? ", depends_on: [t" + std::to_string(i + 1) + "]" : "") + "}\n";
  }
  CHECK(diagnostics_of(with_targets(targets)).empty());
}
