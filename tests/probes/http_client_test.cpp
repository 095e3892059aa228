#include "probes/http_client.hpp"

#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "support/fake_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace {

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using crosscheck::config::IpAddress;
using crosscheck::config::Url;
using crosscheck::consensus::Layer;
using crosscheck::probes::HttpRequest;
using crosscheck::probes::ReachFailure;
using crosscheck::probes::ReachResult;
using crosscheck::testing::FakeCertificate;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeHttpServerOptions;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::FakeTlsOptions;
using Clock = std::chrono::steady_clock;
using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

constexpr auto k_deadline = 2s;
constexpr auto k_slack = 1s;  // how late past the deadline a completion may come
const std::string k_host = "service.test";

// A request for `url` that connects to 127.0.0.1, whatever host the URL names.
HttpRequest request_to_url(const std::string& url, Clock::duration budget = k_deadline) {
  std::string why;
  const auto parsed = Url::parse(url, &why);
  INFO(why);
  REQUIRE(parsed);
  HttpRequest request;
  request.check.url = *parsed;
  request.address = *IpAddress::parse("127.0.0.1");
  request.deadline = Clock::now() + budget;
  return request;
}

HttpRequest request_for(const FakeHttpServer& server, const std::string& path = "/") {
  return request_to_url(server.url(k_host, path));
}

// Runs the check on a private io_context until it completes, bounded by the
// deadline plus slack, and requires exactly one completion.
ReachResult run(const HttpRequest& request, TlsContext tls = nullptr) {
  boost::asio::io_context io;
  std::optional<ReachResult> result;
  int completions = 0;
  const crosscheck::net::SystemClock clock;
  crosscheck::probes::run_http_check(
      io, clock, tls ? std::move(tls) : crosscheck::net::make_client_tls_context(), request,
      [&](ReachResult r) {
        ++completions;
        result = std::move(r);
      });
  io.run_for(request.deadline - Clock::now() + k_slack);
  REQUIRE(completions == 1);
  return *result;
}

FakeHttpServerOptions tls_options(FakeCertificate certificate, int valid_days = 90) {
  FakeHttpServerOptions options;
  options.tls = FakeTlsOptions{certificate, k_host, valid_days};
  return options;
}

// A client context that trusts the CA that issued `server`'s certificate.
TlsContext trusting(const FakeHttpServer& server) {
  auto tls = crosscheck::net::make_client_tls_context();
  tls->add_certificate_authority(boost::asio::buffer(server.ca_pem()));
  return tls;
}

}  // namespace

TEST_CASE("a 200 answer is up with the status in the detail", "[http]") {
  FakeHttpServer server;
  const auto result = run(request_for(server));
  CHECK(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::None);
  CHECK(result.http_status == 200);
  CHECK(result.detail == "http: 200 OK");
  CHECK(result.body_bytes == 2);
  CHECK_FALSE(result.tls);
  CHECK(result.latency_ms > 0);
}

TEST_CASE("an unexpected status is down at the http layer with what was expected", "[http]") {
  FakeHttpServer server;
  server.set("/health", FakeResponse::with_status(503, "overloaded"));
  auto request = request_for(server, "/health");
  request.check.expect_status = {200};
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.http_status == 503);
  CHECK(result.failure == ReachFailure::HttpStatus);
  CHECK(result.detail == "http: 503 Service Unavailable, expected 200");
}

TEST_CASE("a status listed in expect_status is up even when it is not 2xx", "[http]") {
  FakeHttpServer server;
  server.set("/bad", FakeResponse::with_status(400, "bad request"));
  server.set("/missing", FakeResponse::with_status(404));
  auto request = request_for(server, "/bad");
  request.check.expect_status = {200, 400};
  CHECK(run(request).up());

  request = request_for(server, "/missing");
  request.check.expect_status = {200, 400};
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.detail == "http: 404 Not Found, expected 200 or 400");
}

TEST_CASE("without expect_status any 2xx is up and every other status is down", "[http]") {
  const auto [status, up] = GENERATE(table<int, bool>(
      {{200, true}, {204, true}, {299, true}, {199, false}, {304, false}, {500, false}}));
  FakeHttpServer server;
  server.set("/", FakeResponse::with_status(status));
  const auto result = run(request_for(server));
  CHECK(result.up() == up);
  CHECK(result.http_status == status);
  if (!up) {
    CHECK(result.layer() == Layer::Http);
    CHECK_THAT(result.detail,
               StartsWith("http: " + std::to_string(status) + " ") && Contains(", expected 2xx"));
  }
}

TEST_CASE("expect_body passes when the body contains it and fails with a detail otherwise",
          "[http]") {
  FakeHttpServer server;
  server.set("/ready", FakeResponse::with_status(200, "{\"state\": \"ready\"}"));
  server.set("/starting", FakeResponse::with_status(200, "{\"state\": \"starting\"}"));
  auto request = request_for(server, "/ready");
  request.check.expect_body = "ready";
  CHECK(run(request).up());

  request = request_for(server, "/starting");
  request.check.expect_body = "ready";
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.failure == ReachFailure::HttpBody);
  CHECK(result.detail == "http: 200 OK, body does not contain 'ready'");
}

TEST_CASE("expect_body as a regex must match somewhere in the body", "[http]") {
  FakeHttpServer server;
  server.set("/ok", FakeResponse::with_status(200, "{\n  \"status\": \"ok\", \"n\": 3\n}"));
  server.set("/degraded", FakeResponse::with_status(200, "{\"status\": \"degraded\"}"));
  const std::string pattern = R"re("status":\s*"(ok|ready)")re";
  auto request = request_for(server, "/ok");
  request.check.expect_body = pattern;
  request.check.body_regex = true;
  CHECK(run(request).up());

  request = request_for(server, "/degraded");
  request.check.expect_body = pattern;
  request.check.body_regex = true;
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.detail == "http: 200 OK, body does not match '" + pattern + "'");
}

TEST_CASE("a body regex that cannot run is the observer's error and never a crash", "[http]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::huge_body(64 * 1024));
  auto request = request_for(server);
  request.check.body_regex = true;
  request.check.expect_body = ".*x$";  // std::regex overflows the stack on this body
  CHECK(run(request).up());

  request = request_for(server);
  request.check.body_regex = true;
  request.check.expect_body = "(x|y)*z";
  auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.observer_error());
  CHECK(result.failure == ReachFailure::ObserverBodyCheck);
  CHECK(result.detail == "http: 200 OK, body regex '(x|y)*z' is too complex for this body");

  request = request_for(server);
  request.check.body_regex = true;
  request.check.expect_body = "(";  // config validation rejects this; the probe copes anyway
  result = run(request);
  CHECK(result.observer_error());
  CHECK(result.detail == "http: 200 OK, body regex '(' is invalid");
}

TEST_CASE("the configured method and headers are sent with the probe's own headers", "[http]") {
  FakeHttpServer server;
  server.set("/head", FakeResponse::with_status(200, "a body HEAD must not wait for"));
  auto request = request_for(server, "/head");
  request.check.method = "HEAD";
  request.check.headers = {{"X-Probe", "crosscheck"}, {"Authorization", "Bearer t0ken"}};
  const auto result = run(request);
  CHECK(result.up());
  CHECK(result.body_bytes == 0);
  const auto seen = server.last_request();
  REQUIRE(seen);
  CHECK(seen->method == "HEAD");
  CHECK(seen->target == "/head");
  CHECK(seen->header("x-probe") == "crosscheck");
  CHECK(seen->header("Authorization") == "Bearer t0ken");
  CHECK(seen->header("User-Agent") == "crosscheck/0.1");
  CHECK(seen->header("Connection") == "close");
}

TEST_CASE("the Host header and SNI keep the URL's host while the connection goes to 127.0.0.1",
          "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned));
  const auto result = run(request_for(server, "/?probe=1"), trusting(server));
  CHECK(result.up());
  const auto seen = server.last_request();
  REQUIRE(seen);
  CHECK(seen->host == k_host + ":" + std::to_string(server.port()));
  CHECK(seen->sni == k_host);
  CHECK(seen->target == "/?probe=1");
  CHECK(seen->peer_address == "127.0.0.1");
}

TEST_CASE("an https URL with an IP literal host sends no SNI and verifies the IP", "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned));
  const auto result = run(request_to_url(server.url("127.0.0.1", "/")), trusting(server));
  CHECK(result.up());
  const auto seen = server.last_request();
  REQUIRE(seen);
  CHECK(seen->sni.empty());
  CHECK(seen->host == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("a redirect is judged by its status when follow_redirects is off", "[http]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::redirect("/login", 302));
  auto result = run(request_for(server));
  CHECK_FALSE(result.up());
  CHECK(result.http_status == 302);
  CHECK(result.detail == "http: 302 Found, expected 2xx");
  CHECK(server.request_count() == 1);

  auto request = request_for(server);
  request.check.expect_status = {302};
  CHECK(run(request).up());
}

TEST_CASE("a same-origin redirect is followed over a new connection when asked", "[http]") {
  FakeHttpServer server;
  server.set("/app/new", FakeResponse::with_status(200, "moved here"));
  const std::string absolute = server.url(k_host, "/app/new");
  for (const std::string& location : {std::string("/app/new"), std::string("new"), absolute}) {
    INFO(location);
    server.set("/app/old", FakeResponse::redirect(location, 301));
    auto request = request_for(server, "/app/old");
    request.check.follow_redirects = true;
    request.check.expect_body = "moved here";
    const auto before = server.request_count();
    const auto result = run(request);
    CHECK(result.up());
    CHECK(result.http_status == 200);
    CHECK(result.detail == "http: 200 OK");
    CHECK(server.request_count() == before + 2);
    const auto seen = server.last_request();
    REQUIRE(seen);
    CHECK(seen->target == "/app/new");
    CHECK(seen->host == k_host + ":" + std::to_string(server.port()));
  }
}

TEST_CASE("a redirect loop stops after five redirects", "[http]") {
  FakeHttpServer server;
  server.set("/loop", FakeResponse::redirect("/loop", 302));
  auto request = request_for(server, "/loop");
  request.check.follow_redirects = true;
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.failure == ReachFailure::HttpRedirect);
  CHECK(result.detail == "http: 302 Found, more than 5 redirects");
  CHECK(server.request_count() == 6);
}

TEST_CASE("a redirect to another origin is not followed", "[http]") {
  FakeHttpServer server;
  const std::string location =
      GENERATE_COPY(as<std::string>{}, "http://elsewhere.test/x", "https://service.test/x",
                    "//elsewhere.test/x", "http://service.test:1/x");
  server.set("/", FakeResponse::redirect(location, 302));
  auto request = request_for(server);
  request.check.follow_redirects = true;
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.http_status == 302);
  const std::string shown = location.starts_with("//") ? "http:" + location : location;
  CHECK(result.failure == ReachFailure::HttpRedirect);
  CHECK(result.detail == "http: redirect to other origin " + shown + " not followed");
  CHECK(server.request_count() == 1);
}

TEST_CASE("a body larger than max_body_bytes is truncated and judged on what was read", "[http]") {
  FakeHttpServer server;
  server.set("/big", FakeResponse::huge_body(1024 * 1024));
  auto request = request_for(server, "/big");
  request.check.max_body_bytes = 1024;
  request.check.expect_body = "xxxx";
  const auto result = run(request);
  CHECK(result.up());
  CHECK(result.body_bytes == 1024);
  CHECK(result.detail == "http: 200 OK, body truncated at 1024 bytes");

  request = request_for(server, "/big");
  request.check.max_body_bytes = 1024;
  request.check.expect_body = "the end";
  const auto missed = run(request);
  CHECK_FALSE(missed.up());
  CHECK(missed.detail ==
        "http: 200 OK, body does not contain 'the end', body truncated at 1024 bytes");
}

TEST_CASE("a server that accepts and never answers is down at the http layer by the deadline",
          "[http]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::stall());
  const auto started = Clock::now();
  const auto result = run(request_to_url(server.url(k_host, "/"), 500ms));
  const auto elapsed = Clock::now() - started;
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.failure == ReachFailure::HttpTimeout);
  CHECK(result.detail == "http: timed out waiting for the response");
  CHECK(elapsed >= 450ms);
  CHECK(elapsed < 500ms + k_slack);
}

TEST_CASE("a body that trickles past the deadline is down at the http layer", "[http]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::slow_body("0123456789", 200ms));
  const auto result = run(request_to_url(server.url(k_host, "/"), 500ms));
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.http_status == 0);
  CHECK(result.detail == "http: timed out reading the response body");
}

TEST_CASE("a connection reset after the request is down at the http layer", "[http]") {
  FakeHttpServer server;
  server.set("/", FakeResponse::reset());
  const auto result = run(request_for(server));
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::Http);
  CHECK(result.detail == "http: connection reset");
  CHECK(server.request_count() == 1);
}

TEST_CASE("nothing listening is down at the connect layer with connection refused", "[http]") {
  // A bound socket that never listens holds a port nobody answers on.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket holder(io);
  holder.open(boost::asio::ip::tcp::v4());
  holder.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = holder.local_endpoint().port();
  const auto result = run(request_to_url("http://" + k_host + ":" + std::to_string(port) + "/"));
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::Connect);
  CHECK(result.detail == "connect: 127.0.0.1:" + std::to_string(port) + " connection refused");
}

TEST_CASE("a listener that never completes the handshake is a connect timeout", "[http]") {
  // Linux drops SYNs while a listener's accept queue is full: backlog 0 holds
  // one connection, which `filler` takes, so the probe's connect never completes.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor listener(io);
  const boost::asio::ip::tcp::endpoint any_port(boost::asio::ip::make_address("127.0.0.1"), 0);
  listener.open(any_port.protocol());
  listener.bind(any_port);
  listener.listen(0);
  const auto port = listener.local_endpoint().port();
  boost::asio::ip::tcp::socket filler(io);
  filler.connect({any_port.address(), port});
  const auto started = Clock::now();
  const auto result =
      run(request_to_url("http://" + k_host + ":" + std::to_string(port) + "/", 500ms));
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Connect);
  CHECK(result.detail == "connect: 127.0.0.1:" + std::to_string(port) + " timed out");
  CHECK(Clock::now() - started < 500ms + k_slack);
}

TEST_CASE("a self-signed certificate fails verification at the tls layer with the reason",
          "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::SelfSigned));
  const auto result = run(request_for(server));
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.layer() == Layer::Tls);
  CHECK(result.failure == ReachFailure::TlsUnknownCa);
  CHECK(result.detail == "tls: certificate verify failed (self-signed certificate)");
  CHECK(server.request_count() == 0);
}

TEST_CASE("with tls_verify off a self-signed certificate is up and its expiry is recorded",
          "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::SelfSigned, 90));
  auto request = request_for(server);
  request.check.tls_verify = false;
  const auto result = run(request);
  CHECK(result.up());
  REQUIRE(result.tls);
  REQUIRE(result.tls->cert_days_left);
  // notAfter is now + 90 days: 90 within the same second, 89 days and change after.
  CHECK(*result.tls->cert_days_left >= 89);
  CHECK(*result.tls->cert_days_left <= 90);
  CHECK_THAT(result.tls->version, StartsWith("TLSv1."));
  CHECK(result.detail == "http: 200 OK, " + result.tls->version + ", certificate expires in " +
                             std::to_string(*result.tls->cert_days_left) + " days");
  REQUIRE(server.last_request());
  CHECK(server.last_request()->sni == k_host);
}

TEST_CASE("an expired certificate fails verification with certificate has expired", "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::ExpiredCaSigned));
  const auto result = run(request_for(server), trusting(server));
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Tls);
  CHECK(result.failure == ReachFailure::TlsExpired);
  CHECK(result.detail == "tls: certificate verify failed (certificate has expired)");
  // Refused, and still recorded: the certificate to watch (cert_expiring).
  REQUIRE(result.tls);
  REQUIRE(result.tls->cert_not_after);
  CHECK(*result.tls->cert_not_after < std::chrono::time_point_cast<crosscheck::consensus::Duration>(
                                          std::chrono::system_clock::now()));
}

TEST_CASE("a certificate for another name fails verification with hostname mismatch", "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned));
  const auto result = run(request_to_url(server.url("other.test", "/")), trusting(server));
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Tls);
  CHECK(result.failure == ReachFailure::TlsWrongName);
  CHECK(result.detail == "tls: certificate verify failed (hostname mismatch)");
}

TEST_CASE("a certificate from a trusted CA is up with its days left and the TLS version",
          "[http]") {
  FakeHttpServer server(tls_options(FakeCertificate::CaSigned, 30));
  const auto result = run(request_for(server), trusting(server));
  CHECK(result.up());
  REQUIRE(result.tls);
  REQUIRE(result.tls->cert_days_left);
  CHECK(*result.tls->cert_days_left >= 29);
  CHECK(*result.tls->cert_days_left <= 30);
  // The notAfter itself, for the engine and the expiry metric: now + 30 days.
  REQUIRE(result.tls->cert_not_after);
  const auto left =
      *result.tls->cert_not_after - std::chrono::time_point_cast<crosscheck::consensus::Duration>(
                                        std::chrono::system_clock::now());
  CHECK(left > std::chrono::hours{24 * 30} - std::chrono::minutes{5});
  CHECK(left <= std::chrono::hours{24 * 30});
  CHECK(result.tls->version == "TLSv1.3");
  CHECK(result.detail == "http: 200 OK, TLSv1.3, certificate expires in " +
                             std::to_string(*result.tls->cert_days_left) + " days");
}

TEST_CASE("https to a server that does not speak TLS fails the handshake at the tls layer",
          "[http]") {
  FakeHttpServer server;  // plain HTTP
  const auto result = run(request_to_url(server.url(k_host, "/").replace(0, 4, "https")));
  CHECK_FALSE(result.up());
  CHECK(result.layer() == Layer::Tls);
  CHECK_THAT(result.detail, StartsWith("tls: handshake failed: "));
}

TEST_CASE("a source address that is not on this host is an observer error, not down", "[http]") {
  FakeHttpServer server;
  auto request = request_for(server);
  request.source = IpAddress::parse("192.0.2.1");
  const auto result = run(request);
  CHECK_FALSE(result.up());
  CHECK(result.observer_error());
  CHECK(result.layer() == Layer::Connect);
  CHECK_THAT(result.detail, StartsWith("connect: cannot bind source 192.0.2.1: "));
  CHECK(server.request_count() == 0);
}

TEST_CASE("a bound source address is the one the server sees", "[http]") {
  FakeHttpServer server;
  auto request = request_for(server);
  request.source = IpAddress::parse("127.0.0.2");
  const auto result = run(request);
  CHECK(result.up());
  REQUIRE(server.last_request());
  CHECK(server.last_request()->peer_address == "127.0.0.2");
}
