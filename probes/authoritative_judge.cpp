#include "probes/authoritative_judge.hpp"

#include "base/text.hpp"
#include "probes/dns_wire.hpp"

#include <algorithm>
#include <string_view>
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

// A CNAME the zone's server hands out whose target lives in another zone:
// that is all this zone holds for the name, and resolvers follow it there
// (hostile review: www CNAME into a CDN was judged an empty answer).
bool leaves_zone(const AuthoritativeReport& report, const DnsResult& answer) {
  return !answer.chain.empty() && !zone_holds(report.zone, answer.chain.back().data);
}

// What one server's reply to the target's question says about the zone.
enum class Heard : std::uint8_t {
  Serves,  // an AA answer to judge (or a CNAME the zone hands out elsewhere)
  Silent,  // no reply before the deadline
  Lame,    // a reply without AA, or REFUSED: a cache, a referral, "not my zone"
  Other,   // a failure (unreachable, SERVFAIL, malformed), a denial without
           // the zone's SOA, or an in-zone CNAME whose end it does not settle
};

Heard heard(const AuthoritativeReport& report, const AuthoritativeServer& server) {
  const auto& answer = server.answer;
  if (answer.status == DnsStatus::Timeout) {
    return Heard::Silent;
  }
  if (answer.rcode < 0) {
    return Heard::Other;  // unreachable, unreadable, or this host could not ask
  }
  if (server.lame || !answer.authoritative_answer) {
    return Heard::Lame;
  }
  // Why a denial needs the zone's own SOA: an authoritative server puts it
  // in every NXDOMAIN and NODATA reply (RFC 2308), so a denial without it,
  // or with another zone's, is not this zone denying the name: a referral
  // with AA set (NS of a child zone, no SOA), or an NXDOMAIN at the end of a
  // CNAME that left the zone, from a server also holding that other zone
  // (third hostile review). Neither is this zone's wrong data.
  const bool zone_denies = answer.zone == report.zone;
  switch (answer.status) {
    case DnsStatus::Answer:
      return Heard::Serves;
    case DnsStatus::NxDomain:
      return zone_denies ? Heard::Serves : Heard::Other;
    case DnsStatus::EmptyAnswer:
      if (leaves_zone(report, answer)) {
        return Heard::Serves;
      }
      // No records, or www CNAME gone.example. and nothing there: wrong
      // data when the reply carries the zone's SOA (a denial, what
      // resolvers then hand out); without it the end may lie in a
      // delegated subzone (a referral), which says nothing.
      return zone_denies ? Heard::Serves : Heard::Other;
    default:
      return Heard::Other;
  }
}

// "none of 2 servers for example. gave an AA answer to judge (1 silent, 1 lame)".
std::string none_judged(const AuthoritativeReport& report, std::size_t silent, std::size_t lame,
                        std::size_t other) {
  std::string counts;
  const auto add = [&counts](std::size_t count, std::string_view what) {
    if (count > 0) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(count) + " " + std::string(what);
    }
  };
  add(silent, "silent");
  add(lame, "lame");
  add(other, "other");
  return "none of " + std::to_string(report.servers.size()) + " servers for " + report.zone +
         " gave an AA answer to judge (" + counts + ")";
}

}  // namespace

AuthoritativeJudgement judge_authoritative(const AuthoritativeReport& report,
                                           const config::DnsCheck& check) {
  AuthoritativeJudgement out;
  if (report.failure) {
    // No server was asked: "no zone for www.example.: timeout after 600ms".
    constexpr std::string_view k_mode = "authoritative: ";
    const std::string why = body(report.detail);
    // Cut in the middle: the name comes first and what the resolver said
    // last (fourth hostile review: a long name cut the SERVFAIL off).
    out.not_judged = text::cut_middle(why.starts_with(k_mode) ? why.substr(k_mode.size()) : why,
                                      k_max_not_judged);
    return out;
  }
  // Measured only between two AA replies or more: one server, or none,
  // is no skew and no drift (hostile review: "skew 0" with none reached).
  const auto count = [&report](auto has) {
    return std::count_if(report.servers.begin(), report.servers.end(), has);
  };
  if (count([](const AuthoritativeServer& server) { return server.serial.has_value(); }) >= 2) {
    out.serial_skew = report.serial_skew();
  }
  if (count([](const AuthoritativeServer& server) { return server.ns_answered; }) >= 2) {
    out.ns_drift = report.ns_drift();
  }
  std::size_t judged = 0;
  std::size_t silent = 0;
  std::size_t lame = 0;
  std::size_t other = 0;
  std::size_t wrong = 0;
  std::optional<DnsResult> first_wrong;
  std::string wrong_at;
  for (const auto& server : report.servers) {
    switch (heard(report, server)) {
      case Heard::Silent:
        ++silent;
        continue;
      case Heard::Lame:
        ++lame;
        continue;
      case Heard::Other:
        ++other;
        continue;
      case Heard::Serves:
        ++judged;
        break;
    }
    if (leaves_zone(report, server.answer)) {
      continue;
    }
    auto result = judge_dns(server.answer, check);
    if (!result.up()) {
      ++wrong;
      if (!first_wrong) {
        first_wrong = std::move(result);
        wrong_at = server_name(server);
      }
    }
  }
  if (first_wrong) {
    first_wrong->detail = "dns: authoritative: " + wrong_at + ": " + body(first_wrong->detail) +
                          " (" + std::to_string(wrong) + " of " +
                          std::to_string(report.servers.size()) + " servers for " + report.zone +
                          ")";
    out.failure = std::move(first_wrong);
  } else if (judged == 0) {
    out.not_judged = text::cut_middle(none_judged(report, silent, lame, other), k_max_not_judged);
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
