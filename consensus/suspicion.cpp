#include "consensus/suspicion.hpp"

#include <sstream>

namespace crosscheck::consensus {
namespace {

// True when `who` is the only failure domain voting down on this target and
// some other domain votes up.
bool alone_down(const Evidence& who, const std::vector<Evidence>& evidence) {
  if (who.raw_vote != Vote::Down) {
    return false;
  }
  bool other_up = false;
  for (const auto& other : evidence) {
    if (other.domain == who.domain) {
      continue;
    }
    if (other.raw_vote == Vote::Down) {
      return false;
    }
    other_up = other_up || other.raw_vote == Vote::Up;
  }
  return other_up;
}

}  // namespace

std::map<std::string, std::string> find_suspects(const std::vector<TargetVotes>& targets,
                                                 double suspect_fraction) {
  std::map<std::string, std::string> suspects;
  std::map<std::string, int> lone_downs;
  int non_canary = 0;
  for (const auto& target : targets) {
    if (target.evidence == nullptr) {
      continue;
    }
    if (!target.canary) {
      ++non_canary;
    }
    for (const auto& item : *target.evidence) {
      if (target.canary) {
        if (item.raw_vote == Vote::Down && !suspects.contains(item.vantage)) {
          suspects[item.vantage] = "canary '" + target.target + "' is down from this vantage";
        }
      } else if (alone_down(item, *target.evidence)) {
        ++lone_downs[item.vantage];
      }
    }
  }
  for (const auto& [vantage, count] : lone_downs) {
    const double limit = suspect_fraction * non_canary;
    if (count >= 2 && count > limit && !suspects.contains(vantage)) {
      std::ostringstream reason;
      reason << "alone sees " << count << " of " << non_canary
             << " targets down while other domains see them up (suspect_fraction "
             << suspect_fraction << ")";
      suspects[vantage] = reason.str();
    }
  }
  return suspects;
}

}  // namespace crosscheck::consensus
