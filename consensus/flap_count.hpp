// The flap rule shared by targets (Engine::judge) and groups
// (Engine::publish_group): more than flap_limit changes of the judged
// verdict inside flap_window hold it as disputed. Pure.
#pragma once

#include "consensus/time_format.hpp"
#include "consensus/types.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::consensus {

// Records `kind` as the judged verdict at `now` (a change when it differs
// from `judged`), forgets changes older than `window`, and returns the
// flapping reason when more than `limit` remain, else nullopt. `now_reason`
// is what the rules say now, appended to the reason.
// Why a vector: a target's list holds a few times at most, and an empty
// std::deque allocated 576 bytes (5.8 MB at 10,000 targets).
inline std::optional<std::string> flapping_reason(std::vector<MonoTime>& changes,
                                                  VerdictKind& judged, VerdictKind kind,
                                                  MonoTime now, Duration window, int limit,
                                                  const std::string& now_reason) {
  if (kind != judged) {
    changes.push_back(now);
    judged = kind;
  }
  const auto kept =
      std::find_if(changes.begin(), changes.end(), [&](MonoTime at) { return now - at <= window; });
  changes.erase(changes.begin(), kept);
  if (static_cast<int>(changes.size()) <= limit) {
    return std::nullopt;
  }
  return "flapping: " + std::to_string(changes.size()) + " verdict changes in " +
         format_duration(window) + " (flap_limit " + std::to_string(limit) + "); now " + now_reason;
}

// A verdict restored while it was held as flapping: the changes that made it
// so were counted in memory only. Its window starts over full (one change
// past the limit, now), so the hold lasts at least one flap_window more.
// Why not lifted: a daemon that crash-loops would never hold on flapping.
inline void refill_flap_window(std::vector<MonoTime>& changes, int limit, MonoTime now) {
  while (static_cast<int>(changes.size()) <= limit) {
    changes.push_back(now);
  }
}

}  // namespace crosscheck::consensus
