#include "cli/malloc_tuning.hpp"
#include "snapshot/process_stats.hpp"
#include "support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using crosscheck::cli::MallocTuning;

namespace {

// Mapped blocks malloc holds now (glibc's count).
std::size_t mapped_blocks() {
#if defined(__GLIBC__)
  return mallinfo2().hblks;
#else
  return 0;
#endif
}

// This process's resident bytes now, as process_resident_memory_bytes
// reports them.
std::uint64_t resident_bytes() {
  const auto resident = crosscheck::snapshot::read_process_stats().resident_memory_bytes;
  REQUIRE(resident.has_value());
  return *resident;
}

}  // namespace

// Why no smaller sizes: a block near the threshold may come from a free
// chunk an earlier case left in the heap; ctest runs each case in its own
// process, and nothing there frees 8 MB before this.
TEST_CASE("after tune_malloc a large block freed leaves the next snapshot-sized block mapped",
          "[malloc]") {
  const auto tuning = crosscheck::cli::tune_malloc();
  if (tuning != MallocTuning::Fixed) {
    // A sanitizer's allocator (the asan build) or a threshold the
    // environment set: there is nothing of glibc's to check.
    WARN("malloc not tuned here: " << static_cast<int>(tuning));
    return;
  }
  constexpr std::size_t k_mb = std::size_t{1024} * 1024;
  {
    // A /metrics text: glibc alone would raise its threshold past 8 MB here.
    const std::vector<char> scrape(24 * k_mb);
    REQUIRE(scrape[12 * k_mb] == 0);
  }
  for (int round = 0; round < 3; ++round) {
    const auto before = mapped_blocks();
    INFO("round " << round);
    {
      const std::vector<char> targets(8 * k_mb);  // a snapshot's list at 10,000 targets
      REQUIRE(mapped_blocks() == before + 1);
    }
    REQUIRE(mapped_blocks() == before);  // unmapped: back to the system
  }
}

TEST_CASE("a threshold set in the environment is left as it is", "[malloc]") {
  using crosscheck::testing::ScopedEnv;
  const ScopedEnv no_tunables("GLIBC_TUNABLES", std::nullopt);
  const ScopedEnv no_threshold("MALLOC_MMAP_THRESHOLD_", std::nullopt);
  const auto untouched = crosscheck::cli::tune_malloc();
  if (untouched == MallocTuning::Unavailable) {
    WARN("not glibc's malloc here (a sanitizer's): nothing to leave alone");
    return;
  }
  REQUIRE(untouched == MallocTuning::Fixed);
  {
    const ScopedEnv threshold("MALLOC_MMAP_THRESHOLD_", "1048576");
    REQUIRE(crosscheck::cli::tune_malloc() == MallocTuning::LeftToEnvironment);
  }
  {
    const ScopedEnv tunables("GLIBC_TUNABLES",
                             "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536");
    REQUIRE(crosscheck::cli::tune_malloc() == MallocTuning::LeftToEnvironment);
  }
  {
    // Another tunable alone is no threshold: tuned as usual.
    const ScopedEnv tunables("GLIBC_TUNABLES", "glibc.malloc.arena_max=2");
    REQUIRE(crosscheck::cli::tune_malloc() == MallocTuning::Fixed);
  }
}

TEST_CASE("trim_malloc gives back the free pages glibc keeps below a live block", "[malloc]") {
  if (!crosscheck::snapshot::read_malloc_figures()) {
    WARN("not glibc's malloc here (a sanitizer's): nothing to trim");
    REQUIRE_FALSE(crosscheck::snapshot::trim_malloc().has_value());
    return;
  }
  // 64 MiB in 16 KiB blocks, each far under any mmap threshold: heap
  // chunks, as a snapshot's many small pieces are.
  constexpr std::size_t k_mb = std::size_t{1024} * 1024;
  constexpr std::size_t k_block = std::size_t{16} * 1024;
  constexpr std::size_t k_count = 64 * k_mb / k_block;
  const auto baseline = resident_bytes();
  std::vector<std::unique_ptr<char[]>> blocks(k_count);
  for (auto& block : blocks) {
    block = std::make_unique<char[]>(k_block);
    std::memset(block.get(), 'x', k_block);
  }
  // All freed but one block in 64 (1 MiB apart) and the last: the free
  // space lies below live blocks, where free() never returns it.
  for (std::size_t i = 0; i < k_count; ++i) {
    if (i % 64 != 0 && i != k_count - 1) {
      blocks[i].reset();
    }
  }
  const auto held = resident_bytes();
  INFO("resident: " << baseline / k_mb << " MiB before, " << held / k_mb << " MiB after the frees");
  REQUIRE(held >= baseline + 48 * k_mb);  // glibc kept the pages by itself
  REQUIRE(crosscheck::snapshot::trim_malloc() == true);
  const auto trimmed = resident_bytes();
  INFO(trimmed / k_mb << " MiB after trim_malloc");
  CHECK(trimmed + 48 * k_mb <= held);
  for (std::size_t i = 0; i < k_count; i += 64) {
    CHECK(blocks[i][k_block - 1] == 'x');  // the live blocks kept their bytes
  }
}
