#include "probes/stall.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>

namespace crosscheck::probes {

using consensus::Duration;
using consensus::MonoTime;

void StallLog::tick(MonoTime now) {
  if (last_ && now - *last_ - k_period >= k_min_stall) {
    stalls_.push_back(Stall{*last_, now});
  }
  if (!last_ || now > *last_) {
    last_ = now;
  }
  while (!stalls_.empty() && (stalls_.size() > k_max_stalls || now - stalls_.front().to > k_keep)) {
    stalls_.pop_front();
  }
}

Duration StallLog::longest(MonoTime since, MonoTime now) const {
  Duration longest{0};
  // Only the part inside the probe's window: a probe cannot start while
  // the loop stands still, so a stall just before it began (its end read a
  // few handlers after the probe's launch) is not its own.
  const auto consider = [&](MonoTime from, MonoTime to) {
    longest = std::max(longest, std::min(to, now) - std::max(from, since) - k_period);
  };
  // Newest first: only those ending after `since` can overlap.
  for (auto stall = stalls_.rbegin(); stall != stalls_.rend() && stall->to > since; ++stall) {
    consider(stall->from, stall->to);
  }
  // Why up to now as well: after a resume, the probes' deadlines may run
  // before the ticker does; the gap is open then, not yet in the log.
  if (last_) {
    consider(*last_, now);
  }
  return longest;
}

Duration stall_threshold(Duration timeout) {
  constexpr Duration k_floor = StallLog::k_min_stall;
  constexpr int k_fraction = 4;
  return std::max(k_floor, timeout / k_fraction);
}

bool timing_failure(const ProbeReport& report) {
  const auto& observation = report.observation;
  if (observation.outcome != consensus::Outcome::Down) {
    return false;
  }
  if (observation.layer == consensus::Layer::Dns) {
    // Truncated: the TCP retry after a truncated reply failed, which the
    // deadline ends the same way (after a stall, the waiting UDP reply can
    // run before the expired deadline: the retry starts, then times out).
    return report.dns_failure == DnsStatus::Timeout || report.dns_failure == DnsStatus::Truncated;
  }
  switch (report.reach_failure) {
    case ReachFailure::ConnectTimeout:
    case ReachFailure::TlsHandshake:
    case ReachFailure::HttpTimeout:
    case ReachFailure::AppTimeout:
      return true;
    default:
      return false;
  }
}

bool discount_stall(ProbeReport& report, Duration stall, Duration timeout) {
  if (stall < stall_threshold(timeout) || !timing_failure(report)) {
    return false;
  }
  auto& observation = report.observation;
  observation.outcome = consensus::Outcome::ObserverError;
  observation.layer = consensus::Layer::None;
  observation.detail = "observer: this oracle stood still for " +
                       consensus::format_duration(stall) +
                       " while the probe ran (a stopped or paused process, or a loop too busy "
                       "to run its timers), so its timeout says nothing about the target: " +
                       observation.detail;
  report.reach_failure = ReachFailure::Observer;
  report.dns_failure.reset();
  return true;
}

}  // namespace crosscheck::probes
