// DNS wire format, built and checked with ldns: query construction and the
// pure classification of reply bytes. No sockets here (dns_client does I/O),
// so every check is unit tested with hand-made packets.
#pragma once

#include "config/config.hpp"
#include "probes/dns_types.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crosscheck::probes {

constexpr std::uint16_t k_edns_udp_size = 1232;

struct DnsQuery {
  std::uint16_t id = 0;
  std::string name;  // absolute, lower-case ("example.com.")
  config::RrType type = config::RrType::A;
  std::vector<std::uint8_t> wire;
};

// Builds a recursive query (RD set) with EDNS0 advertising k_edns_udp_size.
// Returns nullopt and sets `error` for a name that is not a valid DNS name.
std::optional<DnsQuery> build_dns_query(std::string_view name, config::RrType type,
                                        std::uint16_t id, std::string& error);

// What a received datagram or TCP message means for `query`.
enum class ReplyMatch : std::uint8_t {
  Accepted,   // ours: `result` holds the classified answer
  Mismatch,   // not ours (wrong id, not a response, other question): ignore, keep waiting
  Truncated,  // ours, TC set: retry over TCP
};

struct ClassifiedReply {
  ReplyMatch match = ReplyMatch::Mismatch;
  DnsResult result;      // status, rcode, answers, detail (when Accepted)
  std::string mismatch;  // why it was ignored ("id 4242, expected 17")
};

// Checks reply bytes in order: size >= header, ID matches, QR set, question
// echoed (name case-insensitively, type, class), TC, rcode, then the answer
// section (records of the asked type for the asked name, following CNAMEs).
// Bytes that fail to parse after the id matched are Accepted as Malformed.
ClassifiedReply classify_dns_reply(std::span<const std::uint8_t> bytes, const DnsQuery& query);

// Applies a target's dns: expectations (min_answers, expect_addresses) to an
// accepted answer; statuses other than Answer pass through unchanged.
DnsResult judge_dns(DnsResult result, const config::DnsCheck& check);

}  // namespace crosscheck::probes
