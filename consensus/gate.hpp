// The gate rule: whether a published verdict lets a failover script proceed
// (DESIGN.md "gate"). A domain decision, with no HTTP in it: the REST router
// maps it to 200/409/423, `crosscheck explain` prints it, and both therefore
// apply exactly one rule. Pure.
#pragma once

#include "consensus/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::consensus {

enum class GateAnswer : std::uint8_t {
  Proceed,          // confirmed as expected, fresh, valid and stable long enough
  Otherwise,        // confirmed, fresh and valid, but the other way
  GenerationMoved,  // the caller's generation is no longer the published one
  Hold,             // not confirmed, not fresh, stale or not yet stable
};

struct GateDecision {
  GateAnswer answer = GateAnswer::Hold;
  std::string reason;

  // "proceed" | "otherwise" | "hold" (a moved generation holds).
  std::string_view decision() const;
};

// Why, by example: expect healthy, verdict healthy since 10:00:00, fresh,
// valid until 10:00:40, now 10:00:30, stable_for 30s -> Proceed; the same
// at 10:00:29.999 -> Hold (not yet stable); at 10:00:40.001 -> Hold (past
// valid_until); with generation=6 while the verdict is at 7 ->
// GenerationMoved. stable_for runs on the monotonic clock when the verdict
// has since_mono (a wall clock step moves no gate), else on the wall clock.
GateDecision decide_gate(const Verdict& verdict, VerdictKind expect,
                         std::optional<std::uint64_t> generation, Duration stable_for,
                         const Instant& now);

}  // namespace crosscheck::consensus
