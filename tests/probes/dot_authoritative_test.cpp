// Authoritative mode from a DNS over TLS vantage (docs/checks.md
// "Authoritative mode", "DNS over TLS vantages"): the resolver steps (SOA,
// NS, the NS names' addresses) go over the vantage's TLS session like the
// chain's own question, never as plain DNS to the DoT port; the zone's
// servers are asked plain DNS on port 53 with RD clear. The DoT resolver is
// a relay on loopback (the test TLS material of the DoT attack fakes) in
// front of a fake resolver; each case binds its own block (127.0.66.x,
// 127.0.67.x) since the zone server listens on port 53.
#include "probes/chain.hpp"

#include "config/tls_files.hpp"
#include "lab/test_certificates.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/dns_tls.hpp"
#include "support/fake_dns_server.hpp"

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
using testing::FakeDnsQuery;
using testing::FakeDnsServer;
using testing::FakeRecord;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Bytes = std::vector<std::uint8_t>;

const net::SystemClock k_clock;
constexpr std::uint32_t k_serial = 2026120501;

// One question as the relay read it off a TLS session.
struct Asked {
  std::string name;  // lower-case, absolute
  std::uint16_t type = 0;
};

// The question of a DNS query: "www.example." and its type.
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

// A DoT resolver for any number of connections, each on its own thread: it
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

FakeRecord soa_of(const std::string& zone) {
  return {"SOA",
          "ns1.example. hostmaster.example. " + std::to_string(k_serial) + " 3600 600 86400 300",
          300, zone};
}

// www.example. A 192.0.2.10 in zone example., one NS ns1.example. at
// 127.0.<block>.1 (port 53, where the chain asks); the vantage's DoT
// resolver is a relay on 127.0.<block>.54 in front of a fake resolver on
// 127.0.<block>.53.
struct DotZone {
  explicit DotZone(int block, DotRelay::Reset reset = {})
      : prefix{"127.0." + std::to_string(block) + "."},
        resolver{prefix + "53"},
        server{prefix + "1", 53},
        relay{prefix + "54", resolver.endpoint(), std::move(reset)} {
    resolver.set("www.example.", RrType::A,
                 FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
    resolver.set("www.example.", RrType::SOA,
                 FakeDnsBehaviour::empty().with_authority({soa_of("example.")}));
    resolver.set("example.", RrType::NS,
                 FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}));
    resolver.set("ns1.example.", RrType::A,
                 FakeDnsBehaviour::answer({{"A", prefix + "1", 300, ""}}));
    resolver.set("ns1.example.", RrType::AAAA, FakeDnsBehaviour::empty());
    server.set("www.example.", RrType::A,
               FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}).with_aa());
    server.set("example.", RrType::SOA, FakeDnsBehaviour::answer({soa_of("example.")}).with_aa());
    server.set("example.", RrType::NS,
               FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}).with_aa());
  }

  // One probe of `dns: { name: www.example, authoritative: true }` from a
  // DoT vantage pinned to the relay's key.
  probes::ProbeReport probe() const {
    config::TargetConfig target;
    target.name = "web";
    target.dns = config::DnsCheck{"www.example", RrType::A, 1, {}};
    target.dns->authoritative = true;
    target.timing.timeout = 1500ms;
    probes::VantageEndpoint vantage{"dot", "dot", relay.endpoint(), std::nullopt};
    config::DotConfig dot;
    dot.pins = {relay.pin()};
    vantage.tls = probes::make_dot_transport(dot);
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

  bool server_asked(const std::string& name, RrType type) const {
    const auto queries = server.queries();
    return std::any_of(queries.begin(), queries.end(), [&](const FakeDnsQuery& query) {
      return query.name == name && query.type == static_cast<std::uint16_t>(type);
    });
  }

  std::string prefix;
  FakeDnsServer resolver;
  FakeDnsServer server;
  DotRelay relay;
};

}  // namespace

TEST_CASE(
    "authoritative mode from a DoT vantage asks its resolver over TLS and the zone server plain",
    "[dot][authoritative][chain]") {
  DotZone zone{66};
  const auto report = zone.probe();
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::Contains("authoritative: 1 server for example."));
  // Every resolver step came over the TLS session, and not one datagram
  // went to the DoT port.
  CHECK(zone.relay.asked("www.example.", RrType::A));  // the chain's own question
  CHECK(zone.relay.asked("www.example.", RrType::SOA));
  CHECK(zone.relay.asked("example.", RrType::NS));
  CHECK(zone.relay.asked("ns1.example.", RrType::A));
  CHECK(zone.relay.asked("ns1.example.", RrType::AAAA));
  CHECK(zone.relay.datagrams() == 0);
  // The zone's server itself: plain DNS over UDP, recursion off.
  CHECK(zone.server_asked("www.example.", RrType::A));
  CHECK(zone.server_asked("example.", RrType::SOA));
  CHECK(zone.server_asked("example.", RrType::NS));
  for (const auto& query : zone.server.queries()) {
    CHECK_FALSE(query.recursion_desired);
    CHECK_FALSE(query.over_tcp);
  }
}

TEST_CASE(
    "authoritative mode from a DoT vantage whose session breaks on a resolver step is not judged "
    "and no vote",
    "[dot][authoritative][chain]") {
  // docs/checks.md: a DoT session broken after the query is an observer
  // error; on a resolver step of authoritative mode that is only "not
  // judged", and the service's own answer keeps its up vote.
  DotZone zone{67, [](const Asked& question) {
                 return question.type == static_cast<std::uint16_t>(RrType::SOA);
               }};
  const auto report = zone.probe();
  INFO(report.observation.detail);
  CHECK(report.observation.outcome == consensus::Outcome::Up);
  CHECK_THAT(report.observation.detail, Catch::Contains("; authoritative: not judged: dot: "));
  CHECK_THAT(report.observation.detail, Catch::Contains("broke before a complete reply"));
  CHECK(zone.relay.asked("www.example.", RrType::SOA));
  CHECK(zone.relay.datagrams() == 0);
  CHECK(zone.server.queries().empty());
}
