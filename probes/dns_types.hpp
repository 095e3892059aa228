// DNS results as the probe engine reports them: the records seen, the
// outcome class with its own detail, and how the answer was obtained.
// Plain values; no I/O.
#pragma once

#include "config/types.hpp"
#include "probes/dns_ede.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes {

struct DnsRecord {
  std::string name;        // owner name, absolute ("example.com.")
  std::uint16_t type = 0;  // RR type code (1 = A, 28 = AAAA, ...)
  std::uint32_t ttl = 0;
  std::string data;  // presentation form of the rdata ("192.0.2.1", "ns1.example.")
  std::optional<config::IpAddress> address;  // set for A and AAAA
};

// One counter per class, so an operator can see which one fired.
enum class DnsStatus : std::uint8_t {
  Answer,       // NOERROR with answers of the asked type
  EmptyAnswer,  // NOERROR, answer section without the asked type (Oct 2025)
  NxDomain,
  ServFail,
  Refused,
  OtherRcode,         // FORMERR, NOTIMP, ...
  Timeout,            // no acceptable reply before the deadline
  Malformed,          // a reply that does not parse
  Truncated,          // TC set and the TCP retry failed
  TooFewAnswers,      // fewer than min_answers
  UnexpectedAddress,  // an answer outside expect_addresses
  NetworkError,       // the resolver could not be reached (refused, unreachable)
  DnssecBogus,        // SERVFAIL, and validation is why (EDE, or it answers with CD set)
  ObserverError,      // this host could not send (bind, route, sockets)
};
std::string_view to_string(DnsStatus status);

// Why a received reply was ignored rather than judged; one counter each.
// Why ignore rather than fail: anyone can send a datagram, so one stray
// packet must never decide a probe; the query waits for its real reply.
enum class IgnoredReply : std::uint8_t {
  WrongSource,    // from another address or port than the resolver's
  Short,          // fewer bytes than a DNS header: not even an id
  WrongId,        // another query's id
  NotResponse,    // QR clear (a query, perhaps ours reflected back)
  WrongQuestion,  // not exactly one question, or another name, type or class
  Malformed,      // our id and QR, but the question or the rest does not parse
};
inline constexpr std::size_t k_ignored_reply_kinds = 6;
std::string_view to_string(IgnoredReply kind);  // "wrong_id": metric labels

// The replies one query ignored, by kind.
struct IgnoredReplies {
  std::array<int, k_ignored_reply_kinds> counts{};
  std::string first_malformed;  // why the first Malformed one did not parse

  void add(IgnoredReply kind, std::string_view why);
  int count(IgnoredReply kind) const { return counts.at(static_cast<std::size_t>(kind)); }
  int total() const;
  // "2 stray replies: 1 wrong id, 1 malformed"; empty when none.
  std::string summary() const;
};

struct DnsResult {
  DnsStatus status = DnsStatus::Timeout;
  int rcode = -1;                  // -1 when no reply was accepted
  std::vector<DnsRecord> answers;  // records of the asked type (CNAMEs followed)
  std::vector<DnsRecord> chain;    // CNAMEs on the way, if any
  bool over_tcp = false;           // the answer came from the TCP retry, or over TLS
  bool over_tls = false;   // asked over DNS over TLS (resolver: tls://), whatever came of it
  IgnoredReplies ignored;  // replies dropped as not ours or unreadable
  std::string detail;      // "dns: NOERROR, empty answer"
  // Extended DNS Errors the resolver attached (RFC 8914), also at the end
  // of detail: "dns: SERVFAIL (EDE 6: DNSSEC Bogus)".
  std::vector<ExtendedDnsError> extended_errors;
  double latency_ms = 0;
  std::string resolver;        // "127.0.0.1:53", "tls://127.0.0.1:853"
  bool authenticated = false;  // AD: the resolver validated the answer with DNSSEC
  // The earliest expiration (Unix seconds) of the RRSIGs over the answer, with DO.
  std::optional<std::int64_t> rrsig_expires{};
  bool authoritative_answer = false;  // AA: the server answered from its own zone data
  // The serial of an SOA record in the answer section, else in the authority
  // section (a NODATA or NXDOMAIN reply carries its zone's SOA there).
  std::optional<std::uint32_t> soa_serial{};
  std::string zone{};  // that SOA's owner, absolute ("example."): for a denial, the zone apex

  bool up() const { return status == DnsStatus::Answer; }
  // This host could not ask (bind, route, sockets): says nothing about the
  // resolver, as ReachResult::observer_error() says nothing about the target.
  bool observer_error() const { return status == DnsStatus::ObserverError; }
  std::vector<config::IpAddress> addresses() const;
};

}  // namespace crosscheck::probes
