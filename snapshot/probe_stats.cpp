// Probe classification and counting for /metrics. Classes come from typed
// values only (outcome, layer, the deciding DnsStatus or ReachFailure), never
// from a detail's wording.
#include "snapshot/probe_stats.hpp"

#include "probes/chain.hpp"

namespace crosscheck::snapshot {
namespace {

using probes::DnsStatus;
namespace cs = consensus;

constexpr std::array<std::string_view, k_probe_class_count> k_class_names{"ok",
                                                                          "empty_answer",
                                                                          "nxdomain",
                                                                          "servfail",
                                                                          "dnssec_bogus",
                                                                          "refused",
                                                                          "dns_timeout",
                                                                          "dns_other",
                                                                          "truncated",
                                                                          "unexpected_answer",
                                                                          "connect_refused",
                                                                          "connect_timeout",
                                                                          "connect_other",
                                                                          "tls",
                                                                          "tls_unknown_ca",
                                                                          "tls_expired",
                                                                          "tls_wrong_name",
                                                                          "http_status",
                                                                          "http_body",
                                                                          "http_timeout",
                                                                          "http_other",
                                                                          "app_role",
                                                                          "app_read_only",
                                                                          "app_lag",
                                                                          "app_error",
                                                                          "app_timeout",
                                                                          "observer",
                                                                          "observer_stall",
                                                                          "other"};

}  // namespace

std::string_view to_string(ProbeClass value) {
  return k_class_names.at(static_cast<std::size_t>(value));
}

std::string_view to_string(CheckKind value) {
  switch (value) {
    case CheckKind::Dns:
      return "dns";
    case CheckKind::Tcp:
      return "tcp";
    case CheckKind::Http:
      return "http";
    case CheckKind::App:
      break;
  }
  return "app";
}

ProbeClass classify(DnsStatus status) {
  switch (status) {
    case DnsStatus::Answer:
      return ProbeClass::Ok;
    case DnsStatus::EmptyAnswer:
      return ProbeClass::EmptyAnswer;
    case DnsStatus::NxDomain:
      return ProbeClass::NxDomain;
    case DnsStatus::ServFail:
      return ProbeClass::ServFail;
    case DnsStatus::DnssecBogus:
      return ProbeClass::DnssecBogus;
    case DnsStatus::Refused:
      return ProbeClass::Refused;
    case DnsStatus::Timeout:
      return ProbeClass::DnsTimeout;
    case DnsStatus::Truncated:
      return ProbeClass::Truncated;
    case DnsStatus::TooFewAnswers:
    case DnsStatus::UnexpectedAddress:
      return ProbeClass::UnexpectedAnswer;
    case DnsStatus::ObserverError:
      return ProbeClass::Observer;
    case DnsStatus::OtherRcode:
    case DnsStatus::Malformed:
    case DnsStatus::NetworkError:
      break;
  }
  return ProbeClass::DnsOther;
}

ProbeClass classify(probes::ReachFailure failure) {
  using probes::ReachFailure;
  switch (failure) {
    case ReachFailure::None:
      return ProbeClass::Ok;
    case ReachFailure::ConnectRefused:
      return ProbeClass::ConnectRefused;
    case ReachFailure::ConnectTimeout:
      return ProbeClass::ConnectTimeout;
    case ReachFailure::ConnectOther:
      return ProbeClass::ConnectOther;
    case ReachFailure::TlsSetup:
    case ReachFailure::TlsHandshake:
    case ReachFailure::TlsCertificate:
      return ProbeClass::Tls;
    case ReachFailure::TlsUnknownCa:
      return ProbeClass::TlsUnknownCa;
    case ReachFailure::TlsExpired:
      return ProbeClass::TlsExpired;
    case ReachFailure::TlsWrongName:
      return ProbeClass::TlsWrongName;
    case ReachFailure::HttpStatus:
    case ReachFailure::HttpRedirect:  // docs/metrics.md: "or a redirect not followed"
      return ProbeClass::HttpStatus;
    case ReachFailure::HttpBody:
      return ProbeClass::HttpBody;
    case ReachFailure::HttpTimeout:
      return ProbeClass::HttpTimeout;
    case ReachFailure::HttpOther:
      return ProbeClass::HttpOther;
    case ReachFailure::AppRole:
      return ProbeClass::AppRole;
    case ReachFailure::AppReadOnly:
      return ProbeClass::AppReadOnly;
    case ReachFailure::AppLag:
      return ProbeClass::AppLag;
    case ReachFailure::AppError:
      return ProbeClass::AppError;
    case ReachFailure::AppTimeout:
      return ProbeClass::AppTimeout;
    case ReachFailure::Observer:
    case ReachFailure::ObserverBodyCheck:
    case ReachFailure::ObserverAuth:
      break;
  }
  return ProbeClass::Observer;
}

ProbeClass classify(const probes::ProbeReport& report) {
  const auto& observation = report.observation;
  if (observation.outcome == cs::Outcome::Up) {
    return ProbeClass::Ok;
  }
  if (observation.outcome == cs::Outcome::ObserverError) {
    return report.stalled > cs::Duration::zero() ? ProbeClass::ObserverStall : ProbeClass::Observer;
  }
  switch (observation.layer) {
    case cs::Layer::Dns:
      return report.dns_failure ? classify(*report.dns_failure) : ProbeClass::DnsOther;
    case cs::Layer::Connect:
    case cs::Layer::Tls:
    case cs::Layer::Http:
    case cs::Layer::App:
      // None here would be a reach layer without a failure: "should not happen".
      return report.reach_failure == probes::ReachFailure::None ? ProbeClass::Other
                                                                : classify(report.reach_failure);
    case cs::Layer::None:
      break;
  }
  return ProbeClass::Other;
}

void ProbeStats::record(const probes::ProbeReport& report, const config::TargetConfig& target) {
  const auto& observation = report.observation;
  ++results[{observation.vantage, observation.outcome, classify(report)}];
  constexpr double k_ms_per_second = 1000.0;
  for (const auto& query : report.dns) {
    for (std::size_t kind = 0; kind < probes::k_ignored_reply_kinds; ++kind) {
      if (const int count = query.ignored.counts.at(kind); count > 0) {
        ignored_dns_replies[{observation.vantage, static_cast<probes::IgnoredReply>(kind)}] +=
            static_cast<std::uint64_t>(count);
      }
    }
    // A query this host could not send says nothing about the resolver's speed.
    if (!query.observer_error()) {
      latency.at(static_cast<std::size_t>(CheckKind::Dns))
          .observe(query.latency_ms / k_ms_per_second);
    }
  }
  // One histogram per probe's reach step, named for its deepest check.
  const bool app = target.redis || target.postgres || target.mysql;
  const auto reach = target.http ? CheckKind::Http : (app ? CheckKind::App : CheckKind::Tcp);
  for (const auto& address : report.addresses) {
    if (!address.reach.observer_error()) {
      latency.at(static_cast<std::size_t>(reach))
          .observe(address.reach.latency_ms / k_ms_per_second);
    }
  }
}

}  // namespace crosscheck::snapshot
