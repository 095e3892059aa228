#include "snapshot/commit_gate.hpp"

#include <algorithm>
#include <utility>

namespace crosscheck::snapshot {

template <class Ready>
void CommitGate::release_snapshots_while(Ready ready, Undurable why, Release& out) {
  std::optional<HeldSnapshot> last;
  while (!snapshots_.empty() && ready(snapshots_.front())) {
    auto held = std::move(snapshots_.front());
    snapshots_.pop_front();
    const bool durable = held.seq <= committed_;
    for (auto& answer : held.answers) {
      out.answers.emplace_back(std::move(answer), durable);
    }
    held.answers.clear();
    last = std::move(held);
  }
  if (!last) {
    return;
  }
  // Why only the newest: each snapshot holds everything the ones before it
  // showed (they were built in order), so the older ones are superseded.
  shown_ = std::max(shown_, last->seq);
  out.snapshot = std::move(last->snapshot);
  out.snapshot_undurable = last->seq <= committed_ ? Undurable::No : why;
}

template <class Ready>
void CommitGate::release_alerts_while(Ready ready, Undurable why, Release& out) {
  while (!alerts_.empty() && ready(alerts_.front())) {
    if (alerts_.front().seq > committed_) {
      out.alerts_undurable = why;
    }
    out.alerts.push_back(std::move(alerts_.front().alert));
    alerts_.pop_front();
  }
}

CommitGate::Release CommitGate::hold(SnapshotPtr snapshot, std::uint64_t seq,
                                     consensus::MonoTime now, std::vector<Answer> answers) {
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
                          Undurable::Overdue, out);
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

CommitGate::Release CommitGate::committed(std::uint64_t seq) {
  committed_ = std::max(committed_, seq);
  Release out;
  const auto visible = std::max(committed_, shown_);
  release_snapshots_while([&](const HeldSnapshot& held) { return held.seq <= visible; },
                          Undurable::Overdue, out);
  release_alerts_while([&](const HeldAlert& held) { return held.seq <= committed_; }, Undurable::No,
                       out);
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

CommitGate::Release CommitGate::release_snapshots() {
  Release out;
  release_snapshots_while([](const HeldSnapshot&) { return true; }, Undurable::Forced, out);
  return out;
}

}  // namespace crosscheck::snapshot
