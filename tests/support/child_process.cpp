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
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace crosscheck::testing {
namespace {

// A failure shows this much of each program's log: CI shows the last 60
// lines of a failed test's output, and the failure comes after these (with
// two programs or more, the first ones' lines fall out of that view).
constexpr std::size_t k_context_lines = 30;

// The last `count` lines of `text` (all of it when it has fewer).
std::string last_lines(const std::string& text, std::size_t count) {
  // Past a final newline, each newline found going back starts one more line.
  std::size_t end = !text.empty() && text.back() == '\n' ? text.size() - 1 : text.size();
  for (std::size_t lines = 0; lines < count; ++lines) {
    const auto newline = end == 0 ? std::string::npos : text.rfind('\n', end - 1);
    if (newline == std::string::npos) {
      return text;
    }
    end = newline;
  }
  return text.substr(end + 1);
}

// The ports the kernel hands out by itself (bind to port 0, connect), as
// /proc/sys/net/ipv4/ip_local_port_range says; Linux's default without it.
std::pair<int, int> ephemeral_range() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  if (range >> low >> high && 0 < low && low <= high && high <= 65535) {
    return {low, high};
  }
  return {32768, 60999};
}

bool bindable(int type, const sockaddr_in& addr) {
  const int fd = socket(AF_INET, type, 0);
  const bool bound =
      fd >= 0 && bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return bound;
}

// A port the kernel picks for a UDP socket bound to `addr`'s address.
std::optional<unsigned short> kernel_port(sockaddr_in addr) {
  addr.sin_port = 0;
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  socklen_t length = sizeof addr;
  const bool named = udp >= 0 && bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  if (udp >= 0) {
    close(udp);
  }
  return named ? std::optional<unsigned short>(ntohs(addr.sin_port)) : std::nullopt;
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
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + address);
  }
  // Outside the ephemeral range: the larger of the ports from 20000 up to
  // it and those above it, if either holds a thousand.
  const auto [ephemeral_low, ephemeral_high] = ephemeral_range();
  const std::pair<int, int> below{20000, ephemeral_low - 1};
  const std::pair<int, int> above{ephemeral_high + 1, 65535};
  const auto width = [](const std::pair<int, int>& range) { return range.second - range.first; };
  const auto& outside = width(below) >= width(above) ? below : above;
  const bool range_outside = width(outside) >= 1000;
  std::mt19937 pick(std::random_device{}());
  std::uniform_int_distribution<int> port(outside.first, std::max(outside.first, outside.second));
  // Bounded: a handful of candidates, each checked on UDP and TCP.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (range_outside) {
      addr.sin_port = htons(static_cast<unsigned short>(port(pick)));
    } else if (const auto chosen = kernel_port(addr)) {
      // No range outside holds a thousand ports: the kernel's choice, as
      // before (racing outgoing connections again, but working).
      addr.sin_port = htons(*chosen);
    } else {
      continue;
    }
    if (bindable(SOCK_DGRAM, addr) && bindable(SOCK_STREAM, addr)) {
      return ntohs(addr.sin_port);
    }
  }
  throw std::runtime_error("no free port on " + address);
}

}  // namespace crosscheck::testing
