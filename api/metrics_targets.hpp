// The /metrics families with samples for every target: the verdict's and
// each (target, vantage)'s. At 100,000 targets they are almost all of the
// exposition (hundreds of MB), which is why they are rendered a slice of
// targets at a time (api/metrics.hpp's MetricsRender) and never whole.
// Internal to api/metrics.cpp; pure like the rest of the exposition.
#pragma once

#include "api/exposition.hpp"
#include "snapshot/snapshot.hpp"

#include <chrono>
#include <span>
#include <string>
#include <string_view>

namespace crosscheck::api::detail {

// Local vantages and evidence have no node; their series name this node.
inline std::string_view series_node(const snapshot::Snapshot& snapshot, const std::string& node) {
  return node.empty() ? std::string_view{snapshot.node} : std::string_view{node};
}

inline double unix_seconds(consensus::WallTime at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

// One family printed as its # HELP and # TYPE, then rows(target) for each
// target in config order.
struct TargetFamily {
  prom::Family family;
  void (*rows)(prom::Exposition& out, const prom::Family& family,
               const snapshot::Snapshot& snapshot, const snapshot::TargetView& view) = nullptr;
};

// Every per-target family in the order /metrics prints them: the verdict's
// (crosscheck_verdict ... crosscheck_quorum_up), then the vantages'
// (crosscheck_vantage_vote ... crosscheck_dns_ns_drift).
std::span<const TargetFamily> target_families();

}  // namespace crosscheck::api::detail
