// Deciding when an observer is broken rather than the world (DESIGN.md:
// "A vantage is suspect..."). Pure function over raw votes; no state.
#pragma once

#include "consensus/types.hpp"

#include <map>
#include <string>
#include <vector>

namespace crosscheck::consensus {

// One target's raw votes (before suspicion) as seen by the suspicion rules.
struct TargetVotes {
  std::string target;
  bool canary = false;
  const std::vector<Evidence>* evidence = nullptr;
};

// Vantage name -> why it is suspect, for every suspect vantage:
// - it votes down on a canary target (canaries must be up), or
// - it alone (no other failure domain down, some other domain up) sees at
//   least 2 non-canary targets down, and more than suspect_fraction of them.
// Example: 4 targets, suspect_fraction 0.5; vantage q (domain quad9) alone
// sees 3 down while cloudflare and google see them up: 3 > 2 -> suspect.
// One lone disagreement stays a dispute about that target, not suspicion.
std::map<std::string, std::string> find_suspects(const std::vector<TargetVotes>& targets,
                                                 double suspect_fraction);

}  // namespace crosscheck::consensus
