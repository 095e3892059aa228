#include "lab/fake_dns_message.hpp"

#include "base/ascii.hpp"

#include <random>
#include <utility>

namespace crosscheck::lab::dns_message {
namespace {

constexpr std::size_t k_garbage_bytes = 24;

}  // namespace

std::string absolute(std::string_view name) {
  std::string text = ascii::lower(name);
  if (text.empty() || text.back() != '.') {
    text += '.';
  }
  return text;
}

std::string name_text(const ldns_rdf* rdf) {
  const std::unique_ptr<char, FreeDeleter> text(ldns_rdf2str(rdf));
  return text ? ascii::lower(text.get()) : std::string();
}

RrPtr parse_record(const std::string& line) {
  ldns_rr* raw = nullptr;
  if (ldns_rr_new_frm_str(&raw, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    return nullptr;  // ldns frees what it allocated on failure
  }
  return RrPtr(raw);
}

std::vector<std::uint8_t> build_reply(const ldns_pkt* query, const ReplySpec& spec) {
  const PktPtr reply(ldns_pkt_new());
  if (!reply) {
    return {};
  }
  ldns_pkt_set_id(reply.get(), spec.id);
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(query));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_tc(reply.get(), spec.truncated);
  ldns_pkt_set_aa(reply.get(), spec.authoritative);
  ldns_pkt_set_rcode(reply.get(), static_cast<std::uint8_t>(spec.rcode & 0x0F));
  if (ldns_pkt_edns_udp_size(query) > 0 || spec.rcode > 0x0F) {
    ldns_pkt_set_edns_udp_size(reply.get(), 1232);
    ldns_pkt_set_edns_extended_rcode(reply.get(), static_cast<std::uint8_t>(spec.rcode >> 4));
  }

  const ldns_rr* asked = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  RrPtr question(ldns_rr_clone(asked));
  if (!spec.question_name.empty()) {
    ldns_rr* raw = nullptr;
    const std::unique_ptr<char, FreeDeleter> type(ldns_rr_type2str(ldns_rr_get_type(asked)));
    const std::string line = spec.question_name + " IN " + type.get();
    if (ldns_rr_new_question_frm_str(&raw, line.c_str(), nullptr, nullptr) == LDNS_STATUS_OK) {
      question.reset(raw);
    }
  }
  if (question && ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, question.get())) {
    static_cast<void>(question.release());  // owned by the packet now
  }
  for (const auto& [lines, section] : {std::pair{&spec.rrs, LDNS_SECTION_ANSWER},
                                       std::pair{&spec.authority, LDNS_SECTION_AUTHORITY}}) {
    for (const auto& line : *lines) {
      RrPtr rr = parse_record(line);  // checked in set(): never null here
      if (rr && ldns_pkt_push_rr(reply.get(), section, rr.get())) {
        static_cast<void>(rr.release());
      }
    }
  }

  std::uint8_t* raw_wire = nullptr;
  std::size_t size = 0;
  const ldns_status written = ldns_pkt2wire(&raw_wire, reply.get(), &size);
  const std::unique_ptr<std::uint8_t, FreeDeleter> wire(raw_wire);
  if (written != LDNS_STATUS_OK || !wire) {
    return {};
  }
  return {wire.get(), wire.get() + size};
}

// The header (right id, QR set) and the query's own question, then 24
// (seeded, reproducible) random bytes where the header promises 257 answers
// they cannot hold: a client must parse past the question to reject it, and
// it never parses by accident. The question is the query's, written by ldns,
// so that it always matches; random bytes there would sometimes spell a
// question of their own (a "wrong question", not a malformed reply).
std::vector<std::uint8_t> garbage(const ldns_pkt* query) {
  const ldns_rr* asked = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  std::uint8_t* raw_question = nullptr;
  std::size_t size = 0;
  const ldns_status written = ldns_rr2wire(&raw_question, asked, LDNS_SECTION_QUESTION, &size);
  const std::unique_ptr<std::uint8_t, FreeDeleter> question(raw_question);
  if (written != LDNS_STATUS_OK || !question) {
    return {};
  }
  const std::uint16_t id = ldns_pkt_id(query);
  std::vector<std::uint8_t> bytes(12);  // the header: id, flags, four counts
  bytes[0] = static_cast<std::uint8_t>(id >> 8U);
  bytes[1] = static_cast<std::uint8_t>(id & 0xFFU);
  bytes[2] = 0x81;  // QR, RD
  bytes[3] = 0x80;  // RA
  bytes[5] = 1;     // QDCOUNT 1
  bytes[6] = 1;     // ANCOUNT 257
  bytes[7] = 1;
  bytes.insert(bytes.end(), question.get(), question.get() + size);
  std::mt19937 random(id);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t i = 0; i < k_garbage_bytes; ++i) {
    bytes.push_back(static_cast<std::uint8_t>(byte(random)));
  }
  return bytes;
}

std::vector<std::string> record_lines(const std::vector<FakeRecord>& records,
                                      const std::string& owner) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (const auto& record : records) {
    lines.push_back((record.owner.empty() ? owner : absolute(record.owner)) + " " +
                    std::to_string(record.ttl) + " IN " + record.type + " " + record.data);
  }
  return lines;
}

}  // namespace crosscheck::lab::dns_message
