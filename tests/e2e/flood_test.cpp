// The real daemon under a connection flood: 2,000 idle TCP connections to
// the API and one slow-loris client. Other clients keep their answers within
// a bound, probing keeps its schedule, the slow loris is cut at the request
// deadline. Bounded: every wait has a deadline; about 20 s in all.
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace crosscheck::testing;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t k_idle_connections = 2'000;
// What the test keeps for itself (the harness's fakes, its HTTP requests).
constexpr rlim_t k_own_fds = 256;
// The bound on every answer during the flood.
constexpr auto k_answer_bound = 2s;
constexpr auto k_window = 8s;
// The harness probes 1 target from 3 vantages every 300 ms.
constexpr double k_probes_per_second = 3.0 / 0.3;

// The soft open-files limit raised to the hard one; returns the soft limit.
rlim_t raise_own_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 1024;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  return limit.rlim_cur;
}

// Plain TCP connections to 127.0.0.1:port, closed with the object.
class Connections {
 public:
  Connections() = default;
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;
  Connections(Connections&&) = delete;
  Connections& operator=(Connections&&) = delete;
  ~Connections() { close_all(); }

  // Opens one; its descriptor, or -1. Connect bounded by 2 s.
  int open(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return -1;
    }
    timeval bound{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    fds_.push_back(fd);
    return fd;
  }

  std::size_t size() const { return fds_.size(); }

  void close_all() {
    for (const int fd : fds_) {
      ::close(fd);
    }
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

// True when the server closed `fd` (end of stream or reset) within `wait`.
bool closed_within(int fd, std::chrono::milliseconds wait) {
  pollfd polled{fd, POLLIN, 0};
  if (::poll(&polled, 1, static_cast<int>(wait.count())) <= 0) {
    return false;
  }
  char byte = 0;
  const ssize_t got = ::recv(fd, &byte, 1, MSG_DONTWAIT);
  return got <= 0;
}

// One byte of a request head every second (the head would take minutes)
// until the server closes the connection; records when, from the first byte.
class SlowLoris {
 public:
  explicit SlowLoris(unsigned short port) {
    fd_ = connections_.open(port);
    if (fd_ >= 0) {
      thread_ = std::thread([this] { run(); });
    }
  }
  SlowLoris(const SlowLoris&) = delete;
  SlowLoris& operator=(const SlowLoris&) = delete;
  SlowLoris(SlowLoris&&) = delete;
  SlowLoris& operator=(SlowLoris&&) = delete;
  ~SlowLoris() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  bool connected() const { return fd_ >= 0; }
  // When the server cut it, counted from the first byte; nullopt while not.
  std::optional<std::chrono::milliseconds> cut_after() const {
    return cut_ ? std::optional(std::chrono::milliseconds(cut_after_ms_.load())) : std::nullopt;
  }

 private:
  void run() {
    const std::string head =
        "GET /v1/verdicts HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(600, 'a');
    const auto started = SteadyClock::now();
    for (const char byte : head) {
      if (stop_ || SteadyClock::now() - started > 30s) {
        return;
      }
      const bool sent = ::send(fd_, &byte, 1, MSG_NOSIGNAL) == 1;
      if (!sent || closed_within(fd_, 1s)) {
        cut_after_ms_ =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started)
                .count();
        cut_ = true;
        return;
      }
    }
  }

  Connections connections_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::atomic<std::int64_t> cut_after_ms_{0};
  std::thread thread_;
};

std::optional<double> metric_of(const OracleHarness& oracle, const std::string& series) {
  const auto answer = oracle.get("/metrics");
  return answer.status == 200 ? metric_sample(answer.body, series) : std::nullopt;
}

}  // namespace

TEST_CASE(
    "2,000 idle connections and a slow loris: the API answers others in time and probing "
    "keeps its schedule",
    "[e2e][flood]") {
  const rlim_t open_files = raise_own_open_files_limit();
  const std::size_t idle_count = std::min<std::size_t>(
      k_idle_connections, open_files > 2 * k_own_fds ? open_files - k_own_fds : 0);
  CAPTURE(open_files, idle_count);
  REQUIRE(idle_count >= 1'000);  // a flood worth the name; 2,000 where the hard limit allows

  OracleHarness oracle;
  TempDir dir;
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");
  REQUIRE(OracleHarness::wait_for([&] { return oracle.get("/readyz").status == 200; }, 15s));
  CHECK_THAT(daemon.log(), Catch::Contains("open files: limit"));

  Connections idle;
  while (idle.size() < idle_count && idle.open(oracle.api_port()) >= 0) {
  }
  REQUIRE(idle.size() == idle_count);
  SlowLoris slow_loris(oracle.api_port());
  REQUIRE(slow_loris.connected());
  // The daemon holds them all (accepted, not left in its backlog).
  const bool all_accepted = OracleHarness::wait_for(
      [&] {
        return metric_of(oracle, R"(crosscheck_api_connections_total{result="accepted"})")
                   .value_or(0) >= static_cast<double>(idle_count + 1);
      },
      10s);
  REQUIRE(all_accepted);
  CHECK(metric_of(oracle, "process_open_fds").value_or(0) >= static_cast<double>(idle_count));

  // For k_window: /readyz and /v1/verdicts answer 200 within the bound,
  // every time, and probes start at the configured rate.
  const auto started_before = metric_of(oracle, "crosscheck_probes_started_total");
  REQUIRE(started_before);
  const auto window_start = SteadyClock::now();
  int rounds = 0;
  auto slowest = SteadyClock::duration::zero();
  while (SteadyClock::now() - window_start < k_window) {
    for (const char* target : {"/readyz", "/v1/verdicts"}) {
      const auto sent = SteadyClock::now();
      const auto answer =
          http_request("127.0.0.1", oracle.api_port(), "GET", target, {}, {},
                       std::chrono::duration_cast<std::chrono::milliseconds>(k_answer_bound + 1s));
      const auto took = SteadyClock::now() - sent;
      slowest = std::max(slowest, took);
      INFO(target << " answered " << answer.status << " " << answer.error << " after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
      REQUIRE(answer.status == 200);
      REQUIRE(took < k_answer_bound);
    }
    ++rounds;
    std::this_thread::sleep_for(100ms);
  }
  const auto started_after = metric_of(oracle, "crosscheck_probes_started_total");
  REQUIRE(started_after);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - window_start).count();
  const double probes = *started_after - *started_before;
  const double expected = k_probes_per_second * seconds;
  CAPTURE(rounds, seconds, probes, expected,
          std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count());
  CHECK(rounds >= 10);
  CHECK(probes >= 0.6 * expected);  // on schedule, within a tolerance for a busy CI host
  CHECK(probes <= 1.2 * expected + 3);

  // The slow loris is cut by the request deadline (10 s from its first
  // byte), not by the idle timeout (30 s), and never got an answer.
  REQUIRE(OracleHarness::wait_for([&] { return slow_loris.cut_after().has_value(); }, 10s));
  CHECK(*slow_loris.cut_after() >= 9s);
  CHECK(*slow_loris.cut_after() <= 13s);
  CHECK(metric_of(oracle, R"(crosscheck_api_errors_total{kind="timeout"})").value_or(0) >= 1);
  CHECK(oracle.get("/readyz").status == 200);

  idle.close_all();
  ::kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
}
