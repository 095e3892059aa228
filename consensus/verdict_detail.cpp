#include "consensus/verdict_detail.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

namespace crosscheck::consensus {

FailingLayer summarize_failing_layer(const std::vector<Evidence>& evidence) {
  constexpr std::array<Layer, 5> k_chain{Layer::Dns, Layer::Connect, Layer::Tls, Layer::Http,
                                         Layer::App};
  std::array<int, k_chain.size()> counts{};
  bool tried_reachable = false;
  bool tried_unreachable = false;
  bool dnssec = true;  // every DNS down vote a validation failure
  for (const auto& item : evidence) {
    // The newest observation of a down vote may already be an up that has
    // not reached `rise` yet; only down observations say where it fails.
    if (item.vote != Vote::Down || !item.last || item.last->outcome != Outcome::Down) {
      continue;
    }
    for (std::size_t i = 0; i < k_chain.size(); ++i) {
      if (item.last->layer == k_chain[i]) {
        ++counts[i];
      }
    }
    if (item.last->layer == Layer::Dns) {
      tried_reachable = tried_reachable || item.last->last_known_good == LastKnownGood::Reachable;
      tried_unreachable =
          tried_unreachable || item.last->last_known_good == LastKnownGood::Unreachable;
      dnssec = dnssec && item.last->dnssec_failure;
    }
  }
  FailingLayer out;
  int best = 0;
  for (std::size_t i = 0; i < k_chain.size(); ++i) {
    if (counts[i] > best) {
      best = counts[i];
      out.layer = k_chain[i];
    }
  }
  if (out.layer == Layer::Dns) {
    out.dnssec = dnssec;
    if (tried_unreachable) {
      out.last_known_good = LastKnownGood::Unreachable;
    } else if (tried_reachable) {
      out.last_known_good = LastKnownGood::Reachable;
    }
  }
  return out;
}

namespace {

// What one domain's counted down votes say fails.
struct DomainPlanes {
  bool up = false;        // a counted up vote: the domain is not down
  bool down = false;      // a counted down vote
  bool degraded = false;  // a counted degraded vote: the domain is degraded, not down
  bool service = true;    // every down vote failed at the service
  bool dns = true;        // every down vote failed at DNS
};

bool service_failing(const Observation& last) {
  switch (last.layer) {
    case Layer::Connect:
    case Layer::Tls:
    case Layer::Http:
    case Layer::App:
      return true;
    case Layer::Dns:
      return last.last_known_good == LastKnownGood::Unreachable;
    case Layer::None:
      break;
  }
  return false;
}

}  // namespace

FailureScope summarize_scope(const std::vector<Evidence>& evidence, int down_quorum) {
  const bool suspect_down = std::any_of(evidence.begin(), evidence.end(), [](const Evidence& item) {
    return item.suspect && item.raw_vote == Vote::Down;
  });
  // Why first: most targets, most of the time, have no counted down vote,
  // and then no domain is down in any plane; the map below cost a node per
  // domain for every target on every evaluation.
  if (std::none_of(evidence.begin(), evidence.end(),
                   [](const Evidence& item) { return item.vote == Vote::Down; })) {
    return suspect_down ? FailureScope::Observer : FailureScope::None;
  }
  std::map<std::string_view, DomainPlanes> domains;
  for (const auto& item : evidence) {
    if (item.vote == Vote::Unknown) {
      continue;
    }
    auto& domain = domains[item.domain];
    if (item.vote == Vote::Up) {
      domain.up = true;
      continue;
    }
    if (item.vote == Vote::Degraded) {
      domain.degraded = true;
      continue;
    }
    domain.down = true;
    const bool failed = item.last && item.last->outcome == Outcome::Down;
    domain.service = domain.service && failed && service_failing(*item.last);
    domain.dns = domain.dns && failed && item.last->layer == Layer::Dns;
  }
  int service = 0;
  int dns = 0;
  for (const auto& [name, domain] : domains) {
    if (domain.down && !domain.up && !domain.degraded) {
      service += domain.service ? 1 : 0;
      dns += domain.dns ? 1 : 0;
    }
  }
  const int quorum = std::max(down_quorum, 1);
  if (service >= quorum) {
    return FailureScope::Service;
  }
  if (dns >= quorum) {
    return FailureScope::Dns;
  }
  return suspect_down ? FailureScope::Observer : FailureScope::None;
}

}  // namespace crosscheck::consensus
