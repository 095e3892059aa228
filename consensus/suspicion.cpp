#include "consensus/suspicion.hpp"

#include <set>
#include <sstream>

namespace crosscheck::consensus {
namespace {

bool failing_vote(Vote vote) {
  return vote == Vote::Down || vote == Vote::Degraded;
}

// True when `who` is the only failure domain voting down or degraded on this
// target and some other domain votes up. Why degraded too: latency inflation
// seen from one domain only, across many targets, is that observer's network
// being slow (2021: the monitoring's own network congested), not the service.
bool alone_down(const Evidence& who, const std::vector<Evidence>& evidence,
                const std::set<std::string>& ignored) {
  if (!failing_vote(who.raw_vote)) {
    return false;
  }
  bool other_up = false;
  for (const auto& other : evidence) {
    if (other.domain == who.domain || ignored.contains(other.vantage)) {
      continue;
    }
    if (failing_vote(other.raw_vote)) {
      return false;
    }
    other_up = other_up || other.raw_vote == Vote::Up;
  }
  return other_up;
}

// Domains with at least one vantage voting `vote` on one target.
std::set<std::string> domains_voting(const std::vector<Evidence>& evidence, Vote vote,
                                     const std::set<std::string>& ignored) {
  std::set<std::string> domains;
  for (const auto& item : evidence) {
    if (item.raw_vote == vote && !ignored.contains(item.vantage)) {
      domains.insert(item.domain);
    }
  }
  return domains;
}

void judge_canary(const TargetVotes& target, const std::set<std::string>& ignored,
                  SuspicionFindings& out) {
  const auto up = domains_voting(*target.evidence, Vote::Up, ignored);
  const auto down = domains_voting(*target.evidence, Vote::Down, ignored);
  if (!up.empty()) {
    out.canaries_seen_up.insert(target.target);
  }
  if (up.empty()) {
    if (down.size() >= 2) {
      out.broken_canaries[target.target] = "canary '" + target.target + "' is down from all " +
                                           std::to_string(down.size()) +
                                           " domains that see it: the canary is broken";
    }
    return;
  }
  for (const auto& item : *target.evidence) {
    if (item.raw_vote != Vote::Down || out.suspects.contains(item.vantage)) {
      continue;
    }
    // Other domains seeing it up, against the domains seeing it down (the
    // vantage's own included, even when it is already suspect).
    const auto others_up = up.size() - (up.contains(item.domain) ? 1 : 0);
    const auto downs = down.size() + (down.contains(item.domain) ? 0 : 1);
    if (others_up > 0 && others_up >= downs) {
      out.suspects[item.vantage] = "canary '" + target.target + "' is down from this vantage";
    }
  }
}

}  // namespace

SuspicionFindings find_suspects(const std::vector<TargetVotes>& targets, double suspect_fraction,
                                const std::set<std::string>& already_suspect) {
  SuspicionFindings out;
  std::map<std::string, int> lone_downs;
  std::set<std::string> lone_slow;  // some of its lone votes are degraded
  int non_canary = 0;
  for (const auto& target : targets) {
    if (target.evidence == nullptr) {
      continue;
    }
    if (target.canary) {
      judge_canary(target, already_suspect, out);
      continue;
    }
    ++non_canary;
    for (const auto& item : *target.evidence) {
      if (alone_down(item, *target.evidence, already_suspect)) {
        ++lone_downs[item.vantage];
        if (item.raw_vote == Vote::Degraded) {
          lone_slow.insert(item.vantage);
        }
      }
    }
  }
  for (const auto& [vantage, count] : lone_downs) {
    const double limit = suspect_fraction * non_canary;
    if (count >= 2 && count > limit && !out.suspects.contains(vantage)) {
      std::ostringstream reason;
      reason << "alone sees " << count << " of " << non_canary << " targets "
             << (lone_slow.contains(vantage) ? "down or slow" : "down")
             << " while other domains see them up (suspect_fraction " << suspect_fraction << ")";
      out.suspects[vantage] = reason.str();
    }
  }
  return out;
}

}  // namespace crosscheck::consensus
