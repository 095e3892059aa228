// Engine::reconfigure: a config reload applied to the engine's state, kept
// apart from evaluation (engine.cpp) because it only moves state around.
#include "consensus/engine.hpp"

#include <algorithm>

namespace crosscheck::consensus {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

Reconfiguration Engine::reconfigure(Policy policy, const Resets& resets, const Instant& now) {
  Reconfiguration out;
  std::vector<VantagePolicy> vantages = policy.vantages;
  for (const auto& vantage : vantages_) {
    if (vantage.node.empty() || !contains(policy.peers, vantage.node)) {
      continue;
    }
    // A peer's, reported before the reload. Why at once: a reload that takes
    // domains away from a peer (one no longer trusted) must not let its kept
    // vantages count in them until its next pull. A domain it may still
    // speak for stays; one it gained comes with that pull (add_remote_vantage).
    // The same for a vantage its `vantages:` no longer lists.
    const auto counted = counted_peer_domain(policy, vantage.node, vantage.domain);
    const bool listed =
        listed_peer_vantage(policy, vantage.node, vantage.name.substr(vantage.node.size() + 1));
    if (counted && listed) {
      vantages.push_back(vantage);
      vantages.back().domain = *counted;
    }
  }
  std::vector<std::string> gone;
  for (const auto& vantage : vantages_) {
    const bool kept = std::any_of(vantages.begin(), vantages.end(),
                                  [&](const VantagePolicy& v) { return v.name == vantage.name; });
    if (!kept) {
      gone.push_back(vantage.name);
    }
  }
  for (const auto& vantage : vantages) {
    if (find_vantage(vantage.name) == nullptr) {
      out.vantages_added.push_back(vantage.name);
    }
  }
  retire_vantages(gone, now, out);

  std::vector<TargetState> states(policy.targets.size());
  std::vector<Verdict> published(policy.targets.size());
  for (std::size_t i = 0; i < policy.targets.size(); ++i) {
    const auto& name = policy.targets[i].name;
    const auto old = target_index(name);
    if (!old) {
      published[i].target = name;
      published[i].reason = "added by a config reload; no evaluation yet";
      out.targets_added.push_back(name);
      const auto retired = retired_.find(name);
      if (retired != retired_.end()) {
        // Back after a removal, which was itself published (and stored) as
        // "unknown" one generation on: it continues from there.
        published[i].generation = retired->second.generation;
        published[i].since = now.wall;
        published[i].since_mono = now.mono;
        published[i].reason = "re-added by a config reload; no evaluation yet";
        states[i].used_keys = std::move(retired->second.used_keys);
        if (retired->second.announce) {
          out.events.push_back(change_event(published[i], now));
        }
        retired_.erase(retired);
      }
    } else {
      states[i] = std::move(states_[*old]);
      published[i] = std::move(published_[*old]);
      if (contains(resets.targets, name)) {
        states[i].trackers.clear();
        out.targets_reset.push_back(name);
      }
    }
    published[i].canary = policy.targets[i].canary;
    for (const auto& vantage : gone) {
      states[i].trackers.erase(vantage);
    }
    for (const auto& vantage : resets.vantages) {
      states[i].trackers.erase(vantage);
    }
  }
  for (std::size_t i = 0; i < policy_.targets.size(); ++i) {
    const auto& name = policy_.targets[i].name;
    const bool kept = std::any_of(policy.targets.begin(), policy.targets.end(),
                                  [&](const TargetPolicy& t) { return t.name == name; });
    if (kept) {
      continue;
    }
    out.targets_removed.push_back(name);
    // A generation is a fencing token: whatever the target published is
    // over, and that is a change like any other, announced (so storage
    // keeps it) at the next generation. Whether the target comes back in a
    // later reload or after a restart, it continues from there.
    const auto retired_at = published_[i].generation + 1;
    retired_[name] = Retired{retired_at, false, {}};
    Verdict ended;  // unknown, holding nothing: no verdict is behind the name any more
    ended.target = name;
    ended.generation = retired_at;
    ended.reason = "target removed from the config";
    out.events.push_back(change_event(ended, now));
    std::vector<std::pair<EventKind, std::string>> open(states_[i].side_episodes.begin(),
                                                        states_[i].side_episodes.end());
    if (!states_[i].episode_key.empty()) {
      open.emplace_back(states_[i].episode_kind, states_[i].episode_key);
    }
    for (const auto& [kind, key] : open) {
      Event event;
      event.kind = resolution_of(kind);
      event.key = key;
      event.at = now;
      event.target = name;
      event.verdict = published_[i].kind;
      event.held = published_[i].held;
      event.generation = published_[i].generation;
      event.reason = "target removed from the config";
      event.silenced = states_[i].silenced_keys.contains(key);  // opened silenced: ends so
      out.events.push_back(std::move(event));
    }
  }
  const bool groups_changed = !std::equal(
      policy_.groups.begin(), policy_.groups.end(), policy.groups.begin(), policy.groups.end(),
      [](const auto& a, const auto& b) { return a.name == b.name; });
  reconfigure_groups(policy, now, out);
  policy_ = std::move(policy);
  vantages_ = std::move(vantages);
  index_vantages();
  states_ = std::move(states);
  published_ = std::move(published);
  index_targets();
  index_groups();
  if (!out.targets_added.empty() || !out.targets_removed.empty() || groups_changed) {
    ++revision_;  // the list of verdicts changed: wake watchers
  }
  out.revision = revision_;
  return out;
}

void Engine::retire_vantages(const std::vector<std::string>& names, const Instant& now,
                             Reconfiguration& out) {
  for (const auto& name : names) {
    out.vantages_removed.push_back(name);
    suspect_pending_since_.erase(name);
    suspects_.erase(name);
    const auto found = suspect_state_.find(name);
    if (found == suspect_state_.end()) {
      continue;
    }
    Event event;
    event.kind = EventKind::VantageCleared;
    event.key = found->second.key;
    event.at = now;
    event.vantage = name;
    event.reason = "vantage removed from the config";
    out.events.push_back(std::move(event));
    suspect_state_.erase(found);
  }
}

}  // namespace crosscheck::consensus
