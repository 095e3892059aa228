// /proc/self/stat, /proc/self/statm, /proc/self/fd and /proc/stat's btime, as
// Prometheus' own client libraries read them; and glibc's mallinfo2().
#include "snapshot/process_stats.hpp"

#include "base/glibc_malloc.hpp"

#include <unistd.h>

#if defined(CROSSCHECK_GLIBC_MALLOC)
#include <malloc.h>
#endif

#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace crosscheck::snapshot {
namespace {

// /proc/self/stat fields after the ")" that ends the command name (which may
// itself hold spaces): index 0 is field 3, "state".
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  const std::string line{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto close = line.rfind(')');
  if (close == std::string::npos) {
    return {};
  }
  std::istringstream rest(line.substr(close + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

std::optional<std::uint64_t> boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      std::uint64_t value = 0;
      if (in >> value) {
        return value;
      }
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<std::uint64_t> open_fds() {
  std::error_code ec;
  std::uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  if (ec) {
    return std::nullopt;
  }
  return count > 0 ? count - 1 : 0;  // the iterator's own descriptor
}

// read_malloc_figures() at most once per k_malloc_figures_max_age: any
// client that reaches /metrics (before its token is checked) triggers a
// read, and a walk of a fragmented heap holds the main loop's arena lock.
std::optional<MallocFigures> recent_malloc_figures() {
  static std::mutex mutex;
  static std::optional<MallocFigures> figures;
  static std::optional<std::chrono::steady_clock::time_point> read_at;
  const std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (!read_at || now - *read_at >= k_malloc_figures_max_age) {
    figures = read_malloc_figures();
    read_at = now;
  }
  return figures;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats stats;
  try {
    const long ticks = sysconf(_SC_CLK_TCK);
    const long page = sysconf(_SC_PAGESIZE);
    // Fields 14 utime, 15 stime, 22 starttime (clock ticks since boot).
    constexpr std::size_t k_utime = 14 - 3;
    constexpr std::size_t k_stime = 15 - 3;
    constexpr std::size_t k_starttime = 22 - 3;
    const auto fields = stat_fields();
    if (ticks > 0 && fields.size() > k_starttime) {
      const auto tick_seconds = [&](std::size_t i) {
        return static_cast<double>(std::stoull(fields[i])) / static_cast<double>(ticks);
      };
      stats.cpu_seconds = tick_seconds(k_utime) + tick_seconds(k_stime);
      if (const auto boot = boot_time_seconds()) {
        stats.start_time_seconds = static_cast<double>(*boot) + tick_seconds(k_starttime);
      }
    }
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    if (page > 0 && statm >> size_pages >> resident_pages) {
      stats.resident_memory_bytes = resident_pages * static_cast<std::uint64_t>(page);
    }
    stats.open_fds = open_fds();
    if (const auto figures = recent_malloc_figures()) {
      stats.malloc_in_use_bytes = figures->in_use_bytes;
      stats.malloc_free_bytes = figures->free_bytes;
    }
  } catch (const std::exception&) {
    // A /proc that does not parse leaves the rest unset; /metrics omits them.
  }
  return stats;
}

std::optional<MallocFigures> read_malloc_figures() {
#if defined(CROSSCHECK_GLIBC_MALLOC)
  const struct mallinfo2 info = mallinfo2();
  return MallocFigures{info.uordblks + info.hblkhd, info.fordblks};
#else
  return std::nullopt;
#endif
}

std::optional<bool> trim_malloc() {
#if defined(CROSSCHECK_GLIBC_MALLOC)
  return malloc_trim(0) == 1;
#else
  return std::nullopt;
#endif
}

}  // namespace crosscheck::snapshot
