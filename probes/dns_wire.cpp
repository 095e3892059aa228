#include "probes/dns_wire.hpp"
#include "probes/ldns_owners.hpp"

#include "base/ascii.hpp"

#include <ldns/ldns.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <span>
#include <utility>

namespace crosscheck::probes {
namespace {

constexpr std::size_t k_header_size = 12;
// A CNAME chain longer than this is treated as a loop or a misconfiguration;
// resolvers themselves give up around the same depth.
constexpr std::size_t k_max_cname_hops = 8;
constexpr std::uint8_t k_qr_bit = 0x80;      // in the third header byte
constexpr std::uint8_t k_tc_bit = 0x02;      // in the third header byte
constexpr std::uint8_t k_rcode_mask = 0x0F;  // in the fourth header byte
constexpr std::size_t k_qdcount_offset = 4;
constexpr std::uint8_t k_rd_bit = 0x01;       // in the third header byte
constexpr std::uint8_t k_cd_bit = 0x10;       // in the fourth header byte
constexpr std::uint16_t k_do_bit = 0x8000;    // in the OPT record's flags
constexpr std::size_t k_opt_size = 11;        // an OPT record without options
constexpr std::size_t k_max_wire_name = 255;  // RFC 1035 2.3.4
constexpr std::size_t k_max_label = 63;

std::string take_string(char* text) {
  const LdnsString owned(text);
  return owned ? std::string(owned.get()) : std::string();
}

// ldns's messages read "Label length overflow"; details stay lower-case
// after "dns: ", but an acronym ("DNSSEC ...") keeps its capitals.
std::string ldns_error(ldns_status status) {
  const char* message = ldns_get_errorstr_by_id(status);
  std::string text = message != nullptr ? message : "unknown ldns error";
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) != 0 &&
      std::isupper(static_cast<unsigned char>(text[1])) == 0) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// Presentation form; names are lower-cased so answers from different
// resolvers compare equal ("WWW.Example." and "www.example." are one name).
std::string rdf_text(const ldns_rdf* rdf) {
  std::string text = take_string(ldns_rdf2str(rdf));
  return ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME ? ascii::lower(text) : text;
}

std::string type_text(std::uint16_t type) {
  return take_string(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
}

std::string class_text(ldns_rr_class klass) {
  return take_string(ldns_rr_class2str(klass));
}

std::string plural(std::size_t count, std::string_view noun) {
  std::string text = std::to_string(count) + " " + std::string(noun);
  return count == 1 ? text : text + "s";
}

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8U) | bytes[at + 1]);
}

// A and AAAA rdata as an address; nullopt for any other type.
std::optional<config::IpAddress> address_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 1) {
    return std::nullopt;
  }
  const ldns_rdf* rdf = ldns_rr_rdf(rr, 0);
  const std::size_t size = ldns_rdf_size(rdf);
  config::IpAddress address;
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && size == 4) {
    address.family = config::IpAddress::Family::V4;
  } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA && size == 16) {
    address.family = config::IpAddress::Family::V6;
  } else {
    return std::nullopt;
  }
  std::copy_n(ldns_rdf_data(rdf), size, address.bytes.begin());
  return address;
}

DnsRecord to_record(const ldns_rr* rr) {
  DnsRecord record;
  record.name = rdf_text(ldns_rr_owner(rr));
  record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
  record.ttl = ldns_rr_ttl(rr);
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (i > 0) {
      record.data += ' ';
    }
    record.data += rdf_text(ldns_rr_rdf(rr, i));
  }
  record.address = address_of(rr);
  return record;
}

bool owned_by(const ldns_rr* rr, const ldns_rdf* name, ldns_rr_type type) {
  return ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN && ldns_rr_get_type(rr) == type &&
         ldns_dname_compare(ldns_rr_owner(rr), name) == 0;
}

// The earliest expiration (Unix seconds) of the answer section's RRSIGs
// over the records `result` counted: the asked type at an answer's owner,
// or a CNAME at a link of the chain; nullopt without one. An RRSIG over
// anything else in the section (another owner, another type) says nothing
// about this answer (hostile review: one stray record opened a page). The
// field is 32-bit serial time (RFC 4034 3.1.5): read as seconds since 1970,
// it holds until 2106.
std::optional<std::int64_t> earliest_rrsig_expiry(const ldns_pkt* reply, ldns_rr_type qtype,
                                                  const DnsResult& result) {
  const auto signs = [](const std::vector<DnsRecord>& records, const std::string& owner) {
    return std::any_of(records.begin(), records.end(),
                       [&owner](const DnsRecord& record) { return record.name == owner; });
  };
  std::optional<std::int64_t> earliest;
  const ldns_rr_list* section = ldns_pkt_answer(reply);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) < 5) {
      continue;
    }
    const ldns_rdf* covered = ldns_rr_rrsig_typecovered(rr);
    const ldns_rdf* expiration = ldns_rr_rrsig_expiration(rr);
    if (covered == nullptr || expiration == nullptr || ldns_rdf_size(covered) != 2 ||
        ldns_rdf_size(expiration) != 4) {
      continue;
    }
    const auto type = ldns_rdf2rr_type(covered);
    const auto owner = rdf_text(ldns_rr_owner(rr));
    const bool over_answer = type == qtype && signs(result.answers, owner);
    const bool over_chain = type == LDNS_RR_TYPE_CNAME && signs(result.chain, owner);
    if (!over_answer && !over_chain) {
      continue;
    }
    const std::int64_t at = ldns_rdf2native_int32(expiration);
    earliest = earliest ? std::min(*earliest, at) : at;
  }
  return earliest;
}

// NOERROR: records of the asked type for the asked name, following CNAMEs.
// Why the chain matters: "www.example. CNAME edge.cdn." plus "edge.cdn. A
// 192.0.2.1" answers an A query for www.example.; an A record for some other
// owner in the same section does not.
void read_answers(const ldns_pkt* reply, const ldns_rdf* qname, ldns_rr_type qtype,
                  DnsResult& result) {
  const ldns_rr_list* section = ldns_pkt_answer(reply);
  const std::size_t count = ldns_rr_list_rr_count(section);
  const ldns_rdf* current = qname;
  bool too_long = false;
  while (true) {
    for (std::size_t i = 0; i < count; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(section, i);
      if (owned_by(rr, current, qtype)) {
        result.answers.push_back(to_record(rr));
      }
    }
    if (!result.answers.empty() || qtype == LDNS_RR_TYPE_CNAME) {
      break;
    }
    const ldns_rr* cname = nullptr;
    for (std::size_t i = 0; i < count && cname == nullptr; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(section, i);
      if (owned_by(rr, current, LDNS_RR_TYPE_CNAME) && ldns_rr_rd_count(rr) == 1) {
        cname = rr;
      }
    }
    if (cname == nullptr) {
      break;
    }
    if (result.chain.size() == k_max_cname_hops) {
      too_long = true;
      break;
    }
    result.chain.push_back(to_record(cname));
    current = ldns_rr_rdf(cname, 0);
  }

  if (!result.answers.empty()) {
    result.status = DnsStatus::Answer;
    result.detail = "dns: NOERROR, " + plural(result.answers.size(), "answer");
    return;
  }
  result.status = DnsStatus::EmptyAnswer;
  result.detail = "dns: NOERROR, empty answer";
  if (too_long) {
    result.detail += " (CNAME chain longer than " + std::to_string(k_max_cname_hops) + " hops)";
  } else if (!result.chain.empty()) {
    result.detail += " (CNAME chain ends at " + rdf_text(current) + ")";
  } else if (count > 0) {
    result.detail += " (" + plural(count, "record") + ", none of type " +
                     type_text(static_cast<std::uint16_t>(qtype)) + ")";
  }
}

// The first SOA (class IN) of the answer section, else of the authority
// section. Why the authority section: "www.example. AAAA?" answered NOERROR
// without records carries "example. SOA ... 2026120501 ..." there, the zone
// apex that denies it (RFC 2308), which is how the zone of a name is found.
void read_soa(const ldns_pkt* reply, DnsResult& result) {
  for (const ldns_rr_list* section : {ldns_pkt_answer(reply), ldns_pkt_authority(reply)}) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(section, i);
      // SOA rdata: mname rname serial refresh retry expire minimum.
      constexpr std::size_t k_soa_fields = 7;
      constexpr std::size_t k_serial_field = 2;
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
          ldns_rr_rd_count(rr) != k_soa_fields) {
        continue;
      }
      const ldns_rdf* serial = ldns_rr_rdf(rr, k_serial_field);
      if (serial == nullptr || ldns_rdf_size(serial) != 4) {
        continue;
      }
      result.soa_serial = ldns_rdf2native_int32(serial);
      result.zone = rdf_text(ldns_rr_owner(rr));
      return;
    }
  }
}

// IANA's mnemonics (ldns spells NOTIMP "NOTIMPL" and stops at 10); 16 is
// BADVERS because only EDNS replies can carry it.
std::string rcode_name(int rcode) {
  constexpr std::array<std::pair<int, std::string_view>, 19> k_names{{
      {0, "NOERROR"},  {1, "FORMERR"},    {2, "SERVFAIL"}, {3, "NXDOMAIN"},   {4, "NOTIMP"},
      {5, "REFUSED"},  {6, "YXDOMAIN"},   {7, "YXRRSET"},  {8, "NXRRSET"},    {9, "NOTAUTH"},
      {10, "NOTZONE"}, {11, "DSOTYPENI"}, {16, "BADVERS"}, {17, "BADKEY"},    {18, "BADTIME"},
      {19, "BADMODE"}, {20, "BADNAME"},   {21, "BADALG"},  {23, "BADCOOKIE"},
  }};
  for (const auto& [code, name] : k_names) {
    if (code == rcode) {
      return std::string(name);
    }
  }
  return std::to_string(rcode);
}

void read_rcode(int rcode, DnsResult& result) {
  result.rcode = rcode;
  switch (rcode) {
    case LDNS_RCODE_NXDOMAIN:
      result.status = DnsStatus::NxDomain;
      result.detail = "dns: NXDOMAIN";
      return;
    case LDNS_RCODE_SERVFAIL:
      result.status = DnsStatus::ServFail;
      result.detail = "dns: SERVFAIL";
      return;
    case LDNS_RCODE_REFUSED:
      result.status = DnsStatus::Refused;
      result.detail = "dns: REFUSED";
      return;
    default:
      break;
  }
  result.status = DnsStatus::OtherRcode;
  result.detail = "dns: rcode " + rcode_name(rcode);
}

// The reply's Extended DNS Errors (at most k_max_extended_errors).
std::vector<ExtendedDnsError> extended_errors_of(ldns_pkt* reply) {
  std::vector<ExtendedDnsError> out;
  // Parsed from the OPT record's data; the packet owns (and frees) it.
  const ldns_edns_option_list* options = ldns_pkt_edns_get_option_list(reply);
  if (options == nullptr) {
    return out;
  }
  const std::size_t count = ldns_edns_option_list_get_count(options);
  for (std::size_t i = 0; i < count && out.size() < k_max_extended_errors; ++i) {
    const ldns_edns_option* option = ldns_edns_option_list_get_option(options, i);
    if (option == nullptr || ldns_edns_get_code(option) != k_edns_option_ede) {
      continue;
    }
    const std::span<const std::uint8_t> data(ldns_edns_get_data(option),
                                             ldns_edns_get_size(option));
    if (auto error = parse_extended_error(data)) {
      out.push_back(std::move(*error));
    }
  }
  return out;
}

ClassifiedReply ignore_reply(IgnoredReply kind, std::string why) {
  ClassifiedReply out;
  out.match = ReplyMatch::Ignored;
  out.ignored = kind;
  out.why = std::move(why);
  return out;
}

// EDNS extends the 4-bit header rcode with 8 more bits (BADVERS = 16).
int rcode_of(const ldns_pkt* reply) {
  return static_cast<int>(ldns_pkt_get_rcode(reply)) |
         (static_cast<int>(ldns_pkt_edns_extended_rcode(reply)) << 4);
}

// A name of letters, digits, '-' and '_' in labels of 1 to 63 bytes, with
// or without the final dot, at most 255 bytes on the wire: what nearly
// every configured name is. Its wire form and its presentation form need
// no escaping, so they are written directly; anything else goes through
// ldns, which parses escapes and reports what is wrong.
bool plain_name(std::string_view name) {
  if (name.ends_with('.')) {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() + 2 > k_max_wire_name) {
    return false;
  }
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed || ++label > k_max_label) {
      return false;
    }
  }
  return label > 0;
}

void put_u16(std::vector<std::uint8_t>& wire, std::uint16_t value) {
  wire.push_back(static_cast<std::uint8_t>(value >> 8U));
  wire.push_back(static_cast<std::uint8_t>(value & 0xFFU));
}

// The query ldns would encode for a plain_name(), byte for byte (a test
// compares the two over random names, types and flags): one allocation
// instead of a dozen, on a path every DNS probe takes.
DnsQuery plain_query(std::string_view name, config::RrType type, std::uint16_t id, DnsFlags flags) {
  DnsQuery query;
  query.id = id;
  query.type = type;
  query.flags = flags;
  query.name = ascii::lower(name);
  if (!query.name.ends_with('.')) {
    query.name.push_back('.');
  }
  auto& wire = query.wire;
  wire.reserve(k_header_size + query.name.size() + 1 + 4 + k_opt_size);
  put_u16(wire, id);
  wire.push_back(flags.recursion_desired ? k_rd_bit : 0);
  wire.push_back(flags.checking_disabled ? k_cd_bit : 0);
  for (const std::uint16_t count : {1, 0, 0, 1}) {  // question, answer, authority, additional
    put_u16(wire, count);
  }
  std::string_view rest(query.name);
  while (rest.size() > 1) {
    const auto dot = rest.find('.');
    wire.push_back(static_cast<std::uint8_t>(dot));
    wire.insert(wire.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dot));
    rest.remove_prefix(dot + 1);
  }
  wire.push_back(0);
  put_u16(wire, static_cast<std::uint16_t>(type));
  put_u16(wire, LDNS_RR_CLASS_IN);
  // OPT: the root name, type 41, the UDP size as its class, extended rcode
  // and version 0, DO as the top bit of the flags, no options.
  wire.push_back(0);
  put_u16(wire, LDNS_RR_TYPE_OPT);
  put_u16(wire, k_edns_udp_size);
  put_u16(wire, 0);
  put_u16(wire, flags.dnssec_ok ? k_do_bit : 0);
  put_u16(wire, 0);
  return query;
}

}  // namespace

Expected<DnsQuery> build_dns_query(std::string_view name, config::RrType type, std::uint16_t id,
                                   DnsFlags flags) {
  if (plain_name(name)) {
    return plain_query(name, type, id, flags);
  }
  return build_dns_query_with_ldns(name, type, id, flags);
}

Expected<DnsQuery> build_dns_query_with_ldns(std::string_view name, config::RrType type,
                                             std::uint16_t id, DnsFlags flags) {
  const std::string text(name);
  if (text.empty()) {
    return fail("dns: invalid name '' (empty)");
  }
  if (text.find('\0') != std::string::npos) {
    return fail("dns: invalid name (contains NUL)");
  }
  ldns_rdf* raw_name = nullptr;
  const ldns_status parsed = ldns_str2rdf_dname(&raw_name, text.c_str());
  RdfPtr qname(raw_name);
  if (parsed != LDNS_STATUS_OK || !qname) {
    return fail("dns: invalid name '" + text + "' (" + ldns_error(parsed) + ")");
  }
  ldns_dname2canonical(qname.get());

  DnsQuery query;
  query.id = id;
  query.name = rdf_text(qname.get());
  query.type = type;
  query.flags = flags;

  const PktPtr packet(ldns_pkt_query_new(qname.release(), static_cast<ldns_rr_type>(type),
                                         LDNS_RR_CLASS_IN, flags.recursion_desired ? LDNS_RD : 0));
  if (!packet) {
    return fail("dns: cannot build a query for '" + text + "'");
  }
  ldns_pkt_set_id(packet.get(), id);
  // A non-zero EDNS udp size makes ldns_pkt_edns() true, so pkt2wire emits
  // the OPT RR; 1232 avoids IP fragmentation (DNS flag day 2020).
  ldns_pkt_set_edns_udp_size(packet.get(), k_edns_udp_size);
  ldns_pkt_set_edns_do(packet.get(), flags.dnssec_ok);
  ldns_pkt_set_cd(packet.get(), flags.checking_disabled);

  std::uint8_t* raw_wire = nullptr;
  std::size_t size = 0;
  const ldns_status written = ldns_pkt2wire(&raw_wire, packet.get(), &size);
  const LdnsBuffer wire(raw_wire);
  if (written != LDNS_STATUS_OK || !wire) {
    return fail("dns: cannot encode query (" + ldns_error(written) + ")");
  }
  query.wire.assign(wire.get(), wire.get() + size);
  return query;
}

ClassifiedReply classify_dns_reply(std::span<const std::uint8_t> bytes, const DnsQuery& query) {
  if (bytes.size() < k_header_size) {
    return ignore_reply(IgnoredReply::Short, "short reply (" + plural(bytes.size(), "byte") + ")");
  }
  const std::uint16_t id = read_u16(bytes, 0);
  if (id != query.id) {
    return ignore_reply(IgnoredReply::WrongId,
                        "id " + std::to_string(id) + ", expected " + std::to_string(query.id));
  }
  if ((bytes[2] & k_qr_bit) == 0) {
    return ignore_reply(IgnoredReply::NotResponse, "not a response (QR clear)");
  }

  // Question echoed: exactly one, same name (case-insensitive), type, class
  // IN. Read on its own before the rest: a reply to another question is not
  // ours, whatever state its other sections are in.
  const std::uint16_t questions = read_u16(bytes, k_qdcount_offset);
  if (questions != 1) {
    return ignore_reply(IgnoredReply::WrongQuestion,
                        plural(questions, "question") + ", expected 1");
  }
  ldns_rr* raw_asked = nullptr;
  std::size_t position = k_header_size;
  const ldns_status question_parsed =
      ldns_wire2rr(&raw_asked, bytes.data(), bytes.size(), &position, LDNS_SECTION_QUESTION);
  const RrPtr asked(raw_asked);
  if (question_parsed != LDNS_STATUS_OK || !asked) {
    return ignore_reply(IgnoredReply::Malformed, ldns_error(question_parsed));
  }
  const RdfPtr expected_name(ldns_dname_new_frm_str(query.name.c_str()));
  const auto qtype = static_cast<ldns_rr_type>(query.type);
  if (!expected_name || ldns_dname_compare(ldns_rr_owner(asked.get()), expected_name.get()) != 0 ||
      ldns_rr_get_type(asked.get()) != qtype ||
      ldns_rr_get_class(asked.get()) != LDNS_RR_CLASS_IN) {
    return ignore_reply(IgnoredReply::WrongQuestion,
                        "question " + rdf_text(ldns_rr_owner(asked.get())) + " " +
                            class_text(ldns_rr_get_class(asked.get())) + " " +
                            type_text(static_cast<std::uint16_t>(ldns_rr_get_type(asked.get()))) +
                            ", expected " + query.name + " IN " +
                            type_text(static_cast<std::uint16_t>(query.type)));
  }

  ClassifiedReply out;
  ldns_pkt* raw_reply = nullptr;
  const ldns_status parsed = ldns_wire2pkt(&raw_reply, bytes.data(), bytes.size());
  const PktPtr reply(raw_reply);
  // TC is read from the header: a truncated reply may well be cut mid-record,
  // and the TCP retry is what answers it.
  if ((bytes[2] & k_tc_bit) != 0) {
    out.match = ReplyMatch::Truncated;
    out.result.status = DnsStatus::Truncated;
    out.result.rcode = reply ? rcode_of(reply.get()) : (bytes[3] & k_rcode_mask);
    out.result.detail = "dns: truncated reply";
    return out;
  }
  if (parsed != LDNS_STATUS_OK || !reply) {
    return ignore_reply(IgnoredReply::Malformed, ldns_error(parsed));
  }

  out.match = ReplyMatch::Accepted;
  const int rcode = rcode_of(reply.get());
  if (rcode != LDNS_RCODE_NOERROR) {
    read_rcode(rcode, out.result);
  } else {
    out.result.rcode = rcode;
    read_answers(reply.get(), ldns_rr_owner(asked.get()), qtype, out.result);
  }
  out.result.authenticated = ldns_pkt_ad(reply.get());
  out.result.authoritative_answer = ldns_pkt_aa(reply.get());
  read_soa(reply.get(), out.result);
  out.result.rrsig_expires = earliest_rrsig_expiry(reply.get(), qtype, out.result);
  out.result.extended_errors = extended_errors_of(reply.get());
  out.result.detail += describe_extended_errors(out.result.extended_errors);
  return out;
}

DnsResult no_valid_reply(DnsResult otherwise, const IgnoredReplies& ignored) {
  if (ignored.count(IgnoredReply::Malformed) > 0) {
    // "dns: malformed reply (answer section incomplete); then timeout after 300ms"
    constexpr std::string_view k_layer = "dns: ";
    std::string_view then = otherwise.detail;
    if (then.starts_with(k_layer)) {
      then.remove_prefix(k_layer.size());
    }
    otherwise.detail =
        "dns: malformed reply (" + ignored.first_malformed + "); then " + std::string(then);
    otherwise.status = DnsStatus::Malformed;
  }
  if (ignored.total() > 0) {
    otherwise.detail += " (ignored " + ignored.summary() + ")";
  }
  otherwise.ignored = ignored;
  return otherwise;
}

DnsResult judge_dns(DnsResult result, const config::DnsCheck& check) {
  if (result.status != DnsStatus::Answer) {
    return result;
  }
  const std::size_t min_answers =
      check.min_answers > 0 ? static_cast<std::size_t>(check.min_answers) : 0;
  if (result.answers.size() < min_answers) {
    result.status = DnsStatus::TooFewAnswers;
    result.detail = "dns: " + plural(result.answers.size(), "answer") +
                    ", fewer than min_answers " + std::to_string(check.min_answers) +
                    describe_extended_errors(result.extended_errors);
    return result;
  }
  if (check.expect_addresses.empty()) {
    return result;
  }
  for (const auto& address : result.addresses()) {
    const bool expected =
        std::any_of(check.expect_addresses.begin(), check.expect_addresses.end(),
                    [&](const config::Cidr& cidr) { return cidr.contains(address); });
    if (!expected) {
      std::string allowed;
      for (const auto& cidr : check.expect_addresses) {
        allowed += (allowed.empty() ? "" : ", ") + cidr.to_string();
      }
      result.status = DnsStatus::UnexpectedAddress;
      result.detail = "dns: answer " + address.to_string() + " outside expect_addresses (" +
                      allowed + ")" + describe_extended_errors(result.extended_errors);
      return result;
    }
  }
  return result;
}

}  // namespace crosscheck::probes
