// The /metrics families about the oracle itself rather than what it
// watches: its API server's counters and its process (CPU, memory, file
// descriptors, glibc's malloc). Internal to api/metrics.cpp, which renders
// them last; pure like the rest of the exposition.
#pragma once

#include "api/counters.hpp"
#include "api/exposition.hpp"
#include "snapshot/process_stats.hpp"

namespace crosscheck::api::detail {

// crosscheck_api_*: connections, requests, responses, errors, TLS refusals
// and the serving certificate's expiry, credential refusals.
void api_families(prom::Exposition& out, const ApiCounters& api);

// process_* (the names every Prometheus client library uses) and
// crosscheck_malloc_bytes; a figure the process could not read is left out.
void process_families(prom::Exposition& out, const snapshot::ProcessStats& process);

}  // namespace crosscheck::api::detail
