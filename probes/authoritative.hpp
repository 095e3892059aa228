// Authoritative mode's probe (dns: { authoritative: true }): find the zone
// of a name through the vantage's resolver, then ask each of the zone's NS
// addresses itself (RD clear) the target's question, the zone's SOA and NS,
// and report what each serves. Only I/O and faithful reporting: which
// server's data is wrong is the caller's judgement, never made here.
#pragma once

#include "config/types.hpp"
#include "consensus/clock.hpp"
#include "probes/dns_tls.hpp"
#include "probes/dns_types.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes {

// At most this many NS names are resolved (the first in sorted order), and
// this many addresses asked (round robin over the names, A before AAAA,
// sorted): a zone with 13 NS names and dual stack would otherwise be 26
// servers x 3 queries, and every query counts against the rate budget.
inline constexpr std::size_t k_max_authoritative_names = 4;
inline constexpr std::size_t k_max_authoritative_addresses = 4;
// AuthoritativeReport::detail is at most this long.
inline constexpr std::size_t k_max_authoritative_detail = 300;

struct AuthoritativeRequest {
  config::Endpoint resolver;  // the vantage's resolver (recursive, RD=1)
  // Set for a DoT vantage (`resolver: tls://`): every resolver step (SOA,
  // NS, the NS names' addresses) goes over it, as the chain's own questions
  // do. The zone's servers are asked plain DNS on `port`: they speak no DoT.
  std::shared_ptr<const DotTransport> tls;
  std::optional<config::IpAddress> source;  // bind here (the vantage's source)
  std::string name;                         // the target's question
  config::RrType type = config::RrType::A;
  std::chrono::steady_clock::time_point deadline;   // the whole run's
  std::optional<std::chrono::milliseconds> budget;  // as DnsRequest::budget, for the first query
  std::uint16_t port = 53;  // the authoritative servers' port (tests override)
  bool dnssec_ok = false;   // DO on the target's question to each server
};

// One NS address and what it serves.
struct AuthoritativeServer {
  std::string ns;  // "ns1.example."
  config::IpAddress address;
  DnsResult answer;                     // the target's question, RD=0
  std::optional<std::uint32_t> serial;  // its SOA serial for the zone (AA replies only)
  std::vector<std::string> ns_set;      // its NS RRset for the zone: sorted, lower-case, absolute
  bool ns_answered = false;             // NS got an AA NOERROR reply (ns_set may be empty)
  // Its reply to the target's question came without AA, or REFUSED: that
  // answer is not judged. Per question: its SOA and NS replies count (or
  // not) on their own AA bit.
  bool lame = false;
};

struct AuthoritativeReport {
  std::string zone;                          // "example."
  std::vector<std::string> delegated_ns;     // the resolver's NS set for the zone, sorted
  std::vector<AuthoritativeServer> servers;  // by NS name, then A before AAAA
  std::vector<std::string> unresolved_ns;    // NS names without an address
  bool capped = false;  // more than k_max_authoritative_names or _addresses: some not asked
  // The resolver steps failed (no zone, no NS, no NS name resolves), or
  // this host could not ask (ObserverError): why no server was asked.
  // Never a vote (docs/checks.md): only reported, "not judged".
  std::optional<DnsResult> failure;
  // One line, at most k_max_authoritative_detail characters: "authoritative:
  // 3 servers for example. (serials 2026120501..2026120503, skew 2);
  // server ns2.example. (127.0.53.2): NOERROR, empty answer".
  std::string detail;

  // The shortest arc of the serial circle (RFC 1982) holding every serial
  // seen: max - min unless they straddle the wrap; 0 with fewer than two.
  std::uint32_t serial_skew() const;
  // Some server's authoritative NS set differs from delegated_ns (and so,
  // when they differ among themselves, from another's).
  bool ns_drift() const;
};

// Whether this vantage may send RD=0 queries to an NS address the
// resolver gave: never to an address no server can have (0.0.0.0/8,
// 169.254/16, 224/4 and up, ::, fe80::/10, ff00::/8, and those as
// ::ffff:a.b.c.d), and to a loopback address (127/8, ::1) only when the
// resolver is itself a loopback address (a local lab): a lying resolver
// must not aim queries at this host's own services.
bool may_ask(const config::IpAddress& server, const config::IpAddress& resolver);

// `zone` is `name` or one of its ancestors, case-insensitively, and not the
// root (unless `name` is the root): "example." holds "WWW.example", not
// "www.cdn.test.".
bool zone_holds(std::string_view zone, std::string_view name);

// `text` cut to at most `limit` characters, ending "..." when cut: every
// detail this mode writes is bounded.
std::string bounded(std::string text, std::size_t limit);

// The most queries one run for `name` may send: the SOA walk (one per
// label), the NS set, A and AAAA for each NS name followed, and the three
// questions to each server asked: 24 for "www.example.com".
std::size_t authoritative_query_bound(std::string_view name);

using AuthoritativeCallback = std::function<void(AuthoritativeReport)>;

// Runs the steps, every query bounded by request.deadline: the resolver's
// SOA for the name (walking up a label at a time when the reply names no
// zone), its NS set for the zone, the NS names' A and AAAA (in parallel),
// then to every address in parallel, RD clear: the target's question, the
// zone's SOA and NS. The resolver steps go over request.tls when it is set;
// the servers are always asked plain DNS. Calls `done` exactly once, through
// `io`, no later than the deadline; a silent server is a Timeout in its own
// results. Never throws.
void check_authoritative(boost::asio::io_context& io, const consensus::Clock& clock,
                         const AuthoritativeRequest& request, AuthoritativeCallback done);

}  // namespace crosscheck::probes
