// Summaries a verdict carries beside its kind: which layer of the check
// chain fails, and whether last-known-good addresses still answer. Pure.
#pragma once

#include "consensus/types.hpp"

#include <optional>
#include <vector>

namespace crosscheck::consensus {

struct FailingLayer {
  std::optional<Layer> layer;  // nullopt when no counted vote is down
  LastKnownGood last_known_good = LastKnownGood::NotTried;
};

// The layer reported by most counted down votes (ties go to the earlier step
// of the chain: dns, connect, tls, http). For a DNS failure, last-known-good
// is Reachable only when every down vote that tried its old addresses reached
// them; one Unreachable makes it Unreachable.
// Example: quad9 down at dns (lkg reachable), google down at dns (lkg
// reachable) -> {Dns, Reachable}: "DNS is failing, the service still answers".
FailingLayer summarize_failing_layer(const std::vector<Evidence>& evidence);

}  // namespace crosscheck::consensus
