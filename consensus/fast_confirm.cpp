#include "consensus/fast_confirm.hpp"

#include <algorithm>

namespace crosscheck::consensus {

bool FastConfirm::observe(const Observation& observation, bool suspect, int fall,
                          const std::vector<std::string>& vantages) {
  const auto key = std::pair(observation.target, observation.vantage);
  const auto found = episodes_.find(observation.target);
  auto* turns = found == episodes_.end() ? nullptr : &found->second.turns_left;
  const auto turn =
      turns == nullptr ? std::map<std::string, int>::iterator{} : turns->find(observation.vantage);
  const bool in_round = turns != nullptr && turn != turns->end();
  if (observation.outcome == Outcome::Up) {
    down_run_.erase(key);
    if (in_round) {
      turns->erase(turn);  // nothing to confirm from it
    }
    return false;
  }
  const int run = observation.outcome == Outcome::Down ? ++down_run_[key] : 0;
  // Every observation of a vantage in a round uses up one of its turns (a
  // scheduled one counts as much as a brought-forward one); an observer
  // error too, so a vantage that cannot observe is not probed again and again.
  if (in_round && (--turn->second <= 0 || run >= fall)) {
    turns->erase(turn);
  }
  // Why a suspect vantage starts nothing, not even the episode's clock: its
  // down is the observer's trouble, and it must never make every domain
  // probe again.
  if (observation.outcome != Outcome::Down || suspect) {
    return false;
  }
  auto& episode = episodes_[observation.target];
  if (found == episodes_.end()) {
    episode.first_down = observation.at.mono;
  }
  episode.last_down = std::max(episode.last_down, observation.at.mono);
  if (!enabled_ || episode.round) {
    return false;  // one round per episode, however many downs follow
  }
  episode.round = true;
  ++rounds_started_;
  // Each vantage must see `fall` downs in a row for its vote to turn down:
  // it takes the turns it still lacks (this one has `run` already).
  for (const auto& vantage : vantages) {
    const auto seen = down_run_.find(std::pair(observation.target, vantage));
    const int lacking = fall - (seen == down_run_.end() ? 0 : seen->second);
    if (lacking > 0) {
      episode.turns_left[vantage] = lacking;
    }
  }
  return true;
}

bool FastConfirm::wants_turn(const std::string& target, const std::string& vantage) const {
  const auto found = episodes_.find(target);
  if (found == episodes_.end() || !found->second.round) {
    return false;
  }
  const auto& turns = found->second.turns_left;
  if (const auto own = turns.find(vantage); own != turns.end()) {
    return own->second > 0;
  }
  return false;
}

std::optional<Duration> FastConfirm::published(const std::string& target, const Verdict& verdict,
                                               const MonoTime& now, Duration quiet) {
  const auto found = episodes_.find(target);
  if (found == episodes_.end()) {
    return std::nullopt;
  }
  auto& episode = found->second;
  if (verdict.kind == VerdictKind::Unhealthy && verdict.fresh && !episode.confirmed) {
    episode.confirmed = true;
    return std::chrono::duration_cast<Duration>(now - episode.first_down);
  }
  // Why a quiet interval too: a vote needs `fall` downs, so a healthy
  // verdict with no down vote can follow a first down at once; the episode
  // (and its one round) ends only once every vantage has probed since
  // without a down. A domain lying every interval keeps its episode open:
  // one round for the whole lie.
  if (verdict.kind == VerdictKind::Healthy && verdict.votes.down == 0 &&
      now - episode.last_down >= quiet) {
    episodes_.erase(found);
  }
  return std::nullopt;
}

void FastConfirm::forget(const std::string& target) {
  episodes_.erase(target);
  std::erase_if(down_run_, [&](const auto& entry) { return entry.first.first == target; });
}

}  // namespace crosscheck::consensus
