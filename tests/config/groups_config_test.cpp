// `groups:` and `targets[].priority` (config/group_reader.cpp).
#include "config/config.hpp"
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::config;
using namespace crosscheck::config::test;
using namespace std::chrono_literals;

namespace {

const std::string k_three_targets = std::string(k_valid_vantages) +
                                    "targets:\n"
                                    "  - {name: x, dns: {name: x.example}, priority: 7}\n"
                                    "  - {name: y, dns: {name: y.example}}\n"
                                    "  - {name: z, dns: {name: z.example}}\n"
                                    "  - {name: c, dns: {name: c.example}, canary: true}\n";

}  // namespace

TEST_CASE("a group is read with its members, threshold and own settings", "[config][groups]") {
  const auto config = load_valid("gate: {cooldown: 20m}\n" + k_three_targets +
                                 "groups:\n"
                                 "  - name: cluster\n"
                                 "    members: [x, y, z]\n"
                                 "    healthy_at_least: 2\n"
                                 "    max_unhealthy_fraction: 0.7\n"
                                 "    flap_limit: 2\n"
                                 "    flap_window: 5m\n"
                                 "  - {name: pair, members: [y, z], healthy_at_least: 1, "
                                 "cooldown: 2h}\n"
                                 "maintenance:\n"
                                 "  - {name: w, targets: ['group:cluster', x], start: '02:00', "
                                 "duration: 1h}\n");
  REQUIRE(config.groups.size() == 2);
  const auto& cluster = config.groups[0];
  CHECK(cluster.name == "cluster");
  CHECK(cluster.members == std::vector<std::string>{"x", "y", "z"});
  CHECK(cluster.healthy_at_least == 2);
  CHECK(cluster.max_unhealthy_fraction == 0.7);
  CHECK(cluster.flap_limit == 2);
  CHECK(cluster.flap_window == 5min);
  CHECK(cluster.cooldown == 20min);
  CHECK(config.groups[1].cooldown == 2h);
  CHECK_FALSE(config.groups[1].max_unhealthy_fraction);
  CHECK(config.targets[0].priority == 7);
  CHECK(config.targets[1].priority == 0);
  CHECK(config.names("group:cluster"));
  CHECK(config.names("x"));
  CHECK_FALSE(config.names("group:x"));
  CHECK_FALSE(config.names("cluster"));
  CHECK(config.related_names("y") == std::vector<std::string>{"group:cluster", "group:pair"});
  // A group holds its members and the groups sharing one with it.
  CHECK(config.related_names("group:pair") == std::vector<std::string>{"y", "z", "group:cluster"});
  CHECK(config.related_names("group:cluster") ==
        std::vector<std::string>{"x", "y", "z", "group:pair"});
  CHECK(config.cooldown_of("group:pair") == 2h);
  CHECK(config.cooldown_of("x") == 20min);
  CHECK_FALSE(config.cooldown_of("group:nope"));
  CHECK(config.maintenance[0].targets == std::vector<std::string>{"group:cluster", "x"});
}

TEST_CASE("a bad group is refused with the reason", "[config][groups]") {
  auto [entry, expected] = GENERATE(table<std::string, std::string>({
      {"  - {name: g, members: [x, nope], healthy_at_least: 1}\n",
       "error: unknown target 'nope' in groups[0].members[1]: a group's members are targets of "
       "`targets:`"},
      {"  - {name: g, members: [x, c], healthy_at_least: 1}\n",
       "error: groups[0].members[1] 'c' is a canary"},
      {"  - {name: g, members: [x, x], healthy_at_least: 1}\n",
       "error: groups[0].members[1] 'x' is listed twice in groups[0].members"},
      {"  - {name: g, members: [x, y], healthy_at_least: 3}\n",
       "error: groups[0].healthy_at_least is 3 but the group has 2 members: it could never be "
       "healthy"},
      {"  - {name: g, members: [x, y], healthy_at_least: 0}\n", "error: "},
      {"  - {name: g, members: [x, y]}\n", "error: missing required key 'healthy_at_least'"},
      {"  - {name: g, members: [], healthy_at_least: 1}\n",
       "error: groups[0].members must list at least one target"},
      {"  - {name: 'g:1', members: [x], healthy_at_least: 1}\n", "error: invalid name 'g:1'"},
      {"  - {name: g, members: [x], healthy_at_least: 1}\n"
       "  - {name: g, members: [y], healthy_at_least: 1}\n",
       "error: duplicate group name 'g' in groups[1]"},
      {"  - {name: g, members: [x], healthy_at_least: 1, max_unhealthy_fraction: 2}\n", "error: "},
      {"  - {name: g, members: [x], healthy_at_least: 1, flap_limit: 0}\n", "error: "},
      {"  - {name: g, members: [x, y, z], healthy_at_least: 2, max_unhealthy_fraction: 0.4}\n",
       "error: groups[0].max_unhealthy_fraction lets at most 1 of 3 members be unhealthy, but the "
       "group is unhealthy only with 2: it could never be confirmed; raise it to at least 2/3"},
      {"  - {name: g, members: [x], healthy_at_least: 1, color: red}\n",
       "error: unknown key 'color'"},
  }));
  INFO(entry);
  const auto lines = diagnostics_of(k_three_targets + "groups:\n" + entry);
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines[0], Catch::Contains(expected));
}

TEST_CASE("a priority out of bounds is refused", "[config][groups]") {
  const auto lines = diagnostics_of(std::string(k_valid_vantages) +
                                    "targets:\n"
                                    "  - {name: x, dns: {name: x.example}, priority: 1001}\n");
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("priority"));
}
