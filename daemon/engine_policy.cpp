#include "daemon/engine_policy.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>

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
    item.latency = target.timing.latency;
    if (target.timing.cert_min_days > 0 && target.sees_certificate()) {
      item.cert_min_remaining = std::chrono::duration_cast<consensus::Duration>(
          std::chrono::days{target.timing.cert_min_days});
    }
    if (target.dns && target.dns->dnssec) {
      item.rrsig_min_remaining = target.dns->rrsig_min_remaining;
    }
    item.dispute_grace = target.dispute_grace;
    // DESIGN.md: a restored verdict waits at most fall x interval + timeout,
    // the time a vantage needs to earn a down vote again after a restart.
    item.restore_hold = target.timing.fall * target.timing.interval + target.timing.timeout;
    if (target.timing.latency) {
      // A latency vote needs its window filled again: a restored degraded
      // verdict that stood only `fall` intervals gave way to a false healthy
      // (every vote up, no latency vote yet) and came back after. A whole
      // window, not 5 intervals: only passing checks are samples, so a slow
      // service that also fails some checks needs longer (hostile review).
      const auto samples = static_cast<int>(consensus::LatencyObjective::k_min_samples);
      item.restore_hold =
          std::max({target.timing.fall * target.timing.interval, samples * target.timing.interval,
                    target.timing.latency->window}) +
          target.timing.timeout;
    }
    item.down_quorum = consensus::Quorum{target.down_quorum.count};
    item.up_quorum = consensus::Quorum{target.up_quorum.count};
    item.depends_on = target.depends_on;
    item.priority = target.priority;
    policy.targets.push_back(std::move(item));
  }
  std::map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < policy.targets.size(); ++i) {
    index.emplace(policy.targets[i].name, i);
  }
  for (const auto& group : config.groups) {
    consensus::GroupPolicy item;
    item.name = group.name;
    item.members = group.members;
    item.healthy_at_least = group.healthy_at_least;
    item.max_unhealthy_fraction = group.max_unhealthy_fraction;
    item.flap_limit = group.flap_limit.value_or(config.quorum.flap_limit);
    item.flap_window = group.flap_window.value_or(config.quorum.flap_window);
    for (const auto& member : group.members) {
      // The members' strictest group flap limit applies to them too.
      const auto at = index.find(member);
      if (at == index.end()) {
        continue;
      }
      auto* found = &policy.targets[at->second];
      if (group.flap_limit) {
        found->flap_limit =
            std::min(found->flap_limit.value_or(config.quorum.flap_limit), *group.flap_limit);
      }
      if (group.flap_window) {
        found->flap_window =
            std::max(found->flap_window.value_or(config.quorum.flap_window), *group.flap_window);
      }
    }
    policy.groups.push_back(std::move(item));
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

namespace {

std::optional<consensus::CooldownView> cooldown_with_related(const consensus::ActionLedger& ledger,
                                                             const config::Config& config,
                                                             std::string_view name,
                                                             consensus::WallTime now) {
  auto best = ledger.cooldown_of(name, now);
  for (const auto& related : config.related_names(name)) {
    auto found = ledger.cooldown_of(related, now);
    if (found && (!best || found->until > best->until)) {
      best = std::move(found);
    }
  }
  return best;
}

}  // namespace

void apply_cooldowns(consensus::Engine& engine, const consensus::ActionLedger& ledger,
                     const config::Config& config, std::string_view name, consensus::WallTime now) {
  // Why the related names' too: an action on a group holds its members
  // (the cluster was just failed over) and one on a member holds its
  // groups; a member's cooldown also depends on its other groups.
  engine.set_cooldown(name, cooldown_with_related(ledger, config, name, now));
  for (const auto& related : config.related_names(name)) {
    engine.set_cooldown(related, cooldown_with_related(ledger, config, related, now));
  }
}

}  // namespace crosscheck::daemon
