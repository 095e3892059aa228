// bench/probe_throughput: the cost of a DNS probe. Starts a local dnsmasq,
// probes N targets x M vantages through crosscheck's real prober for a
// while, and prints probes/second, CPU microseconds per probe and peak RSS.
// In the same run it measures dnsperf against the same server and dnsmasq's
// own CPU per query, and prints our cost as ratios of those references.
// Loopback only; bounded in time. Not a test: it never fails on a figure.
#include "config/config.hpp"
#include "daemon/system_clock.hpp"
#include "probes/prober.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace crosscheck;
using namespace std::chrono_literals;

struct Options {
  int targets = 1'000;
  int vantages = 5;
  int interval_ms = 1'000;
  int seconds = 10;
  std::string address = "127.0.0.81";
  int port = 5381;
};

double cpu_seconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) {
      utime = std::stod(field);
    } else if (i == 15) {
      stime = std::stod(field);
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

config::Config bench_config(const Options& options) {
  config::Config config;
  config.node.name = "bench";
  config.probing.max_in_flight = 4'096;
  config.probing.max_per_second = 1'000'000;
  for (int v = 0; v < options.vantages; ++v) {
    config::VantageConfig vantage;
    vantage.name = "v" + std::to_string(v);
    vantage.domain = vantage.name;
    vantage.resolver = config::Endpoint{*config::IpAddress::parse(options.address),
                                        static_cast<std::uint16_t>(options.port)};
    config.vantages.push_back(vantage);
  }
  for (int t = 0; t < options.targets; ++t) {
    config::TargetConfig target;
    target.name = "t" + std::to_string(t);
    target.dns = config::DnsCheck{"t" + std::to_string(t) + ".bench.test", config::RrType::A, 1, {}};
    target.timing.interval = std::chrono::milliseconds(options.interval_ms);
    target.timing.timeout = std::chrono::milliseconds(std::min(options.interval_ms / 2, 2'000));
    config.targets.push_back(target);
  }
  return config;
}

struct OurFigures {
  std::uint64_t probes = 0;
  std::uint64_t up = 0;
  std::uint64_t skipped = 0;
  double seconds = 0;
  double cpu = 0;
  double user = 0;
  double sys = 0;
  long peak_rss_kb = 0;
};

OurFigures run_prober(const Options& options) {
  boost::asio::io_context io;
  daemon::SystemClock clock;
  OurFigures figures;
  auto config = std::make_shared<const config::Config>(bench_config(options));
  probes::Prober prober(io, config, clock, 1, [&figures](const probes::ProbeReport& report) {
    ++figures.probes;
    figures.up += report.observation.outcome == consensus::Outcome::Up ? 1 : 0;
  });
  // Warm up one interval, then measure.
  prober.start();
  io.run_for(std::chrono::milliseconds(options.interval_ms));
  const auto probes_before = figures.probes;
  const auto up_before = figures.up;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(options.seconds));
  const auto end = std::chrono::steady_clock::now();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  prober.stop();
  io.run_for(3s);
  figures.probes -= probes_before;
  figures.up -= up_before;
  figures.user = static_cast<double>(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                 static_cast<double>(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6;
  figures.seconds = std::chrono::duration<double>(end - start).count();
  figures.cpu = cpu_seconds(after) - cpu_seconds(before);
  figures.sys = figures.cpu - figures.user;
  figures.peak_rss_kb = after.ru_maxrss;
  figures.skipped = prober.counters().skipped;
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--targets") {
      options.targets = value;
    } else if (flag == "--vantages") {
      options.vantages = value;
    } else if (flag == "--interval-ms") {
      options.interval_ms = value;
    } else if (flag == "--seconds") {
      options.seconds = value;
    } else {
      std::cerr << "usage: probe_throughput [--targets N] [--vantages M] [--interval-ms I] "
                   "[--seconds S]\n";
      return 2;
    }
  }
  const auto dir = std::filesystem::temp_directory_path() / "crosscheck-bench";
  std::filesystem::create_directories(dir);
  const std::string dnsmasq = std::filesystem::exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq";
  const pid_t server = spawn({dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                              "--conf-file=/dev/null", "--bind-interfaces",
                              "--listen-address=" + options.address,
                              "--port=" + std::to_string(options.port),
                              "--address=/bench.test/192.0.2.1", "--local-ttl=60",
                              "--cache-size=10000", "--pid-file=", "--user=root"},
                             (dir / "dnsmasq.log").string());
  if (server < 0) {
    std::cerr << "cannot start dnsmasq (apt-get install dnsmasq-base)\n";
    return 1;
  }
  std::this_thread::sleep_for(300ms);  // a benchmark, not a test: a fixed settle is fine

  const double server_cpu_before = process_cpu_seconds(server);
  const auto ours = run_prober(options);
  const double server_cpu_ours = process_cpu_seconds(server) - server_cpu_before;

  // dnsperf against the same server at about the same query rate.
  std::ofstream queries(dir / "queries.txt");
  for (int t = 0; t < std::min(options.targets, 10'000); ++t) {
    queries << "t" << t << ".bench.test A\n";
  }
  queries.close();
  const double rate = static_cast<double>(ours.probes) / std::max(ours.seconds, 1e-9);
  double dnsperf_cpu_per_query = 0;
  std::uint64_t dnsperf_queries = 0;
  rusage children_before{};
  getrusage(RUSAGE_CHILDREN, &children_before);
  const double server_cpu_before_perf = process_cpu_seconds(server);
  const pid_t perf = spawn({"dnsperf", "-s", options.address, "-p", std::to_string(options.port),
                            "-d", (dir / "queries.txt").string(), "-l",
                            std::to_string(options.seconds), "-Q",
                            std::to_string(static_cast<long>(rate) + 1), "-c", "1"},
                           (dir / "dnsperf.log").string());
  double server_cpu_perf = 0;
  if (perf > 0) {
    int status = 0;
    waitpid(perf, &status, 0);
    server_cpu_perf = process_cpu_seconds(server) - server_cpu_before_perf;
    rusage children_after{};
    getrusage(RUSAGE_CHILDREN, &children_after);
    std::ifstream log(dir / "dnsperf.log");
    std::string line;
    while (std::getline(log, line)) {
      if (line.find("Queries completed:") != std::string::npos) {
        dnsperf_queries = std::stoull(line.substr(line.find(':') + 1));
      }
    }
    const double perf_cpu = cpu_seconds(children_after) - cpu_seconds(children_before);
    if (dnsperf_queries > 0) {
      dnsperf_cpu_per_query = perf_cpu / static_cast<double>(dnsperf_queries);
    }
  }
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);

  const double our_us = ours.probes > 0 ? ours.cpu * 1e6 / static_cast<double>(ours.probes) : 0;
  const double server_us = ours.probes > 0 ? server_cpu_ours * 1e6 / static_cast<double>(ours.probes) : 0;
  std::printf("probe_throughput: %d targets x %d vantages, interval %d ms, %d s measured\n\n",
              options.targets, options.vantages, options.interval_ms, options.seconds);
  std::printf("%-36s %12s %14s %12s\n", "", "probes/s", "CPU us/probe", "ratio");
  std::printf("%-36s %12.0f %14.1f %12s\n", "crosscheck prober (DNS, UDP)",
              static_cast<double>(ours.probes) / ours.seconds, our_us, "1.00");
  std::printf("%-36s %12s %14.1f %11.2fx\n", "dnsmasq serving those probes", "-", server_us,
              server_us > 0 ? our_us / server_us : 0.0);
  if (dnsperf_queries > 0) {
    const double perf_us = dnsperf_cpu_per_query * 1e6;
    std::printf("%-36s %12.0f %14.1f %11.2fx\n", "dnsperf (same server, same rate)",
                static_cast<double>(dnsperf_queries) / options.seconds, perf_us,
                perf_us > 0 ? our_us / perf_us : 0.0);
    (void)server_cpu_perf;
  } else {
    std::printf("%-36s %12s\n", "dnsperf", "not run (apt-get install dnsperf)");
  }
  std::printf("%-36s %12s %14.1f %11.2fx\n", "blackbox_exporter (reference: 260 us)", "-", 260.0,
              our_us / 260.0);
  std::printf("\nour CPU split: %.1f us user + %.1f us system per probe\n",
              ours.probes > 0 ? ours.user * 1e6 / static_cast<double>(ours.probes) : 0.0,
              ours.probes > 0 ? ours.sys * 1e6 / static_cast<double>(ours.probes) : 0.0);
  std::printf("probes %llu (up %llu), skipped turns %llu, peak RSS %.1f MB\n",
              static_cast<unsigned long long>(ours.probes),
              static_cast<unsigned long long>(ours.up),
              static_cast<unsigned long long>(ours.skipped),
              static_cast<double>(ours.peak_rss_kb) / 1024.0);
  std::printf("goal: at most 25 us of CPU per DNS probe -> %s\n", our_us <= 25 ? "met" : "NOT met");
  std::filesystem::remove_all(dir);
  return 0;
}
