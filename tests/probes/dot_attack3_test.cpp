// Third hostile review: DNS over TLS vantages meeting authoritative mode.
// A real TLS resolver (Asio + OpenSSL, pinned) answers the vantage's own
// question correctly; an interceptor on the path answers whatever plain DNS
// leaves the host. docs/checks.md promises a DoT vantage "votes only on what
// the authenticated resolver said". A failing case is a finding. Loopback
// only: 127.0.76.x and 127.0.77.x (the zone servers bind port 53 there).
#include "config/tls_files.hpp"
#include "lab/test_certificates.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/chain.hpp"
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

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Bytes = std::vector<std::uint8_t>;
using config::RrType;
using testing::FakeDnsBehaviour;
using testing::FakeDnsServer;
using testing::FakeRecord;
const net::SystemClock k_clock;

constexpr const char* k_resolver = "127.0.76.53";     // the DoT resolver (TCP) and the
                                                      // interceptor's UDP on its port
constexpr const char* k_interceptor = "127.0.76.54";  // what the interceptor answers with
constexpr const char* k_zone_server = "127.0.76.1";   // the address it names for ns1

std::size_t question_end(const Bytes& query) {
  std::size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    at += query[at] + 1U;
  }
  return at + 1 + 4;
}

// NOERROR, <the question> A 192.0.2.10: the authenticated resolver's answer.
Bytes answer_to(const Bytes& query) {
  Bytes reply(query.begin(), query.begin() + static_cast<long>(question_end(query)));
  reply[2] = static_cast<std::uint8_t>(0x80U | (query[2] & 0x01U));
  reply[3] = 0x80;
  reply[6] = 0;
  reply[7] = 1;
  reply[8] = reply[9] = reply[10] = reply[11] = 0;
  const Bytes record{0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10};
  reply.insert(reply.end(), record.begin(), record.end());
  return reply;
}

// `query` sent over UDP to `backend`, its reply (empty after 500ms).
Bytes ask_udp(asio::io_context& io, const Bytes& query, const config::Endpoint& backend) {
  udp::socket relay(io);
  relay.open(udp::v4());
  timeval tv{0, 500'000};
  setsockopt(relay.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const udp::endpoint to(asio::ip::make_address(backend.address.to_string()), backend.port);
  boost::system::error_code ec;
  relay.send_to(asio::buffer(query), to, 0, ec);
  Bytes answer(4096);
  const auto got = ::recv(relay.native_handle(), answer.data(), answer.size(), 0);
  answer.resize(got > 0 ? static_cast<std::size_t>(got) : 0U);
  return answer;
}

// A DoT resolver on k_resolver (TCP, a port the kernel picks) answering every
// query as `honest` answers it (answer_to() without one), one query per
// connection; and, with `lies`, on the same address and port over UDP, an
// interceptor relaying plain DNS to `lies`.
class DotAndInterceptor {
 public:
  DotAndInterceptor(std::optional<config::Endpoint> honest, std::optional<config::Endpoint> lies)
      : acceptor_(io_), udp_(io_), honest_(std::move(honest)), lies_(std::move(lies)) {
    const auto address = asio::ip::make_address(k_resolver);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(address, 0));
    acceptor_.listen(16);
    port_ = acceptor_.local_endpoint().port();
    tls_ = lab::make_server_tls(lab::FakeTlsOptions{}, k_resolver);
    tls_thread_ = std::thread([this] { serve_tls(); });
    if (lies_) {
      udp_.open(udp::v4());
      udp_.bind(udp::endpoint(address, port_));
      timeval tv{0, 20'000};
      setsockopt(udp_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      udp_thread_ = std::thread([this] { serve_udp(); });
    }
  }
  DotAndInterceptor(const DotAndInterceptor&) = delete;
  DotAndInterceptor& operator=(const DotAndInterceptor&) = delete;
  ~DotAndInterceptor() {
    stop_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    tls_thread_.join();
    if (udp_thread_.joinable()) {
      udp_thread_.join();
    }
  }

  config::Endpoint endpoint() const {
    return config::Endpoint{*config::IpAddress::parse(k_resolver), port_};
  }
  config::SpkiPin pin() const {
    return *config::certificate_spki_pin(SSL_CTX_get0_certificate(tls_.context->native_handle()));
  }
  int tls_queries() const { return tls_queries_; }
  int udp_relayed() const { return udp_relayed_; }

 private:
  void serve_tls() {
    while (!stop_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) {
        return;
      }
      ssl::stream<tcp::socket&> stream(socket, *tls_.context);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) {
        continue;
      }
      std::array<std::uint8_t, 2> length{};
      asio::read(stream, asio::buffer(length), ec);
      if (ec) {
        continue;
      }
      Bytes query((static_cast<std::size_t>(length[0]) << 8U) | length[1]);
      asio::read(stream, asio::buffer(query), ec);
      if (ec || query.size() < 12) {
        continue;
      }
      ++tls_queries_;
      const Bytes reply = honest_ ? ask_udp(io_, query, *honest_) : answer_to(query);
      if (reply.empty()) {
        continue;
      }
      Bytes framed{static_cast<std::uint8_t>(reply.size() >> 8U),
                   static_cast<std::uint8_t>(reply.size() & 0xFFU)};
      framed.insert(framed.end(), reply.begin(), reply.end());
      asio::write(stream, asio::buffer(framed), ec);
      stream.shutdown(ec);
    }
  }

  void serve_udp() {
    std::array<std::uint8_t, 4096> buffer{};
    while (!stop_) {
      sockaddr_storage from{};
      socklen_t from_length = sizeof from;
      const auto size = ::recvfrom(udp_.native_handle(), buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
      if (size < 12) {
        continue;
      }
      const Bytes query(buffer.begin(), buffer.begin() + size);
      const Bytes answer = ask_udp(io_, query, *lies_);
      if (!answer.empty()) {
        ++udp_relayed_;
        ::sendto(udp_.native_handle(), answer.data(), answer.size(), 0,
                 reinterpret_cast<sockaddr*>(&from), from_length);
      }
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  udp::socket udp_;
  std::optional<config::Endpoint> honest_;
  std::optional<config::Endpoint> lies_;
  std::uint16_t port_ = 0;
  lab::ServerTls tls_;
  std::atomic<bool> stop_{false};
  std::atomic<int> tls_queries_{0};
  std::atomic<int> udp_relayed_{0};
  std::thread tls_thread_;
  std::thread udp_thread_;
};

FakeRecord soa_of(const std::string& zone) {
  return {"SOA", "ns1.example. hostmaster.example. 2026120501 3600 600 86400 300", 300, zone};
}

// One probe of www.example. A (authoritative: true) through a DoT vantage
// at `path`, pinned to its key.
probes::ProbeReport probe_www(const DotAndInterceptor& path) {
  boost::asio::io_context io;
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, k_clock, true};
  probes::VantageEndpoint vantage{"dot", "dot", path.endpoint(), std::nullopt};
  config::DotConfig dot;
  dot.pins = {path.pin()};
  vantage.tls = probes::make_dot_transport(dot);
  config::TargetConfig target;
  target.name = "web";
  target.dns = config::DnsCheck{"www.example", RrType::A, 1, {}};
  target.dns->authoritative = true;
  target.timing.timeout = 2000ms;
  std::optional<probes::ProbeReport> report;
  probes::run_chain(context, target, vantage,
                    [&report](probes::ProbeReport out) { report = std::move(out); });
  io.run();
  REQUIRE(report);
  for (const auto& line : report->trace) {
    UNSCOPED_INFO(line.step << ": " << line.text);
  }
  return *report;
}

}  // namespace

// The resolver's side of example.: www.example. A 192.0.2.10, the zone
// example. with NS ns1.example. at `ns1` (what an honest resolver says, and
// what an interceptor relaying plain DNS says too).
void serve_example(FakeDnsServer& server, const std::string& ns1) {
  server.set("www.example.", RrType::A, FakeDnsBehaviour::answer({{"A", "192.0.2.10", 300, ""}}));
  server.set("www.example.", RrType::SOA,
             FakeDnsBehaviour::empty().with_authority({soa_of("example.")}));
  server.set("example.", RrType::NS, FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}));
  server.set("ns1.example.", RrType::A, FakeDnsBehaviour::answer({{"A", ns1, 300, ""}}));
  server.set("ns1.example.", RrType::AAAA, FakeDnsBehaviour::empty());
}

// A zone server for example. on `address` port 53 serving www.example.
// with AA NXDOMAIN.
void serve_nxdomain(FakeDnsServer& server) {
  server.set("www.example.", RrType::A,
             FakeDnsBehaviour::nxdomain().with_aa().with_authority({soa_of("example.")}));
  server.set("example.", RrType::SOA, FakeDnsBehaviour::answer({soa_of("example.")}).with_aa());
  server.set("example.", RrType::NS,
             FakeDnsBehaviour::answer({{"NS", "ns1.example.", 300, ""}}).with_aa());
}

// A middlebox that answers plain DNS in anyone's name (docs: "a captive
// network, a transparent DNS proxy ... can answer for every resolver address
// at once") and lets port 853 through untouched. The DoT resolver, verified
// by its pin, says www.example. A 192.0.2.10: the service is served. The
// authoritative run asks the resolver's address in plain UDP (the SOA, the NS
// set and ns1's address: the middlebox answers) and then ns1 on port 53 in
// plain UDP, where the middlebox answers AA NXDOMAIN in ns1's name. The DoT
// vantage votes down on the middlebox's word (docs: a DoT vantage "votes
// only on what the authenticated resolver said"): with the plain vantages
// behind the same middlebox, the quorum the docs' example relies on
// ("plain-dns alone is never enough") is met without the service failing.
// Sending the resolver steps over TLS would not be enough: the zone
// server's reply is plain DNS whoever asks for it.
TEST_CASE("dot attack3: an interceptor of plain DNS cannot make a DoT vantage vote down",
          "[dot][attack][authoritative]") {
  FakeDnsServer honest("127.0.76.55");
  serve_example(honest, k_zone_server);
  FakeDnsServer lies(k_interceptor);
  serve_example(lies, k_zone_server);
  FakeDnsServer posing(k_zone_server, 53);  // the middlebox, in ns1's name
  serve_nxdomain(posing);

  DotAndInterceptor path(honest.endpoint(), lies.endpoint());
  const auto report = probe_www(path);
  INFO(report.observation.detail);
  REQUIRE(path.tls_queries() >= 1);  // the authenticated resolver was asked and answered
  CHECK(report.observation.outcome != consensus::Outcome::Down);
  CHECK(path.udp_relayed() == 0);  // nothing of the vantage's went to its resolver as plain DNS
}

// The other side of the same gap: nothing intercepts, the DoT resolver is
// honest and answers every question (the name, the SOA, the NS set, ns1's
// address) over TLS. docs/checks.md: "On every check, each vantage, through
// its own resolver ... finds the zone". The DoT vantage's authoritative run
// asks its resolver in plain UDP on the DoT port, where no resolver listens
// (nor does one on any real DoT resolver's port 853): it never finds the
// zone, never asks a server, and on every check only says "not judged: no
// zone ... resolver 127.0.76.53:PORT unreachable", naming the resolver
// without tls://. Authoritative mode is silently blind on every DoT vantage.
TEST_CASE("dot attack3: a DoT vantage in authoritative mode finds the zone through its resolver",
          "[dot][attack][authoritative]") {
  constexpr const char* k_server = "127.0.77.1";
  FakeDnsServer honest("127.0.77.54");
  serve_example(honest, k_server);
  FakeDnsServer zone_server(k_server, 53);
  serve_nxdomain(zone_server);

  DotAndInterceptor path(honest.endpoint(), std::nullopt);
  const auto report = probe_www(path);
  INFO(report.observation.detail);
  REQUIRE(path.tls_queries() >= 1);
  CHECK(report.observation.detail.find("no zone for") == std::string::npos);
  CHECK_FALSE(zone_server.queries().empty());
}
