// Maintenance windows (issue 17 part 2): planned work during which probing
// goes on and verdicts are shown, but no gate proceeds and escalations are
// silenced. Recurring windows come from the config (a weekday set, a start
// time with an explicit UTC offset, a duration: Debian 12's compiler has no
// time-zone database, so "Europe/Paris" cannot be honoured and is not
// offered); ad-hoc ones from the API (a reason, who, a ttl). Pure.
#pragma once

#include "consensus/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::consensus {

struct RecurringWindow {
  std::string name;
  std::vector<std::string> targets;
  // Bit d set: the window starts on weekday d of its own offset (0 Monday ..
  // 6 Sunday). 0x7f: every day.
  std::uint8_t days = 0x7f;
  int start_minute = 0;    // minutes after local midnight, 0..1439
  int offset_minutes = 0;  // local time = UTC + offset (+01:00 -> 60)
  Duration duration{0};    // > 0, at most one week
};

// The occurrence of `window` that contains `now`, as [start, end) in UTC,
// or nullopt. An occurrence starts on a listed weekday of the window's own
// offset and may run past midnight (Sunday 23:00 for 3h ends Monday 02:00).
// Example: days mon, start 02:00, offset +01:00, 2h -> Monday 01:00Z to
// 03:00Z; at Monday 02:59:59Z it is active, at 03:00:00Z it is not.
struct Occurrence {
  WallTime start;
  WallTime end;
};
std::optional<Occurrence> active_occurrence(const RecurringWindow& window, WallTime now);

// The next occurrence starting after `now` (for `GET /v1/maintenance`).
std::optional<Occurrence> next_occurrence(const RecurringWindow& window, WallTime now);

// "mon,wed" / "every day", "02:00+01:00" as a config would say them.
std::string describe_days(std::uint8_t days);
std::string describe_start(const RecurringWindow& window);

}  // namespace crosscheck::consensus
