// The standard process_* metrics' inputs, read from /proc/self. Kept apart
// from daemon/metrics.cpp so rendering stays pure: this is the one part of
// /metrics that does I/O.
#pragma once

#include <cstdint>
#include <optional>

namespace crosscheck::snapshot {

// Each field is nullopt when /proc could not say (not Linux, no /proc).
struct ProcessStats {
  std::optional<std::uint64_t> resident_memory_bytes;
  std::optional<double> cpu_seconds;  // user + system
  std::optional<std::uint64_t> open_fds;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

// Reads this process's figures now; never throws.
ProcessStats read_process_stats();

}  // namespace crosscheck::snapshot
