// The judgement of a protocol check, apart from its I/O: what the server
// said about itself (its role, replication, writability) against what the
// target asks (role, writable, max_replica_lag). Plain values; no I/O.
#pragma once

#include "config/config.hpp"
#include "probes/reach_result.hpp"
#include "probes/resp.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::probes {

// What one server said about itself.
struct ServerFacts {
  bool replica = false;  // it follows a primary
  // How the server names its role, for the detail: "master", "in recovery".
  std::string role_text;
  // A replica's replication: running (its link to the primary is up) and,
  // when the server says, how far behind it is, in seconds.
  bool replicating = true;
  // mysql: replication is configured and neither thread runs (or connects).
  bool replication_stopped = false;
  std::optional<double> lag_seconds;
  // Writability, when the check asked: false for read_only, a refused write.
  std::optional<bool> writable;
  std::string write_refusal;  // the server's words when a write was refused
};

struct AppJudgement {
  config::ServerRole wanted = config::ServerRole::Any;
  bool writable = false;  // the target asks for writes
  std::optional<config::Duration> max_replica_lag;
};

// Up or the typed failure, with its detail: "postgres: 127.0.0.1:5432 is a
// replica (in recovery); role primary wanted" (AppRole), "... refuses writes:
// ..." (AppReadOnly), "... replica lags 12.0s; max_replica_lag 5s" (AppLag),
// "postgres: 127.0.0.1:5432 primary, writable" (up). `protocol` is "redis",
// "postgres" or "mysql"; `where` the address and port.
ReachResult judge_server(std::string_view protocol, std::string_view where,
                         const AppJudgement& judgement, const ServerFacts& facts);

// A redis check's replies, in the order sent: AUTH's when `sent_auth`, then
// PING's and ROLE's. WRONGPASS, NOAUTH and NOPERM are ObserverAuth (our
// credentials or our user's rights); LOADING, MASTERDOWN and other errors
// AppError; a Sentinel answers AppError; then judge_server on the role.
ReachResult judge_redis(std::string_view where, const config::RedisCheck& check, bool sent_auth,
                        const std::vector<resp::Value>& replies);

// The judgement a check asks for.
AppJudgement judgement_of(const config::RedisCheck& check);
AppJudgement judgement_of(const config::PostgresCheck& check);
AppJudgement judgement_of(const config::MysqlCheck& check);

// A failure with its detail "<protocol>: <where> <what>".
ReachResult app_failed(ReachFailure failure, std::string_view protocol, std::string_view where,
                       std::string_view what);

}  // namespace crosscheck::probes
