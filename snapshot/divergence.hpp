// Comparing what different failure domains resolved for the same target.
// When the answer sets differ (one empty, one with other addresses) the
// verdict lists who saw what: from outside, that is exactly what the
// Oct 2025 outage looked like. Pure; no I/O.
#pragma once

#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <vector>

namespace crosscheck::snapshot {

// One entry per vantage with a fresh observation when at least two failure
// domains report different (sorted) answer sets; empty when all agree.
// Example: cloudflare [192.0.2.1], google [192.0.2.1], quad9 [] ->
// three entries (quad9's with no answers).
std::vector<Divergence> find_divergence(const std::vector<consensus::Evidence>& evidence);

}  // namespace crosscheck::snapshot
