#include "consensus/quorum.hpp"

#include <algorithm>
#include <sstream>

namespace crosscheck::consensus {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

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

VoteCounts tally(const std::vector<Evidence>& evidence,
                 const std::vector<std::string>& known_domains, const Quorum& down_quorum,
                 const Quorum& up_quorum) {
  VoteCounts counts;
  counts.known_domains = static_cast<int>(known_domains.size());
  // Iterate known domains (not evidence) so the lists come out in a stable,
  // configured order whatever order the vantages were added in.
  for (const auto& domain : known_domains) {
    bool up = false;
    bool down = false;
    for (const auto& item : evidence) {
      if (item.domain != domain) {
        continue;
      }
      up = up || item.vote == Vote::Up;
      down = down || item.vote == Vote::Down;
    }
    if (up && !contains(counts.up_domains, domain)) {
      counts.up_domains.push_back(domain);
    }
    if (down && !contains(counts.down_domains, domain)) {
      counts.down_domains.push_back(domain);
    }
    if (!up && !down) {
      ++counts.unknown;
    }
  }
  counts.up = static_cast<int>(counts.up_domains.size());
  counts.down = static_cast<int>(counts.down_domains.size());
  counts.down_quorum = down_quorum.resolve(counts.known_domains);
  counts.up_quorum = up_quorum.resolve(counts.known_domains);
  return counts;
}

VerdictKind raw_verdict(const VoteCounts& counts) {
  if (counts.down >= counts.down_quorum) {
    return VerdictKind::Unhealthy;
  }
  if (counts.down >= 1) {
    return VerdictKind::Disputed;
  }
  if (counts.up >= counts.up_quorum) {
    return VerdictKind::Healthy;
  }
  return VerdictKind::Unknown;
}

std::string describe(const VoteCounts& counts, VerdictKind raw) {
  std::ostringstream out;
  switch (raw) {
    case VerdictKind::Unhealthy:
      out << counts.down << " of " << counts.known_domains << " domains down ("
          << join(counts.down_domains) << "); quorum " << counts.down_quorum;
      break;
    case VerdictKind::Disputed:
      out << counts.down << " of " << counts.known_domains << " domains down ("
          << join(counts.down_domains) << "), " << counts.up << " up; down quorum "
          << counts.down_quorum;
      break;
    case VerdictKind::Healthy:
      out << counts.up << " of " << counts.known_domains << " domains up; quorum "
          << counts.up_quorum;
      break;
    case VerdictKind::Unknown:
      out << "only " << counts.up << " of " << counts.known_domains
          << " domains up, none down; up quorum " << counts.up_quorum;
      break;
  }
  return out.str();
}

}  // namespace crosscheck::consensus
