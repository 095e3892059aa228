// Fast confirmation (docs/configuration.md "fast_confirm"): the first `down`
// observation of a target from a non-suspect vantage opens an episode and,
// when enabled, a coordinated round in which every vantage re-probes the
// target about a second apart until it has seen `fall` downs in a row (or
// an up), so a real outage turns every domain's vote down in seconds, not
// in `fall` intervals. At most one round per target per episode; the
// episode ends once the target is confirmed healthy again. It also times
// each episode's first down observation to its first published fresh
// `unhealthy` (crosscheck_time_to_confirm_seconds). Pure: no clock, no I/O.
#pragma once

#include "consensus/types.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::consensus {

class FastConfirm {
 public:
  explicit FastConfirm(bool enabled = true) : enabled_(enabled) {}
  void set_enabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }

  // One local observation of `observation.target` from `observation.vantage`
  // (a vote needs `fall` downs in a row), `suspect` when that vantage is
  // suspect now; `vantages` are the target's local vantages. True when it
  // opens a round: the caller brings the next probe of every vantage that
  // wants_turn() forward and asks the peers.
  bool observe(const Observation& observation, bool suspect, int fall,
               const std::vector<std::string>& vantages);

  // Whether `vantage` still takes a round turn on `target`: the round is
  // open and it has seen neither an up nor `fall` downs in a row since.
  bool wants_turn(const std::string& target, const std::string& vantage) const;

  // The verdict published for `target` at `now`; `quiet` is how long no
  // down observation may have come before a healthy verdict ends the
  // episode (an interval: every vantage probed up since). Returns the
  // time to confirm once per episode, when it first turns fresh unhealthy.
  std::optional<Duration> published(const std::string& target, const Verdict& verdict,
                                    const MonoTime& now, Duration quiet);

  // Forgets a target (a reload removed it).
  void forget(const std::string& target);

  // Episodes open now, and rounds started since construction (for tests
  // and the log).
  std::size_t open_episodes() const { return episodes_.size(); }
  std::uint64_t rounds_started() const { return rounds_started_; }

 private:
  struct Episode {
    MonoTime first_down;
    MonoTime last_down;
    bool round = false;  // a round was started in this episode
    bool confirmed = false;
    // Round turns each vantage still takes (absent: none).
    std::map<std::string, int> turns_left;
  };

  bool enabled_;
  std::map<std::string, Episode> episodes_;
  // Consecutive downs per (target, vantage), to size each vantage's round.
  std::map<std::pair<std::string, std::string>, int> down_run_;
  std::uint64_t rounds_started_ = 0;
};

}  // namespace crosscheck::consensus
