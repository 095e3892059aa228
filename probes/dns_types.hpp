// DNS results as the probe engine reports them: the records seen, the
// outcome class with its own detail, and how the answer was obtained.
// Plain values; no I/O.
#pragma once

#include "config/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes {

struct DnsRecord {
  std::string name;          // owner name, absolute ("example.com.")
  std::uint16_t type = 0;    // RR type code (1 = A, 28 = AAAA, ...)
  std::uint32_t ttl = 0;
  std::string data;          // presentation form of the rdata ("192.0.2.1", "ns1.example.")
  std::optional<config::IpAddress> address;  // set for A and AAAA
};

// One counter per class, so an operator can see which one fired.
enum class DnsStatus : std::uint8_t {
  Answer,            // NOERROR with answers of the asked type
  EmptyAnswer,       // NOERROR, answer section without the asked type (Oct 2025)
  NxDomain,
  ServFail,
  Refused,
  OtherRcode,        // FORMERR, NOTIMP, ...
  Timeout,           // no acceptable reply before the deadline
  Malformed,         // a reply that does not parse
  Truncated,         // TC set and the TCP retry failed
  TooFewAnswers,     // fewer than min_answers
  UnexpectedAddress, // an answer outside expect_addresses
  NetworkError,      // the resolver could not be reached (refused, unreachable)
  ObserverError,     // this host could not send (bind, route, sockets)
};
std::string_view to_string(DnsStatus status);

struct DnsResult {
  DnsStatus status = DnsStatus::Timeout;
  int rcode = -1;                  // -1 when no reply was accepted
  std::vector<DnsRecord> answers;  // records of the asked type (CNAMEs followed)
  std::vector<DnsRecord> chain;    // CNAMEs on the way, if any
  bool over_tcp = false;           // the answer came from the TCP retry
  int ignored_replies = 0;         // replies dropped for a wrong id, question or source
  std::string detail;              // "dns: NOERROR, empty answer"
  double latency_ms = 0;
  std::string resolver;            // "127.0.0.1:53"

  bool up() const { return status == DnsStatus::Answer; }
  std::vector<config::IpAddress> addresses() const;
};

}  // namespace crosscheck::probes
