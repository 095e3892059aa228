// Authoritative mode's judgement (docs/checks.md "Authoritative mode"): what
// the zone's own servers serve, judged like a resolver's answer. Pure: no
// I/O, tested with hand-made reports.
#pragma once

#include "config/config.hpp"
#include "probes/authoritative.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::probes {

struct AuthoritativeJudgement {
  // What makes the vote down, nullopt when every server that answers for
  // the zone serves what the dns: check expects:
  //  - a server serving other data (empty, NXDOMAIN, too few answers, an
  //    unexpected address): resolvers that ask it publish that;
  //  - no server answering for the zone at all (silent, refusing, lame);
  //  - the resolver steps failing (no zone, no NS, no NS address), or this
  //    host unable to ask (ObserverError: the caller's observer error).
  std::optional<DnsResult> failure;
  std::int64_t serial_skew = 0;  // the servers' SOA serials apart
  bool ns_drift = false;         // a server's NS set differs from the delegation
};

AuthoritativeJudgement judge_authoritative(const AuthoritativeReport& report,
                                           const config::DnsCheck& check);

// `crosscheck probe`'s lines, one per server: "server ns1.example. (192.0.2.53):
// NOERROR, 1 answer; serial 2026120501; NS ns1.example. ns2.example.".
std::vector<std::string> authoritative_trace(const AuthoritativeReport& report);

}  // namespace crosscheck::probes
