#include "probes/dns_client.hpp"

#include "net/system_clock.hpp"
#include "scripted_resolver.hpp"
#include "support/fake_dns_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace crosscheck;
using probes::DnsStatus;
using probes::IgnoredReply;
using testing::FakeDnsBehaviour;
using testing::FakeDnsServer;
using testing::Scripted;
using testing::ScriptedResolver;
using Clock = std::chrono::steady_clock;
const net::SystemClock k_clock;  // measures latency, as in the daemon

// Timing slack for a loaded 2-core CI machine; assertions on "no later than
// the deadline" allow this much.
constexpr auto k_slack = 500ms;

struct Completion {
  probes::DnsResult result;
  int calls = 0;
  std::chrono::duration<double, std::milli> elapsed{0};
};

probes::DnsRequest request_to(const config::Endpoint& server, std::string name,
                              std::chrono::milliseconds budget = 1000ms,
                              config::RrType type = config::RrType::A) {
  probes::DnsRequest request;
  request.server = server;
  request.name = std::move(name);
  request.type = type;
  request.deadline = Clock::now() + budget;
  request.budget = budget;
  return request;
}

// Runs the io_context until it has no work left: the callback has fired and
// every aborted handler has run. The bound only guards against a hang.
Completion run_query_on(boost::asio::io_context& io, const probes::DnsRequest& request) {
  Completion completion;
  // Elapsed from when the budget started (request_to() set the deadline),
  // not from here: on a loaded machine (a sanitizer build beside) building
  // the request and reaching this line took over a millisecond, and a wait
  // that honoured its 300 ms deadline measured 299 ms.
  const auto started = request.budget ? request.deadline - *request.budget : Clock::now();
  probes::query_dns(io, k_clock, request, [&](probes::DnsResult result) {
    ++completion.calls;
    completion.result = std::move(result);
  });
  io.run_for(request.deadline - started + 2s);
  completion.elapsed = Clock::now() - started;
  REQUIRE(io.stopped());  // out of work, not cut off by the bound
  REQUIRE(completion.calls == 1);
  return completion;
}

Completion run_query(const probes::DnsRequest& request) {
  boost::asio::io_context io;
  return run_query_on(io, request);
}

std::vector<testing::FakeRecord> two_addresses() {
  return {{"A", "192.0.2.1", 60, ""}, {"A", "192.0.2.2", 60, ""}};
}

// IPv6 cases run only where ::1 can be bound (some containers have no IPv6).
bool usable(const std::string& address) {
  if (FakeDnsServer::can_bind(address)) {
    return true;
  }
  WARN("cannot bind " << address << " here; case skipped");
  return false;
}

config::IpAddress ip(const std::string& text) {
  auto address = config::IpAddress::parse(text);
  REQUIRE(address);
  return *address;
}

struct BehaviourCase {
  std::string label;
  FakeDnsBehaviour behaviour;
  DnsStatus status;
  std::string detail;
};

}  // namespace

TEST_CASE("an answer is reported with its records, latency and resolver", "[dns]") {
  const std::string address = GENERATE(as<std::string>{}, "127.0.0.53", "::1");
  if (!usable(address)) {
    return;
  }
  FakeDnsServer server(address);
  server.set("www.example.", FakeDnsBehaviour::answer(two_addresses()));

  const auto done = run_query(request_to(server.endpoint(), "www.example."));
  const auto& result = done.result;
  CHECK(result.status == DnsStatus::Answer);
  CHECK(result.detail == "dns: NOERROR, 2 answers");
  CHECK(result.rcode == 0);
  CHECK(result.addresses() == std::vector{ip("192.0.2.1"), ip("192.0.2.2")});
  CHECK(result.resolver == server.endpoint().to_string());
  CHECK(result.latency_ms > 0);
  CHECK(result.latency_ms <= done.elapsed.count());
  CHECK_FALSE(result.over_tcp);
  CHECK(result.ignored.total() == 0);
  CHECK(server.udp_queries() == 1);
  CHECK(server.tcp_queries() == 0);

  const auto seen = server.queries();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].name == "www.example.");
  CHECK(seen[0].type == 1);
  CHECK(seen[0].recursion_desired);
  CHECK(seen[0].edns_udp_size == 1232);
}

TEST_CASE("each resolver behaviour maps to its own status and detail", "[dns]") {
  const auto test = GENERATE(values<BehaviourCase>({
      {"empty", FakeDnsBehaviour::empty(), DnsStatus::EmptyAnswer, "dns: NOERROR, empty answer"},
      {"nxdomain", FakeDnsBehaviour::nxdomain(), DnsStatus::NxDomain, "dns: NXDOMAIN"},
      {"servfail", FakeDnsBehaviour::servfail(), DnsStatus::ServFail, "dns: SERVFAIL"},
      {"refused", FakeDnsBehaviour::refused(), DnsStatus::Refused, "dns: REFUSED"},
      {"formerr", FakeDnsBehaviour::with_rcode(1), DnsStatus::OtherRcode, "dns: rcode FORMERR"},
      {"cname",
       FakeDnsBehaviour::cname({"edge.cdn.example.", "pop.cdn.example."},
                               {{"A", "192.0.2.9", 20, ""}}),
       DnsStatus::Answer, "dns: NOERROR, 1 answer"},
      {"other type only", FakeDnsBehaviour::answer({{"AAAA", "2001:db8::1", 60, ""}}),
       DnsStatus::EmptyAnswer, "dns: NOERROR, empty answer (1 record, none of type A)"},
      {"delayed within the deadline", FakeDnsBehaviour::answer(two_addresses()).delayed(100ms),
       DnsStatus::Answer, "dns: NOERROR, 2 answers"},
  }));
  CAPTURE(test.label);
  FakeDnsServer server;
  server.set("www.example.", test.behaviour);

  const auto result = run_query(request_to(server.endpoint(), "www.example.")).result;
  CHECK(result.status == test.status);
  CHECK(result.detail == test.detail);
  CHECK(result.resolver == server.endpoint().to_string());
  CHECK(result.latency_ms >= static_cast<double>(test.behaviour.delay.count()));
}

TEST_CASE("bytes that do not parse after our id are malformed once the deadline passes", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::garbage());
  const auto done = run_query(request_to(server.endpoint(), "www.example.", 300ms));
  CHECK(done.result.status == DnsStatus::Malformed);
  CHECK_THAT(done.result.detail, Catch::StartsWith("dns: malformed reply ("));
  CHECK_THAT(done.result.detail,
             Catch::EndsWith("); then timeout after 300ms (ignored 1 stray reply: 1 malformed)"));
  CHECK(done.result.rcode == -1);
  CHECK(done.result.ignored.count(probes::IgnoredReply::Malformed) == 1);
  // It waited for a reply that parses rather than believe the first bytes.
  CHECK(done.elapsed >= 300ms);
  CHECK(done.elapsed < 300ms + k_slack);
}

TEST_CASE("a CNAME chain from the resolver is followed to its addresses", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.",
             FakeDnsBehaviour::cname({"edge.cdn.example."}, {{"A", "192.0.2.9", 20, ""}}));
  const auto result = run_query(request_to(server.endpoint(), "WWW.Example")).result;
  REQUIRE(result.status == DnsStatus::Answer);
  REQUIRE(result.chain.size() == 1);
  CHECK(result.chain[0].data == "edge.cdn.example.");
  CHECK(result.addresses() == std::vector{ip("192.0.2.9")});
}

TEST_CASE("a truncated reply is retried over TCP and answered there", "[dns]") {
  const std::string address = GENERATE(as<std::string>{}, "127.0.0.53", "::1");
  if (!usable(address)) {
    return;
  }
  FakeDnsServer server(address);
  server.set("big.example.", FakeDnsBehaviour::truncated(two_addresses()));

  const auto result = run_query(request_to(server.endpoint(), "big.example.")).result;
  CHECK(result.status == DnsStatus::Answer);
  CHECK(result.detail == "dns: NOERROR, 2 answers");
  CHECK(result.over_tcp);
  CHECK(result.addresses().size() == 2);
  CHECK(server.udp_queries() == 1);
  CHECK(server.tcp_queries() == 1);
  const auto seen = server.queries();
  REQUIRE(seen.size() == 2);
  CHECK_FALSE(seen[0].over_tcp);
  CHECK(seen[1].over_tcp);
  CHECK(seen[1].id == seen[0].id);  // the same query, retried
}

TEST_CASE("a truncated reply whose TCP retry fails is reported as truncated", "[dns]") {
  using OverTcp = FakeDnsBehaviour::OverTcp;
  const auto [over_tcp, detail] = GENERATE(table<OverTcp, std::string>({
      {OverTcp::Truncated, "dns: truncated reply and TCP retry failed: truncated over TCP too"},
      {OverTcp::Close, "dns: truncated reply and TCP retry failed: connection closed by peer"},
      {OverTcp::Silent, "dns: truncated reply and TCP retry failed: timeout after 400ms"},
  }));
  FakeDnsServer server;
  server.set("big.example.", FakeDnsBehaviour::truncated(two_addresses(), over_tcp));

  const auto done = run_query(request_to(server.endpoint(), "big.example.", 400ms));
  CHECK(done.result.status == DnsStatus::Truncated);
  CHECK(done.result.detail == detail);
  CHECK_FALSE(done.result.up());
  CHECK(server.tcp_queries() == 1);
  CHECK(done.elapsed < 400ms + k_slack);
}

TEST_CASE("a reply that is not ours is ignored and the query times out", "[dns]") {
  const auto [label, behaviour] = GENERATE(table<std::string, FakeDnsBehaviour>({
      {"wrong id", FakeDnsBehaviour::wrong_id(false, two_addresses())},
      {"wrong question", FakeDnsBehaviour::wrong_question("other.example.")},
  }));
  CAPTURE(label);
  FakeDnsServer server;
  server.set("www.example.", behaviour);

  const auto done = run_query(request_to(server.endpoint(), "www.example.", 300ms));
  CHECK(done.result.status == DnsStatus::Timeout);
  CHECK(done.result.detail == "dns: timeout after 300ms (ignored 1 stray reply: 1 " + label + ")");
  CHECK(done.result.ignored.total() == 1);
  CHECK(done.result.rcode == -1);
  CHECK(done.elapsed >= 300ms);
  CHECK(done.elapsed < 300ms + k_slack);
}

TEST_CASE("a wrong-id reply followed by the right one is ignored, and the right one accepted",
          "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::wrong_id(true, two_addresses()));
  const auto result = run_query(request_to(server.endpoint(), "www.example.")).result;
  CHECK(result.status == DnsStatus::Answer);
  CHECK(result.ignored.count(probes::IgnoredReply::WrongId) == 1);
  CHECK(result.ignored.total() == 1);
  CHECK(result.addresses().size() == 2);
}

TEST_CASE("a resolver that answers too late or never times out at the deadline", "[dns]") {
  const auto [label, behaviour] = GENERATE(table<std::string, FakeDnsBehaviour>({
      {"silent", FakeDnsBehaviour::silent()},
      {"delayed beyond the deadline", FakeDnsBehaviour::answer(two_addresses()).delayed(1500ms)},
  }));
  CAPTURE(label);
  FakeDnsServer server;
  server.set("www.example.", behaviour);

  const auto done = run_query(request_to(server.endpoint(), "www.example.", 300ms));
  CHECK(done.result.status == DnsStatus::Timeout);
  CHECK(done.result.detail == "dns: timeout after 300ms");
  CHECK(done.result.ignored.total() == 0);
  CHECK(done.elapsed >= 300ms);
  CHECK(done.elapsed < 300ms + k_slack);
  // The deadline is fixed when the request is built, latency counts from the
  // send: it falls short of 300ms by the time in between, which a loaded
  // sanitizer build stretches to milliseconds. What matters is that it runs
  // to the deadline, not that it is exact.
  CHECK(done.result.latency_ms >= 250.0);
  CHECK(done.result.latency_ms <
        std::chrono::duration<double, std::milli>(300ms + k_slack).count());
}

TEST_CASE("a reply left unread at the deadline by a stalled oracle is its own error not a timeout",
          "[dns]") {
  // The reader at the deadline judges datagrams as the reader in time does:
  // a wrong id before the answer is counted and passed over, and a
  // truncated reply of ours is a reply too (not retried over TCP this late).
  const auto [label, behaviour, wrong_ids] = GENERATE(table<std::string, FakeDnsBehaviour, int>({
      {"the answer", FakeDnsBehaviour::answer(two_addresses()), 0},
      {"a wrong id, then the answer", FakeDnsBehaviour::wrong_id(true, two_addresses()), 1},
      {"truncated", FakeDnsBehaviour::truncated(two_addresses()), 0},
  }));
  CAPTURE(label);
  FakeDnsServer server;
  server.set("www.example.", behaviour.delayed(150ms));
  boost::asio::io_context io;
  const auto request = request_to(server.endpoint(), "www.example.", 100ms);
  // A handler due with the query's deadline, queued first (armed first, the
  // same expiry), stalls this thread past the reply's arrival: then the
  // deadline's handler runs with the reply in the socket, unread, as when
  // an overloaded daemon works through a long queue of handlers.
  boost::asio::steady_timer stall(io);
  stall.expires_at(request.deadline);
  stall.async_wait([](boost::system::error_code) { std::this_thread::sleep_for(750ms); });
  const auto done = run_query_on(io, request);
  CHECK(done.result.status == DnsStatus::ObserverError);
  CHECK(done.result.detail == "dns: the reply from " + server.endpoint().to_string() +
                                  " was waiting unread at the deadline: this oracle was too "
                                  "busy to read it in time (timeout after 100ms)");
  CHECK(done.result.ignored.count(IgnoredReply::WrongId) == wrong_ids);
  CHECK(done.result.ignored.total() == wrong_ids);
  CHECK(server.tcp_queries() == 0);
}

TEST_CASE("a DNS query whose deadline already passed times out without waiting", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::silent());
  auto request = request_to(server.endpoint(), "www.example.", 0ms);
  const auto done = run_query(request);
  CHECK(done.result.status == DnsStatus::Timeout);
  CHECK(done.result.detail == "dns: timeout after 0ms");
  CHECK(done.elapsed < k_slack);
}

TEST_CASE("nothing listening at the resolver address is a network error", "[dns]") {
  const std::string address = GENERATE(as<std::string>{}, "127.0.0.53", "::1");
  if (!usable(address)) {
    return;
  }
  FakeDnsServer server(address);
  const auto endpoint = server.endpoint();
  server.stop();  // the port is free again: the kernel answers port unreachable

  const auto done = run_query(request_to(endpoint, "www.example.", 1000ms));
  CHECK(done.result.status == DnsStatus::NetworkError);
  CHECK(done.result.detail ==
        "dns: resolver " + endpoint.to_string() + " unreachable: connection refused");
  CHECK(done.elapsed < 1000ms);
}

TEST_CASE("a DNS source address this host does not have is the observer's error", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::answer(two_addresses()));
  const std::string source = GENERATE(as<std::string>{}, "192.0.2.1", "::1");
  auto request = request_to(server.endpoint(), "www.example.");
  request.source = ip(source);

  const auto result = run_query(request).result;
  CHECK(result.status == DnsStatus::ObserverError);
  if (source == "::1") {
    CHECK(result.detail == "dns: source ::1 and resolver " + server.endpoint().to_string() +
                               " differ in address family");
  } else {
    CHECK(result.detail == "dns: cannot bind source 192.0.2.1: cannot assign requested address");
  }
  CHECK(server.udp_queries() == 0);  // nothing was sent
}

TEST_CASE("a DNS source address on this host is used for the query", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::answer(two_addresses()));
  auto request = request_to(server.endpoint(), "www.example.");
  request.source = ip("127.0.0.1");
  CHECK(run_query(request).result.status == DnsStatus::Answer);
}

TEST_CASE("a name that is not a valid DNS name is the observer's error", "[dns]") {
  FakeDnsServer server;
  const auto result = run_query(request_to(server.endpoint(), "a..example.")).result;
  CHECK(result.status == DnsStatus::ObserverError);
  CHECK(result.detail == "dns: invalid name 'a..example.' (empty label)");
  CHECK(server.udp_queries() == 0);
}

TEST_CASE("the callback runs once, from the io_context, never inside query_dns", "[dns]") {
  FakeDnsServer server;
  auto request = request_to(server.endpoint(), "www.example.");
  request.source = ip("192.0.2.1");  // fails synchronously, before any I/O
  boost::asio::io_context io;
  int calls = 0;
  probes::query_dns(io, k_clock, request, [&](const probes::DnsResult&) { ++calls; });
  CHECK(calls == 0);
  io.run_for(2s);
  CHECK(calls == 1);
}

TEST_CASE("every DNS query uses its own id and source port", "[dns]") {
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::answer(two_addresses()));
  for (int i = 0; i < 3; ++i) {
    CHECK(run_query(request_to(server.endpoint(), "www.example.")).result.up());
  }
  const auto seen = server.queries();
  REQUIRE(seen.size() == 3);
  // Both are random: all three equal would mean they are not.
  const bool same_ids = seen[0].id == seen[1].id && seen[1].id == seen[2].id;
  const bool same_ports =
      seen[0].source_port == seen[1].source_port && seen[1].source_port == seen[2].source_port;
  CHECK_FALSE(same_ids);
  CHECK_FALSE(same_ports);
}

namespace {

struct StrayCase {
  std::string label;
  std::vector<Scripted> script;
  std::vector<std::pair<IgnoredReply, int>> ignored;
};

void check_ignored(const probes::IgnoredReplies& seen,
                   const std::vector<std::pair<IgnoredReply, int>>& expected) {
  int total = 0;
  for (const auto& [kind, count] : expected) {
    CAPTURE(probes::to_string(kind));
    CHECK(seen.count(kind) == count);
    total += count;
  }
  CHECK(seen.total() == total);
}

}  // namespace

TEST_CASE("stray replies before the real one are ignored and the real one is accepted", "[dns]") {
  // A datagram from another port never reaches the connected socket (the
  // kernel drops it), so it is neither believed nor counted.
  const auto test = GENERATE(values<StrayCase>({
      {"our id, another question, cut short",
       {Scripted::OtherQuestionCutShort, Scripted::Answer},
       {{IgnoredReply::WrongQuestion, 1}}},
      {"garbage", {Scripted::ShortGarbage, Scripted::Answer}, {{IgnoredReply::Short, 1}}},
      {"our id, unparseable",
       {Scripted::OursUnparseable, Scripted::Answer},
       {{IgnoredReply::Malformed, 1}}},
      {"our id and question, cut short",
       {Scripted::OursCutShort, Scripted::Answer},
       {{IgnoredReply::Malformed, 1}}},
      {"wrong id", {Scripted::WrongId, Scripted::Answer}, {{IgnoredReply::WrongId, 1}}},
      {"another source port", {Scripted::FromOtherPort, Scripted::Answer}, {}},
      {"all of them in a row",
       {Scripted::OtherQuestionCutShort, Scripted::ShortGarbage, Scripted::OursUnparseable,
        Scripted::WrongId, Scripted::FromOtherPort, Scripted::Answer},
       {{IgnoredReply::WrongQuestion, 1},
        {IgnoredReply::Short, 1},
        {IgnoredReply::Malformed, 1},
        {IgnoredReply::WrongId, 1}}},
  }));
  CAPTURE(test.label);
  boost::asio::io_context io;
  ScriptedResolver resolver(io, "127.0.0.54", test.script);
  const auto done = run_query_on(io, request_to(resolver.endpoint(), "www.example.", 2000ms));
  CHECK(done.result.status == DnsStatus::Answer);
  CHECK(done.result.detail == "dns: NOERROR, 1 answer");
  CHECK(done.result.addresses() == std::vector{ip("192.0.2.1")});
  check_ignored(done.result.ignored, test.ignored);
  CHECK(resolver.udp_queries() == 1);
  CHECK(done.elapsed < 2000ms);  // the answer ended it, not the deadline
}

TEST_CASE("a resolver that sends only stray replies leaves the query to its deadline", "[dns]") {
  const auto [label, script, status, detail] =
      GENERATE(table<std::string, std::vector<Scripted>, DnsStatus, std::string>({
          {"none of them ours",
           {Scripted::OtherQuestionCutShort, Scripted::ShortGarbage, Scripted::WrongId,
            Scripted::FromOtherPort},
           DnsStatus::Timeout,
           "dns: timeout after 300ms (ignored 3 stray replies: 1 short, 1 wrong id, 1 wrong "
           "question)"},
          {"one of ours cut short",
           {Scripted::OtherQuestionCutShort, Scripted::OursCutShort, Scripted::WrongId},
           DnsStatus::Malformed,
           "dns: malformed reply (answer section incomplete); then timeout after 300ms (ignored "
           "3 stray replies: 1 wrong id, 1 wrong question, 1 malformed)"},
      }));
  CAPTURE(label);
  boost::asio::io_context io;
  ScriptedResolver resolver(io, "127.0.0.54", script);
  const auto done = run_query_on(io, request_to(resolver.endpoint(), "www.example.", 300ms));
  CHECK(done.result.status == status);
  CHECK(done.result.detail == detail);
  CHECK(done.result.rcode == -1);
  CHECK(done.result.answers.empty());
  CHECK(done.elapsed >= 300ms);
  CHECK(done.elapsed < 300ms + k_slack);
}

TEST_CASE("over TCP, stray messages before the real answer are skipped on the same connection",
          "[dns]") {
  boost::asio::io_context io;
  ScriptedResolver resolver(io, "127.0.0.54", {Scripted::Truncated},
                            {Scripted::WrongId, Scripted::OursCutShort, Scripted::Answer});
  const auto done = run_query_on(io, request_to(resolver.endpoint(), "big.example.", 2000ms));
  CHECK(done.result.status == DnsStatus::Answer);
  CHECK(done.result.over_tcp);
  CHECK(done.result.addresses() == std::vector{ip("192.0.2.1")});
  check_ignored(done.result.ignored, {{IgnoredReply::WrongId, 1}, {IgnoredReply::Malformed, 1}});
  CHECK(resolver.tcp_queries() == 1);
}

TEST_CASE("a TCP retry that brings only strays fails and says what it ignored", "[dns]") {
  const auto [label, script, status, detail] =
      GENERATE(table<std::string, std::vector<Scripted>, DnsStatus, std::string>({
          {"another id",
           {Scripted::WrongId},
           DnsStatus::Truncated,
           "dns: truncated reply and TCP retry failed: connection closed by peer (ignored 1 "
           "stray reply: 1 wrong id)"},
          {"ours, cut short",
           {Scripted::OursCutShort},
           DnsStatus::Malformed,
           "dns: malformed reply (answer section incomplete); then truncated reply and TCP "
           "retry failed: connection closed by peer (ignored 1 stray reply: 1 malformed)"},
          {"more strays than a connection may send", std::vector<Scripted>(20, Scripted::WrongId),
           DnsStatus::Truncated,
           "dns: truncated reply and TCP retry failed: 16 messages, none the reply (ignored 16 "
           "stray replies: 16 wrong id)"},
      }));
  CAPTURE(label);
  boost::asio::io_context io;
  ScriptedResolver resolver(io, "127.0.0.54", {Scripted::Truncated}, script);
  const auto done = run_query_on(io, request_to(resolver.endpoint(), "big.example.", 2000ms));
  CHECK(done.result.status == status);
  CHECK(done.result.detail == detail);
  CHECK_FALSE(done.result.up());
  CHECK(done.elapsed < 2000ms);  // the closed connection ended it, not the deadline
}

TEST_CASE("a DoT resolver is never sent UDP and one that does not speak TLS is an observer error",
          "[dns][dot]") {
  // A plain DNS server on the DoT address and port: UDP there would answer
  // at once, and over TCP it reads the ClientHello as the length of a query.
  FakeDnsServer server;
  server.set("www.example.", FakeDnsBehaviour::answer(two_addresses()));
  auto request = request_to(server.endpoint(), "www.example.", 300ms);
  config::DotConfig dot;
  dot.name = "dns.test";
  request.tls = probes::make_dot_transport(dot);

  const auto done = run_query(request);
  CHECK(done.result.status == DnsStatus::ObserverError);
  CHECK_THAT(done.result.detail,
             Catch::StartsWith("dot: TLS handshake with tls://" + server.endpoint().to_string()));
  CHECK(done.result.resolver == "tls://" + server.endpoint().to_string());
  CHECK(server.udp_queries() == 0);
  CHECK(done.elapsed < 300ms + k_slack);
}

TEST_CASE(
    "a DoT resolver whose port refuses the connection is an observer error and not a "
    "down vote",
    "[dns][dot]") {
  // Refused over plain DNS is a network error (above); over DoT anyone on
  // the path can refuse port 853, so it says nothing the resolver said.
  FakeDnsServer server;
  const auto endpoint = server.endpoint();
  server.stop();  // nothing listens on the TCP port either
  auto request = request_to(endpoint, "www.example.", 1000ms);
  config::DotConfig dot;
  dot.name = "dns.test";
  request.tls = probes::make_dot_transport(dot);

  const auto done = run_query(request);
  CHECK(done.result.status == DnsStatus::ObserverError);
  CHECK(done.result.detail ==
        "dot: cannot reach tls://" + endpoint.to_string() + ": connection refused");
  CHECK(done.elapsed < 1000ms);
}

TEST_CASE("a DoT resolver's unreadable tls_ca is an observer error before any packet",
          "[dns][dot]") {
  FakeDnsServer server;
  auto request = request_to(server.endpoint(), "www.example.", 300ms);
  config::DotConfig dot;
  dot.name = "dns.test";
  dot.ca_file = "/nonexistent/crosscheck-dot-ca.pem";
  request.tls = probes::make_dot_transport(dot);

  const auto done = run_query(request);
  CHECK(done.result.status == DnsStatus::ObserverError);
  CHECK_THAT(done.result.detail, Catch::StartsWith("dot: tls_ca: "));
  CHECK(server.udp_queries() == 0);
}
