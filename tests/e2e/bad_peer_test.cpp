// Bad peers against the real daemon, both directions. Pulling: a fake peer on
// loopback answers garbage, a wrong export, a refusal, a huge or endless
// body, or a trickle; the daemon refuses each within its limits (the answer
// size cap, the peer timeout), says why in its log and in a peer_unreachable
// escalation, and keeps probing, serving and judging on its own evidence.
// Serving: garbage, a huge body or a trickle sent to our /v1/peer/votes is
// answered 400/413 or cut at the request deadline, harming no one else.
#include "config/config.hpp"
#include "oracle_harness.hpp"
#include "peer_fixture.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/test_pki.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace crosscheck::testing;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t k_huge_body = std::uint64_t{50} * 1024 * 1024;
constexpr std::size_t k_chunk = std::size_t{64} * 1024;

enum class Misbehaviour : std::uint8_t {
  NotHttp,        // bytes that are not an HTTP response
  NotJson,        // 200 with an HTML body
  WrongNode,      // a well-formed export signed by another node's name
  Refuses,        // 401: it does not accept our signature
  HugeBody,       // Content-Length: 50 MiB, streamed
  EndlessChunks,  // chunked, never ending
  Trickle,        // a valid export, one byte per second
};

std::string http_answer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::string export_from(const std::string& node, const std::string& vote) {
  return R"({"node":")" + node + R"(","version":1,"votes":[{"target":"web","vantage":"v",)" +
         R"("domain":"evil","vote":")" + vote +
         R"(","age_ms":0,"layer":"http","detail":"lies","answers":[],"latency_ms":1}]})";
}

// A peer on 127.0.0.1 that misbehaves one way, for every request, one
// connection at a time (the puller holds at most one).
class BadPeer {
 public:
  explicit BadPeer(Misbehaviour how) : how_(how) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  BadPeer(const BadPeer&) = delete;
  BadPeer& operator=(const BadPeer&) = delete;
  BadPeer(BadPeer&&) = delete;
  BadPeer& operator=(BadPeer&&) = delete;
  ~BadPeer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t requests() const { return requests_; }
  // The most bytes one answer got into the connection before the puller
  // closed it (what it read, plus what the kernels buffered).
  std::uint64_t most_sent() const { return most_sent_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd polled{listener_, POLLIN, 0};
      if (::poll(&polled, 1, 50) <= 0) {
        continue;
      }
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      timeval bound{0, 100'000};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
      if (read_head(fd)) {
        ++requests_;
        sent_ = 0;
        answer(fd);
        most_sent_ = std::max<std::uint64_t>(most_sent_, sent_);
      }
      ::close(fd);
    }
  }

  // Reads the request's head (the puller sends no body); false on timeout.
  bool read_head(int fd) {
    std::string head;
    const auto deadline = SteadyClock::now() + 2s;
    std::array<char, 1024> buffer{};
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16'384 &&
           SteadyClock::now() < deadline && !stop_) {
      const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (got == 0) {
        return false;
      }
      if (got > 0) {
        head.append(buffer.data(), static_cast<std::size_t>(got));
      }
    }
    return head.find("\r\n\r\n") != std::string::npos;
  }

  // Sends all of `bytes`; false once the puller closed or the test ends.
  bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      if (stop_) {
        return false;
      }
      const ssize_t put = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        continue;
      }
      if (put <= 0) {
        return false;
      }
      sent_ += static_cast<std::uint64_t>(put);
      bytes.remove_prefix(static_cast<std::size_t>(put));
    }
    return true;
  }

  void answer(int fd) {
    const std::string chunk(k_chunk, '[');
    const auto limit = SteadyClock::now() + 20s;
    switch (how_) {
      case Misbehaviour::NotHttp:
        send_all(fd, "\x16\x03\x01 this is not an HTTP response at all\r\n\r\n");
        return;
      case Misbehaviour::NotJson:
        send_all(fd, http_answer(200, "<html><body>this is not JSON</body></html>"));
        return;
      case Misbehaviour::WrongNode:
        send_all(fd, http_answer(200, export_from("mallory", "down")));
        return;
      case Misbehaviour::Refuses:
        send_all(fd, http_answer(401, R"({"error":"unauthorized","detail":"bad signature"})"));
        return;
      case Misbehaviour::HugeBody:
        if (send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(k_huge_body) + "\r\n\r\n")) {
          while (sent_ < k_huge_body && SteadyClock::now() < limit && send_all(fd, chunk)) {
          }
        }
        return;
      case Misbehaviour::EndlessChunks: {
        std::ostringstream framed;
        framed << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
        if (send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) {
          while (SteadyClock::now() < limit && send_all(fd, framed.str())) {
          }
        }
        return;
      }
      case Misbehaviour::Trickle: {
        const std::string whole = http_answer(200, export_from("bad-peer", "down"));
        for (const char byte : whole) {
          if (SteadyClock::now() > limit || !send_all(fd, std::string_view(&byte, 1))) {
            return;
          }
          for (int i = 0; i < 10 && !stop_; ++i) {
            std::this_thread::sleep_for(100ms);
          }
        }
        return;
      }
    }
  }

  Misbehaviour how_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::uint64_t> most_sent_{0};
  std::uint64_t sent_ = 0;  // serve() thread only
};

}  // namespace

TEST_CASE(
    "a peer answering garbage, a huge body or a trickle is refused within limits, the "
    "daemon keeps probing, serving and judging on its own evidence",
    "[e2e][peers][bad_peer]") {
  // What the log must say for each, after "peer bad-peer: pull failed (REASON): ", or
  // a refusal: a 200 without a reply signature is never read, so neither an
  // HTML body nor another node's export gets as far as the decoder.
  const auto [how, expected_reasons] = GENERATE(table<Misbehaviour, std::vector<std::string>>({
      {Misbehaviour::NotHttp, {"bad answer from http://127.0.0.1:"}},
      {Misbehaviour::NotJson, {"reply refused (missing)"}},
      {Misbehaviour::WrongNode, {"reply refused (missing)"}},
      {Misbehaviour::Refuses, {"answered 401: {\"error\":\"unauthorized\""}},
      {Misbehaviour::HugeBody, {"is larger than 1048576 bytes"}},  // the peer cap, while reading
      // 4 MiB streams in well under the peer timeout here; on a slow host
      // the timeout may come first: both are limits.
      {Misbehaviour::EndlessChunks, {"is larger than 1048576 bytes", "within 250ms"}},
      {Misbehaviour::Trickle, {"no answer from http://127.0.0.1:"}},
  }));
  CAPTURE(static_cast<int>(how));
  // A copy: clang 14 cannot capture a structured binding in a lambda.
  const std::vector<std::string> reasons = expected_reasons;
  BadPeer peer(how);
  OracleWithPeer node(peer.url());
  OracleHarness& oracle = node.oracle;
  const bool ready =
      OracleHarness::wait_for([&] { return oracle.get("/readyz").status == 200; }, 15s);
  REQUIRE(ready);
  const auto probes_before = metric(oracle, "crosscheck_probes_started_total");
  REQUIRE(probes_before);

  // Refused with its reason in the log, and escalated past unreachable_after.
  const auto said_why = [&] {
    const std::string log = node.log();
    return std::any_of(reasons.begin(), reasons.end(), [&](const std::string& reason) {
      const bool refused = reason.starts_with("reply refused");
      return log.find(refused ? "peer bad-peer: " : "peer bad-peer: pull failed (") !=
                 std::string::npos &&
             log.find(reason) != std::string::npos;
    });
  };
  CHECK(OracleHarness::wait_for(said_why, 10s));
  const bool escalated = OracleHarness::wait_for(
      [&] {
        const auto body = oracle.get("/v1/escalations").body;
        return body.find("peer_unreachable") != std::string::npos &&
               body.find("peer bad-peer has not answered since") != std::string::npos;
      },
      10s);
  INFO(oracle.get("/v1/escalations").body);
  CHECK(escalated);
  // The puller came back after each failure: it is not stuck in one answer.
  CHECK(OracleHarness::wait_for([&] { return peer.requests() >= 2; }, 10s));

  // Its own verdict stands on its three domains; nothing of the peer's
  // counted (the export naming another node, or one that never completed).
  const auto verdict = oracle.verdict();
  INFO(boost::json::serialize(verdict));
  CHECK(verdict.at("verdict") == "healthy");
  CHECK(oracle.get("/v1/verdicts/web").body.find("lies") == std::string::npos);
  CHECK(oracle.get("/v1/vantages").body.find("bad-peer/") == std::string::npos);
  CHECK(oracle.get("/v1/vantages").body.find("mallory/") == std::string::npos);
  // Serving and probing went on.
  CHECK(oracle.get("/readyz").status == 200);
  CHECK(OracleHarness::wait_for(
      [&] { return metric(oracle, "crosscheck_probes_started_total") >= *probes_before + 10; },
      5s));
  // Memory bounded: the puller stopped reading far short of 50 MiB.
  CAPTURE(peer.most_sent());
  CHECK(peer.most_sent() < std::uint64_t{16} * 1024 * 1024);
  CHECK(WEXITSTATUS(node.stop()) == 0);
}

TEST_CASE("garbage, a huge body or a trickle sent to /v1/peer/votes is refused without harm",
          "[e2e][peers][bad_peer]") {
  BadPeer peer(Misbehaviour::Refuses);  // the peer we pull from is beside the point here
  OracleWithPeer node(peer.url());
  OracleHarness& oracle = node.oracle;
  const bool ready =
      OracleHarness::wait_for([&] { return oracle.get("/readyz").status == 200; }, 15s);
  REQUIRE(ready);
  const unsigned short port = oracle.api_port();

  CHECK_THAT(raw_exchange("127.0.0.1", port, "\x16\x03\x01 not http\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 400"));
  CHECK_THAT(raw_exchange("127.0.0.1", port,
                          "POST /v1/peer/votes HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(k_huge_body) + "\r\n\r\n" + std::string(k_chunk, '{')),
             Catch::StartsWith("HTTP/1.1 413"));
  CHECK(oracle.get("/v1/peer/votes").status == 401);  // unsigned

  // A signed-looking request head trickled a byte a second: cut at the
  // request deadline (10 s from its first byte) while others are answered.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  const std::string head =
      "GET /v1/peer/votes HTTP/1.1\r\nHost: x\r\nX-Crosscheck-Node: " + std::string(200, 'n');
  const auto started = SteadyClock::now();
  std::optional<std::chrono::milliseconds> cut_after;
  auto slowest = SteadyClock::duration::zero();
  for (std::size_t i = 0; i < head.size() && !cut_after && SteadyClock::now() - started < 15s;
       ++i) {
    const bool sent = ::send(fd, &head[i], 1, MSG_NOSIGNAL) == 1;
    const auto asked = SteadyClock::now();
    CHECK(oracle.get("/readyz").status == 200);
    slowest = std::max(slowest, SteadyClock::now() - asked);
    pollfd polled{fd, POLLIN, 0};
    char byte = 0;
    if (!sent || (::poll(&polled, 1, 900) > 0 && ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0)) {
      cut_after =
          std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
    }
  }
  ::close(fd);
  REQUIRE(cut_after);
  CAPTURE(cut_after->count());
  CHECK(*cut_after >= 9s);
  CHECK(*cut_after <= 13s);
  CHECK(slowest < 1s);
  CHECK(metric(oracle, R"(crosscheck_api_errors_total{kind="timeout"})").value_or(0) >= 1);
  CHECK(metric(oracle, R"(crosscheck_api_errors_total{kind="oversized_body"})").value_or(0) >= 1);
  CHECK(oracle.verdict().at("verdict") == "healthy");
  CHECK(WEXITSTATUS(node.stop()) == 0);
}

TEST_CASE(
    "a peer pinned to its CA that presents a certificate from another CA is refused: the "
    "reason is logged and counted, and none of its votes count",
    "[e2e][peers][tls]") {
  const TempDir pki_dir;
  TestPki pki(pki_dir.path());
  const auto pinned = pki.ca("peers-ca");
  const auto other = pki.ca("other-ca");
  const auto impostor = pki.leaf("bad-peer", other, "IP:127.0.0.1");
  const TlsTestServer server(impostor, pki_dir.path() / "server.log");
  OracleWithPeer node(server.url(), ", tls: { ca_file: " + pinned.cert.string() + " }");
  OracleHarness& oracle = node.oracle;
  const bool ready =
      OracleHarness::wait_for([&] { return oracle.get("/readyz").status == 200; }, 15s);
  REQUIRE(ready);

  const std::string series =
      R"(crosscheck_peer_pull_failures_total{peer="bad-peer",reason="tls_unknown_ca"})";
  CHECK(OracleHarness::wait_for([&] { return metric(oracle, series).value_or(0) >= 2; }, 10s));
  CHECK(metric(oracle,
               R"(crosscheck_peer_pull_failures_total{peer="bad-peer",reason="transport"})") == 0);
  const std::string log = node.log();
  CHECK_THAT(log, Catch::Contains("peer bad-peer: pull failed (tls_unknown_ca): tls: certificate "
                                  "verify failed (unable to get local issuer certificate)"));
  // Nothing of the peer's counted: its own verdict stands on its three domains.
  CHECK(oracle.get("/v1/vantages").body.find("bad-peer/") == std::string::npos);
  CHECK(oracle.verdict().at("verdict") == "healthy");

  // A garbled ca_file refuses the reload; the running pin stays in force.
  std::ofstream(pinned.cert) << "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n";
  ::kill(node.daemon->pid(), SIGHUP);
  CHECK(OracleHarness::wait_for([&] {
    const auto text = node.log();
    return text.find("holds a garbled certificate") != std::string::npos &&
           text.find("the running config stays in force") != std::string::npos;
  }));
  const auto refused_before = metric(oracle, series).value_or(0);
  CHECK(OracleHarness::wait_for([&] { return metric(oracle, series).value_or(0) > refused_before; },
                                10s));

  // Rotation: the file now holds the CA that issued the peer's certificate;
  // a reload re-reads it and the handshake passes (s_server's page is then
  // refused for its missing reply signature, never a TLS failure).
  std::filesystem::copy_file(other.cert, pinned.cert,
                             std::filesystem::copy_options::overwrite_existing);
  ::kill(node.daemon->pid(), SIGHUP);
  const std::string unsigned_replies =
      R"(crosscheck_peer_replies_refused_total{peer="bad-peer",reason="missing"})";
  CHECK(OracleHarness::wait_for([&] { return metric(oracle, unsigned_replies).value_or(0) >= 1; },
                                15s));
  CHECK(oracle.get("/v1/vantages").body.find("bad-peer/") == std::string::npos);
  CHECK(WEXITSTATUS(node.stop()) == 0);
}

TEST_CASE(
    "a peer's tls file broken between validation and start stops the start with its reason, "
    "before the API listens",
    "[e2e][peers][tls]") {
  OracleHarness oracle;
  const TempDir pki_dir;
  TestPki pki(pki_dir.path());
  const auto ca = pki.ca("peers-ca");
  std::ofstream(pki_dir.path() / "peer-key") << "shared-peer-secret\n";
  oracle.append_config("peers:\n  - { name: b, url: \"https://127.0.0.1:9\", key_file: " +
                       (pki_dir.path() / "peer-key").string() +
                       ", tls: { ca_file: " + ca.cert.string() + " } }\n");
  const auto loaded = crosscheck::config::load_config(oracle.config_path());
  REQUIRE(loaded.ok());
  // Validation read the file; now it is garbled, before the service starts.
  std::ofstream(ca.cert, std::ios::trunc)
      << "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n";
  std::ostringstream log;
  crosscheck::daemon::ServiceOptions options;
  options.config = std::make_shared<const crosscheck::config::Config>(*loaded.config);
  options.config_path = oracle.config_path();
  options.log = std::make_shared<spdlog::logger>(
      "broken-tls", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  options.handle_signals = false;
  crosscheck::daemon::Service service(std::move(options));
  CHECK(service.run() == 1);
  CHECK_THAT(log.str(), Catch::Contains("holds a garbled certificate"));
  CHECK_FALSE(service.api_endpoint());
}
