// The standard process_* metrics' inputs, read from /proc/self. Kept apart
// from daemon/metrics.cpp so rendering stays pure: this is the one part of
// /metrics that does I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace crosscheck::snapshot {

// Each field is nullopt when /proc could not say (not Linux, no /proc).
struct ProcessStats {
  std::optional<std::uint64_t> resident_memory_bytes;
  std::optional<double> cpu_seconds;  // user + system
  std::optional<std::uint64_t> open_fds;
  std::optional<double> start_time_seconds;  // since the Unix epoch
  // glibc's malloc over every arena (read_malloc_figures), at most
  // k_malloc_figures_max_age old; nullopt without glibc's malloc.
  std::optional<std::uint64_t> malloc_in_use_bytes;
  std::optional<std::uint64_t> malloc_free_bytes;
};

// Reads this process's figures now (the allocator's may be up to
// k_malloc_figures_max_age old); never throws.
ProcessStats read_process_stats();

struct MallocFigures {
  // Held by live allocations: heap chunks in use plus blocks mapped on
  // their own (at their mapped size).
  std::uint64_t in_use_bytes = 0;
  // Freed and kept by the allocator instead of going back to the system
  // (counted in RSS where its pages were touched). Growing while in_use
  // does not: the heap is fragmenting.
  std::uint64_t free_bytes = 0;
};

// glibc's figures now (mallinfo2): it walks the free lists of every arena,
// each under its lock, so a busy daemon reads them at most once per
// k_malloc_figures_max_age whatever the scrape rate. nullopt without
// glibc's malloc (a sanitizer build); a malloc preloaded in its place
// (jemalloc, tcmalloc) makes them meaningless.
std::optional<MallocFigures> read_malloc_figures();
inline constexpr std::chrono::seconds k_malloc_figures_max_age{10};

// Gives back to the system the pages glibc holds free (malloc_trim(0): the
// top of each heap and every whole page inside its free chunks); RSS falls
// towards what is in use until those pages are used again. Why: glibc
// returns only the top of the main heap by itself, and free memory below
// live blocks stayed resident (a 20-minute soak's held-free memory reached
// 90 MB; the snapshots built and dropped twice a second are a candidate
// for what leaves it, not a proven one). It walks every arena under its
// lock: the daemon calls it once a minute. Whether pages went back;
// nullopt without glibc's malloc (a sanitizer build).
std::optional<bool> trim_malloc();

}  // namespace crosscheck::snapshot
