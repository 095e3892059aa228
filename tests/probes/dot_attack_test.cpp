// Hostile review of DNS over TLS vantages: a fake DoT server (Asio + OpenSSL
// on its own thread, loopback only) that completes TLS and then misbehaves,
// or misbehaves in the handshake itself. Each case states the behaviour the
// prime rule asks for: every query ends by its deadline; a fault of the TLS
// layer is an observer error, never a down vote; so is a session broken
// (reset, FIN, close_notify) before a complete reply, which anyone on the
// path can cause (docs/checks.md); the resolver's replies and its silence on
// an intact session are classed as plain DNS over TCP classes them (the same
// fake, without TLS, behind a UDP reply with TC set). A failing case is a
// finding.
#include "config/tls_files.hpp"
#include "consensus/time_format.hpp"
#include "lab/test_certificates.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/chain.hpp"
#include "probes/dns_client.hpp"
#include "probes/dns_tls.hpp"
#include "support/child_process.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;
using probes::DnsStatus;

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

constexpr const char* k_address = "127.0.0.79";
constexpr auto k_budget = 700ms;
constexpr auto k_slack = 300ms;  // a loaded CI machine

// ---- DNS wire, by hand ------------------------------------------------------

// The end of the question section of `query` (header, one question).
std::size_t question_end(const Bytes& query) {
  std::size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    at += query[at] + 1U;
  }
  return at + 1 + 4;
}

// NOERROR, web.test A 192.0.2.10, for `query` (an A query).
Bytes answer_to(const Bytes& query) {
  Bytes reply(query.begin(), query.begin() + static_cast<long>(question_end(query)));
  reply[2] = static_cast<std::uint8_t>(0x80U | (query[2] & 0x01U));  // QR, RD echoed
  reply[3] = 0x80;                                                   // RA
  reply[6] = 0;
  reply[7] = 1;  // ANCOUNT
  reply[8] = reply[9] = reply[10] = reply[11] = 0;
  const Bytes record{0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10};
  reply.insert(reply.end(), record.begin(), record.end());
  return reply;
}

Bytes with_length(const Bytes& message) {
  Bytes out{static_cast<std::uint8_t>(message.size() >> 8U),
            static_cast<std::uint8_t>(message.size() & 0xFFU)};
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Bytes wrong_id(Bytes reply) {
  reply[0] ^= 0x5A;
  return reply;
}

Bytes wrong_question(Bytes reply) {
  reply[13] = 'x';  // "web" -> "xeb"
  return reply;
}

// ---- the fake resolver ------------------------------------------------------

// What a behaviour can do to the client once it has read its query.
struct Peer {
  std::function<bool(const Bytes&)> write;  // bytes into the stream (TLS records when TLS)
  std::function<bool(const Bytes&)> raw;    // bytes straight onto TCP, under any TLS
  std::function<void()> fin;                // shutdown(SHUT_WR): FIN, no close_notify
  std::function<void()> reset;              // SO_LINGER 0 and close: RST
  std::function<void()> close_notify;       // TLS shutdown alert (plain: FIN)
  std::function<void(std::chrono::milliseconds)> pause;  // until then or the end of the test
  SSL* ssl = nullptr;                                    // null over plain TCP
};

using Behaviour = std::function<void(Peer&, const Bytes& query)>;

enum class Mode : std::uint8_t { Tls, Plain };

struct ServerOptions {
  lab::FakeTlsOptions tls{};
  std::function<void(SSL_CTX*)> tweak{};  // on the server context before listening
  bool handshake = true;                  // false: accept, then never speak
  bool close_at_accept = false;           // accept, then close at once
};

// One loopback DoT (or plain TCP + UDP-with-TC) server for one connection, on
// its own thread. Behaviours run after the server read the query.
class FakeResolver {
 public:
  FakeResolver(Mode mode, Behaviour behaviour, ServerOptions options = {})
      : mode_(mode),
        behaviour_(std::move(behaviour)),
        options_(std::move(options)),
        acceptor_(io_),
        udp_(io_) {
    const auto address = asio::ip::make_address(k_address);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(address, 0));
    acceptor_.listen(64);
    port_ = acceptor_.local_endpoint().port();
    if (mode_ == Mode::Tls) {
      tls_ = lab::make_server_tls(options_.tls, k_address);
      if (options_.tweak) {
        options_.tweak(tls_.context->native_handle());
      }
    } else {
      udp_.open(udp::v4());
      udp_.bind(udp::endpoint(address, port_));
      timeval tv{0, 20'000};
      setsockopt(udp_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      udp_thread_ = std::thread([this] { serve_udp(); });
    }
    thread_ = std::thread([this] { serve(); });
  }
  FakeResolver(const FakeResolver&) = delete;
  FakeResolver& operator=(const FakeResolver&) = delete;

  ~FakeResolver() {
    stop_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (const int fd = connection_fd_.load(); fd >= 0) {
      ::shutdown(fd, SHUT_RDWR);
    }
    thread_.join();
    if (udp_thread_.joinable()) {
      udp_thread_.join();
    }
  }

  config::Endpoint endpoint() const {
    return config::Endpoint{*config::IpAddress::parse(k_address), port_};
  }
  config::SpkiPin leaf_pin() const {
    return *config::certificate_spki_pin(SSL_CTX_get0_certificate(tls_.context->native_handle()));
  }
  config::SpkiPin ca_pin() const {
    BIO* bio = BIO_new_mem_buf(tls_.ca_pem.data(), static_cast<int>(tls_.ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    REQUIRE(ca != nullptr);
    const auto pin = config::certificate_spki_pin(ca);
    X509_free(ca);
    return *pin;
  }
  const std::string& ca_pem() const { return tls_.ca_pem; }
  // The client can end (a name it refuses) before this thread has seen its
  // handshake end: both wait for that, up to a deadline.
  std::string sni() const {
    await_handshake();
    const std::lock_guard lock(mutex_);
    return sni_;
  }
  bool sni_sent() const {
    await_handshake();
    const std::lock_guard lock(mutex_);
    return sni_sent_;
  }
  bool handshake_done() const { return handshake_done_; }
  bool query_read() const { return query_read_; }

 private:
  void await_handshake() const {
    const auto until = Clock::now() + 2s;
    while (!handshake_over_ && Clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
  }

  void pause(std::chrono::milliseconds limit) const {
    const auto until = Clock::now() + limit;
    while (!stop_ && Clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
  }

  void serve_udp() {
    std::array<std::uint8_t, 512> buffer{};
    while (!stop_) {
      // recvfrom itself: Asio's blocking receive polls again on EAGAIN,
      // so SO_RCVTIMEO would never let this loop see stop_.
      sockaddr_storage from{};
      socklen_t from_length = sizeof from;
      const auto size = ::recvfrom(udp_.native_handle(), buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
      if (size < 12) {
        continue;
      }
      Bytes query(buffer.begin(), buffer.begin() + size);
      Bytes reply(query.begin(), query.begin() + static_cast<long>(question_end(query)));
      reply[2] = static_cast<std::uint8_t>(0x82U | (query[2] & 0x01U));  // QR, TC
      reply[3] = 0x80;
      reply[6] = reply[7] = reply[8] = reply[9] = reply[10] = reply[11] = 0;
      ::sendto(udp_.native_handle(), reply.data(), reply.size(), 0,
               reinterpret_cast<sockaddr*>(&from), from_length);
    }
  }

  template <typename Stream>
  static bool read_query(Stream& stream, Bytes& query) {
    boost::system::error_code ec;
    std::array<std::uint8_t, 2> length{};
    asio::read(stream, asio::buffer(length), ec);
    if (ec) {
      return false;
    }
    query.resize((static_cast<std::size_t>(length[0]) << 8U) | length[1]);
    asio::read(stream, asio::buffer(query), ec);
    return !ec;
  }

  void serve() {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec || stop_) {
      return;
    }
    connection_fd_ = socket.native_handle();
    const int fd = socket.native_handle();
    Peer peer;
    peer.raw = [&socket](const Bytes& bytes) {
      boost::system::error_code error;
      asio::write(socket, asio::buffer(bytes), error);
      return !error;
    };
    peer.fin = [fd] { ::shutdown(fd, SHUT_WR); };
    peer.reset = [&socket] {
      boost::system::error_code error;
      socket.set_option(tcp::socket::linger(true, 0), error);
      socket.close(error);
    };
    peer.pause = [this](std::chrono::milliseconds limit) { pause(limit); };
    if (options_.close_at_accept) {
      socket.close(ec);
      return;
    }
    if (!options_.handshake) {
      pause(10s);
      return;
    }
    Bytes query;
    if (mode_ == Mode::Plain) {
      peer.write = peer.raw;
      peer.close_notify = peer.fin;
      if (!read_query(socket, query)) {
        return;
      }
      query_read_ = true;
      behaviour_(peer, query);
      pause(10s);
      return;
    }
    ssl::stream<tcp::socket&> stream(socket, *tls_.context);
    stream.handshake(ssl::stream_base::server, ec);
    {
      const std::lock_guard lock(mutex_);
      const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      sni_sent_ = name != nullptr;
      sni_ = name != nullptr ? name : "";
    }
    handshake_over_ = true;
    if (ec) {
      return;
    }
    handshake_done_ = true;
    peer.ssl = stream.native_handle();
    peer.write = [&stream](const Bytes& bytes) {
      boost::system::error_code error;
      asio::write(stream, asio::buffer(bytes), error);
      return !error;
    };
    peer.close_notify = [&stream] {
      boost::system::error_code error;
      stream.shutdown(error);
    };
    if (!read_query(stream, query)) {
      return;
    }
    query_read_ = true;
    behaviour_(peer, query);
    pause(10s);
  }

  Mode mode_;
  Behaviour behaviour_;
  ServerOptions options_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  udp::socket udp_;
  lab::ServerTls tls_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::thread udp_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connection_fd_{-1};
  std::atomic<bool> handshake_done_{false};
  std::atomic<bool> handshake_over_{false};  // done or failed; sni_ is set
  std::atomic<bool> query_read_{false};
  mutable std::mutex mutex_;
  std::string sni_;
  bool sni_sent_ = false;
};

// ---- the client -------------------------------------------------------------

struct Outcome {
  probes::DnsResult result;
  Clock::duration elapsed{};
  int calls = 0;
};

Outcome ask(const config::Endpoint& server, std::shared_ptr<const probes::DotTransport> tls,
            std::chrono::milliseconds budget = k_budget) {
  boost::asio::io_context io;
  Outcome out;
  probes::DnsRequest request;
  request.server = server;
  request.name = "web.test";
  request.type = config::RrType::A;
  const auto started = Clock::now();
  request.deadline = started + budget;
  request.budget = budget;
  request.tls = std::move(tls);
  const net::SystemClock clock;
  probes::query_dns(io, clock, request, [&out](probes::DnsResult result) {
    ++out.calls;
    out.result = std::move(result);
  });
  io.run();
  out.elapsed = Clock::now() - started;
  return out;
}

config::DotConfig pinned(const config::SpkiPin& pin) {
  config::DotConfig dot;
  dot.pins = {pin};
  return dot;
}

// The fault over DoT (pinned to the fake's key) and over plain DNS (UDP
// answers TC, then the same fault over TCP).
struct Pair {
  Outcome dot;
  Outcome plain;
};

Pair both_ways(const Behaviour& behaviour, std::chrono::milliseconds budget = k_budget) {
  Pair out;
  {
    FakeResolver server(Mode::Tls, behaviour);
    out.dot = ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin())), budget);
  }
  {
    FakeResolver server(Mode::Plain, behaviour);
    out.plain = ask(server.endpoint(), nullptr, budget);
  }
  return out;
}

// Ends once, by the deadline, with no answer; and the DoT vantage's vote is
// of the same kind as the plain one's (both down, or both no vote).
void check_agrees(const Pair& pair, std::chrono::milliseconds budget = k_budget) {
  INFO("dot: " << to_string(pair.dot.result.status) << " / " << pair.dot.result.detail);
  INFO("plain: " << to_string(pair.plain.result.status) << " / " << pair.plain.result.detail);
  CHECK(pair.dot.calls == 1);
  CHECK(pair.dot.elapsed <= budget + k_slack);
  CHECK(pair.plain.elapsed <= budget + k_slack);
  CHECK_FALSE(pair.dot.result.up());
  CHECK_FALSE(pair.plain.result.up());
  CHECK(pair.dot.result.observer_error() == pair.plain.result.observer_error());
  CHECK(pair.dot.result.over_tls);
}

// docs/checks.md: a DoT session that breaks after the query (reset, FIN,
// close_notify, bytes that are not TLS) before a complete reply is an
// observer error, since anyone on the path can break it; the same fault over
// plain TCP stays what it was (the TCP retry failed). Ends once, before the
// deadline.
void check_broken_session(const Pair& pair) {
  INFO("dot: " << to_string(pair.dot.result.status) << " / " << pair.dot.result.detail);
  INFO("plain: " << to_string(pair.plain.result.status) << " / " << pair.plain.result.detail);
  CHECK(pair.dot.calls == 1);
  CHECK(pair.dot.elapsed < k_budget);
  CHECK(pair.dot.result.status == DnsStatus::ObserverError);
  CHECK_THAT(pair.dot.result.detail, Catch::Contains("broke before a complete reply"));
  CHECK(pair.dot.result.over_tls);
  CHECK_FALSE(pair.plain.result.up());
  CHECK_FALSE(pair.plain.result.observer_error());
}

bool is_down_vote(const probes::DnsResult& result) {
  return !result.up() && !result.observer_error();
}

// A TLS-layer fault: no answer, no down vote, by the deadline.
void check_observer_error(const Outcome& out, std::chrono::milliseconds budget = k_budget) {
  INFO(to_string(out.result.status) << " / " << out.result.detail);
  CHECK(out.calls == 1);
  CHECK(out.elapsed <= budget + k_slack);
  CHECK(out.result.status == DnsStatus::ObserverError);
  CHECK(out.result.answers.empty());
}

void check_answer(const Outcome& out) {
  INFO(to_string(out.result.status) << " / " << out.result.detail);
  CHECK(out.calls == 1);
  CHECK(out.result.status == DnsStatus::Answer);
  REQUIRE(out.result.answers.size() == 1);
  CHECK(out.result.answers[0].data == "192.0.2.10");
}

int open_fds() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

}  // namespace

// ---- the fake itself works ---------------------------------------------------

TEST_CASE("dot attack: the fake DoT server answers a pinned query and the plain one over TCP",
          "[dot][attack]") {
  const auto pair =
      both_ways([](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); });
  check_answer(pair.dot);
  check_answer(pair.plain);
  CHECK(pair.plain.result.over_tcp);
}

// ---- the resolver's transport, after a good handshake ------------------------

TEST_CASE("dot attack: silent after the handshake ends by the deadline like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer&, const Bytes&) {}));
}

TEST_CASE("dot attack: a length prefix then a stall ends by the deadline like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer& peer, const Bytes&) { peer.write({0x00, 0x40}); }));
}

TEST_CASE("dot attack: a length of 0 then a stall ends by the deadline like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer& peer, const Bytes&) { peer.write({0x00, 0x00}); }));
}

TEST_CASE("dot attack: lengths of 0 without end end the query before the deadline",
          "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes&) {
    for (int i = 0; i < 1000 && peer.write({0x00, 0x00}); ++i) {
    }
  });
  check_agrees(pair);
  CHECK(pair.dot.elapsed < k_budget);
}

TEST_CASE("dot attack: a length of 65535 with 100 bytes then a stall ends like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer& peer, const Bytes&) {
    Bytes bytes{0xFF, 0xFF};
    bytes.resize(102, 0x41);
    peer.write(bytes);
  }));
}

TEST_CASE("dot attack: a reply with the wrong id then a stall ends like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways(
      [](Peer& peer, const Bytes& query) { peer.write(with_length(wrong_id(answer_to(query)))); }));
}

TEST_CASE("dot attack: a reply with the wrong question then a stall ends like plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer& peer, const Bytes& query) {
    peer.write(with_length(wrong_question(answer_to(query))));
  }));
}

TEST_CASE("dot attack: a wrong id then the right reply is the right reply", "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    peer.write(with_length(wrong_id(answer_to(query))));
    peer.write(with_length(answer_to(query)));
  });
  check_answer(pair.dot);
  check_answer(pair.plain);
}

TEST_CASE("dot attack: a flood of stray messages ends the query like plain TCP", "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    const auto stray = with_length(wrong_id(answer_to(query)));
    for (int i = 0; i < 500 && peer.write(stray); ++i) {
    }
  });
  check_agrees(pair);
  CHECK(pair.dot.elapsed < k_budget);
}

// Adjusted: the review asked for the plain TCP class here (a vote); the rule
// in docs/checks.md makes a session broken before a complete reply an
// observer error. So for the two cases below.
TEST_CASE("dot attack: a FIN in the middle of the reply is an observer error over TLS",
          "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    auto reply = with_length(answer_to(query));
    reply.resize(reply.size() / 2);
    peer.write(reply);
    peer.pause(50ms);
    peer.fin();
  });
  check_broken_session(pair);
}

TEST_CASE("dot attack: a close_notify in the middle of the reply is an observer error over TLS",
          "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    auto reply = with_length(answer_to(query));
    reply.resize(reply.size() / 2);
    peer.write(reply);
    peer.pause(50ms);
    peer.close_notify();
  });
  check_broken_session(pair);
}

// Adjusted like the two above: a reset is the cheapest forgery on the path.
TEST_CASE("dot attack: a TCP reset after the query is an observer error over TLS",
          "[dot][attack]") {
  check_broken_session(both_ways([](Peer& peer, const Bytes&) { peer.reset(); }));
}

TEST_CASE("dot attack: a valid reply after the deadline is not believed", "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    peer.pause(k_budget + 200ms);
    peer.write(with_length(answer_to(query)));
  });
  check_agrees(pair);
}

TEST_CASE("dot attack: a reply one byte at a time past the deadline ends by the deadline",
          "[dot][attack]") {
  const auto pair = both_ways([](Peer& peer, const Bytes& query) {
    for (const auto byte : with_length(answer_to(query))) {
      if (!peer.write({byte})) {
        return;
      }
      peer.pause(40ms);
    }
  });
  check_agrees(pair);
}

TEST_CASE("dot attack: a reply one byte at a time within the deadline is the answer",
          "[dot][attack]") {
  FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes& query) {
    for (const auto byte : with_length(answer_to(query))) {
      peer.write({byte});
      peer.pause(5ms);
    }
  });
  check_answer(
      ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin())), 2000ms));
}

// ---- TLS-layer faults after the handshake: the resolver's TLS, not its DNS ----

TEST_CASE("dot attack: bytes that are not TLS after the handshake are an observer error",
          "[dot][attack]") {
  // What an on-path party that cannot pose as the resolver can still inject.
  FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes&) {
    const std::string text = "HTTP/1.1 400 Bad Request\r\n\r\n";
    peer.raw(Bytes(text.begin(), text.end()));
  });
  check_observer_error(
      ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
}

TEST_CASE("dot attack: a forged TLS alert record after the handshake is an observer error",
          "[dot][attack]") {
  FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes&) {
    // A plaintext fatal alert (internal_error): unauthenticated, anyone can send it.
    peer.raw({0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50});
  });
  check_observer_error(
      ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
}

TEST_CASE("dot attack: a TLS 1.2 resolver that renegotiates before replying still answers",
          "[dot][attack]") {
  ServerOptions options;
  options.tweak = [](SSL_CTX* context) { SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION); };
  FakeResolver server(
      Mode::Tls,
      [](Peer& peer, const Bytes& query) {
        SSL_renegotiate(peer.ssl);
        peer.write(with_length(answer_to(query)));
      },
      options);
  const auto out = ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin())));
  INFO(out.result.detail);
  // Legitimate TLS 1.2 (secure renegotiation): the answer.
  check_answer(out);
  CHECK_FALSE(is_down_vote(out.result));
}

TEST_CASE(
    "dot attack: a TLS 1.3 resolver that asks for a key update before replying still "
    "answers",
    "[dot][attack]") {
  FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes& query) {
    SSL_key_update(peer.ssl, SSL_KEY_UPDATE_REQUESTED);
    peer.write(with_length(answer_to(query)));
  });
  check_answer(ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
}

TEST_CASE("dot attack: a reply with TC set over TLS is classed like TC over plain TCP",
          "[dot][attack]") {
  check_agrees(both_ways([](Peer& peer, const Bytes& query) {
    auto reply = answer_to(query);
    reply[2] |= 0x02U;
    peer.write(with_length(reply));
  }));
}

// ---- the handshake ------------------------------------------------------------

TEST_CASE(
    "dot attack: a resolver that accepts and never speaks TLS is an observer error by the "
    "deadline",
    "[dot][attack]") {
  ServerOptions options;
  options.handshake = false;
  FakeResolver server(
      Mode::Tls, [](Peer&, const Bytes&) {}, options);
  check_observer_error(
      ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
}

TEST_CASE("dot attack: a resolver that closes at accept is classed like one that refuses",
          "[dot][attack]") {
  // Both say the same thing: nothing serves DoT there, or something on the
  // path will not let the vantage reach it. docs/checks.md: before the query
  // is sent over a verified session, every failure is an observer error; a
  // close after the handshake, before a reply, is one too.
  ServerOptions options;
  options.close_at_accept = true;
  probes::DnsResult closing;
  config::SpkiPin pin;
  {
    FakeResolver server(
        Mode::Tls, [](Peer&, const Bytes&) {}, options);
    pin = server.leaf_pin();
    closing = ask(server.endpoint(), probes::make_dot_transport(pinned(pin))).result;
  }
  probes::DnsResult closed_after_handshake;
  {
    FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes&) { peer.fin(); });
    closed_after_handshake =
        ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))).result;
  }
  const auto refused_at =
      config::Endpoint{*config::IpAddress::parse(k_address), testing::free_port(k_address)};
  const auto refused = ask(refused_at, probes::make_dot_transport(pinned(pin))).result;
  INFO("closing: " << closing.detail);
  INFO("refused: " << refused.detail);
  INFO("closed after the handshake: " << closed_after_handshake.detail);
  CHECK(closing.observer_error() == refused.observer_error());
  CHECK(refused.observer_error());
  CHECK(closed_after_handshake.observer_error());
  CHECK_THAT(refused.detail, Catch::StartsWith("dot: cannot reach tls://"));
  CHECK_THAT(refused.detail, Catch::EndsWith(": connection refused"));
}

TEST_CASE("dot attack: an expired certificate is an observer error with tls_name",
          "[dot][attack]") {
  testing::TempDir dir;
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::ExpiredCaSigned;
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto ca = dir.path() / "ca.pem";
  std::ofstream(ca) << server.ca_pem();
  config::DotConfig dot;
  dot.name = "service.test";
  dot.ca_file = ca;
  const auto out = ask(server.endpoint(), probes::make_dot_transport(dot));
  check_observer_error(out);
  CHECK_THAT(out.result.detail, Catch::Contains("expired"));
  CHECK_FALSE(server.query_read());
}

TEST_CASE(
    "dot attack: an expired certificate with a matching pin and no tls_name is accepted "
    "(pins check the key alone)",
    "[dot][attack]") {
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::ExpiredCaSigned;
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  check_answer(ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
}

TEST_CASE("dot attack: a certificate for another name is an observer error and no query leaves",
          "[dot][attack]") {
  testing::TempDir dir;
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::CaSigned;
  options.tls.host = "other.test";
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto ca = dir.path() / "ca.pem";
  std::ofstream(ca) << server.ca_pem();
  config::DotConfig dot;
  dot.name = "service.test";
  dot.ca_file = ca;
  dot.pins = {server.leaf_pin()};  // the right key does not excuse the wrong name
  const auto out = ask(server.endpoint(), probes::make_dot_transport(dot));
  check_observer_error(out);
  CHECK_THAT(out.result.detail, Catch::Contains("does not name service.test"));
  CHECK_FALSE(server.query_read());
  CHECK(server.sni() == "service.test");
}

TEST_CASE("dot attack: a self-signed certificate passes on its pin alone", "[dot][attack]") {
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); });
  check_answer(ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin()))));
  // What happens to SNI with pins alone: none is sent (documented here).
  CHECK_FALSE(server.sni_sent());
}

TEST_CASE("dot attack: a self-signed certificate with tls_name is an observer error",
          "[dot][attack]") {
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); });
  config::DotConfig dot;
  dot.name = "service.test";
  dot.pins = {server.leaf_pin()};
  const auto out = ask(server.endpoint(), probes::make_dot_transport(dot));
  check_observer_error(out);
  CHECK_FALSE(server.query_read());
}

TEST_CASE(
    "dot attack: a pin of the CA's key and not the leaf's is an observer error (leaf only as "
    "documented)",
    "[dot][attack]") {
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::CaSigned;
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto out = ask(server.endpoint(), probes::make_dot_transport(pinned(server.ca_pin())));
  check_observer_error(out);
  CHECK_THAT(out.result.detail, Catch::Contains("matches no pin"));
  CHECK_FALSE(server.query_read());
}

TEST_CASE("dot attack: a resolver that speaks only TLS 1.0 or 1.1 is an observer error",
          "[dot][attack]") {
  const int version = GENERATE(TLS1_VERSION, TLS1_1_VERSION);
  ServerOptions options;
  options.tweak = [version](SSL_CTX* context) {
    SSL_CTX_set_security_level(context, 0);
    SSL_CTX_set_min_proto_version(context, version);
    SSL_CTX_set_max_proto_version(context, version);
  };
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto out = ask(server.endpoint(), probes::make_dot_transport(pinned(server.leaf_pin())));
  check_observer_error(out);
  CHECK_FALSE(server.handshake_done());
}

TEST_CASE("dot attack: SNI is exactly tls_name and a name in capitals still matches",
          "[dot][attack]") {
  testing::TempDir dir;
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::CaSigned;
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto ca = dir.path() / "ca.pem";
  std::ofstream(ca) << server.ca_pem();
  config::DotConfig dot;
  dot.name = "Service.TEST";
  dot.ca_file = ca;
  check_answer(ask(server.endpoint(), probes::make_dot_transport(dot)));
  CHECK(server.sni() == "Service.TEST");
}

TEST_CASE(
    "dot attack: tls_name with a trailing dot matches the certificate and SNI goes without the dot",
    "[dot][attack]") {
  testing::TempDir dir;
  ServerOptions options;
  options.tls.certificate = lab::FakeCertificate::CaSigned;
  FakeResolver server(
      Mode::Tls, [](Peer& peer, const Bytes& query) { peer.write(with_length(answer_to(query))); },
      options);
  const auto ca = dir.path() / "ca.pem";
  std::ofstream(ca) << server.ca_pem();
  config::DotConfig dot;
  dot.name = "service.test.";
  dot.ca_file = ca;
  const auto out = ask(server.endpoint(), probes::make_dot_transport(dot));
  CHECK(server.sni() == "service.test");  // RFC 6066 3: no trailing dot in HostName
  check_answer(out);
}

// ---- resource bounds ------------------------------------------------------------

TEST_CASE(
    "dot attack: 200 queries at a resolver that never finishes TLS all end by the deadline "
    "as observer errors and leave no descriptor behind",
    "[dot][attack]") {
  constexpr int k_queries = 200;
  const int before = open_fds();
  std::vector<Outcome> outcomes(k_queries);
  Clock::duration elapsed{};
  {
    // Accepts everything, speaks nothing, holds every connection.
    asio::io_context server_io;
    tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address(k_address), 0));
    acceptor.listen(1024);
    std::atomic<bool> stop{false};
    std::vector<std::unique_ptr<tcp::socket>> held;
    std::thread accepting([&] {
      while (!stop) {
        auto socket = std::make_unique<tcp::socket>(server_io);
        boost::system::error_code ec;
        acceptor.accept(*socket, ec);
        if (ec) {
          return;
        }
        held.push_back(std::move(socket));
      }
    });
    const config::Endpoint server{*config::IpAddress::parse(k_address),
                                  acceptor.local_endpoint().port()};
    config::DotConfig dot;
    dot.pins = {*config::SpkiPin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")};
    const auto transport = probes::make_dot_transport(dot);

    boost::asio::io_context io;
    const net::SystemClock clock;
    const auto started = Clock::now();
    for (int i = 0; i < k_queries; ++i) {
      probes::DnsRequest request;
      request.server = server;
      request.name = "web.test";
      request.type = config::RrType::A;
      request.deadline = started + k_budget;
      request.budget = k_budget;
      request.tls = transport;
      probes::query_dns(io, clock, request, [&outcomes, i](probes::DnsResult result) {
        ++outcomes[static_cast<std::size_t>(i)].calls;
        outcomes[static_cast<std::size_t>(i)].result = std::move(result);
      });
    }
    io.run();
    elapsed = Clock::now() - started;
    stop = true;
    ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    accepting.join();
  }
  CHECK(elapsed <= k_budget + k_slack);
  int observer = 0;
  int calls = 0;
  for (const auto& outcome : outcomes) {
    calls += outcome.calls;
    observer += outcome.result.observer_error() ? 1 : 0;
  }
  CHECK(calls == k_queries);
  CHECK(observer == k_queries);
  CHECK(open_fds() == before);
}

// ---- through the check chain: what the vantage votes ---------------------------

TEST_CASE(
    "dot attack: through the chain one injected non-TLS segment after the handshake is no down "
    "vote",
    "[dot][attack]") {
  FakeResolver server(Mode::Tls, [](Peer& peer, const Bytes&) {
    const std::string text = "garbage";
    peer.raw(Bytes(text.begin(), text.end()));
  });
  boost::asio::io_context io;
  consensus::ManualClock clock{*consensus::parse_rfc3339("2025-10-20T06:48:00Z")};
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, clock, true};
  probes::VantageEndpoint vantage{"dot", "dot", server.endpoint(), std::nullopt};
  vantage.tls = probes::make_dot_transport(pinned(server.leaf_pin()));
  config::TargetConfig target;
  target.name = "svc";
  target.dns = config::DnsCheck{"web.test", config::RrType::A, 1, {}};
  target.timing.timeout = k_budget;
  std::optional<probes::ProbeReport> report;
  probes::run_chain(context, target, vantage,
                    [&report](probes::ProbeReport out) { report = std::move(out); });
  io.run();
  REQUIRE(report);
  INFO(report->observation.detail);
  CHECK(report->observation.outcome == consensus::Outcome::ObserverError);
}

namespace {

// One A check of web.test through a DoT vantage at `server` (pinned to `pin`).
probes::ProbeReport probe_through_dot(const config::Endpoint& server, const config::SpkiPin& pin) {
  boost::asio::io_context io;
  consensus::ManualClock clock{*consensus::parse_rfc3339("2025-10-20T06:48:00Z")};
  probes::LastKnownGoodStore lkg;
  probes::ChainContext context{io, net::make_client_tls_context(), lkg, 1h, clock, true};
  probes::VantageEndpoint vantage{"dot", "dot", server, std::nullopt};
  vantage.tls = probes::make_dot_transport(pinned(pin));
  config::TargetConfig target;
  target.name = "svc";
  target.dns = config::DnsCheck{"web.test", config::RrType::A, 1, {}};
  target.timing.timeout = k_budget;
  std::optional<probes::ProbeReport> report;
  probes::run_chain(context, target, vantage,
                    [&report](probes::ProbeReport out) { report = std::move(out); });
  io.run();
  REQUIRE(report);
  return *report;
}

}  // namespace

// docs/checks.md: "a DoT vantage it intercepts reports an observer error
// instead of a vote". A middlebox that hijacks port 53 and refuses or
// blackholes port 853 (the usual way to force clients back to plain DNS) is
// intercepting too; if the DoT vantages then vote down, the plain domain's
// down vote plus one DoT domain make the pasteable quorum (2 of 3) without
// the service ever failing.
TEST_CASE("dot attack: through the chain port 853 refused on the path is no down vote",
          "[dot][attack]") {
  const config::Endpoint refused{*config::IpAddress::parse(k_address),
                                 testing::free_port(k_address)};
  const auto report = probe_through_dot(
      refused, *config::SpkiPin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  INFO(report.observation.detail);
  CHECK(report.observation.outcome != consensus::Outcome::Down);
}

TEST_CASE("dot attack: through the chain port 853 blackholed on the path is no down vote",
          "[dot][attack]") {
  // A listener whose accept queue is full: the kernel drops further SYNs, so
  // the connection never completes, like a path that drops port 853.
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address(k_address), 0));
  acceptor.listen(0);
  const config::Endpoint server{*config::IpAddress::parse(k_address),
                                acceptor.local_endpoint().port()};
  std::vector<std::unique_ptr<tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    // ::connect itself, non-blocking: Asio's blocking connect would wait.
    auto socket = std::make_unique<tcp::socket>(server_io);
    socket->open(tcp::v4());
    const int fd = socket->native_handle();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    const tcp::endpoint to(asio::ip::make_address(k_address), server.port);
    ::connect(fd, to.data(), static_cast<socklen_t>(to.size()));
    fillers.push_back(std::move(socket));
  }
  std::this_thread::sleep_for(50ms);
  const auto started = Clock::now();
  const auto report = probe_through_dot(
      server, *config::SpkiPin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  INFO(report.observation.detail);
  CHECK(Clock::now() - started <= k_budget + k_slack);
  CHECK(report.observation.outcome != consensus::Outcome::Down);
}
