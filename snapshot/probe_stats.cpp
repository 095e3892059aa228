// Probe classification and counting for /metrics. Classes come from typed
// values where the probe has them (outcome, layer, DnsStatus) and from the
// fixed wording of probes/tcp_client.cpp and probes/http_client.cpp details
// where it does not (timed out, refused, status, body).
#include "snapshot/probe_stats.hpp"

#include "probes/chain.hpp"

#include <algorithm>
#include <cctype>

namespace crosscheck::daemon {
namespace {

using probes::DnsStatus;
namespace cs = consensus;

constexpr std::array<std::string_view, k_probe_class_count> k_class_names{"ok",
                                                                          "empty_answer",
                                                                          "nxdomain",
                                                                          "servfail",
                                                                          "refused",
                                                                          "dns_timeout",
                                                                          "dns_other",
                                                                          "truncated",
                                                                          "unexpected_answer",
                                                                          "connect_refused",
                                                                          "connect_timeout",
                                                                          "connect_other",
                                                                          "tls",
                                                                          "http_status",
                                                                          "http_body",
                                                                          "http_timeout",
                                                                          "http_other",
                                                                          "observer",
                                                                          "other"};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The DNS query the observation's detail came from (the chain copies the
// failing query's detail, then may append a last-known-good note).
ProbeClass dns_failure_class(const probes::ProbeReport& report) {
  const auto& detail = report.observation.detail;
  const auto failed = [](const probes::DnsResult& result) { return !result.up(); };
  auto found = std::find_if(report.dns.begin(), report.dns.end(), [&](const auto& result) {
    return failed(result) && !result.detail.empty() && detail.starts_with(result.detail);
  });
  if (found == report.dns.end()) {
    found = std::find_if(report.dns.begin(), report.dns.end(), failed);
  }
  return found == report.dns.end() ? ProbeClass::DnsOther : classify(found->status);
}

// "connect: 127.0.0.1:80 timed out", "connect: ... connection refused".
ProbeClass connect_class(std::string_view detail) {
  if (contains(detail, "timed out")) {
    return ProbeClass::ConnectTimeout;
  }
  return contains(detail, "refused") ? ProbeClass::ConnectRefused : ProbeClass::ConnectOther;
}

// "http: 503 Service Unavailable, expected 200", "http: 200 OK, body does not
// contain 'ready'", "http: timed out waiting for the response".
ProbeClass http_class(std::string_view detail) {
  if (contains(detail, "timed out")) {
    return ProbeClass::HttpTimeout;
  }
  if (contains(detail, ", body does not")) {
    return ProbeClass::HttpBody;
  }
  constexpr std::string_view k_prefix = "http: ";
  const bool status = detail.starts_with(k_prefix) && detail.size() > k_prefix.size() &&
                      std::isdigit(static_cast<unsigned char>(detail[k_prefix.size()])) != 0;
  return status ? ProbeClass::HttpStatus : ProbeClass::HttpOther;
}

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
      break;
  }
  return "http";
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

ProbeClass classify(const probes::ProbeReport& report) {
  const auto& observation = report.observation;
  if (observation.outcome == cs::Outcome::Up) {
    return ProbeClass::Ok;
  }
  if (observation.outcome == cs::Outcome::ObserverError) {
    return ProbeClass::Observer;
  }
  switch (observation.layer) {
    case cs::Layer::Dns:
      return dns_failure_class(report);
    case cs::Layer::Connect:
      return connect_class(observation.detail);
    case cs::Layer::Tls:
      return ProbeClass::Tls;
    case cs::Layer::Http:
      return http_class(observation.detail);
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
    if (query.status != DnsStatus::ObserverError) {
      latency.at(static_cast<std::size_t>(CheckKind::Dns))
          .observe(query.latency_ms / k_ms_per_second);
    }
  }
  const auto reach = target.http ? CheckKind::Http : CheckKind::Tcp;
  for (const auto& address : report.addresses) {
    if (!address.observer_error) {
      latency.at(static_cast<std::size_t>(reach)).observe(address.latency_ms / k_ms_per_second);
    }
  }
}

}  // namespace crosscheck::daemon
