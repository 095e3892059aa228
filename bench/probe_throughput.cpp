// bench/probe_throughput: the CPU cost of crosscheck's probes. Probes N
// targets x M vantages through the real prober against a resolver someone
// else started (bench/probe_cost.sh starts dnsmasq, nginx and the
// references), and prints its own figures as key=value lines on stdout:
// probes completed, probes/second, CPU microseconds per probe (user and
// system), peak RSS. With --http-url every target is an `http:` check
// (resolve the URL's host through the vantage's resolver, then GET);
// without it every target is a `dns:` check (A record of tN.bench.test).
// Loopback only; bounded in time. Not a test: it never fails on a figure.
#include "config/config.hpp"
#include "net/system_clock.hpp"
#include "probes/prober.hpp"

#include <boost/asio/io_context.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

namespace {

using namespace crosscheck;
using namespace std::chrono_literals;

struct Options {
  int targets = 1'000;
  int vantages = 5;
  int interval_ms = 1'000;
  int seconds = 10;
  std::string resolver = "127.0.0.81:5381";
  // "http://{target}.bench.test:8082/probe.txt": {target} becomes t0, t1, ...
  std::optional<std::string> http_url;
};

constexpr const char* k_usage =
    "usage: probe_throughput [--targets N] [--vantages M] [--interval-ms I] [--seconds S]\n"
    "                        [--resolver IP:PORT] [--http-url URL]\n"
    "  --http-url URL  probe `http:` checks instead of `dns:`; {target} in URL\n"
    "                  becomes each target's name (t0, t1, ...)\n";

double seconds_of(const timeval& time) {
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::optional<config::Config> bench_config(const Options& options) {
  config::Config config;
  config.node.name = "bench";
  config.probing.max_in_flight = 4'096;
  config.probing.max_per_second = 1'000'000;
  const auto resolver = config::Endpoint::parse(options.resolver, 53);
  if (!resolver) {
    std::cerr << "probe_throughput: bad --resolver " << options.resolver << "\n";
    return std::nullopt;
  }
  for (int v = 0; v < options.vantages; ++v) {
    config::VantageConfig vantage;
    vantage.name = "v" + std::to_string(v);
    vantage.domain = vantage.name;
    vantage.resolver = *resolver;
    config.vantages.push_back(vantage);
  }
  for (int t = 0; t < options.targets; ++t) {
    config::TargetConfig target;
    target.name = "t" + std::to_string(t);
    if (options.http_url) {
      std::string why;
      auto url = config::Url::parse(replace_all(*options.http_url, "{target}", target.name), &why);
      if (!url) {
        std::cerr << "probe_throughput: bad --http-url: " << why << "\n";
        return std::nullopt;
      }
      config::HttpCheck http;
      http.url = *url;
      target.http = http;
    } else {
      target.dns = config::DnsCheck{target.name + ".bench.test", config::RrType::A, 1, {}};
    }
    target.timing.interval = std::chrono::milliseconds(options.interval_ms);
    target.timing.timeout = std::chrono::milliseconds(std::min(options.interval_ms / 2, 2'000));
    config.targets.push_back(target);
  }
  return config;
}

struct Figures {
  std::uint64_t probes = 0;
  std::uint64_t up = 0;
  std::uint64_t skipped = 0;
  double seconds = 0;
  double user = 0;
  double sys = 0;
  long peak_rss_kb = 0;
};

// Warms up one interval (every pair probed once), then measures
// options.seconds of steady probing with getrusage around it.
Figures run_prober(const Options& options, config::Config config) {
  boost::asio::io_context io;
  net::SystemClock clock;
  Figures figures;
  probes::Prober prober(io, std::make_shared<const config::Config>(std::move(config)), clock, 1,
                        [&figures](const probes::ProbeReport& report) {
                          ++figures.probes;
                          figures.up +=
                              report.observation.outcome == consensus::Outcome::Up ? 1 : 0;
                        });
  prober.start();
  io.run_for(std::chrono::milliseconds(options.interval_ms));
  const auto probes_before = figures.probes;
  const auto up_before = figures.up;
  const auto skipped_before = prober.counters().skipped;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(options.seconds));
  const auto end = std::chrono::steady_clock::now();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  figures.probes -= probes_before;
  figures.up -= up_before;
  figures.skipped = prober.counters().skipped - skipped_before;
  figures.seconds = std::chrono::duration<double>(end - start).count();
  figures.user = seconds_of(after.ru_utime) - seconds_of(before.ru_utime);
  figures.sys = seconds_of(after.ru_stime) - seconds_of(before.ru_stime);
  figures.peak_rss_kb = after.ru_maxrss;
  prober.stop();
  io.run_for(3s);  // let probes in flight finish before the prober goes
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << k_usage;
      return 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--targets") {
      options.targets = std::stoi(value);
    } else if (flag == "--vantages") {
      options.vantages = std::stoi(value);
    } else if (flag == "--interval-ms") {
      options.interval_ms = std::stoi(value);
    } else if (flag == "--seconds") {
      options.seconds = std::stoi(value);
    } else if (flag == "--resolver") {
      options.resolver = value;
    } else if (flag == "--http-url") {
      options.http_url = value;
    } else {
      std::cerr << k_usage;
      return 2;
    }
  }
  auto config = bench_config(options);
  if (!config) {
    return 2;
  }
  const auto figures = run_prober(options, std::move(*config));
  const double probes = std::max<double>(static_cast<double>(figures.probes), 1);
  std::printf("check=%s\n", options.http_url ? "http" : "dns");
  std::printf("targets=%d\nvantages=%d\ninterval_ms=%d\n", options.targets, options.vantages,
              options.interval_ms);
  std::printf("seconds=%.3f\n", figures.seconds);
  std::printf("probes=%llu\nup=%llu\nskipped=%llu\n",
              static_cast<unsigned long long>(figures.probes),
              static_cast<unsigned long long>(figures.up),
              static_cast<unsigned long long>(figures.skipped));
  std::printf("probes_per_second=%.1f\n", static_cast<double>(figures.probes) / figures.seconds);
  std::printf("cpu_us_per_probe=%.2f\n", (figures.user + figures.sys) * 1e6 / probes);
  std::printf("user_us_per_probe=%.2f\nsys_us_per_probe=%.2f\n", figures.user * 1e6 / probes,
              figures.sys * 1e6 / probes);
  std::printf("peak_rss_mb=%.1f\n", static_cast<double>(figures.peak_rss_kb) / 1024.0);
  return 0;
}
