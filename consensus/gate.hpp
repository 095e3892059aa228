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

std::string_view to_string(GateFor value);
std::optional<GateFor> parse_gate_for(std::string_view text);

// Why a gate decided as it did, as a code (gate.code in the REST answer).
enum class GateCode : std::uint8_t {
  Proceed,          // confirmed as expected
  Otherwise,        // confirmed the other way
  NotConfirmed,     // disputed or unknown
  NotFresh,         // restored or kept through dispute_grace
  Stale,            // past valid_until
  GenerationMoved,  // the caller's generation is no longer the published one
  Scope,            // unhealthy, but not in the plane the failover acts on
  Unstable,         // not yet stable_for
  Maintenance,      // in a maintenance window: every gate holds
  Unreachable,      // a parent (depends_on) is confirmed unhealthy: gate the parent
  Cooldown,         // a recorded action's cooldown: no second proceed until acked
  Degraded,         // degraded, expecting unhealthy, without allow_degraded
};
std::string_view to_string(GateCode value);

enum class GateAnswer : std::uint8_t {
  Proceed,          // confirmed as expected, fresh, valid and stable long enough
  Otherwise,        // confirmed, fresh and valid, but the other way
  GenerationMoved,  // the caller's generation is no longer the published one
  Hold,             // not confirmed, not fresh, stale or not yet stable
};

struct GateDecision {
  GateAnswer answer = GateAnswer::Hold;
  GateCode code = GateCode::NotConfirmed;
  std::string reason;
  // With code Scope: the failover the verdict's scope supports instead
  // (nullopt when none does: scope none or observer).
  std::optional<GateFor> instead;

  // "proceed" | "otherwise" | "hold" (a moved generation holds).
  std::string_view decision() const;
};

// Why, by example: expect healthy, verdict healthy since 10:00:00, fresh,
// valid until 10:00:40, now 10:00:30, stable_for 30s -> Proceed; the same
// at 10:00:29.999 -> Hold (not yet stable); at 10:00:40.001 -> Hold (past
// valid_until); with generation=6 while the verdict is at 7 ->
// GenerationMoved. stable_for runs on the monotonic clock when the verdict
// has since_mono (a wall clock step moves no gate), else on the wall clock.
// `for_` applies to expect unhealthy: Service proceeds on scope service
// only, Dns on scope dns only, Any on every scope (expect healthy ignores it:
// a healthy verdict has no failing plane). Example: unhealthy, scope dns
// (DNS fails, the service answers at its last-known-good addresses) ->
// for Service: Hold (code Scope, instead Dns); for Dns: Proceed.
// A verdict in a cooldown (an action recorded on the target, not yet
// acknowledged) turns what would proceed into a hold (code Cooldown); every
// other answer is unchanged: a script learns the truth, it only may not act
// twice.
// A degraded verdict (docs/degraded.md) is confirmed: expect healthy gets
// Otherwise; expect unhealthy holds (code Degraded) unless `allow_degraded`,
// which lets it stand for unhealthy (scope, stable_for and cooldown apply
// as to an unhealthy verdict; its scope is service).
GateDecision decide_gate(const Verdict& verdict, VerdictKind expect,
                         std::optional<std::uint64_t> generation, Duration stable_for,
                         const Instant& now, GateFor for_, bool allow_degraded = false);

// Whether a verdict of `scope` supports the failover `for_`.
bool scope_supports(FailureScope scope, GateFor for_);

}  // namespace crosscheck::consensus
