// Engine: groups (config `groups:`), judged after the targets from their
// members' published verdicts, like a calculated health check. A group is
// unhealthy only when its confirmed-unhealthy members alone leave fewer than
// healthy_at_least possibly healthy: each of those members was confirmed by
// a quorum of failure domains, so the group verdict rests on the same
// agreement and never on one domain's word. Pure, like the rest of the engine.
#include "consensus/engine.hpp"
#include "consensus/episode_key.hpp"
#include "consensus/flap_count.hpp"
#include "consensus/group_definition.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace crosscheck::consensus {
namespace {

// The members as one group counts them.
struct MemberCount {
  int total = 0;
  int healthy = 0;
  int healthy_fresh = 0;
  // Confirmed unhealthy and outside any window (what can make the group
  // unhealthy), and of those the fresh ones and each failover's.
  int unhealthy = 0;
  int unhealthy_fresh = 0;
  int unhealthy_service = 0;
  int unhealthy_dns = 0;
  int unreachable = 0;
  // Degraded: serving, slowly (docs/degraded.md): not healthy, not failing.
  int degraded = 0;
  int degraded_fresh = 0;
  int failing = 0;    // disputed, or unhealthy inside a window
  int in_window = 0;  // unhealthy inside a window
  std::vector<std::string> down;
  std::vector<std::string> overridden;  // of `down`, those an operator override publishes
};

MemberCount count_members(const GroupView& view, const std::vector<FailureScope>& scopes) {
  MemberCount count;
  for (std::size_t i = 0; i < view.members.size(); ++i) {
    const auto& member = view.members[i];
    ++count.total;
    // Why a member in a window counts for nothing, healthy or not: planned
    // work is no outage to fail the cluster over, and no health to fail
    // back on either.
    if (member.maintenance) {
      count.in_window += member.kind == VerdictKind::Unhealthy ? 1 : 0;
      continue;
    }
    switch (member.kind) {
      case VerdictKind::Healthy:
        ++count.healthy;
        count.healthy_fresh += member.fresh ? 1 : 0;
        break;
      case VerdictKind::Unhealthy:
        ++count.unhealthy;
        count.unhealthy_fresh += member.fresh ? 1 : 0;
        count.unhealthy_service += scopes[i] == FailureScope::Service ? 1 : 0;
        count.unhealthy_dns += scopes[i] == FailureScope::Dns ? 1 : 0;
        count.down.push_back(member.target);
        if (member.overridden) {
          count.overridden.push_back(member.target);
        }
        break;
      case VerdictKind::Unreachable:
        ++count.unreachable;
        break;
      case VerdictKind::Degraded:
        ++count.degraded;
        count.degraded_fresh += member.fresh ? 1 : 0;
        break;
      case VerdictKind::Disputed:
        ++count.failing;
        break;
      case VerdictKind::Unknown:
        break;
    }
  }
  return count;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

void Engine::index_groups() {
  group_indices_.clear();
  groups_of_.assign(policy_.targets.size(), {});
  for (std::size_t g = 0; g < policy_.groups.size(); ++g) {
    group_indices_.emplace(group_name(policy_.groups[g].name), g);
    for (const auto& member : policy_.groups[g].members) {
      const auto index = target_index(member);
      if (index && std::find(groups_of_[*index].begin(), groups_of_[*index].end(), g) ==
                       groups_of_[*index].end()) {
        groups_of_[*index].push_back(g);
      }
    }
  }
}

std::optional<std::size_t> Engine::group_index(std::string_view name) const {
  const auto found = group_indices_.find(name);
  if (found == group_indices_.end()) {
    return std::nullopt;
  }
  return found->second;
}

const std::vector<std::size_t>& Engine::groups_of(std::string_view target) const {
  static const std::vector<std::size_t> none;
  const auto index = target_index(target);
  return index ? groups_of_[*index] : none;
}

void Engine::evaluate_groups(const Instant& now, Evaluation& out) {
  for (std::size_t g = 0; g < policy_.groups.size(); ++g) {
    publish_group(g, now, out);
  }
}

void Engine::publish_group(std::size_t index, const Instant& now, Evaluation& out) {
  const auto& group = policy_.groups[index];
  auto& state = group_states_[index];
  auto& verdict = group_published_[index];
  GroupView view;
  view.healthy_at_least = group.healthy_at_least;
  std::vector<FailureScope> scopes;
  // Valid as long as every member's verdict is.
  std::optional<WallTime> valid_until;
  for (const auto& name : group.members) {
    const auto member = target_index(name);
    if (!member) {
      continue;  // config/ rejects unknown members; the engine does not rely on it
    }
    const auto& published = published_[*member];
    // This group's own window leaves its members counted: it holds the
    // group's gate, and the verdict is shown as for a target in a window.
    const bool other_window =
        published.maintenance.has_value() && states_[*member].window_group != index;
    view.members.push_back(GroupMemberView{name, published.kind, published.fresh, other_window,
                                           published.reason_code == ReasonCode::Override});
    scopes.push_back(published.scope);
    valid_until = std::min(valid_until.value_or(published.valid_until), published.valid_until);
  }
  const auto count = count_members(view, scopes);
  const int need = group.healthy_at_least;
  std::ostringstream reason;
  reason << count.healthy << " of " << count.total << " members healthy (healthy_at_least " << need
         << ")";
  VerdictKind kind = VerdictKind::Unknown;
  ReasonCode code = ReasonCode::Insufficient;
  bool supported = true;
  FailureScope scope = FailureScope::None;
  if (count.healthy >= need) {
    kind = VerdictKind::Healthy;
    code = ReasonCode::Quorum;
    supported = count.healthy_fresh >= need;
  } else if (count.total - count.unhealthy < need) {
    // Even if every member not confirmed unhealthy were healthy, the group
    // would stay below its threshold.
    kind = VerdictKind::Unhealthy;
    code = ReasonCode::Quorum;
    supported = count.total - count.unhealthy_fresh < need;
    reason << "; " << count.unhealthy << " confirmed unhealthy (" << join(count.down)
           << "): at most " << count.total - count.unhealthy << " can be healthy";
    if (!count.overridden.empty()) {
      reason << "; by operator override: " << join(count.overridden);
    }
    // The failover the evidence supports: the one whose failing members
    // alone already break the threshold.
    if (count.total - count.unhealthy_service < need) {
      scope = FailureScope::Service;
    } else if (count.total - count.unhealthy_dns < need) {
      scope = FailureScope::Dns;
    } else {
      reason << "; the members fail in different planes, no single failover is supported";
    }
  } else if (count.healthy + count.degraded >= need) {
    // Enough members serve, but only with the slow ones counted.
    kind = VerdictKind::Degraded;
    code = ReasonCode::Quorum;
    supported = count.healthy_fresh + count.degraded_fresh >= need;
    scope = FailureScope::Service;
    reason << "; " << count.degraded
           << " degraded (latency objective broken) needed to reach the threshold";
  } else if (count.total - count.unhealthy - count.unreachable < need) {
    kind = VerdictKind::Unreachable;
    code = ReasonCode::Dependency;
    reason << "; " << count.unreachable
           << " unreachable behind a parent: the alert and the failover go to the parent";
  } else if (count.unhealthy + count.failing + count.in_window > 0) {
    kind = VerdictKind::Disputed;
    code = ReasonCode::Dispute;
    reason << "; below the threshold, but not enough members are confirmed unhealthy";
    if (count.in_window > 0) {
      reason << " (" << count.in_window
             << " failing inside a maintenance window count for nothing)";
    }
  } else {
    reason << "; too few members are confirmed either way";
  }
  if (std::exchange(state.restored_flapping, false)) {
    refill_flap_window(state.changes, group.flap_limit, now.mono);
  }
  if (auto flapping = flapping_reason(state.changes, state.judged, kind, now.mono,
                                      group.flap_window, group.flap_limit, reason.str())) {
    kind = VerdictKind::Disputed;
    code = ReasonCode::Flapping;
    scope = FailureScope::None;
    supported = true;
    reason.str(*flapping);
  }
  const bool changed = kind != verdict.kind || std::exchange(state.redefined, false);
  if (changed) {
    ++verdict.generation;
    ++revision_;
    verdict.since = now.wall;
    verdict.stable_from.reset();
  }
  if (changed || !verdict.since_mono) {
    verdict.since_mono = now.mono - std::max(Duration::zero(), now.wall - verdict.stable_since());
  }
  verdict.kind = kind;
  verdict.reason_code = code;
  verdict.reason = reason.str();
  verdict.fresh = supported;
  verdict.evaluated_at = now.wall;
  verdict.valid_until = valid_until.value_or(now.wall);
  verdict.scope = supported ? scope : FailureScope::None;
  verdict.maintenance = state.maintenance;
  verdict.cooldown = state.cooldown;
  verdict.votes = VoteCounts{};
  verdict.votes.up = count.healthy;
  verdict.votes.down = count.unhealthy;
  verdict.votes.unknown = count.total - count.healthy - count.unhealthy;
  verdict.votes.up_quorum = need;
  verdict.votes.down_quorum = count.total - need + 1;
  verdict.votes.known_domains = count.total;
  if (verdict.confirmed() && supported) {
    state.last_confirmed = kind;
  }
  verdict.held = verdict.confirmed() ? std::nullopt : state.last_confirmed;
  verdict.group = std::move(view);
  if (changed) {
    out.events.push_back(change_event(verdict, now));
  }
  update_group_episode(index, now, out);
}

void Engine::update_group_episode(std::size_t index, const Instant& now, Evaluation& out) {
  const auto& verdict = group_published_[index];
  auto& state = group_states_[index];
  const bool wanted =
      verdict.kind == VerdictKind::Disputed && verdict.reason_code == ReasonCode::Flapping;
  // Closed when it ends, and when the window it was silenced in ends (a
  // flapping that goes on then opens again, paging).
  if (!state.episode_key.empty() && (!wanted || (state.episode_silenced && !state.maintenance))) {
    auto event = verdict_event(EventKind::FlappingStopped, verdict, now);
    event.key = state.episode_key;
    event.silenced = state.episode_silenced;
    if (wanted) {
      event.reason = "maintenance over: the silenced escalation is closed; " + verdict.reason;
    }
    out.events.push_back(std::move(event));
    state.episode_key.clear();
    state.episode_silenced = false;
  }
  if (!wanted || !state.episode_key.empty()) {
    return;
  }
  auto event = verdict_event(EventKind::FlappingStarted, verdict, now);
  event.key = unique_episode_key(state.used_keys, EventKind::FlappingStarted, verdict.target,
                                 verdict.generation);
  state.episode_key = event.key;
  state.episode_silenced = state.maintenance.has_value();
  event.silenced = state.episode_silenced;
  out.events.push_back(std::move(event));
}

bool Engine::restore_group(std::size_t index, const RestoredVerdict& restored) {
  auto& verdict = group_published_[index];
  verdict.kind = restored.kind;
  verdict.held = restored.held;
  verdict.generation = restored.generation;
  verdict.since = restored.since;
  verdict.reason_code = ReasonCode::Restored;
  verdict.reason = "restored after restart; awaiting the members' verdicts";
  verdict.fresh = false;
  // Shown until the first evaluation: when it was last judged, and valid
  // for nothing since (a gate holds on it anyway).
  verdict.evaluated_at = restored.since;
  verdict.valid_until = restored.since;
  verdict.stable_from = restored.stable_from;
  verdict.maintenance = restored.window;
  auto& state = group_states_[index];
  state.maintenance = restored.window;
  const auto& group = policy_.groups[index];
  if (!restored.definition.empty() &&
      restored.definition != group_definition(group.healthy_at_least, group.members)) {
    // Another cluster under the same name since the stop, as a reload that
    // changes it: nothing it held carries over, and its first evaluation
    // moves the generation on (the fencing token a script holds).
    verdict.kind = VerdictKind::Unknown;
    verdict.held.reset();
    verdict.reason_code = ReasonCode::Insufficient;
    verdict.reason =
        "members or healthy_at_least changed while crosscheck was stopped; judged anew";
    state.redefined = true;
    state.judged = VerdictKind::Unknown;
    return true;
  }
  state.judged = restored.kind;
  state.restored_flapping = was_flapping(restored);
  state.last_confirmed = verdict.confirmed() ? std::optional{restored.kind} : restored.held;
  for (const auto& key : restored.used_keys) {
    push_unique(state.used_keys, key);
  }
  if (!restored.open_escalation_key.empty()) {
    // Flapping is the only episode a group opens: it goes on under its key.
    state.episode_key = restored.open_escalation_key;
    state.episode_silenced = restored.open_escalation_silenced;
    push_unique(state.used_keys, restored.open_escalation_key);
  }
  return true;
}

void Engine::reconfigure_groups(const Policy& next, const Instant& now, Reconfiguration& out) {
  std::vector<GroupState> states(next.groups.size());
  std::vector<Verdict> published(next.groups.size());
  for (std::size_t g = 0; g < next.groups.size(); ++g) {
    const auto name = group_name(next.groups[g].name);
    if (const auto old = group_index(name)) {
      states[g] = std::move(group_states_[*old]);
      published[g] = std::move(group_published_[*old]);
      const auto& before = policy_.groups[*old];
      if (before.members != next.groups[g].members ||
          before.healthy_at_least != next.groups[g].healthy_at_least) {
        // Another set of members or threshold is another cluster: what the
        // old one held, how long it held it and its generation (a fencing
        // token a script holds) say nothing about it. It starts over
        // unknown, one generation on, its windows and cooldown kept.
        auto& verdict = published[g];
        ++verdict.generation;
        verdict.kind = VerdictKind::Unknown;
        verdict.held.reset();
        verdict.fresh = false;
        verdict.reason_code = ReasonCode::Insufficient;
        verdict.reason = "members or healthy_at_least changed by a config reload; judged anew";
        verdict.since = now.wall;
        verdict.since_mono = now.mono;
        states[g].judged = VerdictKind::Unknown;
        states[g].changes.clear();
        states[g].last_confirmed.reset();
        out.events.push_back(change_event(verdict, now));
      }
      continue;
    }
    published[g].target = name;
    published[g].reason = "added by a config reload; no evaluation yet";
    if (const auto retired = retired_.find(name); retired != retired_.end()) {
      published[g].generation = retired->second.generation;
      published[g].since = now.wall;
      published[g].since_mono = now.mono;
      if (retired->second.announce) {
        out.events.push_back(change_event(published[g], now));
      }
      retired_.erase(retired);
    }
  }
  for (std::size_t g = 0; g < policy_.groups.size(); ++g) {
    const auto& old = policy_.groups[g].name;
    const bool kept = std::any_of(next.groups.begin(), next.groups.end(),
                                  [&](const GroupPolicy& group) { return group.name == old; });
    if (kept) {
      continue;
    }
    // A group's generation is a fencing token like a target's.
    const auto name = group_name(old);
    const auto retired_at = group_published_[g].generation + 1;
    retired_[name] = Retired{retired_at, false, {}};
    Verdict ended;
    ended.target = name;
    ended.generation = retired_at;
    ended.reason = "group removed from the config";
    out.events.push_back(change_event(ended, now));
    if (const auto& key = group_states_[g].episode_key; !key.empty()) {
      auto event = verdict_event(EventKind::FlappingStopped, ended, now);
      event.key = key;
      event.silenced = group_states_[g].episode_silenced;
      out.events.push_back(std::move(event));
    }
  }
  group_states_ = std::move(states);
  group_published_ = std::move(published);
}

}  // namespace crosscheck::consensus
