// Counting votes by distinct failure domain and the verdict rule of
// DESIGN.md ("Verdict semantics"). Pure functions; no state, no I/O.
#pragma once

#include "consensus/policy.hpp"
#include "consensus/types.hpp"

#include <string>
#include <vector>

namespace crosscheck::consensus {

// Counts each known domain once. A domain is `down` when at least one of its
// counted vantages votes down and none votes up or degraded, `up` when at
// least one votes up and none down or degraded, `degraded` when at least one
// votes degraded and none up (down ones may be there: "not serving well" is
// the claim they share), and `split` when up meets down or degraded: a split
// domain counts in neither D, G nor U but stays a known domain, so majorities
// do not shrink.
// Why not "both": two lying vantages in two domains that also have honest
// vantages would otherwise make D = 2 while every domain has an up vote.
// Example: a1(alpha)=down, a2(alpha)=down, b1(beta)=up, b2(beta)=down,
// c(gamma)=unknown -> down 1 (alpha), split 1 (beta), up 0, unknown 1.
// Linear in evidence + known domains.
VoteCounts tally(const std::vector<Evidence>& evidence,
                 const std::vector<std::string>& known_domains, const Quorum& down_quorum,
                 const Quorum& up_quorum);

// With G the degraded domains: unhealthy: D >= down_quorum; degraded:
// D < down_quorum <= D + G; disputed: 1 <= D + G < down_quorum; healthy:
// D + G == 0 and U >= up_quorum; unknown otherwise.
VerdictKind raw_verdict(const VoteCounts& counts);

// The human reason for a raw verdict, e.g.
// "2 of 3 domains down (alpha, beta); quorum 2".
std::string describe(const VoteCounts& counts, VerdictKind raw);

}  // namespace crosscheck::consensus
