// Asynchronous TCP connect checks: can this vantage open a connection to
// one resolved address within the deadline? Exactly one completion.
#pragma once

#include "config/types.hpp"
#include "consensus/clock.hpp"
#include "probes/reach_result.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace crosscheck::probes {

struct TcpRequest {
  config::IpAddress address;
  std::uint16_t port = 0;
  std::optional<config::IpAddress> source;  // bind to this local address
  std::chrono::steady_clock::time_point deadline;
};

using TcpCallback = std::function<void(ReachResult)>;

// Connects (binding `source` first when set), closes at once, and calls
// `done` exactly once by the deadline. Never throws.
// `clock` measures the latency.
void check_tcp(boost::asio::io_context& io, const consensus::Clock& clock,
               const TcpRequest& request, TcpCallback done);

}  // namespace crosscheck::probes
