// `maintenance:`: recurring windows during which gates hold and new
// escalations are silenced (consensus/maintenance.hpp). Part of
// load_config() (loader.cpp); read after `targets:`, whose names it checks.
#include "config/sections.hpp"

#include <algorithm>
#include <array>

namespace crosscheck::config::detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 6> k_window_keys{"name",  "targets",    "days",
                                                        "start", "utc_offset", "duration"};
constexpr std::array<std::string_view, 7> k_days{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr auto k_longest_window = std::chrono::hours(7 * 24);
// The offsets in use run from UTC-12:00 (Baker Island) to UTC+14:00
// (Kiribati): -13:00 is a typo for +13:00, not a place.
constexpr int k_widest_east = 14 * 60;
constexpr int k_widest_west = 12 * 60;

bool two_digits(std::string_view text, std::size_t at, int& out) {
  if (at + 2 > text.size() || text[at] < '0' || text[at] > '9' || text[at + 1] < '0' ||
      text[at + 1] > '9') {
    return false;
  }
  out = (text[at] - '0') * 10 + (text[at + 1] - '0');
  return true;
}

// "HH:MM", 00:00 to 23:59.
std::optional<int> parse_clock(std::string_view text) {
  int hours = 0;
  int minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !two_digits(text, 0, hours) ||
      !two_digits(text, 3, minutes) || hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return hours * 60 + minutes;
}

// "+HH:MM" / "-HH:MM" / "Z", within +-14:00.
std::optional<int> parse_offset(std::string_view text) {
  if (text == "Z" || text == "UTC") {
    return 0;
  }
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-')) {
    return std::nullopt;
  }
  const auto clock = parse_clock(text.substr(1));
  if (!clock || *clock > (text[0] == '-' ? k_widest_west : k_widest_east)) {
    return std::nullopt;
  }
  return text[0] == '-' ? -*clock : *clock;
}

std::optional<std::uint8_t> read_days(const Field& field, Diagnostics& diags) {
  if (!expect_sequence(field, diags)) {
    return std::nullopt;
  }
  if (field.node.size() == 0) {
    diags.error(field.pos, field.path + " must list at least one day; without the key, the " +
                               "window runs every day");
    return std::nullopt;
  }
  std::uint8_t days = 0;
  bool clean = true;
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const auto text = read_string(item, diags);
    if (!text) {
      clean = false;
      continue;
    }
    const auto found = std::find(k_days.begin(), k_days.end(), *text);
    if (found == k_days.end()) {
      diags.error(item.pos, "invalid day " + quote(*text) + " for " + item.path +
                                ": expected mon, tue, wed, thu, fri, sat or sun");
      clean = false;
      continue;
    }
    const auto bit = static_cast<std::uint8_t>(1U << (found - k_days.begin()));
    if ((days & bit) != 0) {
      diags.error(item.pos, item.path + " " + quote(*text) + " is listed twice in " + field.path);
      clean = false;
    }
    days |= bit;
  }
  return clean ? std::optional(days) : std::nullopt;
}

std::vector<std::string> read_window_targets(const Field& field, LoadContext& ctx) {
  std::vector<std::string> names;
  if (!expect_sequence(field, ctx.diags)) {
    return names;
  }
  if (field.node.size() == 0) {
    ctx.diags.error(field.pos, field.path + " must list at least one target");
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const auto name = read_string(item, ctx.diags);
    if (!name) {
      continue;
    }
    const bool group = name->starts_with(consensus::k_group_prefix);
    if (group && ctx.config.find_group(name->substr(consensus::k_group_prefix.size())) == nullptr) {
      ctx.diags.error(item.pos, "unknown group " + quote(*name) + " in " + item.path +
                                    ": a maintenance window names groups of `groups:` as " +
                                    "group:NAME");
    } else if (!group && ctx.config.find_target(*name) == nullptr) {
      ctx.diags.error(item.pos, "unknown target " + quote(*name) + " in " + item.path +
                                    ": a maintenance window names targets of `targets:` " +
                                    "(or group:NAME)");
    } else if (std::find(names.begin(), names.end(), *name) != names.end()) {
      ctx.diags.error(item.pos,
                      item.path + " " + quote(*name) + " is listed twice in " + field.path);
    } else {
      names.push_back(*name);
    }
  }
  return names;
}

}  // namespace

void read_maintenance(const Field& field, LoadContext& ctx) {
  if (field.node.IsNull()) {
    return;  // "maintenance:" with every entry commented out
  }
  if (!expect_sequence(field, ctx.diags)) {
    return;
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const MapReader map(item, Keys(k_window_keys), ctx.diags);
    if (!map.is_mapping()) {
      continue;
    }
    consensus::RecurringWindow window;
    EntrySource source{item.pos, std::nullopt};
    window.name = read_entry_name(map, source, ctx.diags).value_or("");
    const bool named_before =
        std::any_of(ctx.config.maintenance.begin(), ctx.config.maintenance.end(),
                    [&](const auto& other) { return other.name == window.name; });
    if (!window.name.empty() && named_before) {
      ctx.diags.error(source.name_pos.value_or(item.pos),
                      "maintenance window " + quote(window.name) + " is defined twice");
    }
    if (auto targets = map.require("targets")) {
      window.targets = read_window_targets(*targets, ctx);
    }
    if (auto days = map.get("days")) {
      window.days = read_days(*days, ctx.diags).value_or(window.days);
    }
    if (auto start = map.require("start")) {
      const auto text = read_string(*start, ctx.diags);
      const auto minute = text ? parse_clock(*text) : std::nullopt;
      if (text && !minute) {
        ctx.diags.error(start->pos, "invalid start " + quote(*text) + " for " + start->path +
                                        ": expected HH:MM (00:00 to 23:59), quoted; the offset "
                                        "goes in utc_offset");
      }
      window.start_minute = minute.value_or(0);
    }
    if (auto offset = map.get("utc_offset")) {
      const auto text = read_string(*offset, ctx.diags);
      const auto minutes = text ? parse_offset(*text) : std::nullopt;
      if (text && !minutes) {
        ctx.diags.error(offset->pos,
                        "invalid utc_offset " + quote(*text) + " for " + offset->path +
                            ": expected +HH:MM up to +14:00, -HH:MM down to -12:00, or Z "
                            "(time-zone names "
                            "are not supported: write the offset, and a second window for "
                            "daylight saving time)");
      }
      window.offset_minutes = minutes.value_or(0);
    }
    if (map.require("duration")) {
      if (auto duration = map.duration("duration", ZeroDuration::Rejected)) {
        if (*duration > k_longest_window) {
          ctx.diags.error(map.get("duration")->pos,
                          map.get("duration")->path + " must be at most 7d (a weekly window)");
        }
        window.duration = *duration;
      }
    }
    ctx.config.maintenance.push_back(std::move(window));
  }
}

}  // namespace crosscheck::config::detail
