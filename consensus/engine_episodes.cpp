// Engine: escalation episodes (disputes, flapping, blast radius, split
// domains, unreachable quorums, broken canaries, suspect vantages) and how
// they continue across a restart. Pure, like the rest of the engine.
#include "consensus/engine.hpp"

#include "consensus/episode_key.hpp"
#include "consensus/suspicion.hpp"
#include "consensus/time_format.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <string>

namespace crosscheck::consensus {
namespace {

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

// "the TLS certificate expires in 9 days (notAfter 2026-12-14T10:00:00Z,
// seen by quad9)".
std::string describe_certificate(const SeenExpiry& cert, WallTime now) {
  return "the TLS certificate " + cert_expiry_words(cert.at, now) + " (notAfter " +
         format_rfc3339(cert.at) + ", seen by " + cert.vantage + ")";
}

std::string in_days(Duration threshold) {
  return std::to_string(std::chrono::floor<std::chrono::days>(threshold).count());
}

// "the DNSSEC signatures (RRSIG) over the answer expire in 20 hours
// (expiration 2026-12-06T10:00:00Z, seen by quad9)".
std::string describe_signatures(const SeenExpiry& signatures, WallTime now) {
  return "the DNSSEC signatures (RRSIG) over the answer " +
         signature_expiry_words(signatures.at, now) + " (expiration " +
         format_rfc3339(signatures.at) + ", seen by " + signatures.vantage + ")";
}

// What a target's local vantages see expire, watched alike: certificates
// (tls.min_days) and the DNSSEC signatures over its answer
// (dns.rrsig_min_remaining).
struct ExpiryWatch {
  EventKind kind;
  std::optional<Duration> TargetPolicy::*threshold;
  std::optional<WallTime> Evidence::*seen;
  std::string_view setting;
  std::string_view gone;  // the reason when the vantages answer without one
  std::string (*describe)(const SeenExpiry&, WallTime);
  std::string (*threshold_words)(Duration);
};

constexpr std::array<ExpiryWatch, 2> k_expiry_watches{{
    {EventKind::CertExpiring, &TargetPolicy::cert_min_remaining, &Evidence::cert_not_after,
     "tls.min_days", "the checks complete without a certificate", &describe_certificate, &in_days},
    {EventKind::RrsigExpiring, &TargetPolicy::rrsig_min_remaining, &Evidence::rrsig_expires,
     "dns.rrsig_min_remaining", "the answers come without DNSSEC signatures", &describe_signatures,
     &format_duration},
}};

// The opening or resolving reason of an expiry episode.
std::string expiry_reason(const ExpiryWatch& watch, const TargetPolicy& target,
                          const Verdict& verdict, WallTime now) {
  const auto seen = earliest_expiry(verdict.evidence, watch.seen);
  const auto& threshold = target.*watch.threshold;
  if (!threshold) {
    return std::string(watch.setting) + " no longer applies";
  }
  if (!seen) {
    return std::string(watch.gone);
  }
  return watch.describe(*seen, now) + "; " + std::string(watch.setting) + " is " +
         watch.threshold_words(*threshold);
}

}  // namespace

bool was_flapping(const RestoredVerdict& restored) {
  // The row's reason code is the last change's; flapping can begin while
  // the verdict stays disputed, and then only its open episode says so.
  return restored.kind == VerdictKind::Disputed &&
         (restored.reason_code == ReasonCode::Flapping ||
          (!restored.open_escalation_key.empty() &&
           restored.open_escalation_kind == EventKind::FlappingStarted));
}

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
    case EventKind::PeerUnauthenticated:
      return EventKind::PeerAuthenticated;
    case EventKind::SplitOpened:
      return EventKind::SplitResolved;
    case EventKind::QuorumUnreachable:
      return EventKind::QuorumReachable;
    case EventKind::CanaryDown:
      return EventKind::CanaryRecovered;
    case EventKind::CertExpiring:
      return EventKind::CertExpiringResolved;
    case EventKind::RrsigExpiring:
      return EventKind::RrsigExpiringResolved;
    default:
      return EventKind::DisputeResolved;
  }
}

bool Engine::restore(const RestoredVerdict& restored) {
  if (evaluated_once_) {
    return false;
  }
  if (const auto group = group_index(restored.target)) {
    return restore_group(*group, restored);
  }
  const auto index = target_index(restored.target);
  if (!index) {
    // Removed while the daemon was stopped (or by a reload before it, when
    // the row is that removal's "unknown"): a later reload that adds it
    // again continues past what it published.
    const bool ended = restored.kind == VerdictKind::Unknown;
    auto& retired = retired_[restored.target];
    retired.generation = std::max(retired.generation, restored.generation + (ended ? 0 : 1));
    retired.announce = retired.announce || !ended;
    for (const auto& key : restored.used_keys) {
      push_unique(retired.used_keys, key);
    }
    return false;
  }
  auto& state = states_[*index];
  auto& verdict = published_[*index];
  verdict.kind = restored.kind;
  verdict.held = restored.held;
  verdict.generation = restored.generation;
  verdict.since = restored.since;
  verdict.stable_from = restored.stable_from;
  verdict.maintenance = restored.window;
  verdict.reason_code = ReasonCode::Restored;
  verdict.reason = "restored after restart; awaiting fresh evidence";
  verdict.fresh = false;
  state.maintenance = restored.window;
  state.judged = restored.kind;
  state.last_confirmed = verdict.confirmed() ? std::optional{restored.kind} : restored.held;
  state.restored_pending = true;
  state.restored_flapping = was_flapping(restored);
  state.override_in_force = restored.override_in_force;
  state.used_keys = restored.used_keys;
  if (!restored.open_escalation_key.empty()) {
    state.episode_key = restored.open_escalation_key;
    state.episode_kind =
        restored.open_escalation_kind.value_or(episode_from_code(restored.reason_code));
    push_unique(state.used_keys, restored.open_escalation_key);
    if (restored.open_escalation_silenced) {
      state.silenced_keys.insert(restored.open_escalation_key);
    }
  }
  return true;
}

bool Engine::restore_episode(const RestoredEpisode& episode) {
  if (evaluated_once_ || episode.key.empty()) {
    return false;
  }
  if (episode.kind == EventKind::VantageSuspect) {
    if (episode.vantage.empty()) {
      return false;
    }
    suspect_state_[episode.vantage] = SuspectState{episode.reason, episode.key, true};
    suspect_keys_.insert(episode.key);
    suspects_[episode.vantage] = episode.reason;
    return true;
  }
  const auto index = target_index(episode.target);
  if (!index) {
    return false;
  }
  auto& state = states_[*index];
  switch (episode.kind) {
    case EventKind::SplitOpened:
      state.split_restored = true;
      state.side_episodes[episode.kind] = episode.key;
      break;
    case EventKind::QuorumUnreachable:
    case EventKind::CanaryDown:
    case EventKind::CertExpiring:
    case EventKind::RrsigExpiring:
      state.side_episodes[episode.kind] = episode.key;
      break;
    case EventKind::DisputeOpened:
    case EventKind::FlappingStarted:
    case EventKind::BlastRadiusHeld:
      if (!state.episode_key.empty() && state.episode_key != episode.key) {
        return false;
      }
      state.episode_key = episode.key;
      state.episode_kind = episode.kind;
      break;
    default:
      return false;
  }
  push_unique(state.used_keys, episode.key);
  if (episode.silenced) {
    state.silenced_keys.insert(episode.key);
  }
  return true;
}

Duration Engine::longest_restore_hold() const {
  Duration longest{0};
  for (const auto& target : policy_.targets) {
    longest = std::max(longest, target.restore_hold);
  }
  return longest;
}

std::string Engine::new_key(std::size_t index, EventKind kind) {
  return unique_episode_key(states_[index].used_keys, kind, policy_.targets[index].name,
                            published_[index].generation);
}

EventKind Engine::episode_kind_of(ReasonCode code) {
  return episode_from_code(code);
}

SuspicionFindings Engine::update_suspects(const std::vector<EvidenceList>& evidence,
                                          const Instant& now, Evaluation& out) {
  std::vector<TargetVotes> views;
  views.reserve(evidence.size());
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    views.push_back(
        TargetVotes{policy_.targets[i].name, policy_.targets[i].canary, &evidence[i].items()});
  }
  std::set<std::string> already;
  for (const auto& [vantage, state] : suspect_state_) {
    already.insert(vantage);
  }
  auto findings = find_suspects(views, policy_.suspect_fraction, already);
  // A suspect restored at start-up stays suspect through the restore hold:
  // its hysteresis starts empty, and the rule that made it suspect needs
  // `fall` probes to be met again.
  const bool restore_hold =
      first_evaluation_ && now.mono - *first_evaluation_ < longest_restore_hold();
  for (auto it = suspect_state_.begin(); it != suspect_state_.end();) {
    const auto& [vantage, state] = *it;
    if (findings.suspects.contains(vantage) || (state.restored && restore_hold)) {
      ++it;
      continue;
    }
    Event event;
    event.kind = EventKind::VantageCleared;
    event.key = state.key;
    event.at = now;
    event.vantage = vantage;
    event.reason = "votes count again: no longer " + state.reason;
    out.events.push_back(std::move(event));
    it = suspect_state_.erase(it);
  }
  std::erase_if(suspect_pending_since_,
                [&](const auto& item) { return !findings.suspects.contains(item.first); });
  // Why a grace: at the start of a real multi-target outage the vantage
  // whose probes run first is alone for a few seconds. Suspicion waits as
  // long as a dispute would, so the other domains can catch up.
  for (const auto& [vantage, reason] : findings.suspects) {
    if (auto found = suspect_state_.find(vantage); found != suspect_state_.end()) {
      found->second.restored = false;  // re-established by evidence
      found->second.reason = reason;
      continue;
    }
    const auto since = suspect_pending_since_.try_emplace(vantage, now.mono).first->second;
    if (now.mono - since < policy_.suspicion_grace) {
      continue;
    }
    suspect_pending_since_.erase(vantage);
    Event event;
    event.kind = EventKind::VantageSuspect;
    // Why a suffix: the wall clock stepped back can reach the same time
    // again, and sinks dedupe by key (the second page would be swallowed).
    const std::string base = "suspect/" + vantage + "/" + format_rfc3339(now.wall);
    event.key = base;
    for (int n = 2; suspect_keys_.contains(event.key); ++n) {
      event.key = base + "." + std::to_string(n);
    }
    suspect_keys_.insert(event.key);
    event.at = now;
    event.vantage = vantage;
    event.reason = "vantage suspect, its votes count as unknown: " + reason;
    suspect_state_[vantage] = SuspectState{reason, event.key, false};
    out.events.push_back(std::move(event));
  }
  suspects_.clear();
  for (const auto& [vantage, state] : suspect_state_) {
    suspects_[vantage] = state.reason;
  }
  findings.suspects.clear();
  return findings;
}

void Engine::update_episode(std::size_t index, const Instant& now, Evaluation& out) {
  const auto& verdict = published_[index];
  auto& state = states_[index];
  if (verdict.reason_code == ReasonCode::Restored) {
    return;  // a restored episode stays open until evidence decides
  }
  const auto wanted = episode_for(verdict);
  auto make_event = [&](EventKind kind) { return verdict_event(kind, verdict, now); };
  if (!state.episode_key.empty() && wanted != state.episode_kind) {
    auto event = make_event(resolution_of(state.episode_kind));
    event.key = state.episode_key;
    silence(state, event);
    out.events.push_back(std::move(event));
    state.episode_key.clear();
  }
  if (wanted && state.episode_key.empty()) {
    auto event = make_event(*wanted);
    event.key = new_key(index, *wanted);
    state.episode_key = event.key;
    state.episode_kind = *wanted;
    silence(state, event);
    out.events.push_back(std::move(event));
  }
}

void Engine::update_side_episodes(std::size_t index, const SuspicionFindings& canaries,
                                  const Instant& now, Evaluation& out) {
  const auto& target = policy_.targets[index];
  const auto& verdict = published_[index];
  auto& state = states_[index];
  if (verdict.votes.split > 0) {
    if (!state.split_since) {
      state.split_since = now.mono;
    }
  } else {
    state.split_since.reset();
  }
  const auto broken = canaries.broken_canaries.find(target.name);
  if (broken != canaries.broken_canaries.end()) {
    if (!state.canary_broken_since) {
      state.canary_broken_since = now.mono;
    }
  } else {
    state.canary_broken_since.reset();
  }
  if (verdict.reason_code == ReasonCode::Restored) {
    return;  // restored episodes stay open until evidence decides
  }
  // A broken canary is escalated once it stays broken through the
  // suspicion grace, and recovers only when a domain sees it up again: a
  // vote going stale is no recovery (no canary_down/canary_recovered churn).
  const bool canary_open = state.side_episodes.contains(EventKind::CanaryDown);
  const bool canary_down =
      canary_open ? !canaries.canaries_seen_up.contains(target.name)
                  : state.canary_broken_since &&
                        now.mono - *state.canary_broken_since >= policy_.suspicion_grace;
  // A split lasting past dispute_grace is escalated once, also while the
  // verdict stays healthy; an open dispute already pages for this target,
  // and an unreachable one's parent pages for it.
  // An open split lasts while it is seen. Why not the grace again: after a
  // restart the split is seen anew, and a split younger than the grace
  // closed the restored episode (then reopened it, paging twice). A restored
  // one also lasts through the restore hold until its votes are back.
  const bool split_open = state.side_episodes.contains(EventKind::SplitOpened);
  const bool restore_hold =
      first_evaluation_ && now.mono - *first_evaluation_ < target.restore_hold;
  if (state.split_since || !restore_hold) {
    state.split_restored = false;
  }
  // An unreachable target's open split is resolved: its parent pages.
  const bool split =
      verdict.kind != VerdictKind::Unreachable &&
      (split_open ? state.split_since.has_value() || state.split_restored
                  : state.split_since && now.mono - *state.split_since >= target.dispute_grace &&
                        state.episode_key.empty());
  // A certificate (DNSSEC signatures) closer to its end than the target's
  // threshold is escalated (never a vote: it still serves). It ends once
  // what every local vantage shows has been valid past the threshold for
  // k_renewal_hold: a failed check keeps the last one seen, so a target down
  // for a while neither renews nor reopens it.
  // Nothing to expire while a local vantage answers now: counts as renewed
  // (signatures no longer sent); nothing seen and nobody answering (a
  // restart with the service down) renews nothing.
  const bool answering =
      std::any_of(verdict.evidence.begin(), verdict.evidence.end(), [](const Evidence& item) {
        return item.node.empty() && !item.stale && item.last && item.last->outcome == Outcome::Up;
      });
  const auto expiring = [&](const ExpiryWatch& watch) {
    const auto seen = earliest_expiry(verdict.evidence, watch.seen);
    const auto& threshold = target.*watch.threshold;
    const bool open = state.side_episodes.contains(watch.kind);
    const bool short_lived = seen && threshold && seen->at - now.wall < *threshold;
    if (!open || short_lived || (!seen && !answering)) {
      state.renewed_since.erase(watch.kind);
    } else {
      state.renewed_since.try_emplace(watch.kind, now.mono);
    }
    const auto renewed = state.renewed_since.find(watch.kind);
    return threshold &&
           (short_lived || (open && (renewed == state.renewed_since.end() ||
                                     now.mono - renewed->second < TargetPolicy::k_renewal_hold)));
  };
  const std::array<std::pair<EventKind, bool>, 5> wanted{{
      {EventKind::SplitOpened, split},
      {EventKind::QuorumUnreachable, verdict.votes.quorum_unreachable()},
      {EventKind::CanaryDown, canary_down},
      {EventKind::CertExpiring, expiring(k_expiry_watches[0])},
      {EventKind::RrsigExpiring, expiring(k_expiry_watches[1])},
  }};
  // Reasons are written only for an episode that opens or resolves now.
  const auto reason = [&](EventKind kind, bool opening) {
    for (const auto& watch : k_expiry_watches) {
      if (watch.kind == kind) {
        return expiry_reason(watch, target, verdict, now.wall);
      }
    }
    if (opening && kind == EventKind::SplitOpened) {
      return "failure domains split, their own vantages disagree: " + verdict.reason;
    }
    if (opening && kind == EventKind::CanaryDown && broken != canaries.broken_canaries.end()) {
      return broken->second;
    }
    return verdict.reason;
  };
  for (const auto& [kind, opening] : wanted) {
    const auto open = state.side_episodes.find(kind);
    if (opening == (open != state.side_episodes.end())) {
      continue;
    }
    Event event = verdict_event(kind, verdict, now);
    event.reason = reason(kind, opening);
    if (opening) {
      event.key = new_key(index, kind);
      state.side_episodes[kind] = event.key;
    } else {
      event.kind = resolution_of(kind);
      event.key = open->second;
      state.side_episodes.erase(open);
    }
    silence(state, event);
    out.events.push_back(std::move(event));
  }
}

}  // namespace crosscheck::consensus
