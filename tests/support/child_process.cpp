#include "support/child_process.hpp"

#include "support/failure_context.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace crosscheck::testing {
namespace {

// A failure shows this much of each program's log (CI shows the last 60
// lines of a failed test's output: the failure itself comes after these).
constexpr std::size_t k_context_lines = 30;

std::string last_lines(const std::string& text, std::size_t count) {
  std::size_t at = text.size();
  for (std::size_t seen = 0; at > 0 && seen <= count;) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) {
      return text;
    }
    ++seen;
  }
  return text.substr(at + 1);
}

// The lowest port the kernel hands out by itself (bind to port 0, connect).
int ephemeral_low() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return range >> low ? low : 32768;
}

bool bindable(int type, const sockaddr_in& addr) {
  const int fd = socket(AF_INET, type, 0);
  const bool free = fd >= 0 && bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return free;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log)
    : log_(std::move(log)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);
  const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  add_failure_context(this, [this, program = argv[0], pid = pid_] {
    return "--- the last lines " + program + " (pid " + std::to_string(pid) + ") printed, in " +
           log_.string() + ":\n" + last_lines(this->log(), k_context_lines);
  });
}

ChildProcess::~ChildProcess() {
  remove_failure_context(this);
  stop();
}

bool ChildProcess::running() {
  if (pid_ <= 0) {
    return false;
  }
  if (waitpid(pid_, &status_, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::stop() {
  if (!running()) {
    return status_;
  }
  kill(pid_, SIGTERM);
  // Bounded: 300 polls of 10 ms; then it is killed.
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  pid_ = -1;
  return status_;
}

int ChildProcess::wait(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (running() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return stop();
}

std::string ChildProcess::log() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TempDir::TempDir()
    : path_(std::filesystem::temp_directory_path() /
            ("crosscheck-test-" + std::to_string(getpid()) + "-" +
             std::to_string(std::random_device{}()))) {
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TempFile::TempFile(const std::string& name, const std::string& content)
    : path_((dir_.path() / name).string()) {
  std::ofstream(path_) << content;
}

unsigned short free_port(const std::string& address) {
  // Below the ephemeral range, above the well-known and registered ports
  // services on a test machine tend to use.
  const int high = std::min(ephemeral_low(), 65536) - 1;
  const int low = std::min(20000, high - 1000);
  if (low < 1024) {
    throw std::runtime_error("no port range below the ephemeral one on this machine");
  }
  std::mt19937 pick(std::random_device{}());
  std::uniform_int_distribution<int> port(low, high);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + address);
  }
  // Bounded: a handful of candidates, each checked on UDP and TCP.
  for (int attempt = 0; attempt < 50; ++attempt) {
    addr.sin_port = htons(static_cast<unsigned short>(port(pick)));
    if (bindable(SOCK_DGRAM, addr) && bindable(SOCK_STREAM, addr)) {
      return ntohs(addr.sin_port);
    }
  }
  throw std::runtime_error("no free port on " + address);
}

}  // namespace crosscheck::testing
