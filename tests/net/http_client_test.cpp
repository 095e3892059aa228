// net::HttpClient against the in-process fake HTTP(S) server on 127.0.0.1:
// what a caller sees for an answer, a refusal, a deadline, a body cap, a TLS
// failure and a cancel (exactly one completion each time).
#include "net/http_client.hpp"

#include "net/tls_client.hpp"
#include "support/fake_http_server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace {

using crosscheck::config::IpAddress;
using crosscheck::config::Url;
using crosscheck::net::HttpClient;
using crosscheck::net::HttpClientOptions;
using crosscheck::net::HttpFailure;
using crosscheck::net::HttpRequest;
using crosscheck::net::HttpResult;
using crosscheck::net::HttpStage;
using crosscheck::testing::FakeCertificate;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeHttpServerOptions;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::FakeTlsOptions;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto k_deadline = 3s;
constexpr auto k_short_deadline = 300ms;
constexpr const char* k_host = "service.test";

// `url` connected at 127.0.0.1, whatever host it names.
HttpRequest request_for(const std::string& url, std::chrono::milliseconds budget = k_deadline) {
  HttpRequest request;
  std::string why;
  request.url = *Url::parse(url, &why);
  request.address = *IpAddress::parse("127.0.0.1");
  request.deadline = SteadyClock::now() + budget;
  return request;
}

struct Outcome {
  int completions = 0;
  std::optional<HttpResult> result;
};

// Runs one request to completion; the io_context runs out of work at the
// latest at the deadline, so this is bounded.
Outcome run(HttpRequest request, HttpClientOptions options = {}) {
  boost::asio::io_context io;
  HttpClient client(io, std::move(options));
  Outcome outcome;
  client.request(std::move(request), [&](HttpResult result) {
    ++outcome.completions;
    outcome.result = std::move(result);
  });
  io.run();
  return outcome;
}

FakeHttpServerOptions tls_options(FakeCertificate certificate) {
  FakeHttpServerOptions options;
  options.tls = FakeTlsOptions{certificate, k_host, 90};
  return options;
}

}  // namespace

TEST_CASE("an answer carries status, headers, body, latency and the URL's host", "[http_client]") {
  FakeHttpServer server;
  server.set("/health", FakeResponse{FakeResponse::Action::Respond, 203, "fine", {{"X-Tag", "a"}}});
  auto request = request_for(server.url(k_host, "/health?x=1"));
  request.headers = {{"X-Asked", "yes"}};
  const auto outcome = run(std::move(request));
  REQUIRE(outcome.completions == 1);
  const auto& result = *outcome.result;
  CHECK(result.ok());
  CHECK(result.stage == HttpStage::Done);
  CHECK(result.status == 203);
  CHECK(result.body == "fine");
  CHECK(result.header("x-tag") == "a");
  CHECK(result.latency > 0us);
  CHECK(result.tls_version.empty());
  CHECK_FALSE(result.cert_days_left);
  const auto seen = server.last_request();
  REQUIRE(seen);
  CHECK(seen->target == "/health?x=1");
  CHECK(seen->host == std::string(k_host) + ":" + std::to_string(server.port()));
  CHECK(seen->header("X-Asked") == "yes");
}

TEST_CASE("a POST sends its body with a length", "[http_client]") {
  FakeHttpServer server;
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.method = "POST";
  request.body = R"({"a":1})";
  const auto outcome = run(std::move(request));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->status == 200);
  const auto seen = server.last_request();
  REQUIRE(seen);
  CHECK(seen->method == "POST");
  CHECK(seen->body == R"({"a":1})");
  CHECK(seen->header("Content-Length") == "7");
}

TEST_CASE("nothing listening is a refusal, once", "[http_client]") {
  std::string url;
  {
    const FakeHttpServer gone;
    url = gone.url("127.0.0.1", "/");
  }
  const auto outcome = run(request_for(url));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::ConnectRefused);
  CHECK(outcome.result->stage == HttpStage::Connect);
  CHECK(outcome.result->error == "connection refused");
}

TEST_CASE("a source address this host does not have is the observer's failure", "[http_client]") {
  FakeHttpServer server;
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.source = *IpAddress::parse("192.0.2.1");  // TEST-NET-1: never local
  const auto outcome = run(std::move(request));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Observer);
  CHECK_THAT(outcome.result->error, Catch::StartsWith("cannot bind 192.0.2.1: "));
}

TEST_CASE("a server that never answers ends at the deadline, in the read step", "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::stall());
  const auto started = SteadyClock::now();
  const auto outcome = run(request_for(server.url("127.0.0.1", "/"), k_short_deadline));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Timeout);
  CHECK(outcome.result->stage == HttpStage::Read);
  CHECK(SteadyClock::now() - started < k_deadline);
}

TEST_CASE("a deadline already past ends the request as a timeout", "[http_client]") {
  FakeHttpServer server;
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.deadline = SteadyClock::now() - 1s;
  const auto outcome = run(std::move(request));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Timeout);
}

TEST_CASE("a trickling body is cut by the deadline, not read forever", "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::slow_body(std::string(1000, 'x'), 50ms));
  const auto outcome = run(request_for(server.url("127.0.0.1", "/"), k_short_deadline));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Timeout);
  CHECK(outcome.result->stage == HttpStage::Read);
}

TEST_CASE("a body over the cap fails, or is cut at the cap when truncating", "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::huge_body(200'000));
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.body_limit = 1000;
  SECTION("fail") {
    const auto outcome = run(request);
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->failure == HttpFailure::BodyTooLarge);
    CHECK(outcome.result->body.empty());
  }
  SECTION("truncate") {
    request.truncate_body = true;
    const auto outcome = run(request);
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->ok());
    CHECK(outcome.result->status == 200);
    CHECK(outcome.result->body == std::string(1000, 'x'));
    CHECK(outcome.result->body_truncated);
  }
  SECTION("a body exactly at the cap is whole") {
    server.set("/", FakeResponse::huge_body(1000));
    request.truncate_body = GENERATE(false, true);
    const auto outcome = run(request);
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->ok());
    CHECK(outcome.result->body.size() == 1000);
    CHECK_FALSE(outcome.result->body_truncated);
  }
}

TEST_CASE("a certificate the trust store does not accept fails TLS, unless told not to verify",
          "[http_client]") {
  FakeHttpServer server(tls_options(FakeCertificate::SelfSigned));
  auto request = request_for(server.url(k_host, "/"));
  SECTION("verified") {
    const auto outcome = run(request);
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->failure == HttpFailure::Tls);
    CHECK(outcome.result->stage == HttpStage::Tls);
    CHECK_THAT(outcome.result->error, Catch::StartsWith("tls: certificate verify failed ("));
  }
  SECTION("not verified") {
    request.verify_tls = false;
    const auto outcome = run(request);
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->ok());
    CHECK(server.last_request()->sni == k_host);
  }
}

TEST_CASE("https to a trusted CA reports the TLS version and the days left, with SNI",
          "[http_client]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned));
  HttpClientOptions options;
  options.tls = crosscheck::net::make_client_tls_context();
  options.tls->add_certificate_authority(boost::asio::buffer(server.ca_pem()));
  const auto outcome = run(request_for(server.url(k_host, "/")), options);
  REQUIRE(outcome.completions == 1);
  REQUIRE(outcome.result->ok());
  CHECK_THAT(outcome.result->tls_version, Catch::StartsWith("TLSv1."));
  REQUIRE(outcome.result->cert_days_left);
  CHECK(*outcome.result->cert_days_left >= 89);
  CHECK(*outcome.result->cert_days_left <= 90);
  CHECK(server.last_request()->sni == k_host);
}

TEST_CASE("an injected clock measures the latency and dates the certificate", "[http_client]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned));
  HttpClientOptions options;
  options.tls = crosscheck::net::make_client_tls_context();
  options.tls->add_certificate_authority(boost::asio::buffer(server.ca_pem()));
  // Every reading is 7 ms after the last; the wall clock is 30 days ahead.
  auto ticks = std::make_shared<int>(0);
  const auto base = SteadyClock::now();
  options.clock.monotonic = [ticks, base] { return base + 7ms * (*ticks)++; };
  options.clock.wall = [] {
    return std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
  };
  auto request = request_for(server.url(k_host, "/"));
  request.deadline = base + 10s;
  const auto outcome = run(request, options);
  REQUIRE(outcome.completions == 1);
  REQUIRE(outcome.result->ok());
  // Three readings: started, deadline armed, finished.
  CHECK(outcome.result->latency == 14ms);
  REQUIRE(outcome.result->cert_days_left);
  CHECK(*outcome.result->cert_days_left <= 60);
}

TEST_CASE("cancel ends a request in flight exactly once, and a late cancel changes nothing",
          "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::stall());
  boost::asio::io_context io;
  HttpClient client(io);
  Outcome outcome;
  client.request(request_for(server.url("127.0.0.1", "/")), [&](HttpResult result) {
    ++outcome.completions;
    outcome.result = std::move(result);
  });
  // Until the server holds the request (bounded: the deadline ends it anyway).
  for (int step = 0; step < 300 && server.request_count() == 0 && outcome.completions == 0;
       ++step) {
    io.run_for(10ms);
  }
  REQUIRE(server.request_count() == 1);
  client.cancel();
  client.cancel();
  io.run();
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Cancelled);
  CHECK(outcome.result->stage == HttpStage::Read);
  client.cancel();
  io.restart();
  io.run();
  CHECK(outcome.completions == 1);
}

TEST_CASE("a cancel at any step of a request in flight ends it once, as cancelled",
          "[http_client]") {
  // Found by a hostile review (an abort on a reload): cancel() dropped the
  // socket while a completion was already queued (a chunk of a large body
  // read from the buffer), and its handler went on to read from it. Each
  // round runs the request `steps` handlers far, then cancels, so some
  // round lands on every kind of queued completion.
  FakeHttpServer server;
  server.set("/", FakeResponse::with_status(200, std::string(256 * 1024, 'x')));
  for (int steps = 1; steps <= 80; ++steps) {
    INFO("cancelled after " << steps << " handlers");
    boost::asio::io_context io;
    HttpClient client(io);
    Outcome outcome;
    auto spec = request_for(server.url("127.0.0.1", "/"));
    spec.body_limit = 1024 * 1024;
    client.request(std::move(spec), [&](HttpResult result) {
      ++outcome.completions;
      outcome.result = std::move(result);
    });
    for (int step = 0; step < steps && outcome.completions == 0; ++step) {
      io.run_one();
    }
    const bool finished = outcome.completions == 1;
    client.cancel();
    io.run();
    REQUIRE(outcome.completions == 1);
    if (!finished) {
      CHECK(outcome.result->failure == HttpFailure::Cancelled);
    }
  }
}

TEST_CASE("a client destroyed with a request in flight completes it once, as cancelled",
          "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::stall());
  boost::asio::io_context io;
  Outcome outcome;
  {
    HttpClient client(io);
    client.request(request_for(server.url("127.0.0.1", "/")), [&](HttpResult result) {
      ++outcome.completions;
      outcome.result = std::move(result);
    });
    io.run_for(20ms);
  }
  io.run();
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Cancelled);
}

// The usual caller: its state owns the client, and the callback owns the
// state until the answer comes. An io_context destroyed (daemon shutdown)
// with that request unfinished must free the state, not leave a cycle.
TEST_CASE("an io_context destroyed mid-request frees a caller whose state owns the client",
          "[http_client]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::stall());
  struct Caller {
    explicit Caller(boost::asio::io_context& io) : client(io) {}
    HttpClient client;
  };
  std::weak_ptr<Caller> watch;
  int completions = 0;
  {
    boost::asio::io_context io;
    auto caller = std::make_shared<Caller>(io);
    watch = caller;
    caller->client.request(request_for(server.url("127.0.0.1", "/")),
                           [caller, &completions](const HttpResult&) { ++completions; });
    caller.reset();
    io.run_for(50ms);  // connected and waiting for the stalled answer
    REQUIRE_FALSE(watch.expired());
  }
  CHECK(watch.expired());
  CHECK(completions == 0);
}

TEST_CASE("a second request while one is in flight is refused without disturbing it",
          "[http_client]") {
  FakeHttpServer server;
  boost::asio::io_context io;
  HttpClient client(io);
  Outcome first;
  Outcome second;
  client.request(request_for(server.url("127.0.0.1", "/")), [&](HttpResult result) {
    ++first.completions;
    first.result = std::move(result);
  });
  client.request(request_for(server.url("127.0.0.1", "/")), [&](HttpResult result) {
    ++second.completions;
    second.result = std::move(result);
  });
  io.run();
  REQUIRE(first.completions == 1);
  REQUIRE(second.completions == 1);
  CHECK(first.result->ok());
  CHECK(second.result->failure == HttpFailure::Protocol);
}

TEST_CASE("a kept-alive connection the server dropped is retried once on a fresh one",
          "[http_client]") {
  FakeHttpServer server;
  // It says keep-alive, then closes anyway: the idle connection is dead.
  server.set(
      "/", FakeResponse{FakeResponse::Action::Respond, 200, "ok", {{"Connection", "keep-alive"}}});
  boost::asio::io_context io;
  HttpClientOptions options;
  options.keep_alive = true;
  HttpClient client(io, options);
  std::vector<HttpResult> results;
  const auto ask = [&] {
    client.request(request_for(server.url("127.0.0.1", "/")),
                   [&](HttpResult result) { results.push_back(std::move(result)); });
    io.restart();
    io.run();
  };
  ask();
  ask();
  REQUIRE(results.size() == 2);
  CHECK(results[0].ok());
  CHECK(results[0].keep_alive);
  CHECK(results[1].ok());
  CHECK(results[1].status == 200);
  CHECK(server.request_count() == 2);
}

TEST_CASE("a method HTTP does not know fails before anything is sent", "[http_client]") {
  FakeHttpServer server;
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.method = "FETCH ME";
  const auto outcome = run(std::move(request));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Protocol);
  CHECK(outcome.result->error == "unknown method 'FETCH ME'");
  CHECK(server.request_count() == 0);
}

TEST_CASE("a failure carries its cause for callers that render their own text", "[http_client]") {
  SECTION("a certificate that does not verify names the verify error") {
    FakeHttpServer server(tls_options(FakeCertificate::SelfSigned));
    const auto outcome = run(request_for(server.url(k_host, "/")));
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->tls_verify_error == "self-signed certificate");
    CHECK(outcome.result->cause);
  }
  SECTION("a source that cannot be bound says so, with the error") {
    FakeHttpServer server;
    auto request = request_for(server.url("127.0.0.1", "/"));
    request.source = *IpAddress::parse("192.0.2.1");
    const auto outcome = run(std::move(request));
    REQUIRE(outcome.completions == 1);
    CHECK(outcome.result->setup_failed);
    CHECK(outcome.result->cause);
  }
  SECTION("a timeout in the read step says whether the header had arrived") {
    FakeHttpServer server;
    server.set("/stall", FakeResponse::stall());
    server.set("/slow", FakeResponse::slow_body(std::string(1000, 'x'), 50ms));
    const auto stalled = run(request_for(server.url("127.0.0.1", "/stall"), k_short_deadline));
    const auto trickled = run(request_for(server.url("127.0.0.1", "/slow"), k_short_deadline));
    REQUIRE(stalled.result->failure == HttpFailure::Timeout);
    REQUIRE(trickled.result->failure == HttpFailure::Timeout);
    CHECK_FALSE(stalled.result->header_received);
    CHECK(trickled.result->header_received);
    CHECK_FALSE(trickled.result->cause);
  }
}

TEST_CASE("a status has its standard reason phrase, or none when unknown", "[http_client]") {
  CHECK(crosscheck::net::standard_reason(503) == "Service Unavailable");
  CHECK(crosscheck::net::standard_reason(200) == "OK");
  CHECK(crosscheck::net::standard_reason(299).empty());
  CHECK(crosscheck::net::standard_reason(-1).empty());
}

TEST_CASE("a method Beast has no name for is sent as given when it is a token", "[http_client]") {
  FakeHttpServer server;
  auto request = request_for(server.url("127.0.0.1", "/"));
  request.method = GENERATE(std::string("CHECKUP"), std::string("X-PROBE.1"));
  REQUIRE(run(request).result->ok());
  CHECK(server.last_request()->method == request.method);
}

namespace {

// A server on 127.0.0.1 that reads the client's first bytes (its TLS
// ClientHello), writes `answer`, then drops the connection: reset when
// `reset`, else closed.
class DroppingServer {
 public:
  DroppingServer(std::string answer, bool reset)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, answer = std::move(answer), reset] {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      std::array<char, 512> hello{};
      socket.read_some(boost::asio::buffer(hello), ec);
      if (!answer.empty()) {
        boost::asio::write(socket, boost::asio::buffer(answer), ec);
      }
      if (reset) {
        socket.set_option(boost::asio::socket_base::linger(true, 0), ec);
      }
      socket.close(ec);
    });
  }
  DroppingServer(const DroppingServer&) = delete;
  DroppingServer& operator=(const DroppingServer&) = delete;
  DroppingServer(DroppingServer&&) = delete;
  DroppingServer& operator=(DroppingServer&&) = delete;
  ~DroppingServer() { thread_.join(); }

  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("a connection dropped during the handshake is a transport failure, not a TLS refusal",
          "[http_client]") {
  const bool reset = GENERATE(false, true);
  CAPTURE(reset);
  DroppingServer server("", reset);
  const auto outcome = run(request_for(server.url()));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Closed);
  CHECK(outcome.result->stage == HttpStage::Tls);
  CHECK(crosscheck::net::failure_reason(*outcome.result) == "transport");
  CHECK_THAT(outcome.result->error,
             Catch::StartsWith("tls: 127.0.0.1:") &&
                 Catch::Contains("closed the connection during the handshake: "));
}

TEST_CASE("a server that answers a ClientHello with plain text fails TLS, as a handshake",
          "[http_client]") {
  DroppingServer server("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", false);
  const auto outcome = run(request_for(server.url()));
  REQUIRE(outcome.completions == 1);
  CHECK(outcome.result->failure == HttpFailure::Tls);
  CHECK(outcome.result->stage == HttpStage::Tls);
  CHECK(crosscheck::net::failure_reason(*outcome.result) == "tls_handshake");
}
