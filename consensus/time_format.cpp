#include "consensus/time_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>

namespace crosscheck::consensus {
namespace {

// Reads exactly `digits` decimal digits at text[pos].
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::string format_rfc3339(WallTime at) {
  using namespace std::chrono;
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{at - day};
  std::array<char, 40> buffer{};
  const int written = std::snprintf(
      buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
      static_cast<int>(time.seconds().count()));
  std::string out(buffer.data(), static_cast<std::size_t>(written));
  if (const auto ms = time.subseconds().count(); ms != 0) {
    std::array<char, 8> fraction{};
    std::snprintf(fraction.data(), fraction.size(), ".%03d", static_cast<int>(ms));
    out += fraction.data();
  }
  out += 'Z';
  return out;
}

std::optional<WallTime> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  // 2025-10-20T06:48:00[.fff][Z|+hh:mm|-hh:mm]
  const auto y = read_digits(text, 0, 4);
  const auto mo = read_digits(text, 5, 2);
  const auto d = read_digits(text, 8, 2);
  const auto h = read_digits(text, 11, 2);
  const auto mi = read_digits(text, 14, 2);
  const auto s = read_digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const auto oh = read_digits(text, pos + 1, 2);
    const auto om = read_digits(text, pos + 4, 2);
    if (!oh || !om || text[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset = hours{*oh} + minutes{*om};
    if (text[pos] == '-') {
      offset = -offset;
    }
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s} + milliseconds{millis};
  return time_point_cast<milliseconds>(local - offset);
}

namespace {

struct DurationUnit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Largest first, so format_duration picks the shortest exact spelling.
constexpr std::array<DurationUnit, 5> k_duration_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// Why a ceiling: a Duration is added to time points kept in nanoseconds
// (about 292 years of range); 100 years can never overflow one, and no health
// check needs longer. "36500d" is accepted, "36501d" is not.
constexpr std::int64_t k_max_duration_ms = 36'500LL * 86'400'000;

}  // namespace

std::string format_duration(Duration d) {
  const std::int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  for (const auto& unit : k_duration_units) {
    if (ms % unit.milliseconds == 0) {
      return std::to_string(ms / unit.milliseconds) + std::string(unit.suffix);
    }
  }
  return std::to_string(ms) + "ms";  // not reached: every count divides by 1
}

std::optional<Duration> parse_duration(std::string_view text) {
  const auto* const digits_end =
      std::find_if(text.begin(), text.end(), [](char c) { return c < '0' || c > '9'; });
  const auto digit_count = static_cast<std::size_t>(digits_end - text.begin());
  if (digit_count == 0) {
    return std::nullopt;
  }
  std::uint64_t number = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digit_count, number);
  if (ec != std::errc{} || ptr != text.data() + digit_count) {
    return std::nullopt;
  }
  const std::string_view suffix = text.substr(digit_count);
  for (const auto& unit : k_duration_units) {
    if (suffix != unit.suffix) {
      continue;
    }
    if (number > static_cast<std::uint64_t>(k_max_duration_ms / unit.milliseconds)) {
      return std::nullopt;
    }
    return Duration{static_cast<std::int64_t>(number) * unit.milliseconds};
  }
  return std::nullopt;
}

std::string cert_expiry_words(WallTime not_after, WallTime now) {
  const auto days = std::chrono::floor<std::chrono::days>(not_after - now).count();
  if (not_after < now) {
    const auto ago = -days - 1;  // floor(-0.5 days) is -1: "expired 0 days ago"
    return "expired " + std::to_string(ago) + (ago == 1 ? " day ago" : " days ago");
  }
  return "expires in " + std::to_string(days) + (days == 1 ? " day" : " days");
}

std::string signature_expiry_words(WallTime expires, WallTime now) {
  using std::chrono::floor;
  const bool expired = expires < now;
  const auto span = expired ? now - expires : expires - now;
  const bool in_hours = span < std::chrono::days{2};
  const auto count =
      in_hours ? floor<std::chrono::hours>(span).count() : floor<std::chrono::days>(span).count();
  const std::string amount =
      std::to_string(count) + (in_hours ? " hour" : " day") + (count == 1 ? "" : "s");
  return expired ? "expired " + amount + " ago" : "expire in " + amount;
}

}  // namespace crosscheck::consensus
