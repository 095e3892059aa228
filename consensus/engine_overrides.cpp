// Engine: operator overrides (set, cleared, expired) and the bounded hold
// of a verdict restored after a restart, both applied to a target's
// candidate verdict after the votes judged it. Pure, like the rest of the
// engine.
#include "consensus/engine.hpp"

#include "consensus/time_format.hpp"

namespace crosscheck::consensus {

bool Engine::set_override(std::string_view target, const Override& value) {
  const auto index = target_index(target);
  if (!index ||
      (value.verdict != VerdictKind::Healthy && value.verdict != VerdictKind::Unhealthy)) {
    return false;
  }
  states_[*index].override_in_force = value;
  states_[*index].override_deadline.reset();
  return true;
}

bool Engine::clear_override(std::string_view target) {
  const auto index = target_index(target);
  if (!index || !states_[*index].override_in_force) {
    return false;
  }
  states_[*index].override_in_force.reset();
  states_[*index].override_deadline.reset();
  return true;
}

Engine::Candidate Engine::apply_override_and_restore(std::size_t index, Candidate candidate,
                                                     const Instant& now, Evaluation& out) {
  const auto& target = policy_.targets[index];
  auto& state = states_[index];
  if (state.override_in_force && !state.override_deadline) {
    state.override_deadline = now.mono + (state.override_in_force->expires_at - now.wall);
  }
  if (state.override_in_force && now.mono >= *state.override_deadline) {
    Event event;
    event.kind = EventKind::OverrideExpired;
    event.key = "override/" + target.name + "/" + format_rfc3339(state.override_in_force->set_at);
    event.at = now;
    event.target = target.name;
    event.verdict = state.override_in_force->verdict;
    event.reason = "override expired: " + state.override_in_force->reason;
    out.events.push_back(std::move(event));
    state.override_in_force.reset();
    state.override_deadline.reset();
  }
  if (state.restored_pending) {
    if (!state.restored_at) {
      state.restored_at = now.mono;
    }
    // Why a bounded hold: after a restart every vote starts from empty
    // hysteresis. Honest domains earn `up` after rise probes, a lying one
    // earns `down` only after fall probes; judging at once would close an
    // open dispute and reopen it as a new episode. So the restored verdict
    // stands (never fresh) until the votes confirm it, for at most
    // restore_hold = fall x interval + timeout; then the votes decide.
    // Confirmed means the same verdict for the same reason: a restored
    // flapping hold is not confirmed by a plain dispute (that would close
    // the flapping episode and open a dispute across the restart).
    const auto& restored = published_[index];
    const bool same_episode = restored.kind != VerdictKind::Disputed || state.episode_key.empty() ||
                              episode_kind_of(candidate.code) == state.episode_kind;
    const bool confirmed = candidate.kind == restored.kind && candidate.supported && same_episode;
    if (!confirmed && now.mono - *state.restored_at < target.restore_hold) {
      candidate = Candidate{
          restored.kind, ReasonCode::Restored,
          "restored after restart; awaiting fresh evidence (now: " + candidate.reason + ")", false};
    } else {
      state.restored_pending = false;
    }
  }
  if (state.override_in_force) {
    const auto& value = *state.override_in_force;
    candidate = Candidate{value.verdict, ReasonCode::Override,
                          "override by " + (value.by.empty() ? "operator" : value.by) + " until " +
                              format_rfc3339(value.expires_at) + ": " + value.reason +
                              " (evidence says: " + candidate.reason + ")",
                          true};
  }
  return candidate;
}

}  // namespace crosscheck::consensus
