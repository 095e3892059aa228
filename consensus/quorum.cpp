#include "consensus/quorum.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += item;
  }
  return out;
}

}  // namespace

int Quorum::resolve(int known_domains) const {
  if (count) {
    return *count;
  }
  const int majority = known_domains / 2 + 1;
  return std::max(majority, std::min(2, known_domains));
}

std::optional<std::string> counted_peer_domain(const Policy& policy, std::string_view node,
                                               std::string_view domain) {
  const auto declared = policy.peer_domains.find(std::string(node));
  if (declared == policy.peer_domains.end()) {
    return std::string(node);
  }
  if (std::find(declared->second.begin(), declared->second.end(), domain) ==
      declared->second.end()) {
    return std::nullopt;
  }
  return std::string(domain);
}

bool listed_peer_vantage(const Policy& policy, std::string_view node, std::string_view vantage) {
  const auto listed = policy.peer_vantages.find(std::string(node));
  return listed == policy.peer_vantages.end() ||
         std::find(listed->second.begin(), listed->second.end(), vantage) != listed->second.end();
}

VoteCounts tally(const std::vector<Evidence>& evidence,
                 const std::vector<std::string>& known_domains, const Quorum& down_quorum,
                 const Quorum& up_quorum) {
  struct Seen {
    bool up = false;
    bool down = false;
    bool degraded = false;
  };
  // Why a vector beside known_domains, searched: a target has a handful of
  // domains, and a hash map here cost its buckets and a node per domain for
  // every target on every evaluation (malloc was a fifth of bench row 4).
  // A vote from a domain that is not known counts nowhere, as before.
  std::vector<Seen> seen(known_domains.size());
  for (const auto& item : evidence) {
    if (item.vote == Vote::Unknown) {
      continue;
    }
    const auto known = std::find(known_domains.begin(), known_domains.end(), item.domain);
    if (known == known_domains.end()) {
      continue;
    }
    auto& domain = seen[static_cast<std::size_t>(known - known_domains.begin())];
    domain.up = domain.up || item.vote == Vote::Up;
    domain.down = domain.down || item.vote == Vote::Down;
    domain.degraded = domain.degraded || item.vote == Vote::Degraded;
  }
  VoteCounts counts;
  counts.known_domains = static_cast<int>(known_domains.size());
  counts.up_domains.reserve(known_domains.size());
  // Iterate known domains (not evidence) so the lists come out in a stable,
  // configured order whatever order the vantages were added in.
  for (std::size_t d = 0; d < known_domains.size(); ++d) {
    const auto& domain = known_domains[d];
    const Seen vote = seen[d];
    if (vote.up && (vote.down || vote.degraded)) {
      counts.split_domains.push_back(domain);
    } else if (vote.up) {
      counts.up_domains.push_back(domain);
    } else if (vote.degraded) {
      counts.degraded_domains.push_back(domain);
    } else if (vote.down) {
      counts.down_domains.push_back(domain);
    } else {
      ++counts.unknown;
    }
  }
  counts.up = static_cast<int>(counts.up_domains.size());
  counts.down = static_cast<int>(counts.down_domains.size());
  counts.split = static_cast<int>(counts.split_domains.size());
  counts.degraded = static_cast<int>(counts.degraded_domains.size());
  counts.down_quorum = down_quorum.resolve(counts.known_domains);
  counts.up_quorum = up_quorum.resolve(counts.known_domains);
  return counts;
}

VerdictKind raw_verdict(const VoteCounts& counts) {
  if (counts.down >= counts.down_quorum) {
    return VerdictKind::Unhealthy;
  }
  if (counts.down + counts.degraded >= counts.down_quorum) {
    return VerdictKind::Degraded;
  }
  if (counts.down + counts.degraded >= 1) {
    return VerdictKind::Disputed;
  }
  if (counts.up >= counts.up_quorum) {
    return VerdictKind::Healthy;
  }
  return VerdictKind::Unknown;
}

// Why appends, not a std::ostringstream: every target is described on
// every evaluation, and a stream (its locale, its buffer) cost more than
// the text.
std::string describe(const VoteCounts& counts, VerdictKind raw) {
  const auto n = [](int value) { return std::to_string(value); };
  const std::string of_known = " of " + n(counts.known_domains) + " domains ";
  std::string out;
  switch (raw) {
    case VerdictKind::Unhealthy:
      out = n(counts.down) + of_known + "down (" + join(counts.down_domains) + "); quorum " +
            n(counts.down_quorum);
      break;
    case VerdictKind::Degraded:
      out = n(counts.degraded) + of_known + "degraded (" + join(counts.degraded_domains) + ")";
      if (counts.down > 0) {
        out += ", " + n(counts.down) + " down (" + join(counts.down_domains) + ")";
      }
      out += ": latency objective broken; down quorum " + n(counts.down_quorum);
      break;
    case VerdictKind::Disputed:
    case VerdictKind::Unreachable:  // never a raw verdict; described as disputed
      out = n(counts.down) + of_known + "down (" + join(counts.down_domains) + ")";
      if (counts.degraded > 0) {
        out += ", " + n(counts.degraded) + " degraded (" + join(counts.degraded_domains) + ")";
      }
      out += ", " + n(counts.up) + " up; down quorum " + n(counts.down_quorum);
      break;
    case VerdictKind::Healthy:
      out = n(counts.up) + of_known + "up; quorum " + n(counts.up_quorum);
      break;
    case VerdictKind::Unknown:
      out = "only " + n(counts.up) + of_known + "up, none down; up quorum " + n(counts.up_quorum);
      break;
  }
  if (counts.split > 0) {
    out += "; " + n(counts.split) + " split (" + join(counts.split_domains) +
           ": its vantages disagree)";
  }
  if (counts.quorum_unreachable()) {
    out += "; quorum unreachable: down quorum " + n(counts.down_quorum) + ", up quorum " +
           n(counts.up_quorum) + " but only " + n(counts.known_domains) + " domains known";
  }
  return out;
}

}  // namespace crosscheck::consensus
