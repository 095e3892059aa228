// The tcp check's dialogue (probes/tcp_dialogue.hpp): send and expect over a
// plain connection and over TLS, the STARTTLS exchanges of SMTP, IMAP and
// PostgreSQL judged line by line, a refused STARTTLS, bytes injected before
// TLS, a server that never matches, and one that stays silent.
#include "probes/tcp_dialogue.hpp"
#include "lab/fake_http_server.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "support/scripted_tcp_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace crosscheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ScriptedServer = crosscheck::testing::ScriptedTcpServer;
using config::StartTls;
using probes::ReachFailure;
using probes::starttls_reply;
using probes::StartTlsReply;

namespace {

const net::SystemClock k_clock;

probes::ReachResult run(const config::TcpCheck& check, std::chrono::milliseconds budget = 2s) {
  asio::io_context io;
  probes::ReachResult out;
  int calls = 0;
  const probes::AppRequest request{*config::IpAddress::parse("127.0.0.1"), "service.test",
                                   std::nullopt, std::chrono::steady_clock::now() + budget};
  probes::check_tcp_dialogue(io, k_clock, net::make_client_tls_context(), check, request,
                             [&](probes::ReachResult result) {
                               ++calls;
                               out = std::move(result);
                             });
  CHECK(calls == 0);
  io.run();
  CHECK(calls == 1);
  return out;
}

config::TcpCheck tcp_check(std::uint16_t port) {
  config::TcpCheck check;
  check.port = port;
  return check;
}

}  // namespace

TEST_CASE("STARTTLS replies are judged line by line for each protocol", "[tcp-dialogue]") {
  // SMTP: the greeting, EHLO's multi-line 250, STARTTLS' 220.
  CHECK(starttls_reply(StartTls::Smtp, 0, "220 mail.example ESMTP") == StartTlsReply::Wait);
  CHECK(starttls_reply(StartTls::Smtp, 0, "220-mail.example\r\n") == StartTlsReply::Wait);
  CHECK(starttls_reply(StartTls::Smtp, 0, "220-mail\r\n220 ready\r\n") == StartTlsReply::Go);
  CHECK(starttls_reply(StartTls::Smtp, 0, "554 no service\r\n") == StartTlsReply::Refused);
  CHECK(starttls_reply(StartTls::Smtp, 1, "250-mail\r\n250-PIPELINING\r\n250 STARTTLS\r\n") ==
        StartTlsReply::Go);
  CHECK(starttls_reply(StartTls::Smtp, 2, "454 TLS not available\r\n") == StartTlsReply::Refused);
  CHECK(starttls_reply(StartTls::Smtp, 0, "HTTP/1.1 400 Bad\r\n") == StartTlsReply::Refused);
  // IMAP: an untagged OK greeting, then the tagged answer.
  CHECK(starttls_reply(StartTls::Imap, 0, "* OK IMAP4rev1 ready\r\n") == StartTlsReply::Go);
  CHECK(starttls_reply(StartTls::Imap, 0, "* BYE go away\r\n") == StartTlsReply::Refused);
  CHECK(starttls_reply(StartTls::Imap, 1, "* CAPABILITY IMAP4rev1\r\n") == StartTlsReply::Wait);
  CHECK(starttls_reply(StartTls::Imap, 1, "* CAPABILITY X\r\na1 OK Begin TLS\r\n") ==
        StartTlsReply::Go);
  CHECK(starttls_reply(StartTls::Imap, 1, "a1 NO not now\r\n") == StartTlsReply::Refused);
  // PostgreSQL's SSLRequest: one byte.
  CHECK(starttls_reply(StartTls::Postgres, 0, "") == StartTlsReply::Wait);
  CHECK(starttls_reply(StartTls::Postgres, 0, "S") == StartTlsReply::Go);
  CHECK(starttls_reply(StartTls::Postgres, 0, "N") == StartTlsReply::Refused);
}

TEST_CASE("a banner that matches expect is up, one that does not is an app error",
          "[tcp-dialogue]") {
  SECTION("matches") {
    ScriptedServer server({{0, "220 mail.example ESMTP ready\r\n"}});
    auto check = tcp_check(server.port());
    check.expect = "^220 ";
    const auto result = run(check);
    CHECK(result.up());
    CHECK(result.detail == "tcp: 127.0.0.1:" + std::to_string(server.port()) +
                               " answered '220 mail.example ESMTP ready  '");
  }
  SECTION("answers otherwise and closes") {
    ScriptedServer server({{0, "554 no service here\r\n"}});
    auto check = tcp_check(server.port());
    check.expect = "^220 ";
    const auto result = run(check, 500ms);
    CHECK(result.layer() == consensus::Layer::App);
    CHECK((result.failure == ReachFailure::AppTimeout || result.failure == ReachFailure::AppError));
    CHECK_THAT(result.detail, Catch::Contains("'554 no service here  '"));
  }
}

TEST_CASE("send goes first, and the answer is read until expect matches", "[tcp-dialogue]") {
  ScriptedServer server({{6, "+PO"}, {0, "NG\r\n"}});
  auto check = tcp_check(server.port());
  check.send = "PING\r\n";
  check.expect = "PONG";
  const auto result = run(check);
  CHECK(server.received() == "PING\r\n");
  CHECK(result.up());
}

TEST_CASE("a server that accepts and stays silent is an app timeout by the deadline",
          "[tcp-dialogue]") {
  ScriptedServer server({{1, ""}});  // waits for a byte that never comes
  auto check = tcp_check(server.port());
  check.expect = "^220";
  const auto started = std::chrono::steady_clock::now();
  const auto result = run(check, 300ms);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(result.failure == ReachFailure::AppTimeout);
  CHECK(result.detail == "tcp: 127.0.0.1:" + std::to_string(server.port()) +
                             " did not answer /^220/ within the timeout");
}

TEST_CASE("a refused STARTTLS and bytes injected before TLS are app errors", "[tcp-dialogue]") {
  SECTION("refused") {
    ScriptedServer server({{0, "220 ready\r\n"}, {17, "250 ok\r\n"}, {10, "454 no TLS\r\n"}});
    auto check = tcp_check(server.port());
    check.starttls = StartTls::Smtp;
    const auto result = run(check);
    CHECK(server.received() == "EHLO crosscheck\r\nSTARTTLS\r\n");
    CHECK(result.failure == ReachFailure::AppError);
    CHECK_THAT(result.detail, Catch::EndsWith("refused STARTTLS: '454 no TLS  '"));
  }
  SECTION("injected") {
    // CVE-2011-0411's class: plain text sent with the 220 would be read as
    // if it came through TLS.
    ScriptedServer server(
        {{0, "220 ready\r\n"}, {17, "250 ok\r\n"}, {10, "220 go ahead\r\n250 injected\r\n"}});
    auto check = tcp_check(server.port());
    check.starttls = StartTls::Smtp;
    check.send = "NOOP\r\n";
    check.expect = "^250";
    const auto result = run(check);
    CHECK(result.failure == ReachFailure::AppError);
    CHECK_THAT(result.detail, Catch::Contains("sent bytes after its STARTTLS answer"));
  }
}

TEST_CASE("tls: true talks through TLS, verified or not as asked", "[tcp-dialogue]") {
  lab::FakeHttpServerOptions options;
  options.tls = lab::FakeTlsOptions{};  // self-signed for service.test
  lab::FakeHttpServer server(options);
  server.set("/", lab::FakeResponse::with_status(200, "hello"));
  auto check = tcp_check(server.port());
  check.tls = true;
  check.send = "GET / HTTP/1.0\r\nHost: service.test\r\n\r\n";
  check.expect = "^HTTP/1\\.[01] 200";
  check.tls_verify = false;
  const auto result = run(check);
  CHECK(result.up());
  REQUIRE(result.tls);
  CHECK_THAT(result.detail, Catch::Contains("(TLSv1."));
  CHECK(result.tls->cert_days_left.value_or(0) > 80);

  check.tls_verify = true;  // a self-signed certificate the system store does not trust
  const auto refused = run(check);
  CHECK(refused.failure == ReachFailure::TlsUnknownCa);
  CHECK(refused.layer() == consensus::Layer::Tls);
}
