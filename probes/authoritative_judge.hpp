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

// AuthoritativeJudgement::not_judged is at most this long.
inline constexpr std::size_t k_max_not_judged = 200;

struct AuthoritativeJudgement {
  // The only down vote the zone side casts, on positive evidence: a server
  // of the zone answered the target's own question with AA set and data the
  // dns: check does not expect (NOERROR without the record, NXDOMAIN, too
  // few answers, an address outside expect_addresses, an in-zone CNAME
  // chain that ends in nothing). nullopt otherwise.
  std::optional<DnsResult> failure;
  // Why no server's answer could be judged (the resolver steps failed,
  // servers silent, lame, refusing, filtered, of the other family): only
  // reported, never a vote. nullopt when some AA answer was judged.
  std::optional<std::string> not_judged;
  // Measured only from two servers or more: their AA SOA serials apart,
  // and whether an AA NS set differs from the delegation.
  std::optional<std::int64_t> serial_skew;
  std::optional<bool> ns_drift;
};

AuthoritativeJudgement judge_authoritative(const AuthoritativeReport& report,
                                           const config::DnsCheck& check);

// `crosscheck probe`'s lines, one per server: "server ns1.example. (192.0.2.53):
// NOERROR, 1 answer; serial 2026120501; NS ns1.example. ns2.example.".
std::vector<std::string> authoritative_trace(const AuthoritativeReport& report);

}  // namespace crosscheck::probes
