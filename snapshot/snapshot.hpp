// What the REST API serves: an immutable picture of the oracle taken after
// each evaluation and swapped in atomically. Readers hold a
// shared_ptr<const Snapshot>; they never touch the engine or its lock.
#pragma once

#include "consensus/types.hpp"
#include "consensus/window_book.hpp"
#include "escalation/queue.hpp"
#include "probes/scheduler.hpp"
#include "snapshot/probe_stats.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace crosscheck::snapshot {

// One transition of a target's verdict (GET /v1/verdicts/{target}/history).
struct TransitionView {
  std::uint64_t generation = 0;
  consensus::WallTime at;
  consensus::VerdictKind verdict = consensus::VerdictKind::Unknown;
  std::optional<consensus::VerdictKind> held;
  consensus::ReasonCode reason_code = consensus::ReasonCode::Insufficient;
  std::string reason;
};

// When vantages in different failure domains resolved the same name to
// different answer sets (one empty, one with other addresses).
struct Divergence {
  std::string vantage;
  std::string domain;
  std::vector<std::string> answers;  // sorted; empty means an empty answer
};

// A text computed at most once, by the first caller; every caller, on any
// thread, gets the same bytes.
class RenderOnce {
 public:
  template <typename Render>
  const std::string& get(Render&& render) const {
    std::call_once(once_, [&] { text_ = std::forward<Render>(render)(); });
    return text_;
  }

 private:
  mutable std::once_flag once_;
  mutable std::string text_;
};

// A target's transitions, newest first, bounded; never changed once made.
// Why shared: every snapshot shows them and they change only with the
// verdict. A copy per publication (twice a second, up to 200 per target)
// grew with every flap: the soak's memory and lateness climbed with it.
using History = std::shared_ptr<const std::vector<TransitionView>>;
// The transitions a History holds, newest first (empty when it is null).
const std::vector<TransitionView>& transitions_of(const History& history);
// `history` without the transitions older than `cutoff` but its newest
// (what the current verdict came from), whatever its age: what
// storage.history_retention leaves of it. The same pointer when nothing is
// older (the snapshots share it on).
History aged(const History& history, consensus::WallTime cutoff);

struct TargetView {
  consensus::Verdict verdict;          // with evidence
  std::vector<Divergence> divergence;  // empty when every domain agrees
  History history;                     // null when there is none yet

  // The transitions, newest first (empty when there is no history).
  const std::vector<TransitionView>& transitions() const;
  // GET /v1/verdicts/{target}'s body, rendered by the first request for it
  // and served as is to every later one on this snapshot. Why not per
  // request: building the JSON each time halved throughput. Why not at
  // publication: that rendered every target twice a second on the probing
  // thread (14% of its time at 10,000 targets), most of them never read.
  // Copies share it: build a new view rather than edit a copy.
  std::shared_ptr<const RenderOnce> body = std::make_shared<RenderOnce>();
};

struct VantageView {
  std::string name;  // "NODE/VANTAGE" for a peer's
  std::string node;  // empty for local
  std::string domain;
  bool suspect = false;
  std::string suspect_reason;
  std::optional<consensus::WallTime> last_seen;
};

struct EscalationView {
  std::int64_t id = 0;
  std::string key;
  consensus::EventKind kind = consensus::EventKind::DisputeOpened;
  std::string target;
  std::string vantage;
  std::string reason;
  consensus::WallTime opened_at;
  std::optional<consensus::WallTime> acked_at;
  std::string acked_by;
  bool silenced = false;  // opened inside a maintenance window: no sink hears of it
};

// One audit log line (GET /v1/audit): a write or reload, who asked for it,
// from where, what it asked and how it ended; newest first in Snapshot::audit.
struct AuditView {
  consensus::WallTime at;
  std::string action;     // "recheck", "ack", "override_set", "override_cleared", "reload"
  std::string principal;  // the API token's name; "" for a reload by signal
  std::string client;     // "127.0.0.1:50312"; "" for a signal
  std::string target;
  std::int64_t escalation_id = 0;
  std::string detail;
  std::string outcome;  // "done", "refused", "failed"
  std::string why;
};

struct StorageView {
  bool ok = true;
  std::string reason;  // why degraded
};

// Upper bounds in seconds of crosscheck_time_to_confirm_seconds (+Inf implicit).
inline constexpr std::array<double, 12> k_confirm_buckets{1,  2,  3,  5,  10,  15,
                                                          20, 30, 45, 60, 120, 300};
// An episode's first down observation to its first published fresh unhealthy.
using ConfirmHistogram = probes::FixedHistogram<k_confirm_buckets>;

// Upper bounds in seconds of crosscheck_evaluation_duration_seconds.
inline constexpr std::array<double, 12> k_evaluation_buckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
// One pass of the service's evaluation, by phase: the engine's judgement
// (events handled) and the publication (snapshot built, handed to the gate).
using EvaluationHistogram = probes::FixedHistogram<k_evaluation_buckets>;

// Counters for GET /metrics, copied from the prober and storage at publish
// time (plain copies: the API thread never touches either).
struct MetricsView {
  ProbeStats probes;
  std::uint64_t probes_started = 0;
  std::uint64_t probes_skipped = 0;   // a turn came while the pair still ran or waited
  std::uint64_t probes_deferred = 0;  // waited for the in-flight cap or rate budget
  int probes_in_flight = 0;
  int probes_in_flight_peak = 0;
  probes::LatenessHistogram probe_start_lateness;  // scheduled start -> actual start
  ConfirmHistogram time_to_confirm;                // first down observation -> fresh unhealthy
  std::uint64_t fast_confirm_rounds = 0;           // rounds started (fast confirmation)
  // The service thread's evaluation passes (twice a second, and after a
  // write that changes what verdicts show): judge counts this snapshot's
  // own pass, publish the passes before it.
  EvaluationHistogram evaluation_judge;    // engine evaluation and its events
  EvaluationHistogram evaluation_publish;  // snapshot built and handed to the gate
  std::uint64_t storage_errors = 0;
  std::uint64_t storage_dropped = 0;
  std::uint64_t storage_committed = 0;
  std::size_t storage_queued = 0;
  std::uint64_t storage_retention_deleted = 0;
  // Per escalation sink (webhook, alertmanager, exec), configuration order.
  std::vector<std::pair<std::string, escalation::SinkCounters>> escalation_sinks;
  // Peer replies refused for their signature, by (peer, reason): every
  // configured peer has its reasons at 0 from the start.
  std::map<std::pair<std::string, std::string>, std::uint64_t> peer_replies_refused;
  // Peer pulls that brought nothing usable, by (peer, reason: "transport",
  // "tls_unknown_ca", ...; peers::k_pull_failure_reasons), every one from 0.
  std::map<std::pair<std::string, std::string>, std::uint64_t> peer_pull_failures;
  // Peers' votes dropped for a failure domain or vantage the peer may not
  // report, and entries of its export left out as malformed, by peer.
  std::map<std::string, std::uint64_t> peer_votes_dropped;
  // Rechecks the service refused, by error ("rate_limited", "unknown_target"),
  // each from 0: the audit log has one line per caller and target per window.
  std::map<std::string, std::uint64_t> rechecks_refused;
  // Escalation events a maintenance window kept from the sinks.
  std::uint64_t escalations_silenced = 0;
  std::uint64_t actions_recorded = 0;  // the action ledger (service_ledger.cpp)
  std::uint64_t actions_refused = 0;
  // Acks in peers' entries not taken because that peer neither made them
  // nor owns the entry (a relayed third-party ack), by peer, each from 0.
  std::map<std::string, std::uint64_t> peer_action_acks_ignored;
  // Peers' maintenance windows refused (relayed, set in the future, longer
  // than the API allows), by peer, each from 0.
  std::map<std::string, std::uint64_t> peer_windows_refused;
};

// The names of a snapshot's targets in order, and each one's position: what
// Snapshot::find() looks a name up in. Why shared: the list changes only
// with the config, so the daemon builds it once and every snapshot of that
// config points to it (a lookup table per publication would cost more than
// the lookups it saves). Immutable once made.
class TargetIndex {
 public:
  explicit TargetIndex(std::vector<std::string> names);
  // Not copied or moved: the positions view into the names it owns.
  TargetIndex(const TargetIndex&) = delete;
  TargetIndex& operator=(const TargetIndex&) = delete;
  TargetIndex(TargetIndex&&) = delete;
  TargetIndex& operator=(TargetIndex&&) = delete;
  ~TargetIndex() = default;
  // Whether `views` lists exactly these names, in this order.
  bool matches(const std::vector<TargetView>& views) const;
  std::optional<std::size_t> position(std::string_view name) const;
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  // Keys view into names_, which never changes after construction.
  std::unordered_map<std::string_view, std::size_t> positions_;
};

struct Snapshot {
  std::uint64_t revision = 0;    // the engine's verdict revision (for /v1/watch)
  consensus::WallTime taken_at;  // evaluation time
  bool ready = false;            // after the first full evaluation
  std::string node;
  std::string version;
  std::vector<TargetView> targets;  // config order
  std::vector<VantageView> vantages;
  std::vector<EscalationView> escalations;  // open ones
  std::vector<AuditView> audit;             // the latest audit lines, newest first
  // The action ledger, newest first (at most 1,000): GET /v1/actions, and
  // the entries still in cooldown that the peer reply carries. Shared: it
  // changes only when an action is recorded, acked or merged.
  std::shared_ptr<const std::vector<consensus::RecordedAction>> actions;
  // This node's own ad-hoc maintenance windows, live and cleared, newest
  // first (at most peers::k_peer_max_windows): the peer reply carries those
  // not over yet. Shared: it changes only when a window is set or cleared.
  std::shared_ptr<const std::vector<consensus::SharedWindow>> windows;
  StorageView storage;
  MetricsView metrics;

  // Set by whoever builds the snapshot, to an index that matches `targets`
  // (TargetIndex::matches); a copy may change views but not their names.
  // Null means find() scans.
  std::shared_ptr<const TargetIndex> index;

  // The target or group named so; nullptr when there is none. Constant
  // time with an index: a request for the last of 10,000 targets once
  // compared 10,000 names.
  const TargetView* find(std::string_view target) const;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace crosscheck::snapshot
