// What the system tests against real resolvers (dnsmasq, unbound) share:
// one A query through the real DNS client, a bounded wait until a resolver
// the test started answers at all, and starting an unbound.
#pragma once

#include "net/system_clock.hpp"
#include "probes/dns_client.hpp"
#include "support/child_process.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
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

inline std::string unbound_binary() {
  for (const char* path : {"/usr/sbin/unbound", "/usr/bin/unbound"}) {
    if (std::filesystem::exists(path)) {
      return path;
    }
  }
  return "unbound";
}

// An unbound in the foreground, configured by `server_lines` ("  key: value"
// lines under server:: interface, port, access-control, local-data; they
// may end with a clause of their own, auth-zone: or stub-zone:) after
// what every test needs: no daemon, chroot, user or syslog, IPv4 only,
// `modules` (the iterator alone unless a test validates) and `local-zone:
// "." static`, so it never asks anyone else. Its config and log are
// dir/NAME.conf and dir/NAME.log.
inline std::unique_ptr<ChildProcess> start_unbound(const std::filesystem::path& dir,
                                                   const std::string& name,
                                                   const std::string& server_lines,
                                                   const std::string& modules = "iterator") {
  const auto config = dir / (name + ".conf");
  std::ofstream(config) << "server:\n"
                        << "  do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n"
                        << "  username: \"\"\n  chroot: \"\"\n  pidfile: \"\"\n"
                        << "  directory: \"" << dir.string() << "\"\n"
                        << "  do-ip6: no\n  ede: yes\n  module-config: \"" << modules << "\"\n"
                        << "  local-zone: \".\" static\n"
                        << server_lines << "remote-control:\n  control-enable: no\n";
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{unbound_binary(), "-d", "-c", config.string()},
      dir / (name + ".log"));
}

}  // namespace crosscheck::testing
