// Whether this build allocates with glibc's malloc, so that its knobs
// (mallopt) and figures (mallinfo2) mean something: not under a sanitizer,
// which brings an allocator of its own. Shared by the start-up tuning
// (cli/malloc_tuning.cpp) and the allocator's metrics
// (snapshot/process_stats.cpp).
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_HWADDRESS__)
#define CROSSCHECK_SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer) || __has_feature(hwaddress_sanitizer)
#define CROSSCHECK_SANITIZED_MALLOC 1
#endif
#endif

#if defined(__GLIBC__) && !defined(CROSSCHECK_SANITIZED_MALLOC)
#define CROSSCHECK_GLIBC_MALLOC 1
#endif
