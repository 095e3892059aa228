#include "consensus/hysteresis.hpp"

#include <utility>

namespace crosscheck::consensus {

void VoteTracker::observe(const Observation& observation, const HysteresisRules& rules) {
  last_ = observation;
  if (observation.outcome == Outcome::ObserverError) {
    return;
  }
  // Why reset after a gap: a vote that went stale says nothing about now.
  // A vantage back after 5 minutes of silence must earn its vote again with
  // `rise` ups or `fall` downs, like a vantage that just started.
  if (stale_at(observation.at.mono, rules)) {
    settled_ = Vote::Unknown;
    up_streak_ = 0;
    down_streak_ = 0;
  }
  last_observed_ = observation.at;
  if (observation.outcome == Outcome::Up) {
    ++up_streak_;
    down_streak_ = 0;
    if (up_streak_ >= rules.rise) {
      settled_ = Vote::Up;
    }
  } else {
    ++down_streak_;
    up_streak_ = 0;
    if (down_streak_ >= rules.fall) {
      settled_ = Vote::Down;
    }
  }
}

void VoteTracker::assign(Vote vote, std::optional<Instant> observed_at,
                         std::optional<Observation> last) {
  settled_ = vote;
  up_streak_ = 0;
  down_streak_ = 0;
  last_observed_ = observed_at;
  last_ = std::move(last);
}

bool VoteTracker::stale_at(MonoTime now, const HysteresisRules& rules) const {
  return !last_observed_ || now - last_observed_->mono > rules.stale_after;
}

Vote VoteTracker::vote_at(MonoTime now, const HysteresisRules& rules) const {
  return stale_at(now, rules) ? Vote::Unknown : settled_;
}

}  // namespace crosscheck::consensus
