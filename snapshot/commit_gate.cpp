#include "snapshot/commit_gate.hpp"

#include <algorithm>
#include <utility>

namespace crosscheck::snapshot {
namespace cs = consensus;

namespace {

std::string_view waiting_for(Undurable why) {
  switch (why) {
    case Undurable::Degraded:
      return "storage is degraded";
    case Undurable::Forced:
      return "the oracle is starting or stopping";
    case Undurable::Refused:
      return "storage refused to write it";
    default:
      return "storage has not committed it yet";
  }
}

const TargetView* find_target(const Snapshot* snapshot, const std::string& target) {
  return snapshot == nullptr ? nullptr : snapshot->find(target);
}

}  // namespace

SnapshotPtr mask_undurable(const Snapshot& shown, const Snapshot* durable, Undurable why) {
  auto out = std::make_shared<Snapshot>(shown);
  out->revision = durable == nullptr ? 0 : std::min(durable->revision, shown.revision);
  // Escalations too: an id or key not on disk can be handed out again after
  // a crash (a retried ack would then land on another episode).
  out->escalations = durable == nullptr ? std::vector<EscalationView>{} : durable->escalations;
  for (auto& view : out->targets) {
    const auto* base = find_target(durable, view.verdict.target);
    const std::uint64_t kept = base == nullptr ? 0 : base->verdict.generation;
    if (view.verdict.generation <= kept) {
      continue;
    }
    cs::Verdict verdict;
    if (base != nullptr) {
      verdict = base->verdict;
    } else {
      verdict.target = view.verdict.target;
      verdict.since = view.verdict.evaluated_at;
      verdict.valid_until = view.verdict.evaluated_at;
    }
    verdict.fresh = false;
    verdict.evaluated_at = view.verdict.evaluated_at;
    verdict.votes = view.verdict.votes;
    verdict.evidence = view.verdict.evidence;
    verdict.override_in_force = view.verdict.override_in_force;
    // Why the new generation's number is not named: it is not on disk, so
    // after a crash the same number can go to another verdict.
    verdict.reason = "a change to " + std::string(cs::to_string(view.verdict.kind)) +
                     " is not shown until it is on disk: " + std::string(waiting_for(why)) +
                     "; this is the last durable verdict";
    TargetView masked;  // a new view: its rendered body must not be shared
    masked.verdict = std::move(verdict);
    masked.divergence = std::move(view.divergence);
    // The durable snapshot's own list when there is one: it begins with
    // the durable verdict's change. Why not the newer list filtered:
    // storage.history_retention may have dropped that change from it (only
    // the newest, undurable one is kept whatever its age), which left an
    // empty history beside the durable verdict (a hostile review).
    if (base != nullptr) {
      masked.history = base->history;
    } else {
      auto history = std::make_shared<std::vector<TransitionView>>();
      for (const auto& transition : view.transitions()) {
        if (transition.generation <= kept) {
          history->push_back(transition);
        }
      }
      masked.history = std::move(history);
    }
    view = std::move(masked);
  }
  return out;
}

template <class Ready>
void CommitGate::release_snapshots_while(Ready ready, Undurable why, Release& out) {
  std::optional<HeldSnapshot> last;
  while (!snapshots_.empty() && ready(snapshots_.front())) {
    auto held = std::move(snapshots_.front());
    snapshots_.pop_front();
    for (auto& pending : held.answers) {
      // Why per record: "committed up to N" covers records storage dropped
      // unwritten; an ack it refused must not answer 200 (a hostile review).
      const auto told = lost_                               ? Undurable::Degraded
                        : held.seq > committed_             ? why
                        : refused_.contains(pending.record) ? Undurable::Refused
                                                            : Undurable::No;
      out.answers.emplace_back(std::move(pending.answer), told);
    }
    held.answers.clear();
    last = std::move(held);
  }
  if (!last) {
    return;
  }
  // Why only the newest: each snapshot holds everything the ones before it
  // showed (they were built in order), so the older ones are superseded.
  const auto first_refused = refused_.upper_bound(shown_);
  const bool shows_refused = first_refused != refused_.end() && *first_refused <= last->seq;
  shown_ = std::max(shown_, last->seq);
  if (!lost_ && last->seq <= committed_ && !shows_refused) {
    durable_ = last->snapshot;
    masked_.reset();
    out.snapshot = std::move(last->snapshot);
    out.snapshot_undurable = Undurable::No;
    return;
  }
  // Why a refused record masks too: it may be a verdict change, and a
  // generation storage refused is as gone after a crash as one never written.
  const auto told = lost_ ? Undurable::Degraded : last->seq > committed_ ? why : Undurable::Refused;
  out.snapshot = mask_undurable(*last->snapshot, durable_.get(), told);
  out.snapshot_undurable = told;
  if (told == Undurable::Refused) {
    masked_.reset();
  } else {
    masked_ = std::move(last);
  }
}

template <class Ready>
void CommitGate::release_alerts_while(Ready ready, Undurable why, Release& out) {
  while (!alerts_.empty() && ready(alerts_.front())) {
    if (alerts_.front().seq > committed_) {
      out.alerts_undurable = why;
    } else if (refused_.contains(alerts_.front().seq) && out.alerts_undurable == Undurable::No) {
      out.alerts_undurable = Undurable::Refused;
    }
    out.alerts.push_back(std::move(alerts_.front().alert));
    alerts_.pop_front();
  }
}

void CommitGate::forget_refusals() {
  // Why these may go: a refusal matters to a snapshot that shows it and is
  // not out yet (above shown_), and to a held answer or alert that names it;
  // anything held later names a record not yet reported.
  auto keep_from = shown_ + 1;
  for (const auto& held : snapshots_) {
    for (const auto& pending : held.answers) {
      keep_from = pending.record != 0 ? std::min(keep_from, pending.record) : keep_from;
    }
  }
  for (const auto& held : alerts_) {
    keep_from = held.seq != 0 ? std::min(keep_from, held.seq) : keep_from;
  }
  refused_.erase(refused_.begin(), refused_.lower_bound(keep_from));
}

CommitGate::Release CommitGate::hold(SnapshotPtr snapshot, std::uint64_t seq,
                                     consensus::MonoTime now, std::vector<PendingAnswer> answers,
                                     bool degraded) {
  // Why a snapshot with nothing new may go out before its commit: once a
  // hung disk made the gate show generation 7 undurably, a snapshot that
  // shows nothing beyond it hides nothing a crash could take back that the
  // API has not shown already; holding it would only freeze the API.
  // Example: committed 5, shown 9 (overdue), a new snapshot at seq 9 goes
  // out at once; one at seq 10 waits for 10 or its own patience.
  snapshots_.push_back(HeldSnapshot{seq, now, std::move(snapshot), std::move(answers)});
  Release out;
  const auto visible = std::max(committed_, shown_);
  release_snapshots_while([&](const HeldSnapshot& held) { return held.seq <= visible; },
                          degraded ? Undurable::Degraded : Undurable::Overdue, out);
  return out;
}

CommitGate::Release CommitGate::hold(escalation::Alert alert, std::uint64_t seq,
                                     consensus::MonoTime now) {
  alerts_.push_back(HeldAlert{seq, now, std::move(alert)});
  Release out;
  release_alerts_while([&](const HeldAlert& held) { return held.seq <= committed_; }, Undurable::No,
                       out);
  return out;
}

CommitGate::Release CommitGate::committed(std::uint64_t seq,
                                          const std::vector<std::uint64_t>& refused) {
  committed_ = std::max(committed_, seq);
  refused_.insert(refused.begin(), refused.end());
  Release out;
  const auto visible = std::max(committed_, shown_);
  release_snapshots_while([&](const HeldSnapshot& held) { return held.seq <= visible; },
                          Undurable::Overdue, out);
  release_alerts_while([&](const HeldAlert& held) { return held.seq <= committed_; }, Undurable::No,
                       out);
  // What went out masked is on disk now: show it as it is (unless a newer
  // committed snapshot just did, or storage refused a record it shows).
  if (masked_ && masked_->seq <= committed_ && !lost_) {
    const bool shows_refused = !refused_.empty() && *refused_.begin() <= masked_->seq;
    if (!out.snapshot && !shows_refused) {
      out.snapshot = masked_->snapshot;
      out.snapshot_undurable = Undurable::No;
      durable_ = masked_->snapshot;
    }
    masked_.reset();
  }
  forget_refusals();
  return out;
}

CommitGate::Release CommitGate::tick(consensus::MonoTime now, bool degraded) {
  Release out;
  const auto why = degraded ? Undurable::Degraded : Undurable::Overdue;
  release_snapshots_while(
      [&](const HeldSnapshot& held) {
        return degraded || held.seq <= committed_ || now - held.since >= patience_.snapshot;
      },
      why, out);
  release_alerts_while(
      [&](const HeldAlert& held) {
        return degraded || held.seq <= committed_ || now - held.since >= patience_.alert;
      },
      why, out);
  return out;
}

void CommitGate::restored(SnapshotPtr snapshot) {
  durable_ = std::move(snapshot);
}

CommitGate::Release CommitGate::release_snapshots() {
  Release out;
  release_snapshots_while([](const HeldSnapshot&) { return true; }, Undurable::Forced, out);
  return out;
}

}  // namespace crosscheck::snapshot
