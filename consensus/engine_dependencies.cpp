// Engine: dependencies (depends_on) and the blast-radius guard, judged in one
// pass over the targets, parents before children: whether a parent is
// confirmed unhealthy depends on the guard, and a child that is unreachable
// must not spend the guard's budget. Pure, like the rest of the engine.
#include "consensus/engine.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <sstream>

namespace crosscheck::consensus {
namespace {

// Whether a candidate tells of the target failing: unhealthy, degraded, or
// disputed with down or degraded votes (kept through grace included), or an
// unreachable kept through grace with them (a child slow behind a failed
// parent is the parent's trouble too). An operator's override, a restored verdict
// and a flapping hold are left as they are. Why not flapping: its votes
// come and go, so turning the hold unreachable whenever a domain sees the
// target down (and back when none does) would make the verdict flash,
// reopening the flapping escalation each time; the hold is one episode.
bool failing(VerdictKind kind, ReasonCode code, const VoteCounts& counts) {
  if (code == ReasonCode::Override || code == ReasonCode::Restored ||
      code == ReasonCode::Flapping) {
    return false;
  }
  return counts.down + counts.degraded > 0 &&
         (kind == VerdictKind::Unhealthy || kind == VerdictKind::Disputed ||
          kind == VerdictKind::Unreachable || kind == VerdictKind::Degraded);
}

}  // namespace

std::vector<std::vector<std::size_t>> Engine::dependency_parents() const {
  std::vector<std::vector<std::size_t>> parents(policy_.targets.size());
  for (std::size_t i = 0; i < policy_.targets.size(); ++i) {
    for (const auto& name : policy_.targets[i].depends_on) {
      const auto parent = target_index(name);
      if (parent && *parent != i) {
        parents[i].push_back(*parent);
      }
    }
  }
  return parents;
}

std::vector<std::size_t> Engine::dependency_order(std::vector<std::vector<std::size_t>>& parents,
                                                  const std::vector<int>& priorities) {
  // Kahn's algorithm taking the highest priority first, then the lowest
  // index: without priorities and dependencies the order is the config's,
  // as the guard always admitted. Targets in a
  // cycle (config/ rejects them; the engine does not rely on it) lose their
  // dependencies and go last, in config order: in a cycle each would blame
  // the other, and nothing would be published unhealthy.
  const std::size_t count = parents.size();
  std::vector<std::vector<std::size_t>> children(count);
  std::vector<std::size_t> waiting(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    waiting[i] = parents[i].size();
    for (const auto parent : parents[i]) {
      children[parent].push_back(i);
    }
  }
  const auto later = [&](std::size_t a, std::size_t b) {
    return priorities[a] != priorities[b] ? priorities[a] < priorities[b] : a > b;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> ready(later);
  for (std::size_t i = 0; i < count; ++i) {
    if (waiting[i] == 0) {
      ready.push(i);
    }
  }
  std::vector<std::size_t> order;
  order.reserve(count);
  std::vector<bool> placed(count, false);
  while (!ready.empty()) {
    const auto next = ready.top();
    ready.pop();
    order.push_back(next);
    placed[next] = true;
    for (const auto child : children[next]) {
      if (--waiting[child] == 0) {
        ready.push(child);
      }
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!placed[i]) {
      parents[i].clear();
      order.push_back(i);
    }
  }
  return order;
}

void Engine::apply_dependencies_and_blast_radius(std::vector<Candidate>& candidates,
                                                 const std::vector<VoteCounts>& counts) const {
  // Why a shortcut: without parents, the passes below change only a new
  // confirmation (the guard may hold it) or a target kept unreachable by a
  // dependency (its reason is rewritten). With neither, they would copy
  // every candidate twice to change nothing: 10,000 reasons a pass.
  bool something_to_do = any_parents_;
  for (std::size_t i = 0; !something_to_do && i < candidates.size(); ++i) {
    const auto& candidate = candidates[i];
    something_to_do =
        candidate.code == ReasonCode::Dependency ||
        (candidate.kind == VerdictKind::Unhealthy && candidate.code == ReasonCode::Quorum &&
         published_[i].kind != VerdictKind::Unhealthy);
  }
  if (!something_to_do) {
    return;
  }
  const auto& parents = parents_;
  const auto& order = dependency_order_;
  // Why rounds: the guard counts first what stays unhealthy whatever it
  // says, but a child already unhealthy turns unreachable only if its
  // parent is admitted. Round one assumes the parents that would confirm
  // are admitted (such children spend nothing); a child whose parent the
  // guard then holds after all is counted up front in the next round.
  // `assumed` only shrinks, so this ends within targets + 1 rounds.
  std::vector<bool> assumed(candidates.size(), false);
  const auto unguarded = dependency_pass(candidates, counts, parents, order, assumed, false);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    assumed[i] = candidates[i].kind == VerdictKind::Unhealthy &&
                 unguarded.candidates[i].kind == VerdictKind::Unreachable;
  }
  for (std::size_t round = 0; round <= candidates.size(); ++round) {
    auto pass = dependency_pass(candidates, counts, parents, order, assumed, true);
    if (pass.late.empty() || round == candidates.size()) {
      candidates = std::move(pass.candidates);
      return;
    }
    for (const auto late : pass.late) {
      assumed[late] = false;
    }
  }
}

Engine::DependencyPass Engine::dependency_pass(const std::vector<Candidate>& input,
                                               const std::vector<VoteCounts>& counts,
                                               const std::vector<std::vector<std::size_t>>& parents,
                                               const std::vector<std::size_t>& order,
                                               const std::vector<bool>& assumed, bool guard) const {
  DependencyPass out{input, {}};
  auto& candidates = out.candidates;
  const auto& targets = policy_.targets;
  const auto eligible = std::count_if(targets.begin(), targets.end(),
                                      [](const TargetPolicy& t) { return !t.canary; });
  // The global guard applies from blast_radius_min_targets on; a group's
  // own guard (its max_unhealthy_fraction) whenever the group sets one.
  const bool global_guard = eligible >= policy_.blast_radius_min_targets;
  const double limit = policy_.max_unhealthy_fraction * static_cast<double>(eligible);
  // The budget counts what is published: targets that stay unhealthy
  // (restored ones included) and operator overrides to unhealthy, which win
  // whatever the guard says. New confirmations are admitted parents first,
  // else in config order, while the total stays within the limit. Example:
  // 6 targets, fraction 0.5: 2 already unhealthy, 2 more confirm now -> the
  // first is admitted (3 of 6), the second is held as disputed (4 of 6
  // would exceed 50%). A target overridden healthy spends nothing, whatever
  // its evidence says, and so does one published unreachable.
  auto is_new = [&](std::size_t i) {
    return input[i].code == ReasonCode::Quorum && published_[i].kind != VerdictKind::Unhealthy;
  };
  int unhealthy = 0;
  // The same count inside each group that sets its own guard.
  std::vector<int> group_unhealthy(policy_.groups.size(), 0);
  const auto count_in = [&](std::size_t i) {
    ++unhealthy;
    for (const auto g : groups_of_[i]) {
      ++group_unhealthy[g];
    }
  };
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i].canary && input[i].kind == VerdictKind::Unhealthy && !is_new(i) &&
        !assumed[i]) {
      count_in(i);
    }
  }
  // The confirmed-unhealthy target each unreachable one is down behind.
  std::vector<std::string> cause(targets.size());
  for (const auto i : order) {
    auto& candidate = candidates[i];
    // Why only a fresh unhealthy parent (by quorum or override) counts: a
    // parent held by the guard, kept through grace or restored and not yet
    // confirmed is not confirmed now, and its child is judged on its own.
    // A parent unreachable behind a confirmed one passes its cause on (a ->
    // b -> c: c is down behind a); one only kept unreachable through grace
    // (no cause now) covers nothing.
    const auto covering = std::find_if(parents[i].begin(), parents[i].end(), [&](std::size_t p) {
      const auto& parent = candidates[p];
      return (parent.kind == VerdictKind::Unhealthy && parent.supported) ||
             (parent.kind == VerdictKind::Unreachable && !cause[p].empty());
    });
    if (covering != parents[i].end() && failing(candidate.kind, candidate.code, counts[i])) {
      const auto p = *covering;
      const auto& parent = targets[p].name;
      cause[i] = cause[p].empty() ? parent : cause[p];
      const std::string why =
          cause[p].empty() ? "parent " + parent + " is unhealthy"
                           : "parent " + parent + " is unreachable (" + cause[p] + " is unhealthy)";
      candidate = Candidate{VerdictKind::Unreachable, ReasonCode::Dependency,
                            why + "; " + candidate.reason, true};
      continue;
    }
    // Why keep an unreachable while a parent is only kept failing (unhealthy
    // through its dispute_grace, or unreachable itself): grace keeps the
    // published verdict, the parent's as much as the child's. Example: lb-eu
    // recovers domain by domain, app-eu's probes there run a phase behind
    // and still fail: app-eu stays unreachable for lb-eu's grace instead of
    // turning unhealthy (a page, a gate proceeding to fail it over, and with
    // many children a blast-radius hold).
    const auto keeping = std::find_if(parents[i].begin(), parents[i].end(), [&](std::size_t p) {
      const auto& parent = candidates[p];
      return (parent.kind == VerdictKind::Unhealthy && !parent.supported &&
              parent.code == ReasonCode::Quorum) ||
             parent.kind == VerdictKind::Unreachable;
    });
    if (keeping != parents[i].end() && published_[i].kind == VerdictKind::Unreachable &&
        failing(candidate.kind, candidate.code, counts[i])) {
      candidate = Candidate{
          VerdictKind::Unreachable, ReasonCode::Dependency,
          "behind " + targets[*keeping].name + ", kept through dispute_grace; " + candidate.reason,
          true};
      continue;
    }
    if (candidate.kind == VerdictKind::Unreachable && candidate.code == ReasonCode::Dependency) {
      // Kept through dispute_grace (judge() keeps the published verdict
      // while a disagreement is young): no parent covers it now, so say
      // whom it was behind. Example: lb-eu recovers domain by domain, and
      // app-eu stays unreachable for the grace instead of flashing disputed.
      // After a reload that dropped its depends_on it is behind nothing.
      std::string behind;
      for (const auto& name : targets[i].depends_on) {
        behind += (behind.empty() ? "" : ", ") + name;
      }
      candidate.reason = (behind.empty() ? "no longer behind a parent" : "behind " + behind) +
                         ", kept through dispute_grace; " + candidate.reason;
      continue;
    }
    if (targets[i].canary || candidate.kind != VerdictKind::Unhealthy) {
      continue;
    }
    if (!is_new(i)) {
      if (assumed[i] && guard) {
        out.late.push_back(i);
        count_in(i);
      }
      continue;
    }
    if (!guard) {
      continue;
    }
    if (global_guard && static_cast<double>(unhealthy + 1) > limit) {
      std::ostringstream reason;
      reason << "blast radius: confirming would make " << unhealthy + 1 << " of " << eligible
             << " targets unhealthy at once (max_unhealthy_fraction "
             << policy_.max_unhealthy_fraction << "); " << candidate.reason;
      candidate = Candidate{VerdictKind::Disputed, ReasonCode::BlastRadius, reason.str(), true};
    } else if (const auto held = group_guard_holding(i, group_unhealthy)) {
      const auto& group = policy_.groups[*held];
      std::ostringstream reason;
      reason << "blast radius in group " << group.name << ": confirming would make "
             << group_unhealthy[*held] + 1 << " of " << group.members.size()
             << " members unhealthy at once (max_unhealthy_fraction "
             << *group.max_unhealthy_fraction << "); " << candidate.reason;
      candidate = Candidate{VerdictKind::Disputed, ReasonCode::BlastRadius, reason.str(), true};
    } else {
      count_in(i);
    }
  }
  return out;
}

std::optional<std::size_t> Engine::group_guard_holding(
    std::size_t target, const std::vector<int>& group_unhealthy) const {
  for (const auto g : groups_of_[target]) {
    const auto& group = policy_.groups[g];
    if (group.max_unhealthy_fraction &&
        static_cast<double>(group_unhealthy[g] + 1) >
            *group.max_unhealthy_fraction * static_cast<double>(group.members.size())) {
      return g;
    }
  }
  return std::nullopt;
}

}  // namespace crosscheck::consensus
