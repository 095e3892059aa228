// `maintenance:`: recurring windows, read with explicit UTC offsets.
#include "config/config.hpp"
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::config;
using namespace crosscheck::config::test;
using namespace std::chrono_literals;

TEST_CASE("a maintenance window is read with its days, start, offset and duration",
          "[config][maintenance]") {
  const auto config =
      load_valid(std::string(k_valid_tail) +
                 "maintenance:\n"
                 "  - name: db-upgrade\n"
                 "    targets: [t]\n"
                 "    days: [sun, wed]\n"
                 "    start: '02:30'\n"
                 "    utc_offset: '-05:00'\n"
                 "    duration: 90m\n"
                 "  - {name: nightly, targets: [t], start: '23:00', duration: 2h}\n");
  REQUIRE(config.maintenance.size() == 2);
  const auto& first = config.maintenance[0];
  CHECK(first.name == "db-upgrade");
  CHECK(first.targets == std::vector<std::string>{"t"});
  CHECK(first.days == ((1 << 6) | (1 << 2)));
  CHECK(first.start_minute == 150);
  CHECK(first.offset_minutes == -300);
  CHECK(first.duration == 90min);
  CHECK(config.maintenance[1].days == 0x7f);
  CHECK(config.maintenance[1].offset_minutes == 0);
}

TEST_CASE("a bad maintenance window is refused with the reason", "[config][maintenance]") {
  auto [entry, expected] = GENERATE(table<std::string, std::string>({
      {"  - {name: w, targets: [nope], start: '02:00', duration: 1h}\n",
       "test.yaml:8:25: error: unknown target 'nope' in maintenance[0].targets[0]: a maintenance "
       "window names targets of `targets:` (or group:NAME)"},
      {"  - {name: w, targets: ['group:nope'], start: '02:00', duration: 1h}\n",
       "test.yaml:8:25: error: unknown group 'group:nope' in maintenance[0].targets[0]: a "
       "maintenance window names groups of `groups:` as group:NAME"},
      {"  - {name: w, targets: [t], start: '2:00', duration: 1h}\n",
       "test.yaml:8:36: error: invalid start '2:00' for maintenance[0].start: expected HH:MM "
       "(00:00 to 23:59), quoted; the offset goes in utc_offset"},
      {"  - {name: w, targets: [t], start: '24:00', duration: 1h}\n",
       "test.yaml:8:36: error: invalid start '24:00' for maintenance[0].start: expected HH:MM "
       "(00:00 to 23:59), quoted; the offset goes in utc_offset"},
      {"  - {name: w, targets: [t], start: '02:00', utc_offset: Europe/Paris, duration: 1h}\n",
       "test.yaml:8:57: error: invalid utc_offset 'Europe/Paris' for maintenance[0].utc_offset: "
       "expected +HH:MM up to +14:00, -HH:MM down to -12:00, or Z (time-zone names are not "
       "supported: write the offset, and a second window for daylight saving time)"},
      // No place is 13 hours behind UTC: a typo for +13:00 (Tonga).
      {"  - {name: w, targets: [t], start: '02:00', utc_offset: '-13:00', duration: 1h}\n",
       "test.yaml:8:57: error: invalid utc_offset '-13:00' for maintenance[0].utc_offset: "
       "expected +HH:MM up to +14:00, -HH:MM down to -12:00, or Z (time-zone names are not "
       "supported: write the offset, and a second window for daylight saving time)"},
      {"  - {name: w, targets: [t], start: '02:00', utc_offset: '+14:01', duration: 1h}\n",
       "test.yaml:8:57: error: invalid utc_offset '+14:01' for maintenance[0].utc_offset: "
       "expected +HH:MM up to +14:00, -HH:MM down to -12:00, or Z (time-zone names are not "
       "supported: write the offset, and a second window for daylight saving time)"},
      {"  - {name: w, targets: [t], days: [monday], start: '02:00', duration: 1h}\n",
       "test.yaml:8:36: error: invalid day 'monday' for maintenance[0].days[0]: expected mon, "
       "tue, wed, thu, fri, sat or sun"},
      {"  - {name: w, targets: [t], start: '02:00', duration: 8d}\n",
       "test.yaml:8:55: error: maintenance[0].duration must be at most 7d (a weekly window)"},
      {"  - {name: w, targets: [], start: '02:00', duration: 1h}\n",
       "test.yaml:8:24: error: maintenance[0].targets must list at least one target"},
      {"  - {name: w, targets: [t], start: '02:00', duration: 1h}\n"
       "  - {name: w, targets: [t], start: '03:00', duration: 1h}\n",
       "test.yaml:9:12: error: maintenance window 'w' is defined twice"},
  }));
  INFO(entry);
  const auto lines = diagnostics_of(std::string(k_valid_tail) + "maintenance:\n" + entry);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0] == expected);
}

TEST_CASE("a cooldown is gate.cooldown unless the target sets its own", "[config][cooldown]") {
  const auto plain = load_valid(k_valid_tail);
  CHECK(plain.gate.cooldown == 1h);
  CHECK(plain.targets[0].cooldown == 1h);
  const auto config =
      load_valid(std::string("gate: {cooldown: 30m}\n") + std::string(k_valid_vantages) +
                 "targets:\n"
                 "  - {name: t, dns: {name: t.example}}\n"
                 "  - {name: u, dns: {name: u.example}, cooldown: 0s}\n"
                 "  - {name: v, dns: {name: v.example}, cooldown: 2h}\n");
  CHECK(config.gate.cooldown == 30min);
  CHECK(config.targets[0].cooldown == 30min);
  CHECK(config.targets[1].cooldown == 0s);
  CHECK(config.targets[2].cooldown == 2h);
}

TEST_CASE("a bad cooldown is refused with the reason", "[config][cooldown]") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"gate: {cooldown: 31d}\n",
       "test.yaml:1:18: error: cooldown 31d for gate.cooldown is longer than 30d: a cooldown "
       "holds every gate on the target"},
      {"gate: {cooldown: -1s}\n", "test.yaml:1:18: error: invalid duration"},
      {"gate: {cooldwn: 1h}\n", "test.yaml:1:8: error: unknown key 'cooldwn'"},
  }));
  INFO(text);
  const auto lines = diagnostics_of(text + std::string(k_valid_tail));
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines[0], Catch::StartsWith(expected));
}
