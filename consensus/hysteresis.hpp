// Per (target, vantage) vote with rise/fall hysteresis and staleness.
// Pure state machine: observations and `now` in, a Vote out; no I/O.
#pragma once

#include "consensus/types.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace crosscheck::consensus {

// A target's latency objective (config `latency: { p90: 300ms, window: 1m }`):
// a vantage whose passing checks inside `window` number at least
// k_min_samples and whose `quantile` of their latency exceeds `threshold`
// votes degraded instead of up. Fewer samples give no latency vote.
struct LatencyObjective {
  double quantile = 0.9;  // 0 < quantile < 1
  Duration threshold{300};
  Duration window{60'000};
  static constexpr std::size_t k_min_samples = 5;
  // The newest samples a window keeps at most (bounds memory whatever the
  // interval): the quantile is then over the newest k_max_samples.
  static constexpr std::size_t k_max_samples = 1024;
  friend bool operator==(const LatencyObjective&, const LatencyObjective&) = default;
};

// The `quantile` of `samples` (nearest rank: the smallest sample with at
// least quantile x n samples at or below it). Example: p90 of 1..10 ms is
// 9 ms, of 1..5 ms is 5 ms. Requires a non-empty input.
double nearest_rank(std::vector<double> samples, double quantile);

struct HysteresisRules {
  int rise = 2;
  int fall = 3;
  Duration stale_after{30'000};
  // Initialised so that the three-field form {rise, fall, stale_after}
  // stays warning-free.
  std::optional<LatencyObjective> latency{};
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
  // stale_after (an observation exactly stale_after old still counts). A
  // settled Up becomes Degraded when the rules' latency objective is broken
  // by the passing checks inside its window ending at `now`.
  Vote vote_at(MonoTime now, const HysteresisRules& rules) const;
  // The latency quantile the objective looks at, over the passing checks
  // inside its window at `now`; nullopt without an objective or with fewer
  // than k_min_samples samples.
  std::optional<double> latency_at(MonoTime now, const HysteresisRules& rules) const;
  // Forgets the latency samples (a reload changed the objective or the check).
  void clear_latency() { samples_.clear(); }
  bool stale_at(MonoTime now, const HysteresisRules& rules) const;

  const std::shared_ptr<const Observation>& last() const { return last_; }
  std::optional<Instant> last_observed() const { return last_observed_; }
  // The certificate notAfter of the newest observation that carried one
  // (observe() only; a check that reached no handshake keeps it).
  std::optional<WallTime> cert_not_after() const { return cert_not_after_; }
  // Likewise the RRSIG expiration over the answer (dns.dnssec).
  std::optional<WallTime> rrsig_expires() const { return rrsig_expires_; }

 private:
  Vote settled_ = Vote::Unknown;  // the vote before staleness
  int up_streak_ = 0;
  int down_streak_ = 0;
  std::optional<Instant> last_observed_;     // last Up or Down
  std::shared_ptr<const Observation> last_;  // last of any outcome
  std::optional<WallTime> cert_not_after_;
  std::optional<WallTime> rrsig_expires_;
  struct Sample {
    MonoTime at;
    double latency_ms = 0;
  };
  // Latencies of passing checks, oldest first, trimmed to the objective's
  // window (and k_max_samples) on every observation. Why a vector, not a
  // deque: an empty deque still allocates 576 bytes, 29 MB at 10,000
  // targets x 5 vantages without any latency objective (heaptrack).
  std::vector<Sample> samples_;
};

}  // namespace crosscheck::consensus
