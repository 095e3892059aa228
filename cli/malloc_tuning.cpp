#include "cli/malloc_tuning.hpp"

#include "base/glibc_malloc.hpp"

#include <cstdlib>
#include <cstring>

#if defined(CROSSCHECK_GLIBC_MALLOC)
#include <malloc.h>
#endif

namespace crosscheck::cli {

MallocTuning tune_malloc() {
#if defined(CROSSCHECK_GLIBC_MALLOC)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr ||
      (tunables != nullptr && std::strstr(tunables, "mmap_threshold") != nullptr)) {
    return MallocTuning::LeftToEnvironment;
  }
  const bool mapped = mallopt(M_MMAP_THRESHOLD, static_cast<int>(k_mmap_threshold)) == 1;
  const bool trimmed = mallopt(M_TRIM_THRESHOLD, static_cast<int>(k_trim_threshold)) == 1;
  return mapped && trimmed ? MallocTuning::Fixed : MallocTuning::Unavailable;
#else
  return MallocTuning::Unavailable;
#endif
}

}  // namespace crosscheck::cli
