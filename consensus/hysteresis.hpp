// Per (target, vantage) vote with rise/fall hysteresis and staleness.
// Pure state machine: observations and `now` in, a Vote out; no I/O.
#pragma once

#include "consensus/types.hpp"

#include <optional>

namespace crosscheck::consensus {

struct HysteresisRules {
  int rise = 2;
  int fall = 3;
  Duration stale_after{30'000};
};

class VoteTracker {
 public:
  // Feeds one observation. Up and Down move the streaks; ObserverError is
  // kept as the latest detail but neither refreshes nor moves the vote: the
  // vantage did not observe the target, so its vote ages toward unknown.
  void observe(const Observation& observation, const HysteresisRules& rules);

  // Takes a vote a peer already settled (its own hysteresis ran there):
  // `observed_at` is its last real observation on our clock, nullopt when it
  // never observed. Staleness then works as for local votes.
  void assign(Vote vote, std::optional<Instant> observed_at, std::optional<Observation> last);

  // The vote at `now`: Unknown once the last real observation is older than
  // stale_after (an observation exactly stale_after old still counts).
  Vote vote_at(MonoTime now, const HysteresisRules& rules) const;
  bool stale_at(MonoTime now, const HysteresisRules& rules) const;

  const std::optional<Observation>& last() const { return last_; }
  std::optional<Instant> last_observed() const { return last_observed_; }

 private:
  Vote settled_ = Vote::Unknown;  // the vote before staleness
  int up_streak_ = 0;
  int down_streak_ = 0;
  std::optional<Instant> last_observed_;  // last Up or Down
  std::optional<Observation> last_;       // last of any outcome
};

}  // namespace crosscheck::consensus
