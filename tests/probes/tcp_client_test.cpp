#include "probes/tcp_client.hpp"
#include "net/system_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <memory>

using namespace crosscheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const net::SystemClock k_system_clock;

probes::ReachResult connect(asio::io_context& io, const std::string& address, std::uint16_t port,
                            std::chrono::milliseconds budget = 1s,
                            std::optional<config::IpAddress> source = std::nullopt,
                            const consensus::Clock& clock = k_system_clock) {
  probes::ReachResult out;
  bool called = false;
  probes::TcpRequest request{*config::IpAddress::parse(address), port, source,
                             std::chrono::steady_clock::now() + budget};
  probes::check_tcp(io, clock, request, [&](probes::ReachResult result) {
    CHECK_FALSE(called);  // exactly one completion
    called = true;
    out = std::move(result);
  });
  io.restart();
  io.run();
  CHECK(called);
  return out;
}

}  // namespace

TEST_CASE("a listening port is up", "[tcp]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  const auto result = connect(io, "127.0.0.1", port);
  CHECK(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.detail == "tcp: connected to 127.0.0.1:" + std::to_string(port));
}

TEST_CASE("a closed port is down with connection refused", "[tcp]") {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  const auto result = connect(io, "127.0.0.1", port);
  CHECK_FALSE(result.up());
  CHECK_FALSE(result.observer_error());
  CHECK(result.failure == probes::ReachFailure::ConnectRefused);
  CHECK(result.detail == "connect: 127.0.0.1:" + std::to_string(port) + " connection refused");
}

TEST_CASE("a connect that gets no answer times out by the deadline", "[tcp]") {
  // A listener with a backlog of 0 whose queue is already full drops new
  // SYNs: the connect hangs until our deadline, all on loopback.
  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(local.protocol());
  acceptor.bind(local);
  acceptor.listen(0);
  const auto port = acceptor.local_endpoint().port();
  std::vector<std::unique_ptr<tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(std::make_unique<tcp::socket>(io));
    fillers.back()->open(tcp::v4());
    fillers.back()->non_blocking(true);
    // A raw non-blocking connect: Asio's synchronous connect would wait.
    const tcp::endpoint target(local.address(), port);
    ::connect(fillers.back()->native_handle(), target.data(),
              static_cast<socklen_t>(target.size()));
  }
  const auto started = std::chrono::steady_clock::now();
  const auto result = connect(io, "127.0.0.1", port, 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(result.up());
  CHECK(result.failure == probes::ReachFailure::ConnectTimeout);
  CHECK(result.detail == "connect: 127.0.0.1:" + std::to_string(port) + " timed out");
  CHECK(elapsed >= 290ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("a source address this host does not have is the observer's error", "[tcp]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // 192.0.2.1 (TEST-NET-1) is not configured here: bind fails locally and
  // nothing is ever sent.
  const auto result = connect(io, "127.0.0.1", acceptor.local_endpoint().port(), 1s,
                              config::IpAddress::parse("192.0.2.1"));
  CHECK_FALSE(result.up());
  CHECK(result.observer_error());
  CHECK(result.failure == probes::ReachFailure::Observer);
  CHECK_THAT(result.detail, Catch::StartsWith("observer: cannot connect from this host to "));
}

TEST_CASE("binding a loopback source address works", "[tcp]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto result = connect(io, "127.0.0.1", acceptor.local_endpoint().port(), 1s,
                              config::IpAddress::parse("127.0.0.9"));
  CHECK(result.up());
}

TEST_CASE("latency is measured on the injected clock, not read from the machine", "[tcp]") {
  // A clock that stands still: however long the real connect took, the
  // latency it measures is exactly zero. The daemon's clock is the steady
  // clock (a loopback connect: a fraction of a millisecond, never zero).
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  const consensus::ManualClock frozen(consensus::WallTime{consensus::Duration{1'700'000'000'000}});
  const auto still = connect(io, "127.0.0.1", port, 1s, std::nullopt, frozen);
  REQUIRE(still.up());
  CHECK(still.latency_ms == 0.0);
  const auto real = connect(io, "127.0.0.1", port);
  REQUIRE(real.up());
  CHECK(real.latency_ms > 0.0);
}
