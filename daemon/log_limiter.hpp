// At most one log line per key per period, so a scanner hammering the API
// port cannot flood the journal. Pure: the caller passes the monotonic time.
#pragma once

#include "consensus/types.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::daemon {

class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds period) : period_(period) {}

  // nullopt: hold this line back (counted). Otherwise log it now, with the
  // number of lines for `key` held back since the last one logged.
  // Worked example, period 1 min: admit at 0 s -> 0; at 10 s and 20 s ->
  // nullopt; at 61 s -> 2.
  std::optional<std::uint64_t> admit(std::string_view key, consensus::MonoTime now);

 private:
  struct Entry {
    consensus::MonoTime last;
    std::uint64_t suppressed = 0;
  };
  std::chrono::milliseconds period_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace crosscheck::daemon
