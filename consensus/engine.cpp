#include "consensus/engine.hpp"

#include "consensus/quorum.hpp"
#include "consensus/suspicion.hpp"
#include "consensus/time_format.hpp"
#include "consensus/verdict_detail.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace crosscheck::consensus {
namespace {

HysteresisRules rules_of(const TargetPolicy& target) {
  return HysteresisRules{target.rise, target.fall, target.stale_after};
}

ReasonCode code_for(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::Healthy:
    case VerdictKind::Unhealthy:
      return ReasonCode::Quorum;
    case VerdictKind::Disputed:
      return ReasonCode::Dispute;
    case VerdictKind::Unknown:
      return ReasonCode::Insufficient;
  }
  return ReasonCode::Insufficient;
}

EventKind episode_from_code(ReasonCode code) {
  switch (code) {
    case ReasonCode::Flapping:
      return EventKind::FlappingStarted;
    case ReasonCode::BlastRadius:
      return EventKind::BlastRadiusHeld;
    default:
      return EventKind::DisputeOpened;
  }
}

// The escalation episode a published verdict belongs to, if any.
std::optional<EventKind> episode_for(const Verdict& verdict) {
  if (verdict.kind != VerdictKind::Disputed) {
    return std::nullopt;
  }
  return episode_from_code(verdict.reason_code);
}

bool push_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) != list.end()) {
    return false;
  }
  list.push_back(item);
  return true;
}

}  // namespace

EventKind resolution_of(EventKind opened) {
  switch (opened) {
    case EventKind::FlappingStarted:
      return EventKind::FlappingStopped;
    case EventKind::BlastRadiusHeld:
      return EventKind::BlastRadiusReleased;
    case EventKind::VantageSuspect:
      return EventKind::VantageCleared;
    case EventKind::ConfigRejected:
      return EventKind::ConfigAccepted;
    case EventKind::PeerUnreachable:
      return EventKind::PeerReachable;
    default:
      return EventKind::DisputeResolved;
  }
}

std::string_view to_string(ObserveStatus status) {
  switch (status) {
    case ObserveStatus::Accepted:
      return "accepted";
    case ObserveStatus::UnknownTarget:
      return "unknown target";
    case ObserveStatus::UnknownVantage:
      return "unknown vantage";
    case ObserveStatus::OutOfOrder:
      return "older than an observation already recorded";
  }
  return "invalid";
}

Engine::Engine(Policy policy)
    : policy_(std::move(policy)),
      vantages_(policy_.vantages),
      states_(policy_.targets.size()),
      published_(policy_.targets.size()) {
  for (std::size_t i = 0; i < policy_.targets.size(); ++i) {
    published_[i].target = policy_.targets[i].name;
    published_[i].canary = policy_.targets[i].canary;
    published_[i].reason = "no evaluation yet";
  }
  index_targets();
}

void Engine::index_targets() {
  target_indices_.clear();
  for (std::size_t i = 0; i < policy_.targets.size(); ++i) {
    target_indices_.emplace(policy_.targets[i].name, i);
  }
}

std::optional<std::size_t> Engine::target_index(std::string_view name) const {
  // Why a map: every observation looks its target up; a scan made each one
  // cost O(targets), 10,000 string compares at 10,000 targets.
  const auto found = target_indices_.find(name);
  if (found == target_indices_.end()) {
    return std::nullopt;
  }
  return found->second;
}

const VantagePolicy* Engine::find_vantage(std::string_view name) const {
  for (const auto& vantage : vantages_) {
    if (vantage.name == name) {
      return &vantage;
    }
  }
  return nullptr;
}

const Verdict* Engine::verdict(std::string_view target) const {
  const auto index = target_index(target);
  return index ? &published_[*index] : nullptr;
}

ObserveStatus Engine::observe(const Observation& observation) {
  const auto index = target_index(observation.target);
  if (!index) {
    return ObserveStatus::UnknownTarget;
  }
  if (find_vantage(observation.vantage) == nullptr) {
    return ObserveStatus::UnknownVantage;
  }
  auto& tracker = states_[*index].trackers[observation.vantage];
  if (tracker.last() && observation.at.mono < tracker.last()->at.mono) {
    return ObserveStatus::OutOfOrder;
  }
  tracker.observe(observation, rules_of(policy_.targets[*index]));
  return ObserveStatus::Accepted;
}

ObserveStatus Engine::observe_remote(const RemoteVote& vote) {
  const auto index = target_index(vote.target);
  if (!index) {
    return ObserveStatus::UnknownTarget;
  }
  const VantagePolicy* vantage = find_vantage(vote.vantage);
  if (vantage == nullptr || vantage->node.empty()) {
    return ObserveStatus::UnknownVantage;
  }
  states_[*index].trackers[vote.vantage].assign(vote.vote, vote.observed_at, vote.last);
  return ObserveStatus::Accepted;
}

bool Engine::add_remote_vantage(const VantagePolicy& vantage) {
  const auto slash = vantage.name.find('/');
  if (vantage.node.empty() || vantage.domain.empty() || slash == std::string::npos ||
      vantage.name.substr(0, slash) != vantage.node || slash + 1 == vantage.name.size()) {
    return false;
  }
  for (auto& existing : vantages_) {
    if (existing.name == vantage.name) {
      existing.domain = vantage.domain;
      return true;
    }
  }
  vantages_.push_back(vantage);
  push_unique(policy_.peers, vantage.node);
  return true;
}

std::vector<std::string> Engine::known_domains() const {
  std::vector<std::string> domains;
  for (const auto& vantage : vantages_) {
    push_unique(domains, vantage.domain);
  }
  // Why a placeholder: a peer that never answered still stands for at least
  // one independent domain. Leaving it out would shrink the majority and let
  // fewer domains decide than the operator configured.
  for (const auto& peer : policy_.peers) {
    const bool reported = std::any_of(vantages_.begin(), vantages_.end(),
                                      [&](const VantagePolicy& v) { return v.node == peer; });
    if (!reported) {
      push_unique(domains, peer);
    }
  }
  return domains;
}

bool Engine::set_override(std::string_view target, const Override& value) {
  const auto index = target_index(target);
  if (!index || (value.verdict != VerdictKind::Healthy && value.verdict != VerdictKind::Unhealthy)) {
    return false;
  }
  states_[*index].override_in_force = value;
  return true;
}

bool Engine::clear_override(std::string_view target) {
  const auto index = target_index(target);
  if (!index || !states_[*index].override_in_force) {
    return false;
  }
  states_[*index].override_in_force.reset();
  return true;
}

bool Engine::restore(const RestoredVerdict& restored) {
  const auto index = target_index(restored.target);
  if (!index || evaluated_once_) {
    return false;
  }
  auto& state = states_[*index];
  auto& verdict = published_[*index];
  verdict.kind = restored.kind;
  verdict.held = restored.held;
  verdict.generation = restored.generation;
  verdict.since = restored.since;
  verdict.reason_code = ReasonCode::Restored;
  verdict.reason = "restored after restart; awaiting fresh evidence";
  verdict.fresh = false;
  state.judged = restored.kind;
  state.last_confirmed = verdict.confirmed() ? std::optional{restored.kind} : restored.held;
  state.restored_pending = true;
  state.override_in_force = restored.override_in_force;
  if (!restored.open_escalation_key.empty()) {
    state.episode_key = restored.open_escalation_key;
    state.episode_kind = episode_from_code(restored.reason_code);
  }
  return true;
}

std::vector<Evidence> Engine::raw_evidence(std::size_t index, MonoTime now) const {
  const auto rules = rules_of(policy_.targets[index]);
  const auto& trackers = states_[index].trackers;
  std::vector<Evidence> evidence;
  evidence.reserve(vantages_.size());
  for (const auto& vantage : vantages_) {
    Evidence item;
    item.vantage = vantage.name;
    item.node = vantage.node;
    item.domain = vantage.domain;
    item.stale = true;
    if (const auto found = trackers.find(vantage.name); found != trackers.end()) {
      item.raw_vote = found->second.vote_at(now, rules);
      item.stale = found->second.stale_at(now, rules);
      item.last_observed = found->second.last_observed();
      item.last = found->second.last();
    }
    item.vote = item.raw_vote;
    evidence.push_back(std::move(item));
  }
  return evidence;
}

void Engine::update_suspects(const std::vector<std::vector<Evidence>>& evidence,
                             const Instant& now, Evaluation& out) {
  std::vector<TargetVotes> views;
  views.reserve(evidence.size());
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    views.push_back(TargetVotes{policy_.targets[i].name, policy_.targets[i].canary, &evidence[i]});
  }
  auto current = find_suspects(views, policy_.suspect_fraction);
  for (const auto& [vantage, reason] : suspects_) {
    if (!current.contains(vantage)) {
      Event event;
      event.kind = EventKind::VantageCleared;
      event.key = suspect_keys_[vantage];
      event.at = now;
      event.vantage = vantage;
      event.reason = "votes count again: no longer " + reason;
      out.events.push_back(std::move(event));
      suspect_keys_.erase(vantage);
    }
  }
  for (const auto& [vantage, reason] : current) {
    if (!suspects_.contains(vantage)) {
      Event event;
      event.kind = EventKind::VantageSuspect;
      event.key = "suspect/" + vantage + "/" + format_rfc3339(now.wall);
      event.at = now;
      event.vantage = vantage;
      event.reason = "vantage suspect, its votes count as unknown: " + reason;
      suspect_keys_[vantage] = event.key;
      out.events.push_back(std::move(event));
    }
  }
  suspects_ = std::move(current);
}

Evaluation Engine::evaluate(const Instant& now) {
  Evaluation out;
  const std::size_t count = policy_.targets.size();
  std::vector<std::vector<Evidence>> evidence(count);
  for (std::size_t i = 0; i < count; ++i) {
    evidence[i] = raw_evidence(i, now.mono);
  }
  update_suspects(evidence, now, out);
  const auto domains = known_domains();
  std::vector<VoteCounts> counts(count);
  std::vector<Candidate> candidates(count);
  for (std::size_t i = 0; i < count; ++i) {
    for (auto& item : evidence[i]) {
      if (suspects_.contains(item.vantage)) {
        item.suspect = true;
        item.vote = Vote::Unknown;
      }
    }
    const auto& target = policy_.targets[i];
    counts[i] = tally(evidence[i], domains, target.down_quorum, target.up_quorum);
    candidates[i] = judge(i, counts[i], now);
  }
  apply_blast_radius(candidates);
  for (std::size_t i = 0; i < count; ++i) {
    auto final_candidate = apply_override_and_restore(i, std::move(candidates[i]), now, out);
    publish(i, final_candidate, std::move(counts[i]), std::move(evidence[i]), now, out);
  }
  evaluated_once_ = true;
  out.revision = revision_;
  return out;
}

Engine::Candidate Engine::judge(std::size_t index, const VoteCounts& counts, const Instant& now) {
  const auto& target = policy_.targets[index];
  auto& state = states_[index];
  const VerdictKind raw = raw_verdict(counts);
  Candidate candidate{raw, code_for(raw), describe(counts, raw)};

  // Why a grace period: domains probe at different phases of the interval.
  // When a real outage starts, one domain sees it first; for a moment D is 1
  // and the raw verdict is "disputed". Waiting dispute_grace lets the others
  // catch up, so healthy -> unhealthy happens without a spurious dispute (and
  // without paging anyone), while a lone dissenter that persists is escalated.
  if (raw == VerdictKind::Disputed) {
    if (!state.disagreement_since) {
      state.disagreement_since = now.mono;
    }
    const auto elapsed = now.mono - *state.disagreement_since;
    if (elapsed < target.dispute_grace && state.judged != VerdictKind::Disputed) {
      candidate.kind = state.judged;
      candidate.code = code_for(state.judged);
      candidate.reason += "; within dispute_grace (" + format_duration(target.dispute_grace) +
                          "), " + std::string(to_string(state.judged)) + " unchanged";
    }
  } else {
    state.disagreement_since.reset();
  }

  if (candidate.kind != state.judged) {
    state.changes.push_back(now.mono);
    state.judged = candidate.kind;
  }
  while (!state.changes.empty() && now.mono - state.changes.front() > policy_.flap_window) {
    state.changes.pop_front();
  }
  // Flapping: more than flap_limit changes inside flap_window. The verdict is
  // held as disputed until the window holds flap_limit changes or fewer.
  if (static_cast<int>(state.changes.size()) > policy_.flap_limit) {
    std::ostringstream reason;
    reason << "flapping: " << state.changes.size() << " verdict changes in "
           << format_duration(policy_.flap_window) << " (flap_limit " << policy_.flap_limit
           << "); now " << candidate.reason;
    return Candidate{VerdictKind::Disputed, ReasonCode::Flapping, reason.str()};
  }
  return candidate;
}

void Engine::apply_blast_radius(std::vector<Candidate>& candidates) const {
  const auto& targets = policy_.targets;
  const auto eligible = std::count_if(targets.begin(), targets.end(),
                                      [](const TargetPolicy& t) { return !t.canary; });
  if (eligible < policy_.blast_radius_min_targets) {
    return;
  }
  const double limit = policy_.max_unhealthy_fraction * static_cast<double>(eligible);
  // Targets already unhealthy stay so; new ones are admitted in config order
  // while the total stays within the limit. Example: 6 targets, fraction 0.5:
  // 2 already unhealthy, 2 more confirm now -> the first is admitted (3 of 6),
  // the second is held as disputed (4 of 6 would exceed 50%).
  int unhealthy = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i].canary && candidates[i].kind == VerdictKind::Unhealthy &&
        published_[i].kind == VerdictKind::Unhealthy) {
      ++unhealthy;
    }
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto& candidate = candidates[i];
    if (targets[i].canary || candidate.kind != VerdictKind::Unhealthy ||
        published_[i].kind == VerdictKind::Unhealthy) {
      continue;
    }
    if (static_cast<double>(unhealthy + 1) > limit) {
      std::ostringstream reason;
      reason << "blast radius: confirming would make " << unhealthy + 1 << " of " << eligible
             << " targets unhealthy at once (max_unhealthy_fraction "
             << policy_.max_unhealthy_fraction << "); " << candidate.reason;
      candidate = Candidate{VerdictKind::Disputed, ReasonCode::BlastRadius, reason.str()};
    } else {
      ++unhealthy;
    }
  }
}

Engine::Candidate Engine::apply_override_and_restore(std::size_t index, Candidate candidate,
                                                     const Instant& now, Evaluation& out) {
  const auto& target = policy_.targets[index];
  auto& state = states_[index];
  if (state.override_in_force && now.wall >= state.override_in_force->expires_at) {
    Event event;
    event.kind = EventKind::OverrideExpired;
    event.key = "override/" + target.name + "/" + format_rfc3339(state.override_in_force->set_at);
    event.at = now;
    event.target = target.name;
    event.verdict = state.override_in_force->verdict;
    event.reason = "override expired: " + state.override_in_force->reason;
    out.events.push_back(std::move(event));
    state.override_in_force.reset();
  }
  if (state.restored_pending) {
    if (!state.restored_at) {
      state.restored_at = now.mono;
    }
    // A restored verdict stands (fresh: false) while evidence is merely
    // missing, for at most stale_after; any real evidence decides at once.
    const bool missing = candidate.kind == VerdictKind::Unknown &&
                         candidate.code == ReasonCode::Insufficient;
    if (missing && now.mono - *state.restored_at < target.stale_after) {
      candidate = Candidate{published_[index].kind, ReasonCode::Restored,
                            "restored after restart; awaiting fresh evidence (" +
                                candidate.reason + ")"};
    } else {
      state.restored_pending = false;
    }
  }
  if (state.override_in_force) {
    const auto& value = *state.override_in_force;
    candidate = Candidate{value.verdict, ReasonCode::Override,
                          "override by " + (value.by.empty() ? "operator" : value.by) + " until " +
                              format_rfc3339(value.expires_at) + ": " + value.reason +
                              " (evidence says: " + candidate.reason + ")"};
  }
  return candidate;
}

void Engine::publish(std::size_t index, const Candidate& candidate, VoteCounts counts,
                     std::vector<Evidence> evidence, const Instant& now, Evaluation& out) {
  const auto& target = policy_.targets[index];
  auto& state = states_[index];
  auto& verdict = published_[index];
  const bool changed = candidate.kind != verdict.kind;
  if (!evaluated_once_ && !state.restored_pending && !changed && verdict.generation == 0) {
    verdict.since = now.wall;  // the first evaluation starts the clock
  }
  if (changed) {
    ++verdict.generation;
    ++revision_;
    verdict.since = now.wall;
  }
  verdict.kind = candidate.kind;
  verdict.reason_code = candidate.code;
  verdict.reason = candidate.reason;
  verdict.evaluated_at = now.wall;
  verdict.valid_until = now.wall + target.stale_after;
  verdict.fresh = !state.restored_pending;
  verdict.override_in_force = state.override_in_force;
  if (verdict.confirmed() && candidate.code != ReasonCode::Override &&
      candidate.code != ReasonCode::Restored) {
    state.last_confirmed = verdict.kind;
  }
  verdict.held = verdict.confirmed() ? std::nullopt : state.last_confirmed;
  const auto layer = summarize_failing_layer(evidence);
  verdict.failing_layer = layer.layer;
  verdict.last_known_good = layer.last_known_good;
  if (layer.layer == Layer::Dns && layer.last_known_good == LastKnownGood::Reachable &&
      !verdict.confirmed()) {
    verdict.reason += "; DNS is failing but the service still answers at its last-known-good "
                      "addresses: fix DNS, do not fail over";
  } else if (layer.layer == Layer::Dns && layer.last_known_good == LastKnownGood::Reachable) {
    verdict.reason += "; DNS is failing, the service still answers at its last-known-good "
                      "addresses";
  }
  verdict.votes = std::move(counts);
  verdict.evidence = std::move(evidence);
  if (changed) {
    Event event;
    event.kind = EventKind::VerdictChanged;
    event.key = "verdict/" + target.name + "/" + std::to_string(verdict.generation);
    event.at = now;
    event.target = target.name;
    event.verdict = verdict.kind;
    event.held = verdict.held;
    event.generation = verdict.generation;
    event.reason = verdict.reason;
    out.events.push_back(std::move(event));
  }
  update_episode(index, now, out);
}

void Engine::update_episode(std::size_t index, const Instant& now, Evaluation& out) {
  const auto& verdict = published_[index];
  auto& state = states_[index];
  if (verdict.reason_code == ReasonCode::Restored) {
    return;  // a restored episode stays open until evidence decides
  }
  const auto wanted = episode_for(verdict);
  auto make_event = [&](EventKind kind) {
    Event event;
    event.kind = kind;
    event.at = now;
    event.target = verdict.target;
    event.verdict = verdict.kind;
    event.held = verdict.held;
    event.generation = verdict.generation;
    event.reason = verdict.reason;
    return event;
  };
  if (!state.episode_key.empty() && wanted != state.episode_kind) {
    auto event = make_event(resolution_of(state.episode_kind));
    event.key = state.episode_key;
    out.events.push_back(std::move(event));
    state.episode_key.clear();
  }
  if (wanted && state.episode_key.empty()) {
    auto event = make_event(*wanted);
    std::string prefix(to_string(*wanted));
    event.key = prefix + "/" + verdict.target + "/" + std::to_string(verdict.generation);
    state.episode_key = event.key;
    state.episode_kind = *wanted;
    out.events.push_back(std::move(event));
  }
}

}  // namespace crosscheck::consensus
