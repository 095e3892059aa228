// Authoritative mode's judgement over hand-made reports: which servers'
// answers make the vote down, and what the detail names.
#include "probes/authoritative_judge.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace crosscheck;
using probes::AuthoritativeReport;
using probes::AuthoritativeServer;
using probes::DnsResult;
using probes::DnsStatus;

DnsResult answer(DnsStatus status, const std::string& address = "192.0.2.10") {
  DnsResult result;
  result.status = status;
  result.rcode = status == DnsStatus::NxDomain ? 3 : 0;
  if (status == DnsStatus::Answer) {
    result.answers.push_back({"www.example.", 1, 300, address, config::IpAddress::parse(address)});
    result.detail = "dns: NOERROR, 1 answer";
  } else if (status == DnsStatus::EmptyAnswer) {
    result.detail = "dns: NOERROR, empty answer";
    result.zone = "example.";  // a denial carries its zone's SOA (RFC 2308)
  } else if (status == DnsStatus::NxDomain) {
    result.detail = "dns: NXDOMAIN";
    result.zone = "example.";
  } else {
    result.rcode = -1;
    result.detail = "dns: timeout after 250ms";
  }
  return result;
}

AuthoritativeServer server(int index, DnsResult result, std::uint32_t serial = 7,
                           bool lame = false) {
  AuthoritativeServer out;
  out.ns = "ns" + std::to_string(index) + ".example.";
  out.address = *config::IpAddress::parse("192.0.2." + std::to_string(index));
  out.answer = std::move(result);
  out.answer.authoritative_answer = !lame;  // lame: its reply to the name lacks AA
  out.serial = serial;
  out.ns_set = {"ns1.example.", "ns2.example.", "ns3.example."};
  out.ns_answered = true;
  out.lame = lame;
  return out;
}

AuthoritativeReport report(std::vector<AuthoritativeServer> servers) {
  AuthoritativeReport out;
  out.zone = "example.";
  out.delegated_ns = {"ns1.example.", "ns2.example.", "ns3.example."};
  out.servers = std::move(servers);
  out.detail = "authoritative: " + std::to_string(out.servers.size()) + " servers for example.";
  return out;
}

config::DnsCheck check() {
  config::DnsCheck out;
  out.name = "www.example";
  out.authoritative = true;
  return out;
}

}  // namespace

TEST_CASE("every server serving the answer is no failure, with the serial skew and NS drift",
          "[authoritative]") {
  auto all =
      report({server(1, answer(DnsStatus::Answer), 7), server(2, answer(DnsStatus::Answer), 9),
              server(3, answer(DnsStatus::Answer), 7)});
  all.servers[1].ns_set = {"ns1.example.", "ns2.example."};
  const auto judged = probes::judge_authoritative(all, check());
  CHECK_FALSE(judged.failure);
  CHECK(judged.serial_skew == 2);
  CHECK(judged.ns_drift == true);
  CHECK_FALSE(judged.not_judged);
  const auto agreed = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::Answer)), server(2, answer(DnsStatus::Answer))}),
      check());
  CHECK_FALSE(agreed.failure);
  CHECK(agreed.serial_skew == 0);
  CHECK(agreed.ns_drift == false);
}

TEST_CASE("one server publishing the record empty or denying it makes the vote down",
          "[authoritative]") {
  const auto [status, words] = GENERATE(table<DnsStatus, std::string>(
      {{DnsStatus::EmptyAnswer, "NOERROR, empty answer"}, {DnsStatus::NxDomain, "NXDOMAIN"}}));
  const auto judged = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::Answer)), server(2, answer(DnsStatus::Answer)),
              server(3, answer(status))}),
      check());
  REQUIRE(judged.failure);
  CHECK(judged.failure->status == status);
  CHECK(judged.failure->detail == "dns: authoritative: server ns3.example. (192.0.2.3): " + words +
                                      " (1 of 3 servers for example.)");
}

TEST_CASE("a server's answer is held to the dns check's expectations", "[authoritative]") {
  auto expecting = check();
  expecting.expect_addresses = {*config::Cidr::parse("192.0.2.0/24")};
  const auto judged =
      probes::judge_authoritative(report({server(1, answer(DnsStatus::Answer)),
                                          server(2, answer(DnsStatus::Answer, "198.51.100.7"))}),
                                  expecting);
  REQUIRE(judged.failure);
  CHECK(judged.failure->status == DnsStatus::UnexpectedAddress);
  CHECK_THAT(judged.failure->detail,
             Catch::StartsWith("dns: authoritative: server ns2.example. (192.0.2.2): ") &&
                 Catch::EndsWith("(1 of 2 servers for example.)"));
  auto two = check();
  two.min_answers = 2;
  const auto few = probes::judge_authoritative(report({server(1, answer(DnsStatus::Answer))}), two);
  REQUIRE(few.failure);
  CHECK(few.failure->status == DnsStatus::TooFewAnswers);
}

TEST_CASE("silent and lame servers say nothing about the data while one serves it",
          "[authoritative]") {
  const auto judged = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::Timeout)),
              server(2, answer(DnsStatus::EmptyAnswer), 7, true),  // lame: not its zone
              server(3, answer(DnsStatus::Answer))}),
      check());
  CHECK_FALSE(judged.failure);
}

TEST_CASE("no server answering the name with AA is not judged and never a vote",
          "[authoritative]") {
  // A firewall dropping direct DNS, servers refusing or lame: nothing
  // says what the zone serves, so nothing is voted.
  const auto silent = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::Timeout)), server(2, answer(DnsStatus::Timeout))}),
      check());
  CHECK_FALSE(silent.failure);
  CHECK(silent.not_judged ==
        "none of 2 servers for example. gave an AA answer to judge (2 silent)");
  auto refused = answer(DnsStatus::Answer);
  refused.status = DnsStatus::Refused;
  refused.rcode = 5;
  const auto lame = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::NxDomain), 7, true), server(2, refused, 7, true),
              server(3, answer(DnsStatus::Timeout))}),
      check());
  CHECK_FALSE(lame.failure);
  CHECK(lame.not_judged ==
        "none of 3 servers for example. gave an AA answer to judge (1 silent, 2 lame)");
}

TEST_CASE("a failed resolver step is not judged and never a vote", "[authoritative]") {
  auto failed = report({});
  DnsResult servfail;
  servfail.status = DnsStatus::ServFail;
  servfail.detail = "dns: authoritative: no zone for www.example.: SERVFAIL";
  failed.failure = servfail;
  failed.detail = "authoritative: no zone for www.example.: SERVFAIL";
  const auto judged = probes::judge_authoritative(failed, check());
  CHECK_FALSE(judged.failure);
  CHECK(judged.not_judged == "no zone for www.example.: SERVFAIL");
  CHECK_FALSE(judged.serial_skew);
  CHECK_FALSE(judged.ns_drift);
  CHECK(probes::authoritative_trace(failed) ==
        std::vector<std::string>{"authoritative: no zone for www.example.: SERVFAIL"});
}

TEST_CASE("serial skew and NS drift are measured only between two AA replies or more",
          "[authoritative]") {
  // One AA SOA and one AA NS set: nothing to compare, so neither is set
  // (never "skew 0, no drift" when only one server was heard).
  auto one =
      report({server(1, answer(DnsStatus::Answer), 7), server(2, answer(DnsStatus::Timeout))});
  one.servers[1].serial.reset();
  one.servers[1].ns_answered = false;
  one.servers[1].ns_set.clear();
  one.servers[0].ns_set = {"ns1.example."};
  const auto judged = probes::judge_authoritative(one, check());
  CHECK_FALSE(judged.failure);
  CHECK_FALSE(judged.not_judged);
  CHECK_FALSE(judged.serial_skew);
  CHECK_FALSE(judged.ns_drift);
}

TEST_CASE("the probe trace shows each server's answer, serial and NS set", "[authoritative]") {
  const auto lines = probes::authoritative_trace(report(
      {server(1, answer(DnsStatus::Answer)), server(2, answer(DnsStatus::Timeout), 7, true)}));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "authoritative: 2 servers for example.");
  CHECK(lines[1] ==
        "  server ns1.example. (192.0.2.1): NOERROR, 1 answer; serial 7; NS ns1.example. "
        "ns2.example. "
        "ns3.example.");
  CHECK(lines[2] ==
        "  server ns2.example. (192.0.2.2): timeout after 250ms; lame (not authoritative); serial "
        "7; NS "
        "ns1.example. ns2.example. ns3.example.");
}

TEST_CASE("a zone server handing out a CNAME to another zone serves the name", "[authoritative]") {
  auto handoff = answer(DnsStatus::EmptyAnswer);
  handoff.chain.push_back({"www.example.", 5, 300, "edge.cdn.test.", std::nullopt});
  handoff.detail = "dns: NOERROR, empty answer (CNAME chain ends at edge.cdn.test.)";
  const auto judged =
      probes::judge_authoritative(report({server(1, handoff), server(2, handoff)}), check());
  CHECK_FALSE(judged.failure);
  CHECK_FALSE(judged.not_judged);
  // Without the CNAME the same reply is the record missing at the source.
  const auto missing = probes::judge_authoritative(
      report({server(1, handoff), server(2, answer(DnsStatus::EmptyAnswer))}), check());
  REQUIRE(missing.failure);
  CHECK(missing.failure->status == DnsStatus::EmptyAnswer);
}

TEST_CASE("an in-zone CNAME that ends in nothing is wrong data when the zone denies the end",
          "[authoritative]") {
  // www CNAME gone.example., AA, with example.'s SOA: resolvers hand out
  // an empty answer. Without the SOA (a referral to a delegated subzone
  // at the chain's end) the reply says nothing.
  auto dangling = answer(DnsStatus::EmptyAnswer);
  dangling.chain.push_back({"www.example.", 5, 300, "gone.example.", std::nullopt});
  dangling.detail = "dns: NOERROR, empty answer (CNAME chain ends at gone.example.)";
  dangling.zone = "example.";
  const auto judged = probes::judge_authoritative(
      report({server(1, answer(DnsStatus::Answer)), server(2, dangling)}), check());
  REQUIRE(judged.failure);
  CHECK(judged.failure->status == DnsStatus::EmptyAnswer);
  CHECK(judged.failure->detail ==
        "dns: authoritative: server ns2.example. (192.0.2.2): NOERROR, empty answer (CNAME chain "
        "ends at gone.example.) (1 of 2 servers for example.)");
  auto referred = dangling;
  referred.zone.clear();
  const auto unclear =
      probes::judge_authoritative(report({server(1, referred), server(2, referred)}), check());
  CHECK_FALSE(unclear.failure);
  CHECK(unclear.not_judged ==
        "none of 2 servers for example. gave an AA answer to judge (2 other)");
}

TEST_CASE("serial skew follows serial arithmetic around the wrap", "[authoritative]") {
  const auto skew = [](std::vector<std::uint32_t> serials) {
    std::vector<AuthoritativeServer> servers;
    for (std::size_t i = 0; i < serials.size(); ++i) {
      servers.push_back(server(static_cast<int>(i + 1), answer(DnsStatus::Answer), serials[i]));
    }
    return report(std::move(servers)).serial_skew();
  };
  CHECK(skew({4294967295U, 1}) == 2);  // RFC 1982: 1 follows 4294967295
  CHECK(skew({7, 9, 7}) == 2);
  CHECK(skew({2026120501U}) == 0);
  CHECK(skew({0, 1U << 31U}) == 1U << 31U);
  CHECK(skew({4294967290U, 3, 4294967295U}) == 9);
}
