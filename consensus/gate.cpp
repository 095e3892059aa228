#include "consensus/gate.hpp"

#include "consensus/time_format.hpp"

namespace crosscheck::consensus {

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

GateDecision decide_gate(const Verdict& verdict, VerdictKind expect,
                         std::optional<std::uint64_t> generation, Duration stable_for,
                         const Instant& now) {
  const std::string is = std::string(to_string(verdict.kind));
  if (!verdict.confirmed()) {
    return {GateAnswer::Hold, "verdict is " + is + ": not confirmed"};
  }
  if (!verdict.fresh) {
    return {GateAnswer::Hold,
            verdict.reason_code == ReasonCode::Restored
                ? "verdict is restored and not yet confirmed by new evidence"
                : "verdict is kept through dispute_grace: the votes counted now do not confirm it"};
  }
  if (now.wall > verdict.valid_until) {
    return {GateAnswer::Hold,
            "verdict is stale: past valid_until " + format_rfc3339(verdict.valid_until)};
  }
  if (generation && *generation != verdict.generation) {
    return {GateAnswer::GenerationMoved, "generation moved from " + std::to_string(*generation) +
                                             " to " + std::to_string(verdict.generation)};
  }
  if (verdict.kind != expect) {
    return {GateAnswer::Otherwise, "verdict is " + is + ", not " + std::string(to_string(expect))};
  }
  // Why monotonic: stable_for is an interval. On the wall clock an NTP step
  // of +1h made a verdict seconds old "stable for 30m" (a failover went
  // ahead), and a step of -1h held every gate for an hour.
  const auto held_for =
      verdict.since_mono ? now.mono - *verdict.since_mono : now.wall - verdict.since;
  if (held_for < stable_for) {
    return {GateAnswer::Hold, "verdict is " + is + " since " + format_rfc3339(verdict.since) +
                                  ", not yet stable for " + format_duration(stable_for)};
  }
  return {GateAnswer::Proceed, "verdict is " + is + " as expected"};
}

}  // namespace crosscheck::consensus
