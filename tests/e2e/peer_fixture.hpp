// What the peer e2e tests share: a /metrics reader and the harness's oracle
// with one peer `bad-peer` configured, run by the real binary.
#pragma once

#include "oracle_harness.hpp"
#include "peers/auth.hpp"
#include "support/child_process.hpp"
#include "support/fake_http_server.hpp"

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

// Signs `answer` as bad-peer's genuine reply to the pull `request` (the
// shared key, bound to the pull's node, timestamp and nonce).
inline void sign_as_bad_peer(FakeResponse& answer, const RecordedRequest& request) {
  answer.headers.emplace_back(
      "X-Crosscheck-Reply-Signature",
      peers::sign_peer_reply(
          "shared-peer-secret",
          {"bad-peer", request.header("X-Crosscheck-Node"),
           request.header("X-Crosscheck-Timestamp"), request.header("X-Crosscheck-Nonce")},
          answer.body));
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
