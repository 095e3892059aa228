// Deciding when an observer is broken rather than the world (DESIGN.md:
// "A vantage is suspect..."), and when a canary itself is broken. Pure
// function over raw votes; no state (the engine adds the grace).
#pragma once

#include "consensus/types.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace crosscheck::consensus {

// One target's raw votes (before suspicion) as seen by the suspicion rules.
struct TargetVotes {
  std::string target;
  bool canary = false;
  const std::vector<Evidence>* evidence = nullptr;
};

struct SuspicionFindings {
  // Vantage name -> why it is suspect.
  std::map<std::string, std::string> suspects;
  // Canary target name -> why it is broken (down from every domain that
  // votes on it): its failures make no vantage suspect.
  std::map<std::string, std::string> broken_canaries;
  // Canaries some non-suspect domain sees up (a broken canary recovers only
  // when one is seen up again, not when a vote merely goes stale).
  std::set<std::string> canaries_seen_up;
};

// Suspect vantages, each for the first rule it meets:
// - it votes down on a canary that at least as many other failure domains
//   see up (canaries must be up; the observer is the odd one out), or
// - it alone (no other failure domain down or degraded, some other domain
//   up) sees at least 2 non-canary targets down or degraded (slow), and more
//   than suspect_fraction of them.
// A canary that at least 2 domains see down and none up is broken instead:
// when every observer agrees, the canary is what failed, and blinding every
// vantage would leave real outages `unknown`.
// Example: 4 targets, suspect_fraction 0.5; vantage q (domain quad9) alone
// sees 3 down while cloudflare and google see them up: 3 > 2 -> suspect.
// One lone disagreement stays a dispute about that target, not suspicion.
// Votes of vantages in `already_suspect` do not count when judging the
// others: a suspect liar must not make an honest vantage look alone.
SuspicionFindings find_suspects(const std::vector<TargetVotes>& targets, double suspect_fraction,
                                const std::set<std::string>& already_suspect = {});

}  // namespace crosscheck::consensus
