// An in-process DNS server for the lab and the tests: really speaks DNS
// (ldns-built replies) over UDP and TCP on one loopback address and port, and
// misbehaves on request (silent, wrong id, truncated, garbage, ...). Runs its
// own io_context on its own thread. It answers whatever it is told: a
// simulated resolver, never a real one.
#pragma once

#include "config/types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace crosscheck::lab {

// One resource record in a fake answer. `owner` empty means the name the
// behaviour answers for (the query name, or the end of a CNAME chain).
struct FakeRecord {
  std::string type;  // "A", "AAAA", "NS", "MX", "TXT", ... (zone-file spelling)
  std::string data;  // zone-file rdata: "192.0.2.1", "10 mail.example.", "\"text\""
  std::uint32_t ttl = 300;
  std::string owner;
};

// What the server does with queries for one name.
struct FakeDnsBehaviour {
  enum class Kind : std::uint8_t {
    Answer,         // NOERROR with `records`
    Rcode,          // `rcode` (NXDOMAIN, SERVFAIL, REFUSED, FORMERR, ...), no records
    Silent,         // never reply
    WrongId,        // reply with id + 1; then the right reply if `then_answer`
    WrongQuestion,  // correct id, but the question echoes `other_name`
    Truncated,      // UDP: TC set, no answers; TCP: as `over_tcp` says
    Garbage,        // correct id, QR and question, then bytes that do not parse
    Cname,          // `chain` of CNAMEs from the query name, `records` at its end
    Bogus,          // a validating resolver on a zone whose signatures fail: SERVFAIL, but
                    // `records` when the query sets CD (checking disabled)
  };
  // What a Truncated behaviour does over TCP.
  enum class OverTcp : std::uint8_t {
    Answer,     // `records` in full
    Truncated,  // TC again
    Silent,     // read the query, never answer
    Close,      // close the connection after reading the query
  };
  Kind kind = Kind::Answer;
  OverTcp over_tcp = OverTcp::Answer;
  std::vector<FakeRecord> records;
  int rcode = 0;
  bool then_answer = false;
  std::string other_name = "wrong.example.";
  std::vector<std::string> chain;
  std::chrono::milliseconds delay{0};  // wait this long before any reply
  bool authoritative = false;          // AA set in the reply (an authoritative server's)
  // Records for the authority section (an SOA with a denial, NS with a
  // referral); sent with every reply the behaviour builds.
  std::vector<FakeRecord> authority;

  static FakeDnsBehaviour answer(std::vector<FakeRecord> records) {
    return of_kind(Kind::Answer, std::move(records));
  }
  // NOERROR with an empty answer section: the Oct 2025 DynamoDB record.
  static FakeDnsBehaviour empty() { return answer({}); }
  static FakeDnsBehaviour nxdomain() { return with_rcode(3); }
  static FakeDnsBehaviour servfail() { return with_rcode(2); }
  static FakeDnsBehaviour refused() { return with_rcode(5); }
  static FakeDnsBehaviour with_rcode(int code) {  // e.g. 1 (FORMERR), 16 (BADVERS)
    auto behaviour = of_kind(Kind::Rcode);
    behaviour.rcode = code;
    return behaviour;
  }
  static FakeDnsBehaviour silent() { return of_kind(Kind::Silent); }
  static FakeDnsBehaviour wrong_id(bool then_answer, std::vector<FakeRecord> records = {}) {
    auto behaviour = of_kind(Kind::WrongId, std::move(records));
    behaviour.then_answer = then_answer;
    return behaviour;
  }
  static FakeDnsBehaviour wrong_question(std::string other_name = "wrong.example.") {
    auto behaviour = of_kind(Kind::WrongQuestion);
    behaviour.other_name = std::move(other_name);
    return behaviour;
  }
  static FakeDnsBehaviour truncated(std::vector<FakeRecord> records,
                                    OverTcp over_tcp = OverTcp::Answer) {
    auto behaviour = of_kind(Kind::Truncated, std::move(records));
    behaviour.over_tcp = over_tcp;
    return behaviour;
  }
  static FakeDnsBehaviour garbage() { return of_kind(Kind::Garbage); }
  static FakeDnsBehaviour bogus(std::vector<FakeRecord> records) {
    return of_kind(Kind::Bogus, std::move(records));
  }
  static FakeDnsBehaviour cname(std::vector<std::string> chain, std::vector<FakeRecord> records) {
    auto behaviour = of_kind(Kind::Cname, std::move(records));
    behaviour.chain = std::move(chain);
    return behaviour;
  }
  // The same behaviour, after waiting `ms` (Delay(ms) then answer).
  FakeDnsBehaviour delayed(std::chrono::milliseconds ms) const {
    FakeDnsBehaviour copy = *this;
    copy.delay = ms;
    return copy;
  }
  // The same behaviour with AA set: an authoritative server's reply.
  FakeDnsBehaviour with_aa() const {
    FakeDnsBehaviour copy = *this;
    copy.authoritative = true;
    return copy;
  }
  // The same behaviour with `section` as its authority section.
  FakeDnsBehaviour with_authority(std::vector<FakeRecord> section) const {
    FakeDnsBehaviour copy = *this;
    copy.authority = std::move(section);
    return copy;
  }

 private:
  static FakeDnsBehaviour of_kind(Kind kind, std::vector<FakeRecord> records = {}) {
    FakeDnsBehaviour behaviour;
    behaviour.kind = kind;
    behaviour.records = std::move(records);
    return behaviour;
  }
};

// A query as the server saw it, for assertions on what the client sent.
struct FakeDnsQuery {
  std::string name;  // lower-case, absolute
  std::uint16_t type = 0;
  std::uint16_t id = 0;
  bool over_tcp = false;
  bool recursion_desired = false;
  std::uint16_t edns_udp_size = 0;  // 0 without EDNS
  std::uint16_t source_port = 0;
  bool dnssec_ok = false;          // DO
  bool checking_disabled = false;  // CD
};

class FakeDnsServer {
 public:
  // Binds UDP and TCP on `address` (a loopback literal such as "127.0.0.53"
  // or "::1"), one port chosen by the kernel, and starts serving. Throws
  // std::system_error when the address cannot be bound.
  explicit FakeDnsServer(std::string_view address = "127.0.0.53");
  // The same on a given `port` (UDP and TCP), e.g. the port another fake
  // already has on another loopback address: authoritative servers all
  // listen on one port. Throws std::system_error when it is taken.
  FakeDnsServer(std::string_view address, std::uint16_t port);
  ~FakeDnsServer();
  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  // Stops serving: closes the sockets and joins the thread. Idempotent;
  // later queries find nothing listening (UDP: port unreachable).
  void stop();

  // Sets what queries for `name` get (case-insensitive, "." optional). Thread-safe.
  void set(std::string_view name, FakeDnsBehaviour behaviour);
  // Sets what queries for `name` and `type` get; it wins over set(name).
  void set(std::string_view name, config::RrType type, FakeDnsBehaviour behaviour);
  // What names without a behaviour get; NXDOMAIN unless set.
  void set_default(FakeDnsBehaviour behaviour);

  std::uint16_t port() const { return port_; }
  config::Endpoint endpoint() const;  // address and port, for DnsRequest::server
  int udp_queries() const { return udp_queries_.load(); }
  int tcp_queries() const { return tcp_queries_.load(); }
  std::vector<FakeDnsQuery> queries() const;  // every query so far, in arrival order

  // True when a UDP socket can be bound on `address` (e.g. "::1" in a
  // container without IPv6), so tests can skip instead of failing.
  static bool can_bind(std::string_view address);

 private:
  class TcpSession;
  friend class TcpSession;

  void receive_udp();
  void handle_udp(std::size_t size);
  // What to do with one query: the replies to send (none: stay silent),
  // after `delay`; `close` ends a TCP connection instead of replying.
  struct Response {
    std::vector<std::vector<std::uint8_t>> replies;
    std::chrono::milliseconds delay{0};
    bool close = false;
  };
  Response respond(const std::vector<std::uint8_t>& bytes, bool over_tcp,
                   std::uint16_t source_port);
  void accept_tcp();
  void open(const config::IpAddress& address, std::uint16_t port);

  boost::asio::io_context io_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::udp::endpoint udp_peer_;
  std::vector<std::uint8_t> udp_buffer_;
  config::IpAddress address_;
  std::uint16_t port_ = 0;

  mutable std::mutex mutex_;  // guards behaviours_, typed_, default_, seen_
  std::map<std::string, FakeDnsBehaviour> behaviours_;
  std::map<std::pair<std::string, std::uint16_t>, FakeDnsBehaviour> typed_;
  FakeDnsBehaviour default_;
  std::vector<FakeDnsQuery> seen_;
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};

  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace crosscheck::lab
