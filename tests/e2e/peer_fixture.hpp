// What the peer e2e tests share: a /metrics reader and the harness's oracle
// with one peer `bad-peer` configured, run by the real binary.
#pragma once

#include "oracle_harness.hpp"
#include "support/child_process.hpp"

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::testing {

// The value of one series (name and labels exactly as exposed), if present.
inline std::optional<double> metric(const OracleHarness& oracle, const std::string& series) {
  return metric_sample(oracle.get("/metrics").body, series);
}

// The oracle harness's config (3 local domains judging `web`) plus one peer
// `bad-peer` at `url`, run by the real binary.
class OracleWithPeer {
 public:
  // `extra`: more keys for the peer's entry, e.g. ", domains: [x, y]".
  explicit OracleWithPeer(const std::string& url, const std::string& extra = "",
                          const std::string& unreachable_after = "1s") {
    std::ofstream(dir.path() / "peer-key") << "shared-peer-secret\n";
    oracle.append_config("peers:\n  - { name: bad-peer, url: \"" + url +
                         "\", key_file: " + (dir.path() / "peer-key").string() +
                         ", unreachable_after: " + unreachable_after + extra + " }\n");
    daemon = std::make_unique<ChildProcess>(
        std::vector<std::string>{CROSSCHECK_BINARY, "run", "--config",
                                 oracle.config_path().string()},
        dir.path() / "daemon.log");
  }
  OracleWithPeer(const OracleWithPeer&) = delete;
  OracleWithPeer& operator=(const OracleWithPeer&) = delete;
  OracleWithPeer(OracleWithPeer&&) = delete;
  OracleWithPeer& operator=(OracleWithPeer&&) = delete;
  ~OracleWithPeer() = default;

  std::string log() const { return daemon->log(); }
  int stop() {
    ::kill(daemon->pid(), SIGTERM);
    return daemon->wait(std::chrono::seconds(10));
  }

  OracleHarness oracle;
  TempDir dir;
  std::unique_ptr<ChildProcess> daemon;
};

}  // namespace crosscheck::testing
