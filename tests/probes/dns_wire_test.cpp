#include "probes/dns_wire.hpp"
#include "probes/ldns_owners.hpp"

#include <ldns/ldns.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace crosscheck;
using probes::DnsStatus;
using probes::IgnoredReply;
using probes::ReplyMatch;

using probes::FreeDeleter;
using probes::PktPtr;
using probes::RrPtr;

probes::DnsQuery make_query(const std::string& name = "example.com.",
                            config::RrType type = config::RrType::A, std::uint16_t id = 4242) {
  auto query = probes::build_dns_query(name, type, id);
  REQUIRE(query);
  return *query;
}

PktPtr parse(const std::vector<std::uint8_t>& wire) {
  ldns_pkt* raw = nullptr;
  REQUIRE(ldns_wire2pkt(&raw, wire.data(), wire.size()) == LDNS_STATUS_OK);
  return PktPtr(raw);
}

RrPtr make_rr(const std::string& line, bool question = false) {
  ldns_rr* raw = nullptr;
  const ldns_status status =
      question ? ldns_rr_new_question_frm_str(&raw, line.c_str(), nullptr, nullptr)
               : ldns_rr_new_frm_str(&raw, line.c_str(), 0, nullptr, nullptr);
  REQUIRE(status == LDNS_STATUS_OK);
  return RrPtr(raw);
}

// A reply to `query` built with ldns; every field can be made wrong.
struct Reply {
  std::optional<std::uint16_t> id;  // default: the query's
  bool qr = true;
  bool tc = false;
  int rcode = 0;
  bool ad = false;
  bool aa = false;
  std::vector<std::string> questions{"example.com. IN A"};
  std::vector<std::string> answers;
  std::vector<std::string> authority;

  std::vector<std::uint8_t> wire(const probes::DnsQuery& query) const {
    const PktPtr packet(ldns_pkt_new());
    REQUIRE(packet);
    ldns_pkt_set_id(packet.get(), id.value_or(query.id));
    ldns_pkt_set_qr(packet.get(), qr);
    ldns_pkt_set_rd(packet.get(), true);
    ldns_pkt_set_ra(packet.get(), true);
    ldns_pkt_set_tc(packet.get(), tc);
    ldns_pkt_set_ad(packet.get(), ad);
    ldns_pkt_set_aa(packet.get(), aa);
    ldns_pkt_set_rcode(packet.get(), static_cast<std::uint8_t>(rcode & 0x0F));
    if (rcode > 0x0F) {
      ldns_pkt_set_edns_udp_size(packet.get(), 1232);
      ldns_pkt_set_edns_extended_rcode(packet.get(), static_cast<std::uint8_t>(rcode >> 4));
    }
    for (const auto& line : questions) {
      auto rr = make_rr(line, true);
      REQUIRE(ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, rr.release()));
    }
    for (const auto& line : answers) {
      auto rr = make_rr(line);
      REQUIRE(ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, rr.release()));
    }
    for (const auto& line : authority) {
      auto rr = make_rr(line);
      REQUIRE(ldns_pkt_push_rr(packet.get(), LDNS_SECTION_AUTHORITY, rr.release()));
    }
    std::uint8_t* raw = nullptr;
    std::size_t size = 0;
    REQUIRE(ldns_pkt2wire(&raw, packet.get(), &size) == LDNS_STATUS_OK);
    const std::unique_ptr<std::uint8_t, FreeDeleter> owned(raw);
    return {owned.get(), owned.get() + size};
  }
};

probes::ClassifiedReply classify(const Reply& reply, const probes::DnsQuery& query = make_query()) {
  return probes::classify_dns_reply(reply.wire(query), query);
}

probes::DnsRecord address_record(const std::string& text) {
  probes::DnsRecord record;
  record.address = config::IpAddress::parse(text);
  REQUIRE(record.address);
  record.data = text;
  record.type = record.address->family == config::IpAddress::Family::V4 ? 1 : 28;
  return record;
}

probes::DnsResult answer_with(const std::vector<std::string>& addresses) {
  probes::DnsResult result;
  result.status = DnsStatus::Answer;
  result.rcode = 0;
  for (const auto& text : addresses) {
    result.answers.push_back(address_record(text));
  }
  result.detail = "dns: NOERROR, " + std::to_string(addresses.size()) +
                  (addresses.size() == 1 ? " answer" : " answers");
  return result;
}

config::DnsCheck check_with(int min_answers, const std::vector<std::string>& cidrs = {}) {
  config::DnsCheck check;
  check.name = "example.com.";
  check.min_answers = min_answers;
  for (const auto& text : cidrs) {
    auto cidr = config::Cidr::parse(text);
    REQUIRE(cidr);
    check.expect_addresses.push_back(*cidr);
  }
  return check;
}

}  // namespace

TEST_CASE("a query is recursive, advertises EDNS0 with 1232 bytes and asks one question", "[dns]") {
  const auto [name, type, expected_name] =
      GENERATE(table<std::string, config::RrType, std::string>({
          {"example.com", config::RrType::A, "example.com."},
          {"Example.COM.", config::RrType::AAAA, "example.com."},
          {".", config::RrType::NS, "."},
      }));
  CAPTURE(name);
  const auto query = make_query(name, type, 0xBEEF);
  CHECK(query.id == 0xBEEF);
  CHECK(query.name == expected_name);
  CHECK(query.type == type);

  // The OPT RR is really on the wire: ARCOUNT is 1.
  REQUIRE(query.wire.size() > 12);
  CHECK(query.wire[10] == 0);
  CHECK(query.wire[11] == 1);

  const auto packet = parse(query.wire);
  CHECK(ldns_pkt_id(packet.get()) == 0xBEEF);
  CHECK(ldns_pkt_rd(packet.get()));
  CHECK_FALSE(ldns_pkt_qr(packet.get()));
  CHECK(ldns_pkt_edns_udp_size(packet.get()) == probes::k_edns_udp_size);
  CHECK(probes::k_edns_udp_size == 1232);
  CHECK_FALSE(ldns_pkt_edns_do(packet.get()));
  REQUIRE(ldns_pkt_qdcount(packet.get()) == 1);
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(packet.get()), 0);
  const std::unique_ptr<char, FreeDeleter> owner(ldns_rdf2str(ldns_rr_owner(question)));
  CHECK(std::string(owner.get()) == expected_name);
  CHECK(ldns_rr_get_type(question) == static_cast<ldns_rr_type>(type));
  CHECK(ldns_rr_get_class(question) == LDNS_RR_CLASS_IN);
}

TEST_CASE("dns.dnssec queries set DO, and the second look at a SERVFAIL sets CD", "[dns][dnssec]") {
  const auto [flags, do_bit, cd_bit] = GENERATE(table<probes::DnsFlags, bool, bool>({
      {probes::DnsFlags{}, false, false},
      {probes::DnsFlags{true, false}, true, false},
      {probes::DnsFlags{true, true}, true, true},
  }));
  const auto query = probes::build_dns_query("example.com.", config::RrType::A, 7, flags);
  REQUIRE(query);
  CHECK(query->flags == flags);
  const auto packet = parse(query->wire);
  CHECK(ldns_pkt_edns_do(packet.get()) == do_bit);
  CHECK(ldns_pkt_cd(packet.get()) == cd_bit);
  CHECK(ldns_pkt_rd(packet.get()));
  CHECK(ldns_pkt_edns_udp_size(packet.get()) == probes::k_edns_udp_size);
}

TEST_CASE("a validated answer keeps its AD bit and the earliest RRSIG expiry over the answer",
          "[dns][dnssec]") {
  Reply reply;
  reply.ad = true;
  reply.answers = {
      "example.com. 300 IN A 192.0.2.1",
      // Over A: expires 2026-12-20 and 2026-12-10 (the earlier counts).
      "example.com. 300 IN RRSIG A 13 2 300 20261220000000 20261120000000 2371 example.com. "
      "c2lnbmF0dXJl",
      "example.com. 300 IN RRSIG A 13 2 300 20261210000000 20261120000000 4242 example.com. "
      "c2lnbmF0dXJl",
      // Over another type: not the answer's.
      "example.com. 300 IN RRSIG TXT 13 2 300 20261201000000 20261120000000 2371 example.com. "
      "c2lnbmF0dXJl",
      // Over A at another owner (a stray record): not the answer's either.
      "stray.example.com. 300 IN RRSIG A 13 2 300 19700101001640 19700101000000 2371 "
      "example.com. c2lnbmF0dXJl",
  };
  const auto out = classify(reply);
  REQUIRE(out.match == ReplyMatch::Accepted);
  CHECK(out.result.status == DnsStatus::Answer);
  CHECK(out.result.answers.size() == 1);  // RRSIGs are not answers
  CHECK(out.result.authenticated);
  REQUIRE(out.result.rrsig_expires);
  CHECK(*out.result.rrsig_expires == 1796860800);  // 2026-12-10T00:00:00Z

  Reply unsigned_reply;
  unsigned_reply.answers = {"example.com. 300 IN A 192.0.2.1"};
  const auto plain = classify(unsigned_reply);
  CHECK_FALSE(plain.result.authenticated);
  CHECK_FALSE(plain.result.rrsig_expires);
}

TEST_CASE("an RRSIG over a CNAME on the way counts, a truncated RRSIG does not", "[dns][dnssec]") {
  Reply reply;
  reply.answers = {
      "example.com. 300 IN CNAME edge.example.net.",
      "example.com. 300 IN RRSIG CNAME 13 2 300 20261215000000 20261120000000 2371 example.com. "
      "c2lnbmF0dXJl",
      "edge.example.net. 300 IN A 192.0.2.7",
  };
  const auto out = classify(reply);
  CHECK(out.result.status == DnsStatus::Answer);
  CHECK(out.result.rrsig_expires == 1797292800);  // 2026-12-15T00:00:00Z
}

// Names made to sit on both sides of what the direct encoder takes: plain
// labels of 1 to 63 bytes and names near 255 bytes on the wire, with and
// without the final dot, in mixed case, and sometimes a byte that only
// ldns handles (an escape, a space, a non-ASCII byte) or an empty label.
std::string random_name(std::mt19937& random) {
  constexpr std::string_view k_plain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  constexpr std::string_view k_other = "\\. @;\"()$\xC3\x7F*";
  const auto pick = [&](int below) {
    return std::uniform_int_distribution<int>(0, below - 1)(random);
  };
  std::string name;
  const int shape = pick(4);
  if (shape == 0) {  // near the limits: long labels up to about 255 bytes on the wire
    const std::size_t target = 240 + static_cast<std::size_t>(pick(20));
    while (name.size() < target) {
      const std::size_t label = std::min<std::size_t>(
          62 + static_cast<std::size_t>(pick(3)), std::max<std::size_t>(1, target - name.size()));
      for (std::size_t i = 0; i < label; ++i) {
        name.push_back(k_plain[static_cast<std::size_t>(pick(static_cast<int>(k_plain.size())))]);
      }
      name.push_back('.');
    }
  } else {
    const int labels = 1 + pick(5);
    for (int l = 0; l < labels; ++l) {
      const int size = shape == 1 ? pick(3) : 1 + pick(12);  // shape 1: empty labels too
      for (int i = 0; i < size; ++i) {
        const bool other = shape == 2 && pick(8) == 0;
        const auto& from = other ? k_other : k_plain;
        name.push_back(from[static_cast<std::size_t>(pick(static_cast<int>(from.size())))]);
      }
      name.push_back('.');
    }
  }
  if (pick(2) == 0 && !name.empty()) {
    name.pop_back();  // relative: the same name
  }
  return name;
}

TEST_CASE("the direct query encoder writes the bytes ldns writes, for any name, type and flags",
          "[dns]") {
  std::mt19937 random(20261206);
  const std::vector<config::RrType> types = {
      config::RrType::A,   config::RrType::NS, config::RrType::CNAME, config::RrType::SOA,
      config::RrType::PTR, config::RrType::MX, config::RrType::TXT,   config::RrType::AAAA,
      config::RrType::SRV, config::RrType::CAA};
  // The limits, by hand: 253 bytes with or without the final dot (255 on
  // the wire), one more, and labels of 63 and 64 bytes.
  const std::string label63(63, 'a');
  const std::string long_name =
      label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  REQUIRE(long_name.size() == 253);
  std::vector<std::string> names = {
      long_name,        long_name + ".",       long_name + "b",
      long_name + "b.", label63 + ".example.", label63 + "a.example."};
  for (int round = 0; round < 4000; ++round) {
    names.push_back(random_name(random));
  }
  int direct_ok = 0;
  int refused = 0;
  for (int round = 0; round < static_cast<int>(names.size()); ++round) {
    const auto& name = names[static_cast<std::size_t>(round)];
    const auto type = types[static_cast<std::size_t>(round) % types.size()];
    const auto id = static_cast<std::uint16_t>(random());
    const probes::DnsFlags flags{(round & 1) != 0, (round & 2) != 0, (round & 4) != 0};
    CAPTURE(name, round);
    const auto built = probes::build_dns_query(name, type, id, flags);
    const auto reference = probes::build_dns_query_with_ldns(name, type, id, flags);
    REQUIRE(static_cast<bool>(built) == static_cast<bool>(reference));
    if (!built) {
      CHECK(built.error() == reference.error());
      ++refused;
      continue;
    }
    CHECK(built->wire == reference->wire);
    CHECK(built->name == reference->name);
    CHECK(built->id == id);
    CHECK(built->type == type);
    CHECK(built->flags == flags);
    ++direct_ok;
  }
  // Both kinds of name came up often enough to mean something.
  CHECK(direct_ok > 1000);
  CHECK(refused > 100);
}

TEST_CASE("a name that is not a valid DNS name is refused before anything is sent", "[dns]") {
  const auto [name, detail] = GENERATE(table<std::string, std::string>({
      {"", "dns: invalid name '' (empty)"},
      {"a..example.", "dns: invalid name 'a..example.' (empty label)"},
      {std::string(64, 'x') + ".example.",
       "dns: invalid name '" + std::string(64, 'x') + ".example.' (label length overflow)"},
      {std::string("a\0b", 3), "dns: invalid name (contains NUL)"},
  }));
  CAPTURE(name);
  const auto query = probes::build_dns_query(name, config::RrType::A, 1);
  REQUIRE_FALSE(query);
  CHECK(query.error() == detail);
}

TEST_CASE("a reply shorter than the DNS header is ignored", "[dns]") {
  const auto query = make_query();
  auto bytes = Reply{}.wire(query);
  const std::size_t size = GENERATE(0U, 2U, 11U);
  bytes.resize(size);
  const auto reply = probes::classify_dns_reply(bytes, query);
  CHECK(reply.match == ReplyMatch::Ignored);
  CHECK(reply.ignored == IgnoredReply::Short);
  CHECK(reply.why.rfind("short reply (", 0) == 0);
}

TEST_CASE("a reply with another id is ignored, whatever it says", "[dns]") {
  Reply wrong;
  wrong.id = 4243;
  wrong.answers = {"example.com. 60 IN A 192.0.2.1"};
  const auto reply = classify(wrong);
  CHECK(reply.match == ReplyMatch::Ignored);
  CHECK(reply.ignored == IgnoredReply::WrongId);
  CHECK(reply.why == "id 4243, expected 4242");
}

TEST_CASE("a message with QR clear is not a reply and is ignored", "[dns]") {
  const auto query = make_query();
  SECTION("our own query reflected back") {
    const auto reply = probes::classify_dns_reply(query.wire, query);
    CHECK(reply.match == ReplyMatch::Ignored);
    CHECK(reply.ignored == IgnoredReply::NotResponse);
  }
  SECTION("an answer-shaped message without QR") {
    Reply not_reply;
    not_reply.qr = false;
    not_reply.answers = {"example.com. 60 IN A 192.0.2.1"};
    const auto reply = classify(not_reply, query);
    CHECK(reply.match == ReplyMatch::Ignored);
    CHECK(reply.ignored == IgnoredReply::NotResponse);
    CHECK(reply.why == "not a response (QR clear)");
  }
}

TEST_CASE("a reply to another question is ignored", "[dns]") {
  const auto questions = GENERATE(values<std::vector<std::string>>({
      {"other.example. IN A"},
      {"example.com. IN AAAA"},
      {"example.com. CH A"},
      {},
      {"example.com. IN A", "example.com. IN A"},
  }));
  CAPTURE(questions);
  Reply wrong;
  wrong.questions = questions;
  wrong.answers = {"example.com. 60 IN A 192.0.2.1"};
  const auto reply = classify(wrong);
  CHECK(reply.match == ReplyMatch::Ignored);
  CHECK(reply.ignored == IgnoredReply::WrongQuestion);
  CHECK_FALSE(reply.why.empty());
}

TEST_CASE("the question is compared without regard to case", "[dns]") {
  Reply upper;
  upper.questions = {"EXAMPLE.Com. IN A"};
  upper.answers = {"EXAMPLE.Com. 60 IN A 192.0.2.1"};
  const auto reply = classify(upper);
  REQUIRE(reply.match == ReplyMatch::Accepted);
  CHECK(reply.result.status == DnsStatus::Answer);
  REQUIRE(reply.result.answers.size() == 1);
  CHECK(reply.result.answers[0].name == "example.com.");
}

TEST_CASE("a truncated reply asks for a retry over TCP", "[dns]") {
  Reply truncated;
  truncated.tc = true;
  const auto reply = classify(truncated);
  CHECK(reply.match == ReplyMatch::Truncated);
  CHECK(reply.result.status == DnsStatus::Truncated);
}

TEST_CASE("each error rcode has its own status and detail", "[dns]") {
  const auto [rcode, status, detail] = GENERATE(table<int, DnsStatus, std::string>({
      {3, DnsStatus::NxDomain, "dns: NXDOMAIN"},
      {2, DnsStatus::ServFail, "dns: SERVFAIL"},
      {5, DnsStatus::Refused, "dns: REFUSED"},
      {1, DnsStatus::OtherRcode, "dns: rcode FORMERR"},
      {4, DnsStatus::OtherRcode, "dns: rcode NOTIMP"},
      {16, DnsStatus::OtherRcode, "dns: rcode BADVERS"},
      {15, DnsStatus::OtherRcode, "dns: rcode 15"},
  }));
  Reply failing;
  failing.rcode = rcode;
  const auto reply = classify(failing);
  REQUIRE(reply.match == ReplyMatch::Accepted);
  CHECK(reply.result.status == status);
  CHECK(reply.result.rcode == rcode);
  CHECK(reply.result.detail == detail);
  CHECK_FALSE(reply.result.up());
}

TEST_CASE("NOERROR with an empty answer section is its own outcome, as in Oct 2025", "[dns]") {
  const auto reply = classify(Reply{});
  REQUIRE(reply.match == ReplyMatch::Accepted);
  CHECK(reply.result.status == DnsStatus::EmptyAnswer);
  CHECK(reply.result.detail == "dns: NOERROR, empty answer");
  CHECK(reply.result.rcode == 0);
  CHECK(reply.result.answers.empty());
  CHECK_FALSE(reply.result.up());
}

TEST_CASE("a query for an authoritative server clears RD and keeps EDNS", "[dns][authoritative]") {
  probes::DnsFlags flags;
  flags.recursion_desired = false;
  const auto query = probes::build_dns_query("example.com.", config::RrType::SOA, 9, flags);
  REQUIRE(query);
  const auto packet = parse(query->wire);
  CHECK_FALSE(ldns_pkt_rd(packet.get()));
  CHECK(ldns_pkt_edns_udp_size(packet.get()) == probes::k_edns_udp_size);
  CHECK(ldns_pkt_rd(parse(make_query().wire).get()));
}

TEST_CASE("AA and the zone's SOA serial are read from the answer or else the authority section",
          "[dns][authoritative]") {
  constexpr auto k_soa = " 300 IN SOA ns1.example.com. hostmaster.example.com. ";
  SECTION("a NODATA reply names its zone apex in the authority section") {
    Reply reply;
    reply.aa = true;
    reply.authority = {std::string("Example.COM.") + k_soa + "2026120503 3600 600 86400 300"};
    const auto out = classify(reply);
    REQUIRE(out.match == ReplyMatch::Accepted);
    CHECK(out.result.status == DnsStatus::EmptyAnswer);  // unchanged by the SOA
    CHECK(out.result.authoritative_answer);
    CHECK(out.result.soa_serial == 2026120503U);
    CHECK(out.result.zone == "example.com.");
  }
  SECTION("an SOA in the answer section wins over the authority's") {
    Reply reply;
    reply.questions = {"example.com. IN SOA"};
    reply.answers = {std::string("example.com.") + k_soa + "4294967295 3600 600 86400 300"};
    reply.authority = {std::string("com.") + k_soa + "7 3600 600 86400 300"};
    const auto out = classify(reply, make_query("example.com.", config::RrType::SOA));
    REQUIRE(out.match == ReplyMatch::Accepted);
    CHECK(out.result.status == DnsStatus::Answer);
    CHECK_FALSE(out.result.authoritative_answer);
    CHECK(out.result.soa_serial == 4294967295U);
    CHECK(out.result.zone == "example.com.");
  }
  SECTION("an NXDOMAIN reply names the zone that denies the name") {
    Reply reply;
    reply.rcode = 3;
    reply.aa = true;
    reply.authority = {std::string("example.com.") + k_soa + "1 3600 600 86400 300"};
    const auto out = classify(reply);
    REQUIRE(out.match == ReplyMatch::Accepted);
    CHECK(out.result.status == DnsStatus::NxDomain);
    CHECK(out.result.soa_serial == 1U);
    CHECK(out.result.zone == "example.com.");
  }
  SECTION("without an SOA there is no serial and no zone") {
    const auto out = classify(Reply{});
    REQUIRE(out.match == ReplyMatch::Accepted);
    CHECK_FALSE(out.result.soa_serial);
    CHECK(out.result.zone.empty());
    CHECK_FALSE(out.result.authoritative_answer);
  }
}

TEST_CASE("answers of the asked type are returned with their addresses", "[dns]") {
  SECTION("A") {
    Reply ok;
    ok.answers = {"example.com. 60 IN A 192.0.2.1", "example.com. 60 IN A 192.0.2.2"};
    const auto reply = classify(ok);
    REQUIRE(reply.match == ReplyMatch::Accepted);
    CHECK(reply.result.status == DnsStatus::Answer);
    CHECK(reply.result.detail == "dns: NOERROR, 2 answers");
    REQUIRE(reply.result.answers.size() == 2);
    CHECK(reply.result.answers[0].ttl == 60);
    CHECK(reply.result.answers[0].type == 1);
    CHECK(reply.result.answers[0].data == "192.0.2.1");
    CHECK(reply.result.addresses() == std::vector{*config::IpAddress::parse("192.0.2.1"),
                                                  *config::IpAddress::parse("192.0.2.2")});
    CHECK(reply.result.up());
  }
  SECTION("AAAA") {
    const auto query = make_query("example.com.", config::RrType::AAAA);
    Reply ok;
    ok.questions = {"example.com. IN AAAA"};
    ok.answers = {"example.com. 60 IN AAAA 2001:db8::1"};
    const auto reply = classify(ok, query);
    REQUIRE(reply.result.status == DnsStatus::Answer);
    CHECK(reply.result.detail == "dns: NOERROR, 1 answer");
    CHECK(reply.result.addresses() == std::vector{*config::IpAddress::parse("2001:db8::1")});
  }
  SECTION("NS, which has no address") {
    const auto query = make_query(".", config::RrType::NS);
    Reply ok;
    ok.questions = {". IN NS"};
    ok.answers = {". 518400 IN NS A.ROOT-SERVERS.NET."};
    const auto reply = classify(ok, query);
    REQUIRE(reply.result.status == DnsStatus::Answer);
    REQUIRE(reply.result.answers.size() == 1);
    CHECK(reply.result.answers[0].data == "a.root-servers.net.");
    CHECK_FALSE(reply.result.answers[0].address);
    CHECK(reply.result.addresses().empty());
  }
}

TEST_CASE("a CNAME chain is followed to the records of the asked type", "[dns]") {
  Reply chained;
  chained.answers = {
      "example.com. 60 IN CNAME edge.cdn.example.",
      "unrelated.example. 60 IN A 198.51.100.9",
      "edge.cdn.example. 60 IN CNAME pop1.cdn.example.",
      "pop1.cdn.example. 20 IN A 192.0.2.7",
  };
  const auto reply = classify(chained);
  REQUIRE(reply.match == ReplyMatch::Accepted);
  CHECK(reply.result.status == DnsStatus::Answer);
  CHECK(reply.result.detail == "dns: NOERROR, 1 answer");
  REQUIRE(reply.result.chain.size() == 2);
  CHECK(reply.result.chain[0].data == "edge.cdn.example.");
  CHECK(reply.result.chain[1].data == "pop1.cdn.example.");
  REQUIRE(reply.result.answers.size() == 1);
  CHECK(reply.result.answers[0].name == "pop1.cdn.example.");
  CHECK(reply.result.addresses() == std::vector{*config::IpAddress::parse("192.0.2.7")});
}

TEST_CASE("a CNAME chain is followed for at most 8 hops", "[dns]") {
  const int hops = GENERATE(7, 8, 9);
  CAPTURE(hops);
  Reply chained;
  std::string owner = "example.com.";
  for (int i = 0; i < hops; ++i) {
    const std::string next = "hop" + std::to_string(i) + ".example.";
    chained.answers.push_back(owner + " 60 IN CNAME " + next);
    owner = next;
  }
  chained.answers.push_back(owner + " 60 IN A 192.0.2.1");
  const auto reply = classify(chained);
  REQUIRE(reply.match == ReplyMatch::Accepted);
  if (hops <= 8) {
    CHECK(reply.result.status == DnsStatus::Answer);
    CHECK(reply.result.chain.size() == static_cast<std::size_t>(hops));
  } else {
    CHECK(reply.result.status == DnsStatus::EmptyAnswer);
    CHECK(reply.result.detail == "dns: NOERROR, empty answer (CNAME chain longer than 8 hops)");
  }
}

TEST_CASE("a CNAME loop or a chain that ends nowhere is an empty answer", "[dns]") {
  SECTION("loop") {
    Reply loop;
    loop.answers = {"example.com. 60 IN CNAME a.example.", "a.example. 60 IN CNAME example.com."};
    const auto reply = classify(loop);
    CHECK(reply.result.status == DnsStatus::EmptyAnswer);
    CHECK(reply.result.detail == "dns: NOERROR, empty answer (CNAME chain longer than 8 hops)");
  }
  SECTION("dead end") {
    Reply dangling;
    dangling.answers = {"example.com. 60 IN CNAME gone.example."};
    const auto reply = classify(dangling);
    CHECK(reply.result.status == DnsStatus::EmptyAnswer);
    CHECK(reply.result.detail == "dns: NOERROR, empty answer (CNAME chain ends at gone.example.)");
    CHECK(reply.result.chain.size() == 1);
  }
}

TEST_CASE("answers of another type only are an empty answer", "[dns]") {
  Reply other;
  other.answers = {"example.com. 60 IN AAAA 2001:db8::1", "example.com. 60 IN TXT \"hello\""};
  const auto reply = classify(other);
  REQUIRE(reply.match == ReplyMatch::Accepted);
  CHECK(reply.result.status == DnsStatus::EmptyAnswer);
  CHECK(reply.result.detail == "dns: NOERROR, empty answer (2 records, none of type A)");
  CHECK(reply.result.answers.empty());
}

TEST_CASE("a reply of ours that does not parse is ignored as malformed, never judged", "[dns]") {
  const auto query = make_query();
  Reply ok;
  ok.answers = {"example.com. 60 IN A 192.0.2.1"};
  auto bytes = ok.wire(query);
  std::string why;
  SECTION("cut short inside the answer") {
    bytes.resize(bytes.size() - 3);
    why = "answer section incomplete";
  }
  SECTION("header promises more answers than there are") {
    bytes[7] = 5;
    why = "answer section incomplete";
  }
  SECTION("random bytes after the header") {
    bytes.resize(12);
    for (std::uint8_t b : {0xC0, 0xFF, 0x3F, 0x01, 0x02}) {
      bytes.push_back(b);
    }
    why = "invalid compression pointer";
  }
  const auto reply = probes::classify_dns_reply(bytes, query);
  CHECK(reply.match == ReplyMatch::Ignored);
  CHECK(reply.ignored == IgnoredReply::Malformed);
  CHECK(reply.why == why);
}

TEST_CASE("a reply with our id but another question and a cut-short answer is not ours", "[dns]") {
  // Issue 14: this used to end the query as malformed, a down vote from one
  // stray packet. The question is read first, so it is a wrong question.
  const auto query = make_query();
  Reply other;
  other.questions = {"other.example. IN A"};
  other.answers = {"other.example. 60 IN A 192.0.2.66"};
  auto bytes = other.wire(query);
  bytes.resize(bytes.size() - 3);
  const auto reply = probes::classify_dns_reply(bytes, query);
  CHECK(reply.match == ReplyMatch::Ignored);
  CHECK(reply.ignored == IgnoredReply::WrongQuestion);
  CHECK(reply.why == "question other.example. IN A, expected example.com. IN A");
}

TEST_CASE("a truncated reply cut inside a record still asks for the TCP retry", "[dns]") {
  const auto query = make_query();
  Reply truncated;
  truncated.tc = true;
  truncated.answers = {"example.com. 60 IN A 192.0.2.1"};
  auto bytes = truncated.wire(query);
  bytes.resize(bytes.size() - 3);
  const auto reply = probes::classify_dns_reply(bytes, query);
  CHECK(reply.match == ReplyMatch::Truncated);
  CHECK(reply.result.status == DnsStatus::Truncated);
  CHECK(reply.result.rcode == 0);
}

TEST_CASE("ignored replies are counted by kind and summed up in one phrase", "[dns]") {
  probes::IgnoredReplies ignored;
  CHECK(ignored.total() == 0);
  CHECK(ignored.summary().empty());
  ignored.add(IgnoredReply::WrongId, "id 1, expected 2");
  CHECK(ignored.summary() == "1 stray reply: 1 wrong id");
  ignored.add(IgnoredReply::Malformed, "answer section incomplete");
  ignored.add(IgnoredReply::Malformed, "invalid compression pointer");
  ignored.add(IgnoredReply::WrongQuestion, "question other.example. IN A");
  CHECK(ignored.total() == 4);
  CHECK(ignored.count(IgnoredReply::Malformed) == 2);
  CHECK(ignored.count(IgnoredReply::Short) == 0);
  CHECK(ignored.first_malformed == "answer section incomplete");
  CHECK(ignored.summary() == "4 stray replies: 1 wrong id, 1 wrong question, 2 malformed");
}

TEST_CASE("a query without a valid reply is malformed only when one of ours did not parse",
          "[dns]") {
  const auto timeout = [] {
    probes::DnsResult result;
    result.status = DnsStatus::Timeout;
    result.detail = "dns: timeout after 300ms";
    return result;
  }();
  const auto tcp_failed = [] {
    probes::DnsResult result;
    result.status = DnsStatus::Truncated;
    result.detail = "dns: truncated reply and TCP retry failed: connection closed by peer";
    return result;
  }();
  probes::IgnoredReplies none;
  probes::IgnoredReplies foreign;
  foreign.add(IgnoredReply::WrongId, "");
  foreign.add(IgnoredReply::WrongQuestion, "");
  probes::IgnoredReplies ours_broken = foreign;
  ours_broken.add(IgnoredReply::Malformed, "answer section incomplete");

  const auto [label, otherwise, ignored, status, detail] = GENERATE_COPY(
      table<std::string, probes::DnsResult, probes::IgnoredReplies, DnsStatus, std::string>({
          {"nothing came", timeout, none, DnsStatus::Timeout, "dns: timeout after 300ms"},
          {"only strays", timeout, foreign, DnsStatus::Timeout,
           "dns: timeout after 300ms (ignored 2 stray replies: 1 wrong id, 1 wrong question)"},
          {"one of ours did not parse", timeout, ours_broken, DnsStatus::Malformed,
           "dns: malformed reply (answer section incomplete); then timeout after 300ms "
           "(ignored 3 stray replies: 1 wrong id, 1 wrong question, 1 malformed)"},
          {"TCP retry with strays", tcp_failed, foreign, DnsStatus::Truncated,
           "dns: truncated reply and TCP retry failed: connection closed by peer "
           "(ignored 2 stray replies: 1 wrong id, 1 wrong question)"},
          {"TCP retry with one of ours broken", tcp_failed, ours_broken, DnsStatus::Malformed,
           "dns: malformed reply (answer section incomplete); then truncated reply and TCP retry "
           "failed: connection closed by peer (ignored 3 stray replies: 1 wrong id, 1 wrong "
           "question, 1 malformed)"},
      }));
  CAPTURE(label);
  const auto result = probes::no_valid_reply(otherwise, ignored);
  CHECK(result.status == status);
  CHECK(result.detail == detail);
  CHECK(result.ignored.total() == ignored.total());
  CHECK_FALSE(result.up());
}

TEST_CASE("judge_dns requires at least min_answers answers", "[dns]") {
  const auto [answers, min_answers, status, detail] =
      GENERATE(table<int, int, DnsStatus, std::string>({
          {1, 1, DnsStatus::Answer, "dns: NOERROR, 1 answer"},
          {1, 2, DnsStatus::TooFewAnswers, "dns: 1 answer, fewer than min_answers 2"},
          {2, 2, DnsStatus::Answer, "dns: NOERROR, 2 answers"},
          {2, 3, DnsStatus::TooFewAnswers, "dns: 2 answers, fewer than min_answers 3"},
      }));
  std::vector<std::string> addresses;
  for (int i = 0; i < answers; ++i) {
    addresses.push_back("192.0.2." + std::to_string(i + 1));
  }
  const auto judged = probes::judge_dns(answer_with(addresses), check_with(min_answers));
  CHECK(judged.status == status);
  CHECK(judged.detail == detail);
  CHECK(judged.answers.size() == static_cast<std::size_t>(answers));
}

TEST_CASE("judge_dns flags an answer outside expect_addresses", "[dns]") {
  const auto [addresses, cidrs, status, detail] =
      GENERATE(table<std::vector<std::string>, std::vector<std::string>, DnsStatus, std::string>({
          {{"203.0.113.5"}, {"203.0.113.0/24"}, DnsStatus::Answer, ""},
          {{"203.0.113.5", "192.0.2.7"},
           {"203.0.113.0/24"},
           DnsStatus::UnexpectedAddress,
           "dns: answer 192.0.2.7 outside expect_addresses (203.0.113.0/24)"},
          {{"192.0.2.7"}, {"203.0.113.0/24", "192.0.2.0/25"}, DnsStatus::Answer, ""},
          {{"192.0.2.200"},
           {"203.0.113.0/24", "192.0.2.0/25"},
           DnsStatus::UnexpectedAddress,
           "dns: answer 192.0.2.200 outside expect_addresses (203.0.113.0/24, 192.0.2.0/25)"},
          {{"2001:db8::1"}, {"2001:db8::/32"}, DnsStatus::Answer, ""},
          {{"2001:db9::1"},
           {"2001:db8::/32"},
           DnsStatus::UnexpectedAddress,
           "dns: answer 2001:db9::1 outside expect_addresses (2001:db8::/32)"},
          {{"192.0.2.1"},
           {"2001:db8::/32"},
           DnsStatus::UnexpectedAddress,
           "dns: answer 192.0.2.1 outside expect_addresses (2001:db8::/32)"},
      }));
  CAPTURE(addresses, cidrs);
  const auto input = answer_with(addresses);
  const auto judged = probes::judge_dns(input, check_with(1, cidrs));
  CHECK(judged.status == status);
  CHECK(judged.detail == (detail.empty() ? input.detail : detail));
}

TEST_CASE("judge_dns passes every outcome but an answer through unchanged", "[dns]") {
  const auto status = GENERATE(DnsStatus::EmptyAnswer, DnsStatus::NxDomain, DnsStatus::Timeout,
                               DnsStatus::ObserverError);
  probes::DnsResult result;
  result.status = status;
  result.detail = "dns: something";
  const auto judged = probes::judge_dns(result, check_with(3, {"203.0.113.0/24"}));
  CHECK(judged.status == status);
  CHECK(judged.detail == "dns: something");
}

TEST_CASE("every DNS status has its own stable name", "[dns]") {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(DnsStatus::ObserverError); ++i) {
    const auto name = probes::to_string(static_cast<DnsStatus>(i));
    CHECK(name != "invalid");
    names.insert(name);
  }
  CHECK(names.size() == static_cast<std::size_t>(DnsStatus::ObserverError) + 1);
  CHECK(probes::to_string(DnsStatus::EmptyAnswer) == "empty_answer");
  CHECK(probes::to_string(DnsStatus::ObserverError) == "observer_error");
}

TEST_CASE("every kind of ignored reply has its own stable name", "[dns]") {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < probes::k_ignored_reply_kinds; ++i) {
    const auto name = probes::to_string(static_cast<IgnoredReply>(i));
    CHECK(name != "invalid");
    names.insert(name);
  }
  CHECK(names.size() == probes::k_ignored_reply_kinds);
  CHECK(probes::to_string(IgnoredReply::WrongId) == "wrong_id");
  CHECK(probes::to_string(IgnoredReply::Malformed) == "malformed");
}

namespace {

// `wire` with an OPT record appended (ARCOUNT + 1) whose data holds one EDE
// option per entry of `options`: {INFO-CODE, EXTRA-TEXT bytes}. Written by
// hand (RFC 6891, RFC 8914), not by ldns, so the reader is checked against
// the wire format rather than against its own library.
std::vector<std::uint8_t> with_opt(std::vector<std::uint8_t> wire,
                                   const std::vector<std::vector<std::uint8_t>>& options) {
  std::vector<std::uint8_t> data;
  for (const auto& option : options) {
    data.push_back(0);
    data.push_back(15);  // OPTION-CODE: EDE
    data.push_back(static_cast<std::uint8_t>(option.size() >> 8));
    data.push_back(static_cast<std::uint8_t>(option.size() & 0xFF));
    data.insert(data.end(), option.begin(), option.end());
  }
  const std::vector<std::uint8_t> opt{0,
                                      0,
                                      41,  // root name, TYPE OPT
                                      0x04,
                                      0xD0,  // CLASS: UDP size 1232
                                      0,
                                      0,
                                      0,
                                      0,  // extended rcode, version, flags
                                      static_cast<std::uint8_t>(data.size() >> 8),
                                      static_cast<std::uint8_t>(data.size() & 0xFF)};
  wire.insert(wire.end(), opt.begin(), opt.end());
  wire.insert(wire.end(), data.begin(), data.end());
  const int arcount = (wire[10] << 8 | wire[11]) + 1;
  wire[10] = static_cast<std::uint8_t>(arcount >> 8);
  wire[11] = static_cast<std::uint8_t>(arcount & 0xFF);
  return wire;
}

std::vector<std::uint8_t> ede(std::uint16_t code, const std::string& text = {}) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(code >> 8),
                                static_cast<std::uint8_t>(code & 0xFF)};
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

}  // namespace

TEST_CASE("an Extended DNS Error is read into the result and named in the detail", "[dns][ede]") {
  const auto query = make_query();
  Reply failing;
  failing.rcode = 2;
  const auto servfail = probes::classify_dns_reply(
      with_opt(failing.wire(query), {ede(6, "no valid signature for example.com")}), query);
  REQUIRE(servfail.match == ReplyMatch::Accepted);
  CHECK(servfail.result.status == DnsStatus::ServFail);
  REQUIRE(servfail.result.extended_errors.size() == 1);
  CHECK(servfail.result.extended_errors[0].code == 6);
  CHECK(servfail.result.detail ==
        "dns: SERVFAIL (EDE 6: DNSSEC Bogus: no valid signature for example.com)");

  // Two of them, one a code RFC 8914 does not name: both, in order.
  const auto two =
      probes::classify_dns_reply(with_opt(failing.wire(query), {ede(22), ede(4242, "x")}), query);
  CHECK(two.result.detail == "dns: SERVFAIL (EDE 22: No Reachable Authority; EDE 4242: x)");

  // On an answer (a resolver serving stale data) it stays an answer, and a
  // judgement that rewrites the detail keeps it.
  Reply stale;
  stale.answers = {"example.com. 60 IN A 192.0.2.1"};
  const auto answered = probes::classify_dns_reply(with_opt(stale.wire(query), {ede(3)}), query);
  REQUIRE(answered.match == ReplyMatch::Accepted);
  CHECK(answered.result.up());
  CHECK(answered.result.detail == "dns: NOERROR, 1 answer (EDE 3: Stale Answer)");
  const auto judged = probes::judge_dns(answered.result, check_with(2));
  CHECK(judged.detail == "dns: 1 answer, fewer than min_answers 2 (EDE 3: Stale Answer)");

  // No OPT, or an OPT without EDE: nothing added.
  const auto plain = classify(failing);
  CHECK(plain.result.extended_errors.empty());
  CHECK(plain.result.detail == "dns: SERVFAIL");
}

TEST_CASE(
    "a resolver's EDE text cannot inject control bytes, grow without bound or crash the "
    "reader",
    "[dns][ede]") {
  const auto query = make_query();
  Reply failing;
  failing.rcode = 2;
  const auto read = [&](const std::vector<std::vector<std::uint8_t>>& options) {
    return probes::classify_dns_reply(with_opt(failing.wire(query), options), query);
  };
  // Escape sequences and newlines become '?'; a trailing NUL is dropped.
  const auto hostile = read({ede(0, std::string("a\nb\x1b[31mc\0", 11))});
  REQUIRE(hostile.match == ReplyMatch::Accepted);
  REQUIRE(hostile.result.extended_errors.size() == 1);
  CHECK(hostile.result.extended_errors[0].text == "a?b?[31mc");
  // A long text is cut; many options are capped.
  const auto long_text = read({ede(0, std::string(5000, 'x'))});
  REQUIRE(long_text.result.extended_errors.size() == 1);
  CHECK(long_text.result.extended_errors[0].text.size() == probes::k_max_extra_text);
  const auto many = read(std::vector<std::vector<std::uint8_t>>(50, ede(23)));
  CHECK(many.result.extended_errors.size() == probes::k_max_extended_errors);
  // An option too short for its INFO-CODE is skipped, the reply still judged.
  const auto short_option = read({{0x00}, ede(18)});
  REQUIRE(short_option.match == ReplyMatch::Accepted);
  REQUIRE(short_option.result.extended_errors.size() == 1);
  CHECK(short_option.result.extended_errors[0].code == 18);
  // An option whose length runs past the record: the reply does not parse
  // as a whole, so it is not ours to judge (never a crash).
  auto cut = with_opt(failing.wire(query), {ede(6, "abc")});
  cut.resize(cut.size() - 2);
  const auto truncated = probes::classify_dns_reply(cut, query);
  CHECK(truncated.match == ReplyMatch::Ignored);
  CHECK(truncated.ignored == IgnoredReply::Malformed);
}
