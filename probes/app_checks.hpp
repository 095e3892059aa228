// Protocol-aware checks (layer `app`): redis, postgres and mysql spoken to
// one resolved address, each asking whether the server serves in the role
// the failover needs (docs/checks.md). Each completes exactly once by the
// request's deadline, through the io_context (never inside the call), and
// never throws. What the server said is judged by probes/app_judge.hpp.
#pragma once

#include "config/config.hpp"
#include "consensus/clock.hpp"
#include "probes/reach_result.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace crosscheck::probes {

struct AppRequest {
  config::IpAddress address;                // the resolved address to reach
  std::string host;                         // the target's host name: TLS server name, libpq `host`
  std::optional<config::IpAddress> source;  // the vantage's source address (not libpq)
  std::chrono::steady_clock::time_point deadline;
};

using AppCallback = std::function<void(ReachResult)>;

// PING, then ROLE (and AUTH first when a password file is set) over RESP.
void check_redis(boost::asio::io_context& io, const consensus::Clock& clock,
                 const config::RedisCheck& check, const AppRequest& request, AppCallback done);

// libpq, non-blocking on the io_context: pg_is_in_recovery(), the replay lag
// on a replica, and a write in a temporary table when `writable`.
void check_postgres(boost::asio::io_context& io, const consensus::Clock& clock,
                    const config::PostgresCheck& check, const AppRequest& request,
                    AppCallback done);

// MariaDB Connector/C, non-blocking: replication status, @@global.read_only.
void check_mysql(boost::asio::io_context& io, const consensus::Clock& clock,
                 const config::MysqlCheck& check, const AppRequest& request, AppCallback done);

}  // namespace crosscheck::probes
