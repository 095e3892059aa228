#include "daemon/log_limiter.hpp"

namespace crosscheck::daemon {

std::optional<std::uint64_t> LogLimiter::admit(std::string_view key, consensus::MonoTime now) {
  const auto found = entries_.find(key);
  if (found == entries_.end()) {
    entries_.emplace(std::string(key), Entry{now, 0});
    return 0;
  }
  Entry& entry = found->second;
  if (now - entry.last < period_) {
    ++entry.suppressed;
    return std::nullopt;
  }
  const std::uint64_t held_back = entry.suppressed;
  entry = Entry{now, 0};
  return held_back;
}

}  // namespace crosscheck::daemon
