// The judgement of protocol checks (probes/app_judge.hpp), apart from I/O:
// role, lag and writability against what a target asks, and redis replies,
// each failure typed (outcome, layer) and described.
#include "probes/app_judge.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck;
using namespace crosscheck::probes;
using namespace std::chrono_literals;
using config::ServerRole;
using consensus::Layer;
using consensus::Outcome;

namespace {

resp::Value reply(std::string_view text) {
  const auto parsed = resp::parse(text);
  REQUIRE(parsed.value);
  return *parsed.value;
}

const std::string k_master_role = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
const std::string k_replica_role =
    "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:14\r\n";

}  // namespace

TEST_CASE("a server in the wanted role is up, and the detail says which", "[app]") {
  ServerFacts primary;
  primary.role_text = "not in recovery";
  primary.writable = true;
  const auto up = judge_server("postgres", "127.0.0.1:5432",
                               AppJudgement{ServerRole::Primary, true, std::nullopt}, primary);
  CHECK(up.up());
  CHECK(up.detail == "postgres: 127.0.0.1:5432 primary (not in recovery), writable");

  ServerFacts replica;
  replica.replica = true;
  replica.lag_seconds = 0.25;
  const auto lagging_ok = judge_server("mysql", "127.0.0.1:3306",
                                       AppJudgement{ServerRole::Replica, false, 5s}, replica);
  CHECK(lagging_ok.up());
  CHECK(lagging_ok.detail == "mysql: 127.0.0.1:3306 replica, lag 0.2s");
  CHECK(judge_server("mysql", "x", AppJudgement{}, replica).up());  // any role
}

TEST_CASE("role, lag and writes fail typed, at layer app, as down votes", "[app]") {
  ServerFacts replica;
  replica.replica = true;
  replica.role_text = "in recovery";
  replica.lag_seconds = 12.04;
  const auto role = judge_server("postgres", "10.0.0.7:5432",
                                 AppJudgement{ServerRole::Primary, false, std::nullopt}, replica);
  CHECK(role.failure == ReachFailure::AppRole);
  CHECK(role.outcome() == Outcome::Down);
  CHECK(role.layer() == Layer::App);
  CHECK(role.detail == "postgres: 10.0.0.7:5432 is a replica (in recovery); role primary wanted");

  const auto lag = judge_server("postgres", "10.0.0.7:5432",
                                AppJudgement{ServerRole::Replica, false, 5s}, replica);
  CHECK(lag.failure == ReachFailure::AppLag);
  CHECK(lag.detail == "postgres: 10.0.0.7:5432 replica lags 12.0s; max_replica_lag 5s");

  ServerFacts stopped = replica;
  stopped.replicating = false;
  CHECK(judge_server("mysql", "x", AppJudgement{ServerRole::Replica, false, 5s}, stopped).failure ==
        ReachFailure::AppLag);
  ServerFacts silent = replica;
  silent.lag_seconds.reset();
  CHECK(
      judge_server("mysql", "x", AppJudgement{ServerRole::Replica, false, 1500ms}, silent).detail ==
      "mysql: x is a replica that does not report its lag");

  ServerFacts primary;
  CHECK(judge_server("mysql", "x", AppJudgement{ServerRole::Replica, false, std::nullopt}, primary)
            .failure == ReachFailure::AppRole);
  primary.writable = false;
  primary.write_refusal = "read_only is ON";
  const auto read_only =
      judge_server("mysql", "127.0.0.1:3306", AppJudgement{ServerRole::Primary, true, {}}, primary);
  CHECK(read_only.failure == ReachFailure::AppReadOnly);
  CHECK(read_only.outcome() == Outcome::Down);
  CHECK(read_only.detail == "mysql: 127.0.0.1:3306 refuses writes: read_only is ON");
  // Not asked for writes: read-only is fine.
  CHECK(judge_server("mysql", "x", AppJudgement{ServerRole::Primary, false, {}}, primary).up());
}

TEST_CASE("redis replies are judged for role, readiness and our credentials", "[app][redis]") {
  config::RedisCheck master;
  master.role = ServerRole::Primary;
  const auto up =
      judge_redis("127.0.0.1:6379", master, false, {reply("+PONG\r\n"), reply(k_master_role)});
  CHECK(up.up());
  CHECK(up.detail == "redis: 127.0.0.1:6379 primary (master)");

  const auto replica =
      judge_redis("127.0.0.1:6380", master, false, {reply("+PONG\r\n"), reply(k_replica_role)});
  CHECK(replica.failure == ReachFailure::AppRole);
  CHECK(replica.detail ==
        "redis: 127.0.0.1:6380 is a replica (replica of 127.0.0.1:6379, link "
        "connected); role primary wanted");

  config::RedisCheck wants_replica;
  wants_replica.role = ServerRole::Replica;
  const std::string broken_link =
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$7\r\nconnect\r\n:-1\r\n";
  CHECK(judge_redis("x", wants_replica, false, {reply("+PONG\r\n"), reply(broken_link)}).failure ==
        ReachFailure::AppLag);
  CHECK(judge_redis("x", wants_replica, false, {reply("+PONG\r\n"), reply(k_replica_role)}).up());

  // Our credentials: an observer error, never a down vote.
  const auto wrong =
      judge_redis("127.0.0.1:6379", master, true,
                  {reply("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
                   reply("-NOAUTH Authentication required.\r\n"),
                   reply("-NOAUTH Authentication required.\r\n")});
  CHECK(wrong.failure == ReachFailure::ObserverAuth);
  CHECK(wrong.outcome() == Outcome::ObserverError);
  CHECK(wrong.detail ==
        "observer: redis 127.0.0.1:6379 refused our credentials (AUTH answered "
        "WRONGPASS; the text is not shown, it may quote the password)");
  // A server with AUTH renamed quotes our password in its error: never shown.
  const auto renamed = judge_redis(
      "x", master, true,
      {reply("-ERR unknown command 'AUTH', with args beginning with: 'secretpw123' \r\n"),
       reply("-NOAUTH Authentication required.\r\n"),
       reply("-NOAUTH Authentication required.\r\n")});
  CHECK(renamed.failure == ReachFailure::ObserverAuth);
  CHECK(renamed.detail.find("secretpw123") == std::string::npos);
  CHECK(judge_redis("x", master, false,
                    {reply("-NOAUTH Authentication required.\r\n"),
                     reply("-NOAUTH Authentication required.\r\n")})
            .failure == ReachFailure::ObserverAuth);
  CHECK(judge_redis("x", master, false,
                    {reply("+PONG\r\n"), reply("-NOPERM this user has no permissions\r\n")})
            .failure == ReachFailure::ObserverAuth);

  // The server's own trouble: down.
  const auto loading = judge_redis("x", master, false,
                                   {reply("-LOADING Redis is loading the dataset in memory\r\n"),
                                    reply("-LOADING Redis is loading the dataset in memory\r\n")});
  CHECK(loading.failure == ReachFailure::AppError);
  CHECK(loading.outcome() == Outcome::Down);
  CHECK(loading.detail ==
        "redis: x answered PING with an error: LOADING Redis is loading the dataset in memory");
  CHECK(judge_redis("x", master, false, {reply("+PONG\r\n"), reply("*1\r\n$8\r\nsentinel\r\n")})
            .detail == "redis: x is a Sentinel, not a data server");
  CHECK(judge_redis("x", master, false, {reply(":1\r\n"), reply(k_master_role)}).detail ==
        "redis: x protocol error: unexpected PING reply 1");
  CHECK(judge_redis("x", master, false, {reply("+PONG\r\n")}).failure == ReachFailure::AppError);
}
