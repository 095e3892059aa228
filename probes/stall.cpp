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
  while (!stalls_.empty() && (stalls_.size() > k_max_stalls || now - stalls_.front().to > keep_)) {
    stalls_.pop_front();
  }
}

Duration StallLog::total(MonoTime since, MonoTime now) const {
  Duration total{0};
  // Only the part inside the probe's window: a probe cannot start while
  // the loop stands still, so a stall just before it began (its end read a
  // few handlers after the probe's launch) is not its own.
  const auto add = [&](MonoTime from, MonoTime to) {
    total += std::max(Duration{0}, std::min(to, now) - std::max(from, since) - k_period);
  };
  // Newest first: only those ending after `since` can overlap.
  for (auto stall = stalls_.rbegin(); stall != stalls_.rend() && stall->to > since; ++stall) {
    add(stall->from, stall->to);
  }
  // Why up to now as well: after a resume, the probes' deadlines may run
  // before the ticker does; the gap is open then, not yet in the log.
  if (last_ && now - *last_ - k_period >= k_min_stall) {
    add(*last_, now);
  }
  return total;
}

bool StallLog::stood_still_at(MonoTime at, MonoTime now) const {
  // A gap long enough to be a stall: the loop ran nothing between its ends
  // but what it had queued, so a deadline inside it ran late whether it
  // came before the ticker was due again or after.
  const auto covers = [&](MonoTime from, MonoTime to) {
    return to - from - k_period >= k_min_stall && from < at && at < to;
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
    return StallSeen{total(started, now), true};
  }
  return StallSeen{total(started, std::min(now, deadline)), false};
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

// Whether `failure` (with the HTTP status it read) is something the target
// said, which no stall of ours can make up.
bool said_by_target(ReachFailure failure, int http_status) {
  // The server gave up waiting for our request: a stall can cause it.
  constexpr int k_request_timeout = 408;
  switch (failure) {
    case ReachFailure::ConnectRefused:
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
      return http_status != k_request_timeout;
    case ReachFailure::None:
    case ReachFailure::ConnectTimeout:
    case ReachFailure::ConnectOther:  // a reset among them: a balancer dropping a silent client
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
  // Every address that failed, not only the one that decided the report: a
  // target is down when all its addresses failed, so a refused stale
  // address beside a live one that timed out while we stood still says
  // nothing; the last-known-good fallback's are among them.
  const bool reach_may = std::any_of(
      report.addresses.begin(), report.addresses.end(), [](const AddressResult& address) {
        return !address.reach.up() &&
               !said_by_target(address.reach.failure, address.reach.http_status);
      });
  if (reach_may) {
    return true;
  }
  if (observation.layer == consensus::Layer::Dns) {
    return !report.dns_failure || !said_by_resolver(*report.dns_failure);
  }
  const auto decisive = std::find_if(
      report.addresses.begin(), report.addresses.end(),
      [&](const AddressResult& address) { return address.reach.failure == report.reach_failure; });
  return !said_by_target(report.reach_failure,
                         decisive == report.addresses.end() ? 0 : decisive->reach.http_status);
}

bool discount_stall(ProbeReport& report, const StallSeen& seen, Duration timeout) {
  if ((!seen.at_deadline && seen.total < stall_threshold(timeout)) || !stall_may_explain(report)) {
    return false;
  }
  const auto stall = seen.total;
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
