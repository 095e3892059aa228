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

bool StallLog::stood_still_at(MonoTime at, MonoTime now) const {
  // The part of a gap beyond the ticker's period is when it stood still.
  const auto covers = [&](MonoTime from, MonoTime to) {
    return to - from - k_period >= k_min_stall && from + k_period < at && at < to;
  };
  for (auto stall = stalls_.rbegin(); stall != stalls_.rend() && stall->to > at; ++stall) {
    if (covers(stall->from, stall->to)) {
      return true;
    }
  }
  return last_ && covers(*last_, now);
}

StallSeen StallLog::seen(MonoTime started, MonoTime deadline, MonoTime now) const {
  if (deadline < now && stood_still_at(deadline, now)) {
    return StallSeen{longest(started, now), true};
  }
  return StallSeen{longest(started, std::min(now, deadline)), false};
}

Duration stall_threshold(Duration timeout) {
  constexpr Duration k_floor = StallLog::k_min_stall;
  constexpr int k_fraction = 4;
  return std::max(k_floor, timeout / k_fraction);
}

namespace {

bool said_by_resolver(DnsStatus status) {
  switch (status) {
    case DnsStatus::EmptyAnswer:
    case DnsStatus::NxDomain:
    case DnsStatus::ServFail:
    case DnsStatus::Refused:
    case DnsStatus::OtherRcode:
    case DnsStatus::Malformed:
    case DnsStatus::TooFewAnswers:
    case DnsStatus::UnexpectedAddress:
    case DnsStatus::NetworkError:
    case DnsStatus::DnssecBogus:
      return true;
    case DnsStatus::Answer:
    case DnsStatus::Timeout:
    case DnsStatus::Truncated:  // its TCP retry may have timed out
    case DnsStatus::ObserverError:
      break;
  }
  return false;
}

bool said_by_target(const ProbeReport& report) {
  // The server gave up waiting for our request: a stall can cause it.
  constexpr int k_request_timeout = 408;
  switch (report.reach_failure) {
    case ReachFailure::ConnectRefused:
    case ReachFailure::ConnectOther:
    case ReachFailure::TlsSetup:
    case ReachFailure::TlsCertificate:
    case ReachFailure::TlsUnknownCa:
    case ReachFailure::TlsExpired:
    case ReachFailure::TlsWrongName:
    case ReachFailure::HttpRedirect:
    case ReachFailure::HttpBody:
    case ReachFailure::AppRole:
    case ReachFailure::AppReadOnly:
    case ReachFailure::AppLag:
      return true;
    case ReachFailure::HttpStatus:
      return std::none_of(report.addresses.begin(), report.addresses.end(),
                          [](const AddressResult& address) {
                            return address.reach.failure == ReachFailure::HttpStatus &&
                                   address.reach.http_status == k_request_timeout;
                          });
    case ReachFailure::None:
    case ReachFailure::ConnectTimeout:
    case ReachFailure::TlsHandshake:
    case ReachFailure::HttpTimeout:
    case ReachFailure::HttpOther:
    case ReachFailure::AppError:
    case ReachFailure::AppTimeout:
    case ReachFailure::Observer:
    case ReachFailure::ObserverBodyCheck:
    case ReachFailure::ObserverAuth:
      break;
  }
  return false;
}

}  // namespace

bool stall_may_explain(const ProbeReport& report) {
  const auto& observation = report.observation;
  if (observation.outcome != consensus::Outcome::Down) {
    return false;
  }
  if (observation.layer == consensus::Layer::Dns) {
    return !report.dns_failure || !said_by_resolver(*report.dns_failure);
  }
  return !said_by_target(report);
}

bool discount_stall(ProbeReport& report, const StallSeen& seen, Duration timeout) {
  if ((!seen.at_deadline && seen.longest < stall_threshold(timeout)) ||
      !stall_may_explain(report)) {
    return false;
  }
  const auto stall = seen.longest;
  auto& observation = report.observation;
  observation.outcome = consensus::Outcome::ObserverError;
  observation.layer = consensus::Layer::None;
  observation.latency_ms = 0;  // what it measured was the stall's
  observation.detail = "observer: this oracle stood still for " +
                       consensus::format_duration(stall) +
                       " while the probe ran (a stopped process, or a loop too busy to run its "
                       "timers), so its failure says nothing about the target: " +
                       observation.detail;
  report.reach_failure = ReachFailure::Observer;
  report.dns_failure.reset();
  report.stalled = stall;
  return true;
}

}  // namespace crosscheck::probes
