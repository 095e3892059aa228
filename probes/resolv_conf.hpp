// `resolver: system`: the nameservers of /etc/resolv.conf, re-read when the
// file changes (DHCP, NetworkManager and systemd-resolved rewrite it).
#pragma once

#include "config/types.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes {

struct ResolvConf {
  std::vector<config::Endpoint> nameservers;  // port 53, in file order
  std::vector<std::string> problems;          // lines that could not be used
};

// Parses resolv.conf text: "nameserver ADDR" lines; comments (# and ;) and
// other options are ignored; an IPv6 address with a zone ("fe80::1%eth0")
// is reported as a problem and skipped.
ResolvConf parse_resolv_conf(std::string_view text);

// Reads a resolv.conf file and re-reads it only when its modification time
// or size changed since the last call. Not thread-safe; one per prober.
class SystemResolvers {
 public:
  explicit SystemResolvers(std::filesystem::path file = "/etc/resolv.conf");

  // The current nameservers; empty when the file is missing or lists none.
  const std::vector<config::Endpoint>& current();
  const std::vector<std::string>& problems() const { return parsed_.problems; }
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
  bool loaded_ = false;
  ResolvConf parsed_;
};

}  // namespace crosscheck::probes

#include "config/config.hpp"
#include "probes/chain.hpp"

namespace crosscheck::probes {

// The vantage with its resolver settled: its configured resolver, or for
// `resolver: system` the first nameserver of resolv.conf (none: nullopt,
// which the chain reports as an observer error). A DoT vantage carries `tls`,
// its make_dot_transport() built once by the caller; without one it is built
// here (a one-shot probe).
VantageEndpoint settle_vantage(const config::VantageConfig& vantage, SystemResolvers& system,
                               std::shared_ptr<const DotTransport> tls = nullptr);

}  // namespace crosscheck::probes
