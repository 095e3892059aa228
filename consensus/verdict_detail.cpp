#include "consensus/verdict_detail.hpp"

#include <array>

namespace crosscheck::consensus {

FailingLayer summarize_failing_layer(const std::vector<Evidence>& evidence) {
  constexpr std::array<Layer, 4> k_chain{Layer::Dns, Layer::Connect, Layer::Tls, Layer::Http};
  std::array<int, k_chain.size()> counts{};
  bool tried_reachable = false;
  bool tried_unreachable = false;
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
    if (tried_unreachable) {
      out.last_known_good = LastKnownGood::Unreachable;
    } else if (tried_reachable) {
      out.last_known_good = LastKnownGood::Reachable;
    }
  }
  return out;
}

}  // namespace crosscheck::consensus
