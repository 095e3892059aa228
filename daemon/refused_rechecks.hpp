// Refused rechecks, tallied: one audit line per (principal, target, error)
// per window, carrying how many were refused in it, instead of one line per
// request (a token looping on a 429 wrote ~2000 lines a second, kept for the
// retention). Pure: the caller passes the monotonic time and writes the lines.
#pragma once

#include "consensus/types.hpp"
#include "storage/types.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace crosscheck::daemon {

class RefusedRechecks {
 public:
  explicit RefusedRechecks(std::chrono::milliseconds window) : window_(window) {}

  // Counts one refusal (`line`: its audit line, outcome refused; `error`:
  // the answer's code, "rate_limited") at `now`. The first refusal of a key
  // opens its window; later ones in it only count (the newest `why` wins).
  void refuse(storage::AuditEntry line, const std::string& error, consensus::MonoTime now);
  // The lines of every window that has ended by `now` (opened at least one
  // window ago), removed. Worked example, window 10 s: refusals at 0 s, 1 s
  // and 9 s -> due(9.9 s) is empty, due(10 s) is one line with detail
  // "refused 3 times in 10s: rate_limited".
  std::vector<storage::AuditEntry> due(consensus::MonoTime now);
  // Every open window's line, whatever its age (at stop).
  std::vector<storage::AuditEntry> drain();

 private:
  struct Window {
    consensus::MonoTime opened;
    storage::AuditEntry line;
    std::string error;
    std::uint64_t count = 0;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // principal, target, error
  storage::AuditEntry close(Window& window) const;

  std::chrono::milliseconds window_;
  std::map<Key, Window> open_;
};

}  // namespace crosscheck::daemon
