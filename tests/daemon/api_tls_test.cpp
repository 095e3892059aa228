// The API server with api.tls, in process, against real handshakes: the
// handshake is under its own short deadline and evictable at the cap, plain
// HTTP to the TLS port is refused and reported (reason and peer) while the
// server keeps serving, the client's subject is read from its verified
// certificate, certificates are replaced for new connections only, a reload
// that revokes a client closes its open connection, no session is resumed
// under mTLS, and eviction never takes a connection whose request has begun.
#include "api/server.hpp"
#include "snapshot/hub.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/no_actions.hpp"
#include "support/test_certs.hpp"
#include "support/tls_record_client.hpp"
#include "support/tls_test_client.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::testing;
using namespace std::chrono_literals;

// A CA, a server certificate and a client certificate, and a TLS server
// (mTLS by the CA) on 127.0.0.1:0 that records refusals.
struct TlsFixture {
  explicit TlsFixture(std::size_t max_connections = k_default_max_connections,
                      std::chrono::milliseconds handshake_timeout = 300ms) {
    certs.make_ca("ca");
    certs.issue("ca", "server", "/CN=oracle");
    certs.issue("ca", "bot", "/O=ops/CN=failover-bot");
    hub.publish(std::make_shared<crosscheck::snapshot::Snapshot>());
    ApiServerOptions options;
    options.listen =
        crosscheck::config::Endpoint{*crosscheck::config::IpAddress::parse("127.0.0.1"), 0};
    options.request_timeout = 10s;  // longer than any test: only the handshake's may fire
    options.handshake_timeout = handshake_timeout;
    options.max_connections = max_connections;
    options.tls = files("server");
    options.on_tls_refusal = [this](const TlsRefusalEvent& event) {
      const std::lock_guard lock(mutex);
      events.push_back(event);
    };
    server = std::make_unique<ApiServer>(options, hub, actions);
    const auto started = server->start();
    INFO((started ? std::string() : started.error()));
    REQUIRE(started);
  }

  // `leaf`'s certificate, clients checked by the CA (when `ca`) and `pins`.
  crosscheck::config::ServerTlsFiles files(const std::string& leaf, bool ca = true,
                                           const std::vector<std::string>& pins = {}) const {
    crosscheck::config::ApiTlsConfig config{
        certs.path(leaf + ".crt"), certs.path(leaf + ".key"), std::nullopt, {}};
    if (ca) {
      config.client_ca_file = certs.path("ca.crt");
    }
    for (const auto& pin : pins) {
      config.client_fingerprints.push_back(
          *crosscheck::config::parse_fingerprint(certs.fingerprint(pin)));
    }
    auto loaded = crosscheck::config::read_server_tls(config);
    INFO((loaded ? std::string() : loaded.error()));
    REQUIRE(loaded);
    return *loaded;
  }
  std::uint16_t port() const { return server->bound_endpoint().port; }
  ClientOptions bot() const { return {certs.path("bot.crt"), certs.path("bot.key"), {}}; }
  std::vector<TlsRefusalEvent> refusals() {
    const std::lock_guard lock(mutex);
    return events;
  }
  std::uint64_t refused(TlsRefusal reason) const {
    return server->counters().tls_refusals.at(static_cast<std::size_t>(reason));
  }

  TempDir dir;
  TestCerts certs{dir.path()};
  crosscheck::snapshot::SnapshotHub hub;
  NoActions actions;
  std::mutex mutex;
  std::vector<TlsRefusalEvent> events;
  std::unique_ptr<ApiServer> server;  // last: stops first
};

// Polls `condition` for up to 3 s.
template <typename Condition>
bool soon(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a TLS connection that never says hello is closed at the handshake deadline",
          "[api][tls]") {
  TlsFixture fixture;  // handshake 300 ms, request 10 s
  const auto began = std::chrono::steady_clock::now();
  // Raw bytes that are not the start of a ClientHello never arrive: nothing sent.
  const std::string answer = raw_exchange("127.0.0.1", fixture.port(), "", 4'000ms);
  CHECK(answer.empty());
  CHECK(std::chrono::steady_clock::now() - began < 2s);  // closed by the server, not our timeout
  CHECK(soon([&] { return fixture.refused(TlsRefusal::Timeout) == 1; }));
  CHECK(fixture.server->counters().timeouts == 1);
  CHECK(fixture.refusals().empty());  // slow is not refused, it is timed out
}

TEST_CASE(
    "at the cap a connection still in its handshake is evicted for a client that completes "
    "one",
    "[api][tls]") {
  TlsFixture fixture(1, 10s);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket silent(io);  // connects and never says hello
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), fixture.port()});
  REQUIRE(soon([&] { return fixture.server->active_connections() == 1; }));
  TlsClient bot(fixture.certs, fixture.port(), fixture.bot());
  CHECK(bot.get("/healthz").status == 200);
  CHECK(fixture.server->counters().connections_evicted == 1);
  CHECK(fixture.server->counters().connections_rejected == 0);
  CHECK(fixture.refusals().empty());  // an eviction is not a refusal
  CHECK(fixture.refused(TlsRefusal::Timeout) == 0);
}

TEST_CASE("at the cap a TLS connection with part of a request received is never evicted",
          "[api][tls]") {
  TlsFixture fixture(1);
  TlsRecordClient slow(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(slow.connected());
  const std::string record = slow.seal("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(record.size() > 10);
  // Half a record: the server's OpenSSL can decrypt nothing yet, and the
  // kernel holds nothing once a read has taken it.
  REQUIRE(slow.send_raw(std::string_view(record).substr(0, record.size() / 2)));
  std::this_thread::sleep_for(1s);  // the server takes the half in
  TlsClient newcomer(fixture.certs, fixture.port(), fixture.bot());
  CHECK(newcomer.get("/healthz").status == 503);  // no slot to take: the only one is mid-request
  CHECK(fixture.server->counters().connections_evicted == 0);
  REQUIRE(slow.send_raw(std::string_view(record).substr(record.size() / 2)));
  CHECK(slow.read_status() == 200);
}

TEST_CASE("a kept-alive mTLS connection survives an unrelated reload, not its pin's revocation",
          "[api][tls]") {
  TlsFixture fixture;
  fixture.certs.issue("ca", "bot-2", "/O=ops/CN=second-bot");
  REQUIRE(fixture.server->set_tls(fixture.files("server", true, {"bot", "bot-2"})));
  TlsClient bot(fixture.certs, fixture.port(), fixture.bot());
  TlsClient second(fixture.certs, fixture.port(),
                   {fixture.certs.path("bot-2.crt"), fixture.certs.path("bot-2.key"), {}});
  REQUIRE(bot.get("/healthz").status == 200);
  REQUIRE(second.get("/healthz").status == 200);
  // Unrelated: a new server certificate, the same client checks.
  fixture.certs.issue("ca", "server-2", "/CN=oracle");
  REQUIRE(fixture.server->set_tls(fixture.files("server-2", true, {"bot", "bot-2"})));
  CHECK(bot.get("/healthz").status == 200);
  // bot's pin removed: its open connection is closed before its next request.
  REQUIRE(fixture.server->set_tls(fixture.files("server-2", true, {"bot-2"})));
  CHECK(bot.get("/healthz").status == 0);
  CHECK(second.get("/healthz").status == 200);  // still pinned: checked again, kept
  CHECK(fixture.refused(TlsRefusal::Revoked) == 1);
  REQUIRE(soon([&] { return fixture.refusals().size() == 1; }));
  CHECK(fixture.refusals().front().reason == TlsRefusal::Revoked);
  CHECK(fixture.refusals().front().detail.find("CN=failover-bot") != std::string::npos);
  TlsClient again(fixture.certs, fixture.port(), fixture.bot());
  CHECK_FALSE(again.served());  // and a new connection is refused at its handshake
}

TEST_CASE("a reload that changes the client CA re-checks open connections against it",
          "[api][tls]") {
  TlsFixture fixture;
  TlsClient bot(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(bot.get("/healthz").status == 200);
  fixture.certs.make_ca("other-ca");
  auto files = fixture.files("server");
  REQUIRE(fixture.server->set_tls(files));  // the same CA, re-read: nothing to check again
  CHECK(bot.get("/healthz").status == 200);
  std::ifstream other(fixture.certs.path("other-ca.crt"));
  files.client_ca.assign(std::istreambuf_iterator<char>(other), {});
  REQUIRE(fixture.server->set_tls(files));  // bot's chain no longer leads to the CA
  CHECK(bot.get("/healthz").status == 0);
  CHECK(fixture.refused(TlsRefusal::Revoked) == 1);
}

TEST_CASE("a connection made without mTLS is cut when a reload turns mTLS on, kept when off",
          "[api][tls]") {
  TlsFixture fixture;
  TlsClient bot(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(bot.get("/healthz").status == 200);
  REQUIRE(fixture.server->set_tls(fixture.files("server", false)));  // mTLS off
  CHECK(bot.get("/healthz").status == 200);
  TlsClient anonymous(fixture.certs, fixture.port());
  REQUIRE(anonymous.get("/healthz").status == 200);
  REQUIRE(fixture.server->set_tls(fixture.files("server")));  // mTLS on again
  CHECK(anonymous.get("/healthz").status == 0);
  CHECK(bot.get("/healthz").status == 200);
}

TEST_CASE("under mTLS no session is resumed, without it one is", "[api][tls]") {
  TlsFixture fixture;
  TlsClient first(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(first.get("/healthz").status == 200);
  TlsClient second(fixture.certs, fixture.port(), fixture.bot(), first.session());
  REQUIRE(second.get("/healthz").status == 200);
  CHECK_FALSE(second.resumed());
  // The control: without client certificates the same offer is taken, so
  // the check above can fail.
  REQUIRE(fixture.server->set_tls(fixture.files("server", false)));
  TlsClient plain(fixture.certs, fixture.port());
  REQUIRE(plain.get("/healthz").status == 200);
  TlsClient again(fixture.certs, fixture.port(), {}, plain.session());
  REQUIRE(again.get("/healthz").status == 200);
  CHECK(again.resumed());
}

TEST_CASE("plain HTTP to the TLS port is refused as not_tls with the peer, and TLS still works",
          "[api][tls]") {
  TlsFixture fixture;
  const auto plain = http_request("127.0.0.1", fixture.port(), "GET", "/healthz");
  CHECK(plain.status == 0);
  REQUIRE(soon([&] { return fixture.refusals().size() == 1; }));
  const auto event = fixture.refusals().front();
  CHECK(event.reason == TlsRefusal::NotTls);
  CHECK(event.peer.rfind("127.0.0.1:", 0) == 0);
  CHECK(fixture.server->counters().tls_refusals.at(static_cast<std::size_t>(TlsRefusal::NotTls)) ==
        1);
  TlsClient client(fixture.certs, fixture.port(), fixture.bot());
  CHECK(client.get("/healthz").status == 200);
  CHECK(client.get("/healthz").status == 200);  // kept alive
  CHECK(fixture.server->counters().tls_certificate_not_after == fixture.files("server").not_after);
}

TEST_CASE("new certificates serve new connections, an open one keeps its session", "[api][tls]") {
  TlsFixture fixture;
  TlsClient before(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(before.get("/healthz").status == 200);
  fixture.certs.issue("ca", "server-2", "/CN=oracle");
  REQUIRE(fixture.server->set_tls(fixture.files("server-2")));
  CHECK(before.get("/healthz").status == 200);
  TlsClient after(fixture.certs, fixture.port(), fixture.bot());
  CHECK(after.get("/healthz").status == 200);
  CHECK(after.server_fingerprint() != before.server_fingerprint());
  CHECK(after.server_fingerprint() ==
        crosscheck::config::to_string(fixture.files("server-2").leaf_fingerprint));
  // Bytes OpenSSL refuses leave the served certificate alone.
  auto broken = fixture.files("server-2");
  broken.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  CHECK_FALSE(fixture.server->set_tls(broken));
  TlsClient later(fixture.certs, fixture.port(), fixture.bot());
  CHECK(later.server_fingerprint() == after.server_fingerprint());
}

TEST_CASE("at the connection cap an idle TLS connection is evicted for a newcomer", "[api][tls]") {
  TlsFixture fixture(1);
  TlsClient first(fixture.certs, fixture.port(), fixture.bot());
  REQUIRE(first.get("/healthz").status == 200);  // now idle, waiting for its next request
  TlsClient second(fixture.certs, fixture.port(), fixture.bot());
  CHECK(second.get("/healthz").status == 200);
  CHECK(fixture.server->counters().connections_evicted == 1);
  CHECK(first.get("/healthz").status == 0);  // closed to make room
}

TEST_CASE("a watch over TLS returns when a newer snapshot is published", "[api][tls]") {
  TlsFixture fixture;
  TlsClient client(fixture.certs, fixture.port(), fixture.bot());
  std::thread publisher([&] {
    if (soon([&] { return fixture.hub.waiter_count() == 1; })) {
      auto next = std::make_shared<crosscheck::snapshot::Snapshot>();
      next->revision = 1;
      fixture.hub.publish(next);
    }
  });
  const auto answer = client.get("/v1/watch?since=0&timeout=5s");
  publisher.join();
  CHECK(answer.status == 200);
  CHECK(answer.body.find("\"revision\":1") != std::string::npos);
}

TEST_CASE("a server started without TLS refuses certificates: TLS needs a restart", "[api][tls]") {
  TempDir dir;
  TestCerts certs(dir.path());
  certs.make_ca("ca");
  certs.issue("ca", "server", "/CN=oracle");
  crosscheck::snapshot::SnapshotHub hub;
  NoActions actions;
  ApiServerOptions options;
  options.listen =
      crosscheck::config::Endpoint{*crosscheck::config::IpAddress::parse("127.0.0.1"), 0};
  ApiServer server(options, hub, actions);
  REQUIRE(server.start());
  const auto files = crosscheck::config::read_server_tls(
      crosscheck::config::ApiTlsConfig{certs.path("server.crt"), certs.path("server.key"), {}, {}});
  REQUIRE(files);
  CHECK_FALSE(server.set_tls(*files));
  CHECK(http_request("127.0.0.1", server.bound_endpoint().port, "GET", "/healthz").status == 200);
}
