// The redis check's I/O (probes/redis_check.cpp) against a scripted server
// on loopback: the bytes it sends, replies split and malformed, a server
// that stays silent or floods, a refused connect and an unreadable password
// file. Exactly one completion each, by the deadline.
#include "net/system_clock.hpp"
#include "probes/app_checks.hpp"
#include "support/scripted_tcp_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

using namespace crosscheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using crosscheck::testing::ScriptedTcpServer;

namespace {

const net::SystemClock k_clock;

const std::string k_ping_role = "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nROLE\r\n";
const std::string k_master = "+PONG\r\n*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";

probes::ReachResult run(const config::RedisCheck& check, std::uint16_t port,
                        std::chrono::milliseconds budget = 2s) {
  asio::io_context io;
  probes::ReachResult out;
  int calls = 0;
  config::RedisCheck with_port = check;
  with_port.port = port;
  const probes::AppRequest request{*config::IpAddress::parse("127.0.0.1"), "127.0.0.1",
                                   std::nullopt, std::chrono::steady_clock::now() + budget};
  probes::check_redis(io, k_clock, with_port, request, [&](probes::ReachResult result) {
    ++calls;
    out = std::move(result);
  });
  CHECK(calls == 0);  // never inside the call
  io.run();
  CHECK(calls == 1);
  return out;
}

}  // namespace

TEST_CASE("redis: PING and ROLE are pipelined and a master is up", "[redis]") {
  ScriptedTcpServer server({{k_ping_role.size(), k_master}}, 3);  // replies in 3-byte pieces
  config::RedisCheck check;
  check.role = config::ServerRole::Primary;
  const auto result = run(check, server.port());
  CHECK(server.received() == k_ping_role);
  CHECK(result.up());
  CHECK(result.detail == "redis: 127.0.0.1:" + std::to_string(server.port()) + " primary (master)");
  CHECK(result.latency_ms > 0);
}

TEST_CASE("redis: AUTH goes first with the password file's secret, username when set", "[redis]") {
  const auto file = std::filesystem::temp_directory_path() /
                    ("crosscheck-redis-" + std::to_string(::getpid()) + ".pass");
  std::ofstream(file) << "pa ss\n";
  const std::string auth = "*3\r\n$4\r\nAUTH\r\n$5\r\nprobe\r\n$5\r\npa ss\r\n";
  ScriptedTcpServer server({{auth.size() + k_ping_role.size(), "+OK\r\n" + k_master}});
  config::RedisCheck check;
  check.username = "probe";
  check.password_file = file;
  const auto result = run(check, server.port());
  std::filesystem::remove(file);
  CHECK(server.received() == auth + k_ping_role);
  CHECK(result.up());
}

TEST_CASE("redis: an unreadable password file is this oracle's problem", "[redis]") {
  config::RedisCheck check;
  check.password_file = "/nonexistent/crosscheck-redis.pass";
  const auto result = run(check, 1);
  CHECK(result.failure == probes::ReachFailure::ObserverAuth);
  CHECK(result.outcome() == consensus::Outcome::ObserverError);
  CHECK(result.detail ==
        "observer: cannot read redis.password_file "
        "'/nonexistent/crosscheck-redis.pass': No such file or directory");
}

TEST_CASE("redis: a server that accepts and never answers is an app timeout", "[redis]") {
  ScriptedTcpServer server({{k_ping_role.size(), ""}});
  const auto started = std::chrono::steady_clock::now();
  const auto result = run({}, server.port(), 300ms);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(result.failure == probes::ReachFailure::AppTimeout);
  CHECK(result.layer() == consensus::Layer::App);
  CHECK(result.detail == "redis: 127.0.0.1:" + std::to_string(server.port()) +
                             " did not answer within the timeout (0 of 2 replies)");
}

TEST_CASE("redis: garbage, floods and early closes are protocol errors", "[redis]") {
  SECTION("not RESP") {
    ScriptedTcpServer server({{k_ping_role.size(), "HTTP/1.1 400 Bad Request\r\n\r\n"}});
    const auto result = run({}, server.port());
    CHECK(result.failure == probes::ReachFailure::AppError);
    CHECK(result.detail.ends_with("protocol error: unknown reply type 'H'"));
  }
  SECTION("an endless line") {
    ScriptedTcpServer server({{k_ping_role.size(), "+" + std::string(80'000, 'x')}}, 8192);
    const auto result = run({}, server.port());
    CHECK(result.failure == probes::ReachFailure::AppError);
    CHECK(result.detail.ends_with("protocol error: line longer than 65536 bytes"));
  }
}

TEST_CASE("redis: a refused connect is a connect failure", "[redis]") {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  const auto result = run({}, port);
  CHECK(result.failure == probes::ReachFailure::ConnectRefused);
  CHECK(result.layer() == consensus::Layer::Connect);
}
