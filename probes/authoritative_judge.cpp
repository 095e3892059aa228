#include "probes/authoritative_judge.hpp"

#include "probes/dns_wire.hpp"

#include <utility>

namespace crosscheck::probes {
namespace {

// "dns: NOERROR, empty answer" -> "NOERROR, empty answer".
std::string body(const std::string& detail) {
  constexpr std::string_view k_layer = "dns: ";
  return detail.starts_with(k_layer) ? detail.substr(k_layer.size()) : detail;
}

// "server ns3.example. (192.0.2.53)": a zone server, never "resolver".
std::string server_name(const AuthoritativeServer& server) {
  return "server " + server.ns + " (" + server.address.to_string() + ")";
}

// A reply that says something about the zone's data: an answer, an empty
// one or a denial. Silence, refusals and failures say only that this server
// does not serve it now.
bool serves(const AuthoritativeServer& server) {
  switch (server.answer.status) {
    case DnsStatus::Answer:
    case DnsStatus::EmptyAnswer:
    case DnsStatus::NxDomain:
      return !server.lame;
    default:
      return false;
  }
}

}  // namespace

AuthoritativeJudgement judge_authoritative(const AuthoritativeReport& report,
                                           const config::DnsCheck& check) {
  AuthoritativeJudgement out;
  if (report.failure) {
    out.failure = report.failure;
    return out;
  }
  out.serial_skew = report.serial_skew();
  out.ns_drift = report.ns_drift();
  std::size_t serving = 0;
  std::size_t wrong = 0;
  std::optional<DnsResult> first_wrong;
  std::string wrong_at;
  for (const auto& server : report.servers) {
    if (!serves(server)) {
      continue;
    }
    ++serving;
    // A CNAME the zone's server hands out, whose target lives in another
    // zone: that is all this zone holds for the name (hostile review: www
    // CNAME into a CDN was judged an empty answer).
    if (server.answer.status == DnsStatus::EmptyAnswer && !server.answer.chain.empty()) {
      continue;
    }
    auto judged = judge_dns(server.answer, check);
    if (!judged.up()) {
      ++wrong;
      if (!first_wrong) {
        first_wrong = std::move(judged);
        wrong_at = server_name(server);
      }
    }
  }
  const std::string counted =
      " of " + std::to_string(report.servers.size()) + " servers for " + report.zone;
  if (first_wrong) {
    first_wrong->detail = "dns: authoritative: " + wrong_at + ": " + body(first_wrong->detail) +
                          " (" + std::to_string(wrong) + counted + ")";
    out.failure = std::move(first_wrong);
  } else if (serving == 0) {
    // Nobody serves the zone: the first server's own failure is the class.
    DnsResult none = report.servers.empty() ? DnsResult{} : report.servers.front().answer;
    if (!report.servers.empty() && report.servers.front().lame) {
      none.status = DnsStatus::Refused;
    }
    none.detail =
        "dns: authoritative: none" + counted + " answers for it (" + body(report.detail) + ")";
    out.failure = std::move(none);
  }
  return out;
}

std::vector<std::string> authoritative_trace(const AuthoritativeReport& report) {
  std::vector<std::string> lines;
  if (report.failure) {
    lines.push_back(body(report.failure->detail));
    return lines;
  }
  lines.push_back(report.detail);
  for (const auto& server : report.servers) {
    std::string line = "  " + server_name(server) + ": " + body(server.answer.detail);
    if (server.lame) {
      line += "; lame (not authoritative)";
    }
    if (server.serial) {
      line += "; serial " + std::to_string(*server.serial);
    }
    if (server.ns_answered) {
      line += "; NS";
      for (const auto& name : server.ns_set) {
        line += " " + name;
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace crosscheck::probes
