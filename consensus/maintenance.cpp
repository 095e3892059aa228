#include "consensus/maintenance.hpp"

#include <array>
#include <cstdio>

namespace crosscheck::consensus {
namespace {

constexpr std::int64_t k_day_ms = 86'400'000;
constexpr std::array<const char*, 7> k_day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday 0).
int weekday_of(std::int64_t day) {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

struct Local {
  std::int64_t ms;   // local time, ms since the epoch
  std::int64_t day;  // its day number
};

Local local_of(const RecurringWindow& window, WallTime now) {
  const std::int64_t ms =
      now.time_since_epoch().count() + static_cast<std::int64_t>(window.offset_minutes) * 60'000;
  return Local{ms, floor_div(ms, k_day_ms)};
}

// The occurrence starting on local day `day`, if the window runs that day.
std::optional<Occurrence> occurrence_on(const RecurringWindow& window, std::int64_t day) {
  if ((window.days & (1U << weekday_of(day))) == 0) {
    return std::nullopt;
  }
  const std::int64_t start_local =
      day * k_day_ms + static_cast<std::int64_t>(window.start_minute) * 60'000;
  const WallTime start{Duration{start_local - std::int64_t{window.offset_minutes} * 60'000}};
  return Occurrence{start, start + window.duration};
}

// Days to look back (or ahead): an occurrence lasts at most a week.
std::int64_t reach(const RecurringWindow& window) {
  return window.duration.count() / k_day_ms + 1;
}

}  // namespace

std::optional<Occurrence> active_occurrence(const RecurringWindow& window, WallTime now) {
  if (window.duration <= Duration::zero()) {
    return std::nullopt;
  }
  const auto local = local_of(window, now);
  // Latest start first: with overlapping occurrences, the one ending last.
  for (std::int64_t back = 0; back <= reach(window); ++back) {
    const auto found = occurrence_on(window, local.day - back);
    if (found && found->start <= now && now < found->end) {
      return found;
    }
  }
  return std::nullopt;
}

std::optional<Occurrence> next_occurrence(const RecurringWindow& window, WallTime now) {
  if (window.duration <= Duration::zero() || (window.days & 0x7f) == 0) {
    return std::nullopt;
  }
  const auto local = local_of(window, now);
  for (std::int64_t ahead = 0; ahead <= 8; ++ahead) {
    const auto found = occurrence_on(window, local.day + ahead);
    if (found && found->start > now) {
      return found;
    }
  }
  return std::nullopt;
}

std::string describe_days(std::uint8_t days) {
  if ((days & 0x7f) == 0x7f) {
    return "every day";
  }
  std::string out;
  for (std::size_t d = 0; d < k_day_names.size(); ++d) {
    if ((days & (1U << d)) != 0) {
      out += (out.empty() ? "" : ",") + std::string(k_day_names[d]);
    }
  }
  return out;
}

std::string describe_start(const RecurringWindow& window) {
  const int offset = window.offset_minutes;
  const int magnitude = offset < 0 ? -offset : offset;
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%02d:%02d%c%02d:%02d", window.start_minute / 60,
                window.start_minute % 60, offset < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return text.data();
}

}  // namespace crosscheck::consensus
