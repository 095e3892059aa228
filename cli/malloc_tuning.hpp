// glibc's malloc, set for a long-running daemon at start-up: a large block
// comes from mmap (unless a free chunk of the heap fits it) and goes back to
// the system when freed.
#pragma once

#include <cstddef>

namespace crosscheck::cli {

// Blocks this size or larger are mmapped (and unmapped when freed); free
// memory past this much at the heap's top goes back to the system. Twice
// the mmap threshold, glibc's own ratio when it adjusts them itself.
inline constexpr std::size_t k_mmap_threshold = std::size_t{256} * 1024;
inline constexpr std::size_t k_trim_threshold = 2 * k_mmap_threshold;

enum class MallocTuning {
  Fixed,              // the thresholds are k_mmap_threshold and k_trim_threshold from now on
  LeftToEnvironment,  // MALLOC_MMAP_THRESHOLD_ or GLIBC_TUNABLES set the mmap threshold
  Unavailable,        // not glibc's malloc (a sanitizer's, musl's): nothing done
};

// Why: glibc raises its mmap threshold to the size of any mmapped block
// freed, up to 32 MB, and never lowers it. After the first large free (a
// /metrics text of 30 MB at 10,000 targets), every snapshot's 8 MB list of
// targets came from the heap instead; freed between small allocations
// still alive, the holes never fitted the next one, and the heap grew by
// about 8 MB every 0.66 s: 227 MB to 3.8 GB in eight minutes of the soak
// (docs/reliability.md). The trim threshold is set too: glibc doubles it
// whenever it raises the other, and a set one stays.
MallocTuning tune_malloc();

}  // namespace crosscheck::cli
