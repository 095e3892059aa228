#include "daemon/engine_policy.hpp"

#include <algorithm>

namespace crosscheck::daemon {

consensus::Policy make_policy(const config::Config& config) {
  consensus::Policy policy;
  for (const auto& vantage : config.vantages) {
    policy.vantages.push_back(consensus::VantagePolicy{vantage.name, "", vantage.domain});
  }
  for (const auto& target : config.targets) {
    consensus::TargetPolicy item;
    item.name = target.name;
    item.canary = target.canary;
    item.rise = target.timing.rise;
    item.fall = target.timing.fall;
    item.stale_after = target.timing.stale_after;
    item.dispute_grace = target.dispute_grace;
    // DESIGN.md: a restored verdict waits at most fall x interval + timeout,
    // the time a vantage needs to earn a down vote again after a restart.
    item.restore_hold = target.timing.fall * target.timing.interval + target.timing.timeout;
    item.down_quorum = consensus::Quorum{target.down_quorum.count};
    item.up_quorum = consensus::Quorum{target.up_quorum.count};
    item.depends_on = target.depends_on;
    policy.targets.push_back(std::move(item));
  }
  for (const auto& peer : config.peers) {
    policy.peers.push_back(peer.name);
    if (peer.domains) {
      policy.peer_domains[peer.name] = *peer.domains;
    }
    if (peer.vantages) {
      policy.peer_vantages[peer.name] = *peer.vantages;
    }
  }
  policy.suspect_fraction = config.quorum.suspect_fraction;
  // Suspicion waits as long as a dispute: quorum.dispute_grace, else the
  // longest target's own grace (each defaults to its interval).
  consensus::Duration longest_grace{0};
  for (const auto& target : config.targets) {
    longest_grace = std::max(longest_grace, target.dispute_grace);
  }
  policy.suspicion_grace = config.quorum.dispute_grace.value_or(longest_grace);
  policy.flap_limit = config.quorum.flap_limit;
  policy.flap_window = config.quorum.flap_window;
  policy.max_unhealthy_fraction = config.quorum.max_unhealthy_fraction;
  policy.blast_radius_min_targets = config.quorum.blast_radius_min_targets;
  policy.maintenance = config.maintenance;
  return policy;
}

}  // namespace crosscheck::daemon
