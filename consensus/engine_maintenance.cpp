// Engine: maintenance windows (recurring from the policy, ad-hoc from the
// API), the silencing of the escalations opened inside them, and the
// cooldown after a recorded action: the planned and the just-done, during
// which a gate holds. Pure, like the rest of the engine.
#include "consensus/engine.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>

namespace crosscheck::consensus {
namespace {

std::string describe(const MaintenanceView& view) {
  if (view.source == MaintenanceSource::Api) {
    return "maintenance set by " + (view.by.empty() ? std::string("operator") : view.by) +
           (view.node.empty() ? std::string() : " on node " + view.node) + " until " +
           format_rfc3339(view.until) + ": " + view.reason;
  }
  return "maintenance window '" + view.window + "' until " + format_rfc3339(view.until);
}

}  // namespace

bool Engine::set_maintenance(std::string_view target, const AdHocMaintenance& value) {
  if (value.expires_at <= value.set_at) {
    return false;
  }
  if (const auto group = group_index(target)) {
    group_states_[*group].maintenance_set = value;
    group_states_[*group].maintenance_deadline.reset();
    return true;
  }
  const auto index = target_index(target);
  if (!index) {
    return false;
  }
  states_[*index].maintenance_set = value;
  states_[*index].maintenance_deadline.reset();
  return true;
}

bool Engine::clear_maintenance(std::string_view target) {
  if (const auto group = group_index(target)) {
    auto& state = group_states_[*group];
    const bool had = state.maintenance_set.has_value();
    state.maintenance_set.reset();
    state.maintenance_deadline.reset();
    return had;
  }
  const auto index = target_index(target);
  if (!index || !states_[*index].maintenance_set) {
    return false;
  }
  states_[*index].maintenance_set.reset();
  states_[*index].maintenance_deadline.reset();
  return true;
}

const AdHocMaintenance* Engine::maintenance_set(std::string_view target) const {
  if (const auto group = group_index(target)) {
    const auto& set = group_states_[*group].maintenance_set;
    return set ? &*set : nullptr;
  }
  const auto index = target_index(target);
  if (!index || !states_[*index].maintenance_set) {
    return nullptr;
  }
  return &*states_[*index].maintenance_set;
}

namespace {

void assign_cooldown(std::optional<CooldownView>& cooldown, std::optional<MonoTime>& deadline,
                     std::optional<CooldownView> value) {
  if (cooldown != value) {
    deadline.reset();
  }
  cooldown = std::move(value);
}

void expire_cooldown(std::optional<CooldownView>& cooldown, std::optional<MonoTime>& deadline,
                     const Instant& now) {
  if (!cooldown) {
    return;
  }
  // Like an ad-hoc window: the wall time `until` becomes a monotonic
  // deadline once, so a clock step neither ends it early nor stretches it.
  if (!deadline) {
    deadline = now.mono + (cooldown->until - now.wall);
  }
  if (now.mono >= *deadline) {
    cooldown.reset();
    deadline.reset();
  }
}

void expire_window(std::optional<AdHocMaintenance>& set, std::optional<MonoTime>& deadline,
                   const Instant& now) {
  if (set && !deadline) {
    deadline = now.mono + (set->expires_at - now.wall);
  }
  if (set && now.mono >= *deadline) {
    set.reset();
    deadline.reset();
  }
}

// The window `name` is in: its ad-hoc one (it says who and why, and a
// script that set it expects to read it back), else the first recurring
// one that names it and is active (calendar times: the wall clock).
std::optional<MaintenanceView> window_of(std::string_view name,
                                         const std::optional<AdHocMaintenance>& set,
                                         const std::vector<RecurringWindow>& windows,
                                         WallTime now) {
  if (set) {
    return MaintenanceView{MaintenanceSource::Api,
                           "api",
                           set->set_at,
                           set->expires_at,
                           set->reason,
                           set->by,
                           set->node};
  }
  for (const auto& window : windows) {
    if (std::find(window.targets.begin(), window.targets.end(), name) == window.targets.end()) {
      continue;
    }
    if (const auto occurrence = active_occurrence(window, now)) {
      return MaintenanceView{
          MaintenanceSource::Config, window.name, occurrence->start, occurrence->end, {}, {}, {}};
    }
  }
  return std::nullopt;
}

bool same_window(const std::optional<MaintenanceView>& a, const std::optional<MaintenanceView>& b) {
  return a.has_value() == b.has_value() &&
         (!a || (a->source == b->source && a->window == b->window && a->since == b->since));
}

// `verdict` left its window now: a gate's stable_for starts over.
void end_window(Verdict& verdict, const Instant& now) {
  verdict.since_mono = now.mono;
  verdict.stable_from = now.wall;
}

// MaintenanceEnded for `before`, MaintenanceStarted for `after`, about `verdict`.
void announce_windows(const Verdict& verdict, const std::optional<MaintenanceView>& before,
                      const std::optional<MaintenanceView>& after, const Instant& now,
                      Evaluation& out) {
  auto announce = [&](EventKind kind, const MaintenanceView& view, std::string reason) {
    Event event;
    event.kind = kind;
    event.key =
        "maintenance/" + verdict.target + "/" + view.window + "/" + format_rfc3339(view.since);
    event.at = now;
    event.target = verdict.target;
    event.verdict = verdict.kind;
    event.held = verdict.held;
    event.generation = verdict.generation;
    event.reason = std::move(reason);
    out.events.push_back(std::move(event));
  };
  if (before) {
    announce(EventKind::MaintenanceEnded, *before, "left: " + describe(*before));
  }
  if (after) {
    announce(EventKind::MaintenanceStarted, *after,
             "entered " + describe(*after) + "; gates hold and new escalations are silenced");
  }
}

}  // namespace

bool Engine::set_cooldown(std::string_view target, std::optional<CooldownView> value) {
  if (const auto group = group_index(target)) {
    auto& state = group_states_[*group];
    assign_cooldown(state.cooldown, state.cooldown_deadline, std::move(value));
    return true;
  }
  const auto index = target_index(target);
  if (!index) {
    return false;
  }
  auto& state = states_[*index];
  assign_cooldown(state.cooldown, state.cooldown_deadline, std::move(value));
  return true;
}

void Engine::update_cooldown(std::size_t index, const Instant& now) {
  auto& state = states_[index];
  expire_cooldown(state.cooldown, state.cooldown_deadline, now);
}

void Engine::update_group_window(std::size_t index, const Instant& now, Evaluation& out) {
  auto& state = group_states_[index];
  expire_cooldown(state.cooldown, state.cooldown_deadline, now);
  expire_window(state.maintenance_set, state.maintenance_deadline, now);
  const auto& verdict = group_published_[index];
  auto current = window_of(verdict.target, state.maintenance_set, policy_.maintenance, now.wall);
  if (!same_window(state.maintenance, current)) {
    announce_windows(verdict, state.maintenance, current, now, out);
  }
  if (state.maintenance && !current) {
    end_window(group_published_[index], now);  // as a target's (update_maintenance)
  }
  state.maintenance = std::move(current);
}

std::optional<std::pair<MaintenanceView, std::size_t>> Engine::inherited_window(
    std::size_t target) const {
  for (const auto group : groups_of_[target]) {
    if (const auto& window = group_states_[group].maintenance) {
      auto view = *window;
      if (view.source == MaintenanceSource::Api) {
        view.window = group_published_[group].target;  // "group:NAME", set over the API
      }
      return std::pair{std::move(view), group};
    }
  }
  return std::nullopt;
}

void Engine::update_maintenance(std::size_t index, const Instant& now, Evaluation& out) {
  auto& state = states_[index];
  expire_window(state.maintenance_set, state.maintenance_deadline, now);
  auto current =
      window_of(policy_.targets[index].name, state.maintenance_set, policy_.maintenance, now.wall);
  state.window_group.reset();
  if (!current) {
    if (auto inherited = inherited_window(index)) {
      current = std::move(inherited->first);
      state.window_group = inherited->second;
    }
  }
  if (!same_window(state.maintenance, current)) {
    announce_windows(published_[index], state.maintenance, current, now, out);
  }
  if (state.maintenance && !current) {
    // Why: a gate's stable_for counts how long the verdict has held
    // outside any window. Counted inside it, planned work that overran its
    // window by a second would find its failover "stable for 30s" at once.
    end_window(published_[index], now);
  }
  state.maintenance = std::move(current);  // an ad-hoc window extended by a new PUT, too
}

void Engine::silence(TargetState& state, Event& event) {
  if (event.is_resolution()) {
    event.silenced = state.silenced_keys.erase(event.key) > 0;
    return;
  }
  if (state.maintenance) {
    event.silenced = true;
    state.silenced_keys.insert(event.key);
  }
}

void Engine::close_silenced(std::size_t index, const Instant& now, Evaluation& out) {
  auto& state = states_[index];
  if (state.maintenance || state.silenced_keys.empty()) {
    return;
  }
  const auto& verdict = published_[index];
  const std::string why = "maintenance over: the silenced escalation is closed";
  auto resolve = [&](EventKind opened, const std::string& key) {
    auto event = verdict_event(resolution_of(opened), verdict, now);
    event.key = key;
    event.reason = why + "; " + verdict.reason;
    event.silenced = true;
    out.events.push_back(std::move(event));
    state.silenced_keys.erase(key);
  };
  if (!state.episode_key.empty() && state.silenced_keys.contains(state.episode_key)) {
    resolve(state.episode_kind, state.episode_key);
    state.episode_key.clear();
  }
  for (auto it = state.side_episodes.begin(); it != state.side_episodes.end();) {
    if (state.silenced_keys.contains(it->second)) {
      resolve(it->first, it->second);
      it = state.side_episodes.erase(it);
    } else {
      ++it;
    }
  }
  state.silenced_keys.clear();
}

}  // namespace crosscheck::consensus
