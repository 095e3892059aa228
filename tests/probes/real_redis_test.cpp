// The redis check against real redis-server processes on loopback: a
// primary and its replica, roles flipped with REPLICAOF, a password, and a
// primary gone. Each verdict of the check as a failover script would need it.
#include "support/real_redis.hpp"
#include "net/system_clock.hpp"
#include "probes/app_checks.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

using namespace crosscheck;
using namespace std::chrono_literals;
using config::ServerRole;
using probes::ReachFailure;
using testing::RealRedis;

namespace {

const net::SystemClock k_clock;

probes::ReachResult probe(unsigned short port, ServerRole role,
                          const std::optional<std::filesystem::path>& password_file = {}) {
  boost::asio::io_context io;
  config::RedisCheck check;
  check.port = port;
  check.role = role;
  check.password_file = password_file;
  probes::ReachResult out;
  int calls = 0;
  const probes::AppRequest request{*config::IpAddress::parse("127.0.0.1"), "127.0.0.1",
                                   config::IpAddress::parse("127.0.0.1"),
                                   std::chrono::steady_clock::now() + 2s};
  probes::check_redis(io, k_clock, check, request, [&](probes::ReachResult result) {
    ++calls;
    out = std::move(result);
  });
  io.run();
  CHECK(calls == 1);
  return out;
}

}  // namespace

TEST_CASE("real redis: a primary and its replica each answer their role", "[system][redis]") {
  RealRedis primary;
  RealRedis replica("", primary.port());
  REQUIRE(RealRedis::wait_for(
      [&] { return replica.cli({"ROLE"}).find("connected") != std::string::npos; }));

  CHECK(probe(primary.port(), ServerRole::Primary).up());
  CHECK(probe(replica.port(), ServerRole::Replica).up());
  CHECK(probe(replica.port(), ServerRole::Any).up());
  const auto wrong = probe(replica.port(), ServerRole::Primary);
  CHECK(wrong.failure == ReachFailure::AppRole);
  CHECK(wrong.outcome() == consensus::Outcome::Down);
  CHECK(wrong.detail.find("is a replica (replica of 127.0.0.1:" + std::to_string(primary.port()) +
                          ", link connected); role primary wanted") != std::string::npos);

  SECTION("promoted, the replica is the primary") {
    replica.cli({"REPLICAOF", "NO", "ONE"});
    CHECK(probe(replica.port(), ServerRole::Primary).up());
    CHECK(probe(replica.port(), ServerRole::Replica).failure == ReachFailure::AppRole);
  }
  SECTION("its primary gone, a replica does not replicate") {
    primary.stop();
    REQUIRE(RealRedis::wait_for(
        [&] { return replica.cli({"ROLE"}).find("connected") == std::string::npos; }));
    const auto stale = probe(replica.port(), ServerRole::Replica);
    CHECK(stale.failure == ReachFailure::AppLag);
    CHECK(probe(primary.port(), ServerRole::Primary).failure == ReachFailure::ConnectRefused);
  }
}

TEST_CASE("real redis: our password, right, wrong and missing", "[system][redis]") {
  RealRedis server("right-password");
  const auto dir = std::filesystem::temp_directory_path();
  const auto right = dir / ("crosscheck-redis-right-" + std::to_string(::getpid()));
  const auto wrong = dir / ("crosscheck-redis-wrong-" + std::to_string(::getpid()));
  std::ofstream(right) << "right-password\n";
  std::ofstream(wrong) << "wrong-password\n";

  CHECK(probe(server.port(), ServerRole::Primary, right).up());
  const auto refused = probe(server.port(), ServerRole::Primary, wrong);
  CHECK(refused.failure == ReachFailure::ObserverAuth);
  CHECK(refused.outcome() == consensus::Outcome::ObserverError);
  CHECK(refused.detail.find("refused our credentials (AUTH answered WRONGPASS") !=
        std::string::npos);
  CHECK(refused.detail.find("wrong-password") == std::string::npos);
  const auto missing = probe(server.port(), ServerRole::Primary);
  CHECK(missing.failure == ReachFailure::ObserverAuth);
  CHECK(missing.detail.find("(PING): NOAUTH") != std::string::npos);
  std::filesystem::remove(right);
  std::filesystem::remove(wrong);
}
