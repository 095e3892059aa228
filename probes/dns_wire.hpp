// DNS wire format, built and checked with ldns: query construction and the
// pure classification of reply bytes. No sockets here (dns_client does I/O),
// so every check is unit tested with hand-made packets.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"
#include "probes/dns_types.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crosscheck::probes {

constexpr std::uint16_t k_edns_udp_size = 1232;

// The header and EDNS bits a query sets.
struct DnsFlags {
  bool dnssec_ok = false;          // DO: ask for RRSIGs (dns.dnssec)
  bool checking_disabled = false;  // CD: a validating resolver answers without validating
  bool recursion_desired = true;   // RD: clear when asking an authoritative server itself
  friend bool operator==(const DnsFlags&, const DnsFlags&) = default;
};

struct DnsQuery {
  std::uint16_t id = 0;
  std::string name;  // absolute, lower-case ("example.com.")
  config::RrType type = config::RrType::A;
  DnsFlags flags;
  std::vector<std::uint8_t> wire;
};

// Builds a query with EDNS0 advertising k_edns_udp_size, and RD (recursive,
// the default), DO and CD as `flags` say. Fails ("dns: invalid name 'a..b.' (empty
// label)") for a name that is not a valid DNS name.
// A name of plain labels (letters, digits, '-', '_') is encoded directly;
// any other goes through ldns (build_dns_query_with_ldns), which the direct
// path matches byte for byte.
Expected<DnsQuery> build_dns_query(std::string_view name, config::RrType type, std::uint16_t id,
                                   DnsFlags flags = {});
Expected<DnsQuery> build_dns_query_with_ldns(std::string_view name, config::RrType type,
                                             std::uint16_t id, DnsFlags flags = {});

// What a received datagram or TCP message means for `query`.
enum class ReplyMatch : std::uint8_t {
  Accepted,   // ours: `result` holds the classified answer
  Ignored,    // not ours, or unreadable: `ignored` says which; keep waiting
  Truncated,  // ours, TC set: retry over TCP
};

struct ClassifiedReply {
  ReplyMatch match = ReplyMatch::Ignored;
  IgnoredReply ignored = IgnoredReply::Short;  // when Ignored
  DnsResult result;                            // status, rcode, answers, detail (when Accepted)
  std::string why;  // when Ignored: "id 4242, expected 17", "answer section incomplete"
};

// Checks reply bytes in order: size >= header, ID matches, QR set, exactly
// one question that parses and echoes ours (name case-insensitively, type,
// class), TC, then the whole message, rcode and the answer section (records
// of the asked type for the asked name, following CNAMEs), and notes AA and
// the first SOA of the answer, else the authority, section. Only a reply that
// passes every check up to the one it fails is judged; bytes that do not
// parse are Ignored as Malformed, never Accepted: a reply with our id but
// another question and a cut-short answer section is not ours to judge.
ClassifiedReply classify_dns_reply(std::span<const std::uint8_t> bytes, const DnsQuery& query);

// The result of a query that ended without an acceptable reply. `otherwise`
// is what it is when nothing of ours arrived (Timeout "dns: timeout after
// 300ms", Truncated "dns: truncated reply and TCP retry failed: ..."). When a
// reply with our id and question did not parse it is Malformed and says why;
// either way the detail counts the replies ignored on the way.
DnsResult no_valid_reply(DnsResult otherwise, const IgnoredReplies& ignored);

// Applies a target's dns: expectations (min_answers, expect_addresses) to an
// accepted answer; statuses other than Answer pass through unchanged.
DnsResult judge_dns(DnsResult result, const config::DnsCheck& check);

}  // namespace crosscheck::probes
