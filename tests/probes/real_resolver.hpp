// What the system tests against real resolvers (dnsmasq, unbound) share:
// one A query through the real DNS client, and a bounded wait until a
// resolver the test started answers at all.
#pragma once

#include "net/system_clock.hpp"
#include "probes/dns_client.hpp"
#include "support/child_process.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace crosscheck::testing {

// One A query for `name` to `server`, 300 ms deadline.
inline probes::DnsResult query_a(const config::Endpoint& server, const std::string& name) {
  using namespace std::chrono_literals;
  boost::asio::io_context io;
  probes::DnsResult out;
  probes::DnsRequest request;
  request.server = server;
  request.name = name;
  request.type = config::RrType::A;
  request.deadline = std::chrono::steady_clock::now() + 300ms;
  const net::SystemClock clock;
  probes::query_dns(io, clock, request,
                    [&out](probes::DnsResult result) { out = std::move(result); });
  io.run();
  return out;
}

// Polls `name` until the resolver answers at all, with a 5 s deadline (a
// refused query returns at once, so pause briefly between tries).
inline bool wait_until_serving(const config::Endpoint& server, ChildProcess& process,
                               const std::string& name) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && process.running()) {
    if (query_a(server, name).rcode >= 0) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace crosscheck::testing
