// Fourth hostile review of authoritative mode (dns: { authoritative: true }):
// the fixes of the third (a denial is the zone's only with the zone's own
// SOA; a DoT vantage's zone side never votes; wrong zone data beside a
// failed service keeps the service's layer) and where they meet the other
// rules: SOA spelling and placement, child zones, detail bounds (the peer
// protocol refuses a whole export when one vote's detail passes 1024
// bytes, peers/protocol.hpp k_peer_max_detail_bytes), the resolver's own
// dns failure, DoT sessions breaking. Each case expects the CORRECT
// behaviour (docs/checks.md), so a failing case is a finding. Loopback
// only; each chain case binds port 53 in its own block 127.0.80.x ..
// 127.0.88.x.
#include "probes/authoritative.hpp"

#include "config/tls_files.hpp"
#include "lab/test_certificates.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/authoritative_judge.hpp"
#include "probes/chain.hpp"
#include "probes/dns_tls.hpp"
#include "probes/dns_wire.hpp"
#include "support/fake_dns_server.hpp"

#include <ldns/ldns.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace crosscheck;
using config::RrType;
using testing::FakeDnsBehaviour;
using testing::FakeDnsServer;
using testing::FakeRecord;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Bytes = std::vector<std::uint8_t>;
const net::SystemClock k_clock;

constexpr std::uint32_t k_serial = 2026120501;
// peers/protocol.hpp: a peer refuses a whole export (every vote of every
// target of this node) when one vote's detail is longer than this.
constexpr std::size_t k_peer_detail_bound = 1024;

FakeRecord soa_of(const std::string& zone, std::uint32_t serial = k_serial) {
  return {"SOA",
          "ns1.example. hostmaster.example. " + std::to_string(serial) + " 3600 600 86400 300", 300,
          zone};
}

std::string in_block(int block, int host) {
  return "127.0." + std::to_string(block) + "." + std::to_string(host);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

// ---- hand-made replies ------------------------------------------------------

struct PktFree {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};

// The reply bytes to `query` with `rcode`, AA as given, and the answer and
// authority records in zone-file form ("www.example. 300 IN CNAME x.").
Bytes reply_bytes(const probes::DnsQuery& query, int rcode, bool aa,
                  const std::vector<std::string>& answers,
                  const std::vector<std::string>& authority) {
  ldns_pkt* raw = nullptr;
  REQUIRE(ldns_wire2pkt(&raw, query.wire.data(), query.wire.size()) == LDNS_STATUS_OK);
  const std::unique_ptr<ldns_pkt, PktFree> packet(raw);
  ldns_pkt_set_qr(packet.get(), true);
  ldns_pkt_set_aa(packet.get(), aa);
  ldns_pkt_set_rd(packet.get(), false);
  ldns_pkt_set_rcode(packet.get(), static_cast<std::uint8_t>(rcode));
  const auto add = [&packet](const std::vector<std::string>& lines, ldns_pkt_section section) {
    for (const auto& line : lines) {
      ldns_rr* rr = nullptr;
      REQUIRE(ldns_rr_new_frm_str(&rr, line.c_str(), 300, nullptr, nullptr) == LDNS_STATUS_OK);
      ldns_pkt_push_rr(packet.get(), section, rr);
    }
  };
  add(answers, LDNS_SECTION_ANSWER);
  add(authority, LDNS_SECTION_AUTHORITY);
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&wire, packet.get(), &size) == LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  free(wire);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
  return out;
}

// One zone server of `zone` (as the resolver named it) whose reply to
// `name` A is `bytes`.
probes::AuthoritativeReport one_server_report(const probes::DnsQuery& query, const Bytes& bytes,
                                              const std::string& zone) {
  const auto classified = probes::classify_dns_reply(bytes, query);
  REQUIRE(classified.match == probes::ReplyMatch::Accepted);
  probes::AuthoritativeReport report;
  report.zone = zone;
  report.delegated_ns = {"ns1.example."};
  probes::AuthoritativeServer server;
  server.ns = "ns1.example.";
  server.address = *config::IpAddress::parse("192.0.2.53");
  server.answer = classified.result;
  server.lame = !server.answer.authoritative_answer;
  report.servers.push_back(std::move(server));
  return report;
}

probes::DnsQuery query_for(const std::string& name, std::uint16_t id) {
  const auto query =
      probes::build_dns_query(name, RrType::A, id, probes::DnsFlags{false, false, false});
  REQUIRE(query);
  return *query;
}

config::DnsCheck check_for(const std::string& name) {
  config::DnsCheck out;
  out.name = name;
  out.type = RrType::A;
  out.authoritative = true;
  return out;
}

// ---- a DoT resolver (the relay of dot_authoritative_test.cpp) ---------------

// One question as the relay read it off a TLS session.
struct Asked {
  std::string name;  // lower-case, absolute
  std::uint16_t type = 0;
};

Asked question_of(const Bytes& query) {
  Asked out;
  std::size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    const std::size_t length = query[at];
    for (std::size_t i = at + 1; i <= at + length && i < query.size(); ++i) {
      out.name += static_cast<char>(std::tolower(query[i]));
    }
    out.name += '.';
    at += length + 1;
  }
  if (at + 2 < query.size()) {
    out.type = static_cast<std::uint16_t>((query[at + 1] << 8U) | query[at + 2]);
  }
  return out;
}

// completes TLS (a self-signed leaf, pinned by the vantage), then relays
// every length-prefixed query over TCP to `backend` and the reply back. It
// keeps every question that came over TLS, and counts the datagrams sent to
// its port: plain DNS aimed at a DoT resolver. A question `reset` picks is
// answered with a TCP reset instead: the session broken after the query.
class DotRelay {
 public:
  using Reset = std::function<bool(const Asked&)>;

  DotRelay(const std::string& address, config::Endpoint backend, Reset reset = {})
      : backend_(backend),
        reset_(std::move(reset)),
        tls_(lab::make_server_tls(lab::FakeTlsOptions{}, address)),
        acceptor_(io_),
        udp_(io_) {
    const auto ip = asio::ip::make_address(address);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(ip, 0));
    acceptor_.listen(64);
    port_ = acceptor_.local_endpoint().port();
    udp_.open(udp::v4());
    udp_.bind(udp::endpoint(ip, port_));
    timeval timeout{0, 20'000};
    setsockopt(udp_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    endpoint_ = config::Endpoint{*config::IpAddress::parse(address), port_};
    udp_thread_ = std::thread([this] { count_datagrams(); });
    accept_thread_ = std::thread([this] { accept(); });
  }
  DotRelay(const DotRelay&) = delete;
  DotRelay& operator=(const DotRelay&) = delete;
  DotRelay(DotRelay&&) = delete;
  DotRelay& operator=(DotRelay&&) = delete;

  ~DotRelay() {
    stop_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    udp_thread_.join();
    std::vector<std::thread> sessions;
    {
      const std::lock_guard lock(mutex_);
      for (const int fd : connections_) {
        ::shutdown(fd, SHUT_RDWR);
      }
      sessions.swap(sessions_);
    }
    for (auto& session : sessions) {
      session.join();
    }
  }

  const config::Endpoint& endpoint() const { return endpoint_; }
  config::SpkiPin pin() const {
    return *config::certificate_spki_pin(SSL_CTX_get0_certificate(tls_.context->native_handle()));
  }
  int datagrams() const { return datagrams_.load(); }
  bool asked(const std::string& name, RrType type) const {
    const std::lock_guard lock(mutex_);
    return std::any_of(asked_.begin(), asked_.end(), [&](const Asked& question) {
      return question.name == name && question.type == static_cast<std::uint16_t>(type);
    });
  }

 private:
  void count_datagrams() {
    std::array<std::uint8_t, 512> buffer{};
    while (!stop_) {
      // recvfrom itself, so SO_RCVTIMEO lets the loop see stop_.
      if (::recv(udp_.native_handle(), buffer.data(), buffer.size(), 0) > 0) {
        ++datagrams_;
      }
    }
  }

  void accept() {
    while (!stop_) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stop_) {
        return;
      }
      const std::lock_guard lock(mutex_);
      connections_.push_back(socket->native_handle());
      sessions_.emplace_back([this, socket] { serve(*socket); });
    }
  }

  template <typename Stream>
  static bool read_message(Stream& stream, Bytes& message) {
    boost::system::error_code ec;
    std::array<std::uint8_t, 2> length{};
    asio::read(stream, asio::buffer(length), ec);
    if (ec) {
      return false;
    }
    message.resize((static_cast<std::size_t>(length[0]) << 8U) | length[1]);
    asio::read(stream, asio::buffer(message), ec);
    return !ec;
  }

  static Bytes with_length(const Bytes& message) {
    Bytes out{static_cast<std::uint8_t>(message.size() >> 8U),
              static_cast<std::uint8_t>(message.size() & 0xFFU)};
    out.insert(out.end(), message.begin(), message.end());
    return out;
  }

  // The backend's reply to `query` over plain TCP; empty when it fails.
  Bytes forward(const Bytes& query) const {
    asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect(
        tcp::endpoint(asio::ip::make_address(backend_.address.to_string()), backend_.port), ec);
    Bytes reply;
    if (!ec) {
      asio::write(socket, asio::buffer(with_length(query)), ec);
    }
    if (ec || !read_message(socket, reply)) {
      reply.clear();
    }
    return reply;
  }

  void serve(tcp::socket& socket) {
    relay(socket);
    // Forgotten before it closes: the destructor must never shut down a
    // descriptor number that a later socket reuses.
    boost::system::error_code ec;
    const std::lock_guard lock(mutex_);
    connections_.erase(
        std::remove(connections_.begin(), connections_.end(), socket.native_handle()),
        connections_.end());
    socket.close(ec);
  }

  void relay(tcp::socket& socket) {
    ssl::stream<tcp::socket&> stream(socket, *tls_.context);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    Bytes query;
    while (!ec && !stop_ && read_message(stream, query)) {
      const auto question = question_of(query);
      {
        const std::lock_guard lock(mutex_);
        asked_.push_back(question);
      }
      if (reset_ && reset_(question)) {
        socket.set_option(tcp::socket::linger(true, 0), ec);  // the close sends RST
        return;
      }
      const auto reply = forward(query);
      if (reply.empty()) {
        return;
      }
      asio::write(stream, asio::buffer(with_length(reply)), ec);
    }
  }

  config::Endpoint backend_;
  Reset reset_;
  lab::ServerTls tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  udp::socket udp_;
  unsigned short port_ = 0;
  config::Endpoint endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<int> datagrams_{0};
  mutable std::mutex mutex_;  // guards asked_, connections_, sessions_
  std::vector<Asked> asked_;
  std::vector<int> connections_;
  std::vector<std::thread> sessions_;
  std::thread accept_thread_;
  std::thread udp_thread_;
};

// ---- the check chain --------------------------------------------------------

// www.<zone> A 192.0.2.10 through a resolver on 127.0.<block>.53; the zone
// <zone> with the NS names given, the i-th at 127.0.<block>.<i+1> port 53
// (where the chain asks), each serving www.<zone> A 192.0.2.10 with AA. With
// `dot`, the vantage asks through a DoT relay on 127.0.<block>.54 in front
// of the resolver (`reset` picks the questions whose session breaks).
struct World {
  World(int block, std::string zone_name, std::vector<std::string> ns_names, bool dot = false,
        DotRelay::Reset reset = {})
      : zone{std::move(zone_name)},
        name{"www." + zone},
        ns{std::move(ns_names)},
        resolver{in_block(block, 53)} {
    for (std::size_t i = 0; i < ns.size(); ++i) {
      servers.push_back(
          std::make_unique<FakeDnsServer>(in_block(block, static_cast<int>(i) + 1), 53));
    }
    if (dot) {
      relay =
          std::make_unique<DotRelay>(in_block(block, 54), resolver.endpoint(), std::move(reset));
    }
    resolver.set(name, RrType::A, FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
    resolver.set(name, RrType::AAAA, FakeDnsBehaviour::empty());
    resolver.set(name, RrType::SOA, FakeDnsBehaviour::empty().with_authority({soa_of(zone)}));
    std::vector<FakeRecord> ns_set;
    for (const auto& server_name : ns) {
      ns_set.push_back({"NS", server_name, 300, ""});
    }
    resolver.set(zone, RrType::NS, FakeDnsBehaviour::answer(ns_set));
    for (std::size_t i = 0; i < ns.size(); ++i) {
      resolver.set(
          ns[i], RrType::A,
          FakeDnsBehaviour::answer({{"A", in_block(block, static_cast<int>(i) + 1), 300, ""}}));
      resolver.set(ns[i], RrType::AAAA, FakeDnsBehaviour::empty());
      auto& server = *servers[i];
      server.set(name, RrType::A,
                 FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
      server.set(zone, RrType::SOA,
                 FakeDnsBehaviour::answer({soa_of(zone, k_serial + static_cast<std::uint32_t>(i))})
                     .with_aa());
      server.set(zone, RrType::NS, FakeDnsBehaviour::answer(ns_set).with_aa());
    }
  }

  config::TargetConfig target(std::chrono::milliseconds timeout = 1500ms) const {
    config::TargetConfig out;
    out.name = "web";
    out.dns = config::DnsCheck{name, RrType::A, 1, {}};
    out.dns->authoritative = true;
    out.timing.timeout = timeout;
    return out;
  }

  probes::ProbeReport probe(const config::TargetConfig& target) const {
    probes::VantageEndpoint vantage{"alpha", "alpha", resolver.endpoint(), std::nullopt};
    if (relay) {
      vantage.resolver = relay->endpoint();
      config::DotConfig dot;
      dot.pins = {relay->pin()};
      vantage.tls = probes::make_dot_transport(dot);
    }
    asio::io_context io;
    probes::LastKnownGoodStore lkg;
    probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, k_clock, true};
    std::optional<probes::ProbeReport> out;
    probes::run_chain(context, target, vantage,
                      [&out](probes::ProbeReport report) { out = std::move(report); });
    io.run();
    REQUIRE(out);
    return *out;
  }

  std::string zone;
  std::string name;
  std::vector<std::string> ns;
  FakeDnsServer resolver;
  std::vector<std::unique_ptr<FakeDnsServer>> servers;
  std::unique_ptr<DotRelay> relay;
};

// A legal NS name of 242 characters (a zone's operator picks its NS names):
// "ns1.nnn...nnn.nnn...nnn.nnn...nnn.nnn...nnn.net.".
std::string long_ns_name() {
  const std::string label60(60, 'n');
  return "ns1." + label60 + "." + label60 + "." + label60 + "." + std::string(50, 'n') + ".net.";
}

// A legal zone name of 111 characters under example.
std::string long_zone() {
  const std::string label50(50, 'z');
  return label50 + "." + label50 + ".example.";
}

// A legal zone name of 191 characters (the target's own zone, configured).
std::string very_long_zone() {
  const std::string label60(60, 'z');
  return label60 + "." + label60 + "." + label60 + ".example.";
}

// 30 IPv6 /64s and 192.0.2.0/24: a service published in many prefixes.
std::vector<config::Cidr> many_prefixes() {
  std::vector<config::Cidr> out{*config::Cidr::parse("192.0.2.0/24")};
  for (int i = 0; i < 30; ++i) {
    out.push_back(*config::Cidr::parse("2001:db8:aaaa:" + std::to_string(1000 + i) + "::/64"));
  }
  return out;
}

}  // namespace

// ---- fix 1: a denial is the zone's only with the zone's own SOA -------------

// Held (expected): DNS names compare case-insensitively; a server that
// spells its SOA owner "EXAMPLE." still denies for example.
TEST_CASE("attack4 a denial whose SOA owner is in capitals is the zone's wrong data",
          "[authoritative][attack]") {
  const auto query = query_for("www.example.", 4301);
  const auto bytes =
      reply_bytes(query, LDNS_RCODE_NXDOMAIN, true, {},
                  {"EXAMPLE. 300 IN SOA ns1.example. h.example. 1 3600 600 86400 300"});
  const auto report = one_server_report(query, bytes, "example.");
  const auto judged = probes::judge_authoritative(report, check_for("www.example"));
  REQUIRE(judged.failure);
  CHECK_THAT(judged.failure->detail, Catch::Contains("NXDOMAIN"));
}

// Held (expected): the zone's SOA in the answer section rather than the
// authority section is still the zone speaking (AA set, its own apex).
TEST_CASE("attack4 a NODATA with the zone SOA in the answer section is the zone's wrong data",
          "[authoritative][attack]") {
  const auto query = query_for("www.example.", 4302);
  const auto bytes =
      reply_bytes(query, LDNS_RCODE_NOERROR, true,
                  {"example. 300 IN SOA ns1.example. h.example. 1 3600 600 86400 300"}, {});
  const auto report = one_server_report(query, bytes, "example.");
  CHECK(probes::judge_authoritative(report, check_for("www.example")).failure);
}

// The resolver names the parent example. as the zone of www.sub.example.
// (a stale cache, or a lie), and example.'s server also holds the child
// sub.example.: it denies from the child, with the child's SOA. That is
// not example. denying the name: not judged, never a vote.
TEST_CASE("attack4 a child zone's denial from the parent's server is not the parent's wrong data",
          "[authoritative][attack]") {
  const auto query = query_for("www.sub.example.", 4303);
  const auto bytes =
      reply_bytes(query, LDNS_RCODE_NXDOMAIN, true, {},
                  {"sub.example. 300 IN SOA ns1.example. h.example. 1 3600 600 86400 300"});
  const auto report = one_server_report(query, bytes, "example.");
  const auto judged = probes::judge_authoritative(report, check_for("www.sub.example"));
  CHECK_FALSE(judged.failure);
  CHECK(judged.not_judged);
}

// The same denial when the resolver names the child itself (the name really
// is in the delegated child): the child's own wrong data, a down vote.
TEST_CASE("attack4 a child zone's denial with its own SOA is its wrong data",
          "[authoritative][attack]") {
  const auto query = query_for("www.sub.example.", 4304);
  const auto bytes =
      reply_bytes(query, LDNS_RCODE_NXDOMAIN, true, {},
                  {"sub.example. 300 IN SOA ns1.example. h.example. 1 3600 600 86400 300"});
  const auto report = one_server_report(query, bytes, "sub.example.");
  CHECK(probes::judge_authoritative(report, check_for("www.sub.example")).failure);
}

// ---- bounds on what the zone side writes ------------------------------------

// probes/authoritative_judge.hpp bounds not_judged at 200 characters by
// cutting the tail. "none of 2 servers for <zone> gave an AA answer to
// judge (2 silent)" puts the why at the end: with a long (legal) zone name
// the cut keeps the zone and drops why nothing was judged.
TEST_CASE("attack4 a long zone name never cuts why the zone was not judged",
          "[authoritative][attack]") {
  probes::AuthoritativeReport report;
  report.zone = very_long_zone();
  report.delegated_ns = {"ns1.example.", "ns2.example."};
  for (const auto* address : {"192.0.2.53", "192.0.2.54"}) {
    probes::AuthoritativeServer server;
    server.ns = "ns1.example.";
    server.address = *config::IpAddress::parse(address);
    server.answer.status = probes::DnsStatus::Timeout;
    server.answer.detail = "dns: timeout after 700ms";
    report.servers.push_back(std::move(server));
  }
  const auto judged = probes::judge_authoritative(report, check_for("www." + very_long_zone()));
  REQUIRE(judged.not_judged);
  INFO(*judged.not_judged);
  CHECK_THAT(*judged.not_judged, Catch::Contains("2 silent"));
}

// The same for a failed resolver step: "no zone for <name>: SERVFAIL" cut
// at 200 characters keeps the name and drops what the resolver said.
TEST_CASE("attack4 a long name never cuts what the resolver said when the zone was not found",
          "[authoritative][attack]") {
  const std::string name = "www." + very_long_zone();
  probes::AuthoritativeReport report;
  probes::DnsResult failure;
  failure.status = probes::DnsStatus::ServFail;
  failure.rcode = 2;
  failure.detail = "dns: authoritative: no zone for " + name + ": SERVFAIL";
  report.failure = failure;
  report.detail = "authoritative: no zone for " + name + ": SERVFAIL";
  const auto judged = probes::judge_authoritative(report, check_for(name));
  REQUIRE(judged.not_judged);
  INFO(*judged.not_judged);
  CHECK_THAT(*judged.not_judged, Catch::Contains("SERVFAIL"));
}

// The observation's detail goes to the peers as the vote's detail, and a
// peer refuses the whole export (every target's votes of this node) when
// one is longer than 1024 bytes (peers/protocol.cpp decode_vote). The
// resolver's own failure with these expect_addresses would be under 800
// bytes; the zone side's adds the NS name and the zone, never bounded: a
// zone whose operator picks long NS names (legal DNS) makes this node's
// votes vanish at every peer.
TEST_CASE("attack4 wrong zone data keeps the observation detail within the peer bound",
          "[authoritative][attack][chain]") {
  World world{80, long_zone(), {long_ns_name()}};
  world.servers[0]->set(world.name, RrType::A,
                        FakeDnsBehaviour::answer({{"A", "203.0.113.7", 300, ""}}).with_aa());
  auto target = world.target();
  target.dns->expect_addresses = many_prefixes();
  const auto report = world.probe(target);
  INFO(report.observation.detail);
  INFO("detail: " << report.observation.detail.size() << " bytes");
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Dns);
  CHECK(report.observation.detail.size() <= k_peer_detail_bound);
}

// The service refuses connections and the zone serves a wrong address: the
// zone's finding is appended to the connect failure (third review's fix),
// with no bound either.
TEST_CASE("attack4 wrong zone data beside a refused connect keeps the detail within the peer bound",
          "[authoritative][attack][chain]") {
  World world{81, long_zone(), {long_ns_name()}};
  world.resolver.set(world.name, RrType::A,
                     FakeDnsBehaviour::answer({{"A", in_block(81, 9), 300, ""}}));
  world.servers[0]->set(world.name, RrType::A,
                        FakeDnsBehaviour::answer({{"A", "203.0.113.7", 300, ""}}).with_aa());
  auto target = world.target();
  target.dns->expect_addresses = many_prefixes();
  target.dns->expect_addresses.push_back(*config::Cidr::parse(in_block(81, 9) + "/32"));
  target.tcp = config::TcpCheck{};
  target.tcp->port = 9;  // nothing listens on 127.0.81.9
  const auto report = world.probe(target);
  INFO(report.observation.detail);
  INFO("detail: " << report.observation.detail.size() << " bytes");
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Connect);
  CHECK(report.observation.detail.size() <= k_peer_detail_bound);
}

// From a DoT vantage the zone side's finding is wrapped in "not judged:
// the zone's servers answer over plain DNS, which a DoT vantage does not
// vote on (...)": 110 bytes more, and the failure inside is not bounded
// (the other not-judged texts are, at 200).
TEST_CASE("attack4 the DoT not judged text keeps the observation detail within the peer bound",
          "[authoritative][attack][chain][dot]") {
  World world{82, long_zone(), {long_ns_name()}, true};
  world.servers[0]->set(world.name, RrType::A,
                        FakeDnsBehaviour::answer({{"A", "203.0.113.7", 300, ""}}).with_aa());
  auto target = world.target();
  target.dns->expect_addresses = many_prefixes();
  const auto report = world.probe(target);
  INFO(report.observation.detail);
  INFO("detail: " << report.observation.detail.size() << " bytes");
  CHECK(report.observation.outcome == consensus::Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::Contains("does not vote on"));
  CHECK(report.observation.detail.size() <= k_peer_detail_bound);
}

// ---- fix 3: a down that already failed keeps its layer ----------------------

// The resolver itself denies the name (its own dns down vote) and the
// zone's server serves the same NXDOMAIN with the zone's SOA: the record is
// gone where it is published (the Oct 2025 DynamoDB incident), not only in
// the resolver's cache. A refused connect gets the zone's finding appended
// (docs/checks.md), and so does a DoT vantage's dns down; a plain
// vantage's dns down drops it, and the operator is not told the zone
// itself serves the denial.
TEST_CASE("attack4 wrong zone data beside the resolver's own denial is named in the detail",
          "[authoritative][attack][chain]") {
  World world{83, "example.", {"ns1.example."}};
  world.resolver.set(world.name, RrType::A,
                     FakeDnsBehaviour::nxdomain().with_authority({soa_of("example.")}));
  world.servers[0]->set(
      world.name, RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  const auto report = world.probe(world.target());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Dns);
  CHECK_THAT(report.observation.detail, Catch::Contains("server ns1.example."));
}

// Held (expected): the same from a DoT vantage: its own dns down stays, the
// zone's finding is reported once, and the gauges are kept.
TEST_CASE("attack4 a DoT vantage beside the resolver's own denial reports the zone once",
          "[authoritative][attack][chain][dot]") {
  World world{84, "example.", {"ns1.example.", "ns2.example."}, true};
  world.resolver.set(world.name, RrType::A,
                     FakeDnsBehaviour::nxdomain().with_authority({soa_of("example.")}));
  for (auto& server : world.servers) {
    server->set(world.name, RrType::A,
                FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  }
  const auto report = world.probe(world.target());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Dns);
  CHECK(occurrences(report.observation.detail, "NXDOMAIN (2 of 2 servers") == 1);
  CHECK(occurrences(report.observation.detail, "authoritative:") <= 2);
  CHECK(report.observation.soa_serial_skew == 1);
  CHECK(report.observation.ns_drift == false);
}

// ---- fix 2: a DoT vantage's zone side never votes ---------------------------

// Held (expected): the zone serves wrong data and the DoT session breaks on
// the NS names' AAAA step: the zone side is not judged (the session's
// failure said), the resolver's answer keeps its up vote.
TEST_CASE("attack4 a DoT session breaking on the NS address step keeps the up vote",
          "[authoritative][attack][chain][dot]") {
  World world{85, "example.", {"ns1.example."}, true, [](const Asked& question) {
                return question.name == "ns1.example." &&
                       question.type == static_cast<std::uint16_t>(RrType::AAAA);
              }};
  world.servers[0]->set(
      world.name, RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  const auto report = world.probe(world.target());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::Contains("authoritative: not judged: dot: "));
  CHECK(world.servers[0]->queries().empty());
  CHECK(world.relay->datagrams() == 0);
}

// Held (expected): the session breaks on the chain's own question while the
// zone serves wrong data: an observer error, no vote either way.
TEST_CASE("attack4 a DoT session breaking on the target's own question is no vote",
          "[authoritative][attack][chain][dot]") {
  World world{86, "example.", {"ns1.example."}, true, [](const Asked& question) {
                return question.name == "www.example." &&
                       question.type == static_cast<std::uint16_t>(RrType::A);
              }};
  world.servers[0]->set(
      world.name, RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  const auto report = world.probe(world.target());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::ObserverError);
}

// Held (expected), for contrast: the same world from a plain vantage votes
// down at dns, naming the server.
TEST_CASE("attack4 chain sanity a plain vantage votes down on the zone's denial",
          "[authoritative][attack][chain]") {
  World world{87, "example.", {"ns1.example."}};
  world.servers[0]->set(
      world.name, RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  const auto report = world.probe(world.target());
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Dns);
  CHECK_THAT(report.observation.detail, Catch::Contains("server ns1.example. (127.0.87.1)"));
}

// Held (expected): fixes 2 and 3 together: from a DoT vantage a refused
// connect keeps its layer (the verdict's service scope), and the zone's
// wrong data is only reported beside it.
TEST_CASE("attack4 a DoT vantage keeps a refused connect beside wrong zone data",
          "[authoritative][attack][chain][dot]") {
  World world{88, "example.", {"ns1.example."}, true};
  world.resolver.set(world.name, RrType::A,
                     FakeDnsBehaviour::answer({{"A", in_block(88, 9), 300, ""}}));
  world.servers[0]->set(
      world.name, RrType::A,
      FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  auto target = world.target();
  target.tcp = config::TcpCheck{};
  target.tcp->port = 9;  // nothing listens on 127.0.88.9
  const auto report = world.probe(target);
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Down);
  CHECK(report.observation.layer == consensus::Layer::Connect);
  CHECK_THAT(report.observation.detail, Catch::StartsWith("connect: "));
  CHECK_THAT(report.observation.detail, Catch::Contains("does not vote on"));
}
