#include "consensus/engine.hpp"
#include "consensus/flap_count.hpp"

#include "consensus/quorum.hpp"
#include "consensus/suspicion.hpp"
#include "consensus/time_format.hpp"
#include "consensus/verdict_detail.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_set>
#include <utility>

namespace crosscheck::consensus {
namespace {

HysteresisRules rules_of(const TargetPolicy& target) {
  return HysteresisRules{target.rise, target.fall, target.stale_after, target.latency};
}

ReasonCode code_for(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::Healthy:
    case VerdictKind::Unhealthy:
    case VerdictKind::Degraded:
      return ReasonCode::Quorum;
    case VerdictKind::Disputed:
      return ReasonCode::Dispute;
    case VerdictKind::Unknown:
      return ReasonCode::Insufficient;
    case VerdictKind::Unreachable:
      return ReasonCode::Dependency;
  }
  return ReasonCode::Insufficient;
}

// The verdict's scope: the evidence's, except that an operator's override to
// unhealthy is their word that the service is down, and a blast-radius hold
// means the observers are the likelier fault.
FailureScope scope_of(VerdictKind kind, ReasonCode code, const std::vector<Evidence>& evidence,
                      int down_quorum) {
  if (code == ReasonCode::Override) {
    return kind == VerdictKind::Unhealthy ? FailureScope::Service : FailureScope::None;
  }
  if (code == ReasonCode::BlastRadius) {
    return FailureScope::Observer;
  }
  if (code == ReasonCode::Dependency) {
    return FailureScope::None;  // the failover belongs to the parent
  }
  if (kind == VerdictKind::Degraded) {
    // A quorum sees the service itself answering slowly or failing: the
    // plane a service failover (--allow-degraded) acts on.
    return FailureScope::Service;
  }
  return summarize_scope(evidence, down_quorum);
}

}  // namespace

bool Engine::push_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) != list.end()) {
    return false;
  }
  list.push_back(item);
  return true;
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
    case ObserveStatus::Duplicate:
      return "the same observation (target, vantage, time) was already counted";
    case ObserveStatus::Conflict:
      return "another result for the same (target, vantage, time) was already counted";
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
  index_vantages();
  group_states_.resize(policy_.groups.size());
  group_published_.resize(policy_.groups.size());
  for (std::size_t g = 0; g < policy_.groups.size(); ++g) {
    group_published_[g].target = group_name(policy_.groups[g].name);
    group_published_[g].reason = "no evaluation yet";
  }
  index_groups();
}

void Engine::index_vantages() {
  vantage_indices_.clear();
  for (std::size_t i = 0; i < vantages_.size(); ++i) {
    vantage_indices_.emplace(vantages_[i].name, i);
  }
}

void Engine::index_targets() {
  target_indices_.clear();
  std::vector<int> priorities;
  priorities.reserve(policy_.targets.size());
  for (std::size_t i = 0; i < policy_.targets.size(); ++i) {
    target_indices_.emplace(policy_.targets[i].name, i);
    priorities.push_back(policy_.targets[i].priority);
  }
  parents_ = dependency_parents();
  dependency_order_ = dependency_order(parents_, priorities);
  any_parents_ = std::any_of(parents_.begin(), parents_.end(),
                             [](const auto& parents) { return !parents.empty(); });
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
  const auto found = vantage_indices_.find(name);
  return found == vantage_indices_.end() ? nullptr : &vantages_[found->second];
}

const Verdict* Engine::verdict(std::string_view target) const {
  if (is_group_name(target)) {
    const auto group = group_index(target);
    return group ? &group_published_[*group] : nullptr;
  }
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
  if (tracker.last() && observation.at.mono == tracker.last()->at.mono) {
    const auto& first = *tracker.last();
    const bool same = first.outcome == observation.outcome && first.layer == observation.layer &&
                      first.last_known_good == observation.last_known_good;
    return same ? ObserveStatus::Duplicate : ObserveStatus::Conflict;
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

bool Engine::add_remote_vantage(const VantagePolicy& reported) {
  const auto slash = reported.name.find('/');
  if (reported.node.empty() || reported.domain.empty() || slash == std::string::npos ||
      reported.name.substr(0, slash) != reported.node || slash + 1 == reported.name.size()) {
    return false;
  }
  // Why only configured peers: a pull queued before a reload that removed
  // its peer runs after it; registering it would bring the removed node
  // back as a domain (and a voter) until the next reload.
  if (std::find(policy_.peers.begin(), policy_.peers.end(), reported.node) == policy_.peers.end()) {
    return false;
  }
  // Why not the domain as reported: a peer's reply is one node's word.
  // Taken at face value, one peer reported three vantages in three invented
  // domains and made a quorum of its own, or claimed every local domain and
  // split them all (a false healthy).
  const auto counted = counted_peer_domain(policy_, reported.node, reported.domain);
  if (!counted || !listed_peer_vantage(policy_, reported.node, reported.name.substr(slash + 1))) {
    return false;
  }
  VantagePolicy vantage = reported;
  vantage.domain = *counted;
  if (const auto found = vantage_indices_.find(vantage.name); found != vantage_indices_.end()) {
    vantages_[found->second].domain = vantage.domain;
    return true;
  }
  // Why a cap: vantages are never forgotten while the peer is configured,
  // and a peer that holds the key but sends new names on every pull grew
  // memory without end and froze evaluation (a hostile review). A new name
  // past the cap is refused like an undeclared domain.
  const auto registered = std::count_if(vantages_.begin(), vantages_.end(), [&](const auto& known) {
    return known.node == reported.node;
  });
  if (static_cast<std::size_t>(registered) >= k_max_vantages_per_peer) {
    return false;
  }
  vantage_indices_.emplace(vantage.name, vantages_.size());
  vantages_.push_back(vantage);
  return true;
}

std::vector<std::string> Engine::known_domains() const {
  std::vector<std::string> domains;
  domains.reserve(vantages_.size() + policy_.peers.size());
  std::unordered_set<std::string_view> seen;
  std::unordered_set<std::string_view> reporting_nodes;
  for (const auto& vantage : vantages_) {
    if (seen.insert(vantage.domain).second) {
      domains.push_back(vantage.domain);
    }
    if (!vantage.node.empty()) {
      reporting_nodes.insert(vantage.node);
    }
  }
  // Why a placeholder: a peer that never answered still stands for at least
  // one independent domain. Leaving it out would shrink the majority and let
  // fewer domains decide than the operator configured.
  for (const auto& peer : policy_.peers) {
    if (!reporting_nodes.contains(peer) && seen.insert(peer).second) {
      domains.push_back(peer);
    }
  }
  return domains;
}

namespace {

// What one vantage's tracker says at `now`, the observation by address: a
// new observation is a new object, so an equal address is the same one.
struct RawItem {
  Vote raw_vote = Vote::Unknown;
  bool stale = true;
  std::optional<Instant> last_observed;
  const Observation* last = nullptr;
  std::optional<double> window_latency_ms;
  std::optional<WallTime> cert_not_after;
  std::optional<WallTime> rrsig_expires;
};

RawItem raw_item(const VantagePolicy& vantage, const VoteTracker* tracker,
                 const HysteresisRules& rules, MonoTime now) {
  RawItem raw;
  if (tracker == nullptr) {
    return raw;
  }
  raw.raw_vote = tracker->vote_at(now, rules);
  raw.stale = tracker->stale_at(now, rules);
  raw.last_observed = tracker->last_observed();
  raw.last = tracker->last().get();
  raw.window_latency_ms = tracker->latency_at(now, rules);
  if (vantage.node.empty()) {
    raw.cert_not_after = tracker->cert_not_after();
    raw.rrsig_expires = tracker->rrsig_expires();
  }
  return raw;
}

// True when `item` says what `raw` says of `vantage` (its vote before
// suspicion: suspicion is applied to the list afterwards).
bool says(const Evidence& item, const VantagePolicy& vantage, const RawItem& raw) {
  return item.vantage == vantage.name && item.node == vantage.node &&
         item.domain == vantage.domain && item.raw_vote == raw.raw_vote &&
         item.stale == raw.stale && item.last_observed == raw.last_observed &&
         item.last.get() == raw.last && item.window_latency_ms == raw.window_latency_ms &&
         item.cert_not_after == raw.cert_not_after && item.rrsig_expires == raw.rrsig_expires;
}

}  // namespace

const VoteTracker* Engine::tracker_of(std::size_t index, const std::string& vantage) const {
  const auto& trackers = states_[index].trackers;
  const auto found = trackers.find(vantage);
  return found == trackers.end() ? nullptr : &found->second;
}

EvidenceList Engine::raw_evidence(std::size_t index, MonoTime now) const {
  const auto rules = rules_of(policy_.targets[index]);
  // Why the published list when it still holds: most targets have no new
  // observation in a 500 ms pass (5 vantages probing every 10 s leave about
  // three targets in four without one; a peer's pull renews every vote it
  // carries, so not on those passes), and a shared list costs the snapshot
  // nothing to copy.
  const auto& published = published_[index].evidence;
  if (published.size() == vantages_.size()) {
    bool holds = true;
    for (std::size_t v = 0; v < vantages_.size() && holds; ++v) {
      const auto& vantage = vantages_[v];
      holds = says(published[v], vantage,
                   raw_item(vantage, tracker_of(index, vantage.name), rules, now));
    }
    if (holds) {
      return published;
    }
  }
  std::vector<Evidence> evidence;
  evidence.reserve(vantages_.size());
  for (const auto& vantage : vantages_) {
    const auto* tracker = tracker_of(index, vantage.name);
    const auto raw = raw_item(vantage, tracker, rules, now);
    Evidence item;
    item.vantage = vantage.name;
    item.node = vantage.node;
    item.domain = vantage.domain;
    item.raw_vote = raw.raw_vote;
    item.vote = raw.raw_vote;
    item.stale = raw.stale;
    item.last_observed = raw.last_observed;
    if (tracker != nullptr) {
      item.last = tracker->last();
    }
    item.window_latency_ms = raw.window_latency_ms;
    item.cert_not_after = raw.cert_not_after;
    item.rrsig_expires = raw.rrsig_expires;
    evidence.push_back(std::move(item));
  }
  return evidence;
}

void Engine::apply_suspects(EvidenceList& evidence) const {
  // A suspect's vote counts as unknown. A list kept from the last pass
  // carries that pass's suspects: it is copied only when they changed.
  const auto wrong = [&](const Evidence& item) {
    const bool suspect = !suspects_.empty() && suspects_.contains(item.vantage);
    return item.suspect != suspect || item.vote != (suspect ? Vote::Unknown : item.raw_vote);
  };
  if (std::none_of(evidence.begin(), evidence.end(), wrong)) {
    return;
  }
  for (auto& item : evidence.edit()) {
    item.suspect = !suspects_.empty() && suspects_.contains(item.vantage);
    item.vote = item.suspect ? Vote::Unknown : item.raw_vote;
  }
}

Evaluation Engine::evaluate(const Instant& now) {
  Evaluation out;
  if (!first_evaluation_) {
    first_evaluation_ = now.mono;
  }
  const std::size_t count = policy_.targets.size();
  std::vector<EvidenceList> evidence(count);
  for (std::size_t i = 0; i < count; ++i) {
    evidence[i] = raw_evidence(i, now.mono);
  }
  const auto canaries = update_suspects(evidence, now, out);
  // Before the targets: a member inherits its group's window.
  for (std::size_t g = 0; g < policy_.groups.size(); ++g) {
    update_group_window(g, now, out);
  }
  const auto domains = known_domains();
  std::vector<VoteCounts> counts(count);
  std::vector<Candidate> candidates(count);
  for (std::size_t i = 0; i < count; ++i) {
    apply_suspects(evidence[i]);
    const auto& target = policy_.targets[i];
    update_maintenance(i, now, out);
    update_cooldown(i, now);
    counts[i] = tally(evidence[i], domains, target.down_quorum, target.up_quorum);
    candidates[i] = judge(i, counts[i], evidence[i], now);
    candidates[i] = apply_override_and_restore(i, std::move(candidates[i]), now, out);
  }
  // After overrides and restores: the guard counts what will be published.
  apply_dependencies_and_blast_radius(candidates, counts);
  for (std::size_t i = 0; i < count; ++i) {
    publish(i, candidates[i], std::move(counts[i]), std::move(evidence[i]), now, out);
    update_side_episodes(i, canaries, now, out);
  }
  evaluate_groups(now, out);
  evaluated_once_ = true;
  out.revision = revision_;
  return out;
}

bool Engine::down_only_from_pending_suspects(const std::vector<Evidence>& evidence) const {
  bool any = false;
  for (const auto& item : evidence) {
    if (item.vote != Vote::Down && item.vote != Vote::Degraded) {
      continue;
    }
    if (!suspect_pending_since_.contains(item.vantage)) {
      return false;
    }
    any = true;
  }
  return any;
}

Engine::Candidate Engine::judge(std::size_t index, const VoteCounts& counts,
                                const std::vector<Evidence>& evidence, const Instant& now) {
  const auto& target = policy_.targets[index];
  auto& state = states_[index];
  const auto& published = published_[index];
  const VerdictKind raw = raw_verdict(counts);
  Candidate candidate{raw, code_for(raw), describe(counts, raw), true};

  // Why a grace period: domains probe at different phases of the interval.
  // When a real outage starts, one domain sees it first; for a moment D is 1
  // and the raw verdict is "disputed". Waiting dispute_grace lets the others
  // catch up, so healthy -> unhealthy happens without a spurious dispute (and
  // without paging anyone), while a lone dissenter that persists is escalated.
  // Grace keeps the *published* verdict, never an internal one: a guard that
  // lets go inside the window must not turn into an unpublished "unhealthy".
  // A kept healthy/unhealthy is not what the votes say now, so it goes out
  // with fresh = false and no gate acts on it.
  // The window also lasts while every down vote comes from a vantage that is
  // itself on its way to suspicion (its own grace decides it). A split domain
  // is a disagreement too (inside one domain): when splits alone leave the
  // votes short of a quorum, the same grace applies before `unknown`.
  const bool split_short = raw == VerdictKind::Unknown && counts.split > 0;
  if (raw == VerdictKind::Disputed || split_short) {
    if (!state.disagreement_since) {
      state.disagreement_since = now.mono;
    }
    const bool within = now.mono - *state.disagreement_since < target.dispute_grace ||
                        down_only_from_pending_suspects(evidence);
    if (within && published.kind != VerdictKind::Disputed) {
      candidate.kind = published.kind;
      candidate.code = code_for(published.kind);
      candidate.supported = !published.confirmed();
      candidate.reason += "; within dispute_grace (" + format_duration(target.dispute_grace) +
                          "), " + std::string(to_string(published.kind)) + " unchanged";
    }
  } else {
    state.disagreement_since.reset();
  }

  // Flapping: more than flap_limit changes inside flap_window. The verdict is
  // held as disputed until the window holds flap_limit changes or fewer. A
  // member of a group with its own flap limit follows the strictest.
  const auto flap_limit = target.flap_limit.value_or(policy_.flap_limit);
  if (std::exchange(state.restored_flapping, false)) {
    refill_flap_window(state.changes, flap_limit, now.mono);
  }
  if (auto flapping = flapping_reason(state.changes, state.judged, candidate.kind, now.mono,
                                      target.flap_window.value_or(policy_.flap_window), flap_limit,
                                      candidate.reason)) {
    return Candidate{VerdictKind::Disputed, ReasonCode::Flapping, std::move(*flapping), true};
  }
  return candidate;
}

void Engine::publish(std::size_t index, const Candidate& candidate, VoteCounts counts,
                     EvidenceList evidence, const Instant& now, Evaluation& out) {
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
    verdict.stable_from.reset();
    state.used_keys.clear();  // keys carry the generation: old ones cannot recur
  }
  if (changed || !verdict.since_mono) {
    // A restored verdict has held since `since` (or been out of a window
    // since stable_from) as far as anyone can tell: its monotonic twin
    // starts that long before now, never after it.
    verdict.since_mono = now.mono - std::max(Duration::zero(), now.wall - verdict.stable_since());
  }
  verdict.kind = candidate.kind;
  verdict.reason_code = candidate.code;
  verdict.reason = candidate.reason;
  verdict.evaluated_at = now.wall;
  verdict.valid_until = now.wall + target.stale_after;
  verdict.fresh = candidate.supported;
  verdict.override_in_force = state.override_in_force;
  verdict.maintenance = state.maintenance;
  verdict.cooldown = state.cooldown;
  if (verdict.confirmed() && candidate.supported && candidate.code != ReasonCode::Override) {
    state.last_confirmed = verdict.kind;
  }
  verdict.held = verdict.confirmed() ? std::nullopt : state.last_confirmed;
  const auto layer = summarize_failing_layer(evidence);
  verdict.failing_layer = layer.layer;
  verdict.last_known_good = layer.last_known_good;
  verdict.scope = scope_of(candidate.kind, candidate.code, evidence, counts.down_quorum);
  if (layer.layer == Layer::Dns && layer.last_known_good == LastKnownGood::Reachable &&
      !verdict.confirmed()) {
    verdict.reason +=
        "; DNS is failing but the service still answers at its last-known-good "
        "addresses: fix DNS, do not fail over";
  } else if (layer.layer == Layer::Dns && layer.last_known_good == LastKnownGood::Reachable) {
    verdict.reason +=
        "; DNS is failing, the service still answers at its last-known-good "
        "addresses";
  }
  if (layer.dnssec) {
    verdict.reason +=
        "; DNSSEC: validating resolvers refuse the answer (SERVFAIL) because its signatures "
        "do not validate (their Extended DNS Error or the answer with checking disabled says "
        "so): fix the zone's signing";
  }
  verdict.votes = std::move(counts);
  const auto earliest = [&evidence](std::optional<WallTime> Evidence::*field) {
    const auto seen = earliest_expiry(evidence, field);
    return seen ? std::optional<WallTime>{seen->at} : std::nullopt;
  };
  verdict.cert_not_after = earliest(&Evidence::cert_not_after);
  verdict.rrsig_expires = earliest(&Evidence::rrsig_expires);
  verdict.evidence = std::move(evidence);
  if (changed) {
    out.events.push_back(change_event(verdict, now));
  }
  close_silenced(index, now, out);
  update_episode(index, now, out);
}

Event Engine::verdict_event(EventKind kind, const Verdict& verdict, const Instant& now) {
  Event event;
  event.kind = kind;
  event.at = now;
  event.target = verdict.target;
  event.verdict = verdict.kind;
  event.held = verdict.held;
  event.generation = verdict.generation;
  event.reason = verdict.reason;
  return event;
}

Event Engine::change_event(const Verdict& verdict, const Instant& now) {
  Event event = verdict_event(EventKind::VerdictChanged, verdict, now);
  event.key = "verdict/" + verdict.target + "/" + std::to_string(verdict.generation);
  return event;
}

}  // namespace crosscheck::consensus
