#include "consensus/hysteresis.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace crosscheck::consensus {

double nearest_rank(std::vector<double> samples, double quantile) {
  const auto n = samples.size();
  const auto rank = static_cast<std::size_t>(std::ceil(quantile * static_cast<double>(n)));
  const auto index = std::clamp<std::size_t>(rank, 1, n) - 1;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                   samples.end());
  return samples[index];
}

void VoteTracker::observe(const Observation& observation, const HysteresisRules& rules) {
  last_ = std::make_shared<const Observation>(observation);
  if (observation.cert_not_after) {
    cert_not_after_ = observation.cert_not_after;
  }
  // An answer that got through DNS says what the signatures are now, none
  // included (the zone went unsigned, or the resolver drops them): a value
  // kept from before would hold rrsig_expiring open forever (hostile
  // review). A check that failed at DNS keeps the last one seen.
  const bool answered = observation.outcome == Outcome::Up ||
                        (observation.outcome == Outcome::Down && observation.layer != Layer::Dns);
  if (observation.rrsig_expires || answered) {
    rrsig_expires_ = observation.rrsig_expires;
  }
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
    samples_.clear();  // and its latency window starts over with it
  }
  last_observed_ = observation.at;
  if (rules.latency) {
    // Why only passing checks: a failed check's time says how long the
    // failure took (a timeout), not how fast the service answers.
    if (observation.outcome == Outcome::Up && std::isfinite(observation.latency_ms) &&
        observation.latency_ms >= 0) {
      samples_.push_back(Sample{observation.at.mono, observation.latency_ms});
    }
    const auto oldest = observation.at.mono - rules.latency->window;
    auto keep = std::find_if(samples_.begin(), samples_.end(),
                             [&](const Sample& sample) { return sample.at >= oldest; });
    const auto over =
        samples_.end() - keep - static_cast<std::ptrdiff_t>(LatencyObjective::k_max_samples);
    if (over > 0) {
      keep += over;
    }
    samples_.erase(samples_.begin(), keep);
  }
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
  samples_.clear();  // a peer's vote carries its own latency judgement
  up_streak_ = 0;
  down_streak_ = 0;
  last_observed_ = observed_at;
  last_ = last ? std::make_shared<const Observation>(std::move(*last)) : nullptr;
}

bool VoteTracker::stale_at(MonoTime now, const HysteresisRules& rules) const {
  return !last_observed_ || now - last_observed_->mono > rules.stale_after;
}

std::optional<double> VoteTracker::latency_at(MonoTime now, const HysteresisRules& rules) const {
  if (!rules.latency) {
    return std::nullopt;
  }
  std::vector<double> inside;
  inside.reserve(samples_.size());
  for (const auto& sample : samples_) {
    if (sample.at >= now - rules.latency->window && sample.at <= now) {
      inside.push_back(sample.latency_ms);
    }
  }
  if (inside.size() < LatencyObjective::k_min_samples) {
    return std::nullopt;
  }
  return nearest_rank(std::move(inside), rules.latency->quantile);
}

Vote VoteTracker::vote_at(MonoTime now, const HysteresisRules& rules) const {
  if (stale_at(now, rules)) {
    return Vote::Unknown;
  }
  if (settled_ == Vote::Up && rules.latency) {
    const auto quantile = latency_at(now, rules);
    const auto threshold = static_cast<double>(rules.latency->threshold.count());
    if (quantile && *quantile > threshold) {
      return Vote::Degraded;
    }
  }
  return settled_;
}

}  // namespace crosscheck::consensus
