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
           " until " + format_rfc3339(view.until) + ": " + view.reason;
  }
  return "maintenance window '" + view.window + "' until " + format_rfc3339(view.until);
}

}  // namespace

bool Engine::set_maintenance(std::string_view target, const AdHocMaintenance& value) {
  const auto index = target_index(target);
  if (!index || value.expires_at <= value.set_at) {
    return false;
  }
  states_[*index].maintenance_set = value;
  states_[*index].maintenance_deadline.reset();
  return true;
}

bool Engine::clear_maintenance(std::string_view target) {
  const auto index = target_index(target);
  if (!index || !states_[*index].maintenance_set) {
    return false;
  }
  states_[*index].maintenance_set.reset();
  states_[*index].maintenance_deadline.reset();
  return true;
}

const AdHocMaintenance* Engine::maintenance_set(std::string_view target) const {
  const auto index = target_index(target);
  if (!index || !states_[*index].maintenance_set) {
    return nullptr;
  }
  return &*states_[*index].maintenance_set;
}

bool Engine::set_cooldown(std::string_view target, std::optional<CooldownView> value) {
  const auto index = target_index(target);
  if (!index) {
    return false;
  }
  auto& state = states_[*index];
  if (state.cooldown != value) {
    state.cooldown_deadline.reset();
  }
  state.cooldown = std::move(value);
  return true;
}

void Engine::update_cooldown(std::size_t index, const Instant& now) {
  auto& state = states_[index];
  if (!state.cooldown) {
    return;
  }
  // Like an ad-hoc window: the wall time `until` becomes a monotonic
  // deadline once, so a clock step neither ends it early nor stretches it.
  if (!state.cooldown_deadline) {
    state.cooldown_deadline = now.mono + (state.cooldown->until - now.wall);
  }
  if (now.mono >= *state.cooldown_deadline) {
    state.cooldown.reset();
    state.cooldown_deadline.reset();
  }
}

void Engine::update_maintenance(std::size_t index, const Instant& now, Evaluation& out) {
  auto& state = states_[index];
  const auto& name = policy_.targets[index].name;
  if (state.maintenance_set && !state.maintenance_deadline) {
    state.maintenance_deadline = now.mono + (state.maintenance_set->expires_at - now.wall);
  }
  if (state.maintenance_set && now.mono >= *state.maintenance_deadline) {
    state.maintenance_set.reset();
    state.maintenance_deadline.reset();
  }
  // Why the ad-hoc window first: it says who and why, and a script that
  // set it expects to read it back.
  std::optional<MaintenanceView> current;
  if (state.maintenance_set) {
    const auto& set = *state.maintenance_set;
    current = MaintenanceView{MaintenanceSource::Api, "api",      set.set_at,
                              set.expires_at,         set.reason, set.by};
  } else {
    for (const auto& window : policy_.maintenance) {
      if (std::find(window.targets.begin(), window.targets.end(), name) == window.targets.end()) {
        continue;
      }
      // Recurring windows are calendar times: they follow the wall clock.
      if (const auto occurrence = active_occurrence(window, now.wall)) {
        current = MaintenanceView{MaintenanceSource::Config, window.name, occurrence->start,
                                  occurrence->end,           {},          {}};
        break;
      }
    }
  }
  const auto same_window = [](const std::optional<MaintenanceView>& a,
                              const std::optional<MaintenanceView>& b) {
    return a.has_value() == b.has_value() &&
           (!a || (a->source == b->source && a->window == b->window && a->since == b->since));
  };
  if (same_window(state.maintenance, current)) {
    state.maintenance = std::move(current);  // an ad-hoc window extended by a new PUT
    return;
  }
  auto announce = [&](EventKind kind, const MaintenanceView& view, std::string reason) {
    Event event;
    event.kind = kind;
    event.key = "maintenance/" + name + "/" + view.window + "/" + format_rfc3339(view.since);
    event.at = now;
    event.target = name;
    event.verdict = published_[index].kind;
    event.held = published_[index].held;
    event.generation = published_[index].generation;
    event.reason = std::move(reason);
    out.events.push_back(std::move(event));
  };
  if (state.maintenance) {
    announce(EventKind::MaintenanceEnded, *state.maintenance,
             "left: " + describe(*state.maintenance));
  }
  if (current) {
    announce(EventKind::MaintenanceStarted, *current,
             "entered " + describe(*current) + "; gates hold and new escalations are silenced");
  }
  state.maintenance = std::move(current);
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
