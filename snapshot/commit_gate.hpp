// What waits for storage to commit before anyone sees it: snapshots (and
// the API answers that promise what they show), and escalation messages for
// the sinks. Storage numbers each record it is handed (1, 2, 3...) and says
// "committed up to N"; the gate lets out what N covers, in order. A snapshot
// that must go out before its commit (a hung or full disk) never shows a
// generation a crash could take back: those targets show their last durable
// verdict, not fresh, until the commit comes. Pure: no I/O, no clock reads,
// no threads; whoever owns it feeds it commits and time.
#pragma once

#include "consensus/types.hpp"
#include "escalation/message.hpp"
#include "snapshot/snapshot.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <vector>

namespace crosscheck::snapshot {

// Why something went out before storage committed it.
enum class Undurable : std::uint8_t {
  No,        // committed first
  Overdue,   // storage neither committed nor failed within the patience
  Degraded,  // storage cannot commit at all (full, read-only, corrupt disk)
  Forced,    // start-up or stop: released without waiting
  Refused,   // storage dropped a record it shows unwritten (refused, or pushed out of a full queue)
};

// How long the gate waits for a commit before it lets things out anyway.
struct CommitPatience {
  // A snapshot waits at most this long (a commit takes milliseconds; only
  // a hung disk waits this long).
  consensus::Duration snapshot{1'000};
  // An escalation message waits longer (a page a crash could duplicate is
  // worse than a late one for a few seconds), but a disk that neither
  // commits nor fails must not hold a page back forever.
  consensus::Duration alert{5'000};
};

// `shown` as it may go out before its commit: every target whose generation
// moved past the one `durable` shows for it (a snapshot storage committed)
// shows `durable`'s verdict instead, with fresh = false and a reason that
// says what waits, so no gate acts on it; its evidence, votes and
// evaluation time stay current. The history drops the transitions past it.
// A target `durable` does not have (or no `durable` at all) shows unknown
// at generation 0. The revision is `durable`'s: /v1/watch wakes when the
// real one goes out. Why: a generation is a fencing token that survives
// restarts. Shown as 8 but never committed, a kill -9 restores 7 and hands
// out 8 again for another verdict; a script holding 8 would act on it.
SnapshotPtr mask_undurable(const Snapshot& shown, const Snapshot* durable, Undurable why);

class CommitGate {
 public:
  // Called once its snapshot is published; `why` is Undurable::No when
  // what it promises was committed first (an ack answers 200 only then).
  using Answer = std::function<void(Undurable why)>;
  // An answer and the record whose commit it promises (an ack's, an
  // override's); 0 when it has none of its own and reports its snapshot's.
  struct PendingAnswer {
    PendingAnswer(Answer told, std::uint64_t seq = 0)  // NOLINT(google-explicit-constructor)
        : answer(std::move(told)), record(seq) {}
    Answer answer;
    std::uint64_t record;
  };

  // What to do now, in this order: publish `snapshot` (when set), run the
  // answers, hand the alerts to the sinks.
  struct Release {
    SnapshotPtr snapshot;
    Undurable snapshot_undurable = Undurable::No;
    std::vector<std::pair<Answer, Undurable>> answers;  // with what to tell each
    std::vector<escalation::Alert> alerts;
    Undurable alerts_undurable = Undurable::No;
    bool empty() const { return !snapshot && answers.empty() && alerts.empty(); }
  };

  explicit CommitGate(CommitPatience patience = {}) : patience_(patience) {}

  // A snapshot showing every record up to `seq`; published once `seq` is
  // committed (at once when it is, or when everything it shows beyond the
  // commit was already shown). Snapshots come in the order they were built.
  // An answer's record is one whose commit was not yet reported. `degraded`:
  // storage cannot commit now (what goes out early says so).
  Release hold(SnapshotPtr snapshot, std::uint64_t seq, consensus::MonoTime now,
               std::vector<PendingAnswer> answers = {}, bool degraded = false);
  // An escalation message whose event is record `seq`; sent once committed.
  Release hold(escalation::Alert alert, std::uint64_t seq, consensus::MonoTime now);
  // Storage committed (or dropped) every record up to `seq`; `refused` are
  // those it dropped unwritten that someone may wait on: their answers say
  // "not durable", and what shows them goes out as Undurable::Refused.
  Release committed(std::uint64_t seq, const std::vector<std::uint64_t>& refused = {});
  // The fallback: what waited past its patience, or everything while
  // storage is degraded, goes out not durable.
  Release tick(consensus::MonoTime now, bool degraded);
  // Start-up and stop: every snapshot and answer now (durable where
  // committed, masked where not); alerts keep waiting for a commit.
  Release release_snapshots();
  // The snapshot of what start-up restored from storage: durable by
  // definition, the base undurable snapshots are masked against until a
  // committed one replaces it.
  void restored(SnapshotPtr snapshot);
  // Storage could not be read at start-up, so this run writes nothing to it
  // (a generation numbered without the stored ones could go back): from now
  // on nothing is durable, every snapshot goes out masked against the
  // restored one and every answer is told Degraded.
  void storage_lost() { lost_ = true; }

  std::size_t pending_alerts() const { return alerts_.size(); }
  std::size_t pending_snapshots() const { return snapshots_.size(); }
  std::uint64_t committed_seq() const { return committed_; }

 private:
  struct HeldSnapshot {
    std::uint64_t seq = 0;
    consensus::MonoTime since;
    SnapshotPtr snapshot;
    std::vector<PendingAnswer> answers;
  };
  struct HeldAlert {
    std::uint64_t seq = 0;
    consensus::MonoTime since;
    escalation::Alert alert;
  };

  // Lets out the held snapshots for which `ready` holds (a prefix: they are
  // in build order and `ready` is monotone along it).
  template <class Ready>
  void release_snapshots_while(Ready ready, Undurable why, Release& out);
  template <class Ready>
  void release_alerts_while(Ready ready, Undurable why, Release& out);
  // Forgets refusals nothing held or to come can ask about.
  void forget_refusals();

  CommitPatience patience_;
  std::uint64_t committed_ = 0;
  std::uint64_t shown_ = 0;  // the highest seq a published snapshot showed
  std::deque<HeldSnapshot> snapshots_;
  std::deque<HeldAlert> alerts_;
  // The newest snapshot known committed, and the newest one that went out
  // masked (with its seq): once its commit comes it goes out as it is.
  SnapshotPtr durable_;
  std::optional<HeldSnapshot> masked_;
  bool lost_ = false;
  // Refused records still of interest: shown by no published snapshot yet,
  // or the record of a held answer or alert.
  std::set<std::uint64_t> refused_;
};

}  // namespace crosscheck::snapshot
