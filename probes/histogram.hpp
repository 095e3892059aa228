// A Prometheus-style histogram over fixed upper bounds in seconds (`le`,
// inclusive; +Inf implicit): per-bucket counts, count and sum. One type for
// the probe step latencies (daemon/probe_stats) and the scheduler's start
// lateness; /metrics prints both the same way.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace crosscheck::probes {

template <const auto& Bounds>
struct FixedHistogram {
  std::array<std::uint64_t, Bounds.size()> buckets{};  // per bucket, not cumulative
  std::uint64_t count = 0;                             // includes those above the last bound
  double sum_seconds = 0;

  // Counts one value; a negative one counts as 0. Past the last bound it is
  // only in count and sum, as +Inf.
  void observe(double seconds) {
    seconds = std::max(seconds, 0.0);
    const auto bucket = std::lower_bound(Bounds.begin(), Bounds.end(), seconds);
    if (bucket != Bounds.end()) {
      ++buckets.at(static_cast<std::size_t>(bucket - Bounds.begin()));
    }
    ++count;
    sum_seconds += seconds;
  }
  template <typename Rep, typename Period>
  void observe(std::chrono::duration<Rep, Period> value) {
    observe(std::chrono::duration<double>(value).count());
  }
};

}  // namespace crosscheck::probes
