// DNS messages for the lab's fake resolver (lab/fake_dns_server.cpp): the
// ldns owners, names as the server keys them, and the replies it sends,
// built into wire format. Internal to the lab: only its sources include it.
#pragma once

#include "lab/fake_dns_server.hpp"
#include "probes/ldns_owners.hpp"

#include <ldns/ldns.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::lab::dns_message {

using probes::FreeDeleter;
using probes::PktPtr;
using probes::RrPtr;

// A name lower-cased and ending in '.', as the server keys its behaviours.
std::string absolute(std::string_view name);
// An ldns name as text, lower-cased ("" when ldns cannot print it).
std::string name_text(const ldns_rdf* rdf);
// One zone-file line as a record; null when ldns refuses it.
RrPtr parse_record(const std::string& line);
// Zone-file lines of `records`, owned by `owner` unless a record names its own.
std::vector<std::string> record_lines(const std::vector<FakeRecord>& records,
                                      const std::string& owner);

// What one reply looks like; built into wire format by build_reply().
struct ReplySpec {
  std::uint16_t id = 0;
  int rcode = 0;
  bool truncated = false;
  bool authoritative = false;          // AA
  std::string question_name;           // empty: echo the query's question
  std::vector<std::string> rrs;        // zone-file lines for the answer section
  std::vector<std::string> authority;  // and for the authority section
};

// The reply to `query` that `spec` describes, in wire format ({} if ldns fails).
std::vector<std::uint8_t> build_reply(const ldns_pkt* query, const ReplySpec& spec);
// A reply to `query` that must be parsed to be rejected (see the definition).
std::vector<std::uint8_t> garbage(const ldns_pkt* query);

}  // namespace crosscheck::lab::dns_message
