#include "consensus/gate.hpp"

#include "consensus/time_format.hpp"

#include <array>
#include <utility>

namespace crosscheck::consensus {

namespace {

constexpr std::array<std::pair<GateFor, std::string_view>, 3> k_gate_for{
    {{GateFor::Service, "service"}, {GateFor::Dns, "dns"}, {GateFor::Any, "any"}}};

constexpr std::array<std::pair<GateCode, std::string_view>, 12> k_gate_codes{
    {{GateCode::Proceed, "proceed"},
     {GateCode::Otherwise, "otherwise"},
     {GateCode::NotConfirmed, "not_confirmed"},
     {GateCode::NotFresh, "not_fresh"},
     {GateCode::Stale, "stale"},
     {GateCode::GenerationMoved, "generation_moved"},
     {GateCode::Scope, "scope"},
     {GateCode::Unstable, "unstable"},
     {GateCode::Maintenance, "maintenance"},
     {GateCode::Unreachable, "unreachable"},
     {GateCode::Cooldown, "cooldown"},
     {GateCode::Degraded, "degraded"}}};

// The hold of a confirmed unhealthy verdict whose scope does not support
// the failover asked for, saying which one it does support.
GateDecision scope_hold(const Verdict& verdict, GateFor for_) {
  GateDecision out{GateAnswer::Hold, GateCode::Scope, "", std::nullopt};
  const std::string asked(to_string(for_));
  switch (verdict.scope) {
    case FailureScope::Dns:
      out.instead = GateFor::Dns;
      out.reason =
          "scope is dns: DNS is failing while the service itself is not confirmed "
          "failing; a " +
          asked + " failover would not help: fix DNS or fail DNS over (--for dns)";
      break;
    case FailureScope::Service:
      out.instead = GateFor::Service;
      out.reason = "scope is service: the service itself is failing, not only DNS; a " + asked +
                   " failover would not help: fail the service over (--for service)";
      break;
    case FailureScope::Observer:
      out.reason =
          "scope is observer: the failing evidence comes from the observers, not "
          "the world; no failover is supported, a human decides";
      break;
    case FailureScope::None:
      out.reason =
          "scope is none: the domains that see it down do not agree on the failing "
          "layer; no failover is supported by the quorum, a human decides";
      break;
  }
  return out;
}

}  // namespace

std::string_view to_string(GateFor value) {
  for (const auto& [item, name] : k_gate_for) {
    if (item == value) {
      return name;
    }
  }
  return "invalid";
}

std::optional<GateFor> parse_gate_for(std::string_view text) {
  for (const auto& [item, name] : k_gate_for) {
    if (name == text) {
      return item;
    }
  }
  return std::nullopt;
}

std::string_view to_string(GateCode value) {
  for (const auto& [item, name] : k_gate_codes) {
    if (item == value) {
      return name;
    }
  }
  return "invalid";
}

std::string_view GateDecision::decision() const {
  switch (answer) {
    case GateAnswer::Proceed:
      return "proceed";
    case GateAnswer::Otherwise:
      return "otherwise";
    case GateAnswer::GenerationMoved:
    case GateAnswer::Hold:
      return "hold";
  }
  return "hold";
}

bool scope_supports(FailureScope scope, GateFor for_) {
  switch (for_) {
    case GateFor::Service:
      return scope == FailureScope::Service;
    case GateFor::Dns:
      return scope == FailureScope::Dns;
    case GateFor::Any:
      return true;
  }
  return false;
}

GateDecision decide_gate(const Verdict& verdict, VerdictKind expect,
                         std::optional<std::uint64_t> generation, Duration stable_for,
                         const Instant& now, GateFor for_, bool allow_degraded) {
  const std::string is = std::string(to_string(verdict.kind));
  // Why first, whatever the verdict: planned work makes the evidence say
  // what the work does, and a script must not fail over (or back) on it.
  if (verdict.maintenance) {
    const auto& window = *verdict.maintenance;
    return {GateAnswer::Hold, GateCode::Maintenance,
            (window.source == MaintenanceSource::Api
                 ? "in maintenance set by " +
                       (window.by.empty() ? std::string("operator") : window.by) +
                       (window.node.empty() ? std::string() : " on node " + window.node) + " (" +
                       window.reason + ")"
                 : "in maintenance window '" + window.window + "'") +
                " until " + format_rfc3339(window.until) + ": every gate holds",
            std::nullopt};
  }
  if (verdict.kind == VerdictKind::Unreachable) {
    // Why a hold whatever is expected: the target fails because a parent
    // does; failing it over (or trusting it healthy) would act on the wrong
    // target. The reason starts with the parent: "parent lb-eu is unhealthy".
    const auto why = verdict.reason.substr(0, verdict.reason.find(';'));
    return {GateAnswer::Hold, GateCode::Unreachable,
            "verdict is unreachable: " + why +
                "; the failover belongs to the parent: gate the parent instead",
            std::nullopt};
  }
  if (!verdict.confirmed()) {
    return {GateAnswer::Hold, GateCode::NotConfirmed, "verdict is " + is + ": not confirmed",
            std::nullopt};
  }
  if (!verdict.fresh) {
    return {GateAnswer::Hold, GateCode::NotFresh,
            verdict.reason_code == ReasonCode::Restored
                ? "verdict is restored and not yet confirmed by new evidence"
                : "verdict is kept through dispute_grace: the votes counted now do not confirm it",
            std::nullopt};
  }
  if (now.wall > verdict.valid_until) {
    return {GateAnswer::Hold, GateCode::Stale,
            "verdict is stale: past valid_until " + format_rfc3339(verdict.valid_until),
            std::nullopt};
  }
  if (generation && *generation != verdict.generation) {
    return {GateAnswer::GenerationMoved, GateCode::GenerationMoved,
            "generation moved from " + std::to_string(*generation) + " to " +
                std::to_string(verdict.generation),
            std::nullopt};
  }
  // Why a hold and not "otherwise" for expect unhealthy: a degraded target
  // is not serving well, which is what a failover script fears, but fewer
  // than down_quorum domains see it fail; whether slow is bad enough to act
  // on is the script's call (allow_degraded), never the default.
  const bool degraded_as_unhealthy =
      verdict.kind == VerdictKind::Degraded && expect == VerdictKind::Unhealthy;
  if (degraded_as_unhealthy && !allow_degraded) {
    return {GateAnswer::Hold, GateCode::Degraded,
            "verdict is degraded: " + verdict.reason.substr(0, verdict.reason.find(';')) +
                "; fewer than down_quorum domains see it down: allow_degraded=true "
                "(--allow-degraded) to act on a degraded verdict",
            std::nullopt};
  }
  if (verdict.kind != expect && !degraded_as_unhealthy) {
    return {GateAnswer::Otherwise, GateCode::Otherwise,
            "verdict is " + is + ", not " + std::string(to_string(expect)), std::nullopt};
  }
  if (expect == VerdictKind::Unhealthy && !scope_supports(verdict.scope, for_)) {
    return scope_hold(verdict, for_);
  }
  // Why monotonic: stable_for is an interval. On the wall clock an NTP step
  // of +1h made a verdict seconds old "stable for 30m" (a failover went
  // ahead), and a step of -1h held every gate for an hour.
  const auto stable_since = verdict.stable_since();
  const auto held_for =
      verdict.since_mono ? now.mono - *verdict.since_mono : now.wall - stable_since;
  if (held_for < stable_for) {
    return {GateAnswer::Hold, GateCode::Unstable,
            "verdict is " + is + " since " + format_rfc3339(verdict.since) +
                (stable_since > verdict.since
                     ? ", out of maintenance since " + format_rfc3339(stable_since)
                     : std::string()) +
                ", not yet stable for " + format_duration(stable_for),
            std::nullopt};
  }
  if (verdict.cooldown) {
    // Why last: a cooldown only stops a second action; what the evidence
    // says (otherwise, not confirmed, ...) is still the answer to read.
    const auto& cooldown = *verdict.cooldown;
    return {GateAnswer::Hold, GateCode::Cooldown,
            "in cooldown until " + format_rfc3339(cooldown.until) + " after action " +
                cooldown.action_id + " (" + cooldown.what + ", by " + cooldown.by + ", at " +
                format_rfc3339(cooldown.since) +
                "): a second action holds until a human acknowledges it (POST /v1/actions/" +
                cooldown.action_id + "/ack)",
            std::nullopt};
  }
  std::string reason = "verdict is " + is +
                       (degraded_as_unhealthy ? ", allowed for unhealthy (allow_degraded)"
                                              : std::string(" as expected"));
  if (expect == VerdictKind::Unhealthy) {
    reason += ", scope " + std::string(to_string(verdict.scope));
  }
  return {GateAnswer::Proceed, GateCode::Proceed, std::move(reason), std::nullopt};
}

}  // namespace crosscheck::consensus
