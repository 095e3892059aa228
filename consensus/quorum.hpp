// Counting votes by distinct failure domain and the verdict rule of
// DESIGN.md ("Verdict semantics"). Pure functions; no state, no I/O.
#pragma once

#include "consensus/policy.hpp"
#include "consensus/types.hpp"

#include <string>
#include <vector>

namespace crosscheck::consensus {

// Counts each known domain once. A domain is `down` when any of its vantages
// votes down and `up` when any votes up; a domain whose vantages disagree is
// both, so it can never make a target healthy on its own.
// Example: vantages a1(alpha)=down, a2(alpha)=down, b(beta)=up, c(gamma)=unknown
// with known domains {alpha, beta, gamma} -> down 1, up 1, unknown 1.
VoteCounts tally(const std::vector<Evidence>& evidence,
                 const std::vector<std::string>& known_domains, const Quorum& down_quorum,
                 const Quorum& up_quorum);

// unhealthy: D >= down_quorum; disputed: 1 <= D < down_quorum;
// healthy: D == 0 and U >= up_quorum; unknown otherwise.
VerdictKind raw_verdict(const VoteCounts& counts);

// The human reason for a raw verdict, e.g.
// "2 of 3 domains down (alpha, beta); quorum 2".
std::string describe(const VoteCounts& counts, VerdictKind raw);

}  // namespace crosscheck::consensus
