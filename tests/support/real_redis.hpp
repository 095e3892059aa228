// A real redis-server for system tests: on 127.0.0.1 at a free port, its
// own directory, no persistence, run as `nobody` when the tests run as root
// (a server the tests start must not run privileged). Stopped with the
// fixture. Commands go through redis-cli, bounded by its own timeout.
#pragma once

#include "support/child_process.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace crosscheck::testing {

class RealRedis {
 public:
  // `password`: requirepass; `replica_of`: the port of a primary on 127.0.0.1.
  explicit RealRedis(const std::string& password = "",
                     std::optional<unsigned short> replica_of = std::nullopt)
      : port_(free_port("127.0.0.1")), password_(password) {
    std::vector<std::string> argv = as_unprivileged();
    for (const std::string& word :
         {std::string("redis-server"), std::string("--port"), std::to_string(port_),
          std::string("--bind"), std::string("127.0.0.1"), std::string("--save"), std::string(""),
          std::string("--appendonly"), std::string("no"), std::string("--dir"),
          dir_.path().string(), std::string("--daemonize"), std::string("no"),
          // A replica's first sync starts at once, not after the default
          // 5 s wait for more replicas to share it.
          std::string("--repl-diskless-sync-delay"), std::string("0")}) {
      argv.push_back(word);
    }
    if (!password.empty()) {
      argv.insert(argv.end(), {"--requirepass", password, "--masterauth", password});
    }
    if (replica_of) {
      argv.insert(argv.end(), {"--replicaof", "127.0.0.1", std::to_string(*replica_of)});
    }
    if (::geteuid() == 0) {
      chown_to_nobody(dir_.path());
    }
    process_.emplace(argv, dir_.path() / "redis.log");
    if (!wait_for([this] { return cli({"PING"}).find("PONG") != std::string::npos; })) {
      throw std::runtime_error("redis-server did not start:\n" + process_->log());
    }
  }

  unsigned short port() const { return port_; }

  // redis-cli's output for one command ("" when it failed).
  std::string cli(const std::vector<std::string>& command) const {
    std::string line =
        "timeout 5 redis-cli --no-auth-warning -h 127.0.0.1 -p " + std::to_string(port_);
    if (!password_.empty()) {
      line += " -a '" + password_ + "'";
    }
    for (const auto& word : command) {
      line += " '" + word + "'";
    }
    line += " 2>&1";
    std::string out;
    if (FILE* pipe = ::popen(line.c_str(), "r")) {
      std::array<char, 512> buffer{};
      while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
        out += buffer.data();
      }
      ::pclose(pipe);
    }
    return out;
  }

  // Waits (5 s at most, 50 ms steps) for `ready`.
  template <typename Ready>
  static bool wait_for(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void stop() { process_->stop(); }

 private:
  static std::vector<std::string> as_unprivileged() {
    if (::geteuid() != 0) {
      return {};
    }
    return {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
  }

  static void chown_to_nobody(const std::filesystem::path& dir) {
    const std::string line = "chown nobody:nogroup '" + dir.string() + "'";
    if (std::system(line.c_str()) != 0) {
      throw std::runtime_error("cannot chown " + dir.string());
    }
  }

  TempDir dir_;
  unsigned short port_;
  std::string password_;
  std::optional<ChildProcess> process_;
};

}  // namespace crosscheck::testing
