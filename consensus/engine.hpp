// The quorum engine: observations, policy and `now` in; verdicts and events
// out. Pure and single-threaded: it never logs, sleeps, reads a clock, opens
// a socket or touches storage. The daemon and `replay` drive the same code.
#pragma once

#include "base/string_map.hpp"
#include "consensus/hysteresis.hpp"
#include "consensus/policy.hpp"
#include "consensus/suspicion.hpp"
#include "consensus/types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::consensus {

enum class ObserveStatus : std::uint8_t {
  Accepted,
  UnknownTarget,
  UnknownVantage,
  OutOfOrder,  // older than the newest observation already counted for the pair
  Duplicate,   // the same (target, vantage, time) was already counted: ignored
  // The same (target, vantage, time) was already counted with another
  // outcome, layer or last-known-good: two stories of one probe. Refused
  // (the first stays), and the caller says so: unlike a copy, it is an error.
  Conflict,
};
std::string_view to_string(ObserveStatus status);

// A verdict as storage kept it, restored at start-up.
struct RestoredVerdict {
  std::string target;
  VerdictKind kind = VerdictKind::Unknown;
  std::optional<VerdictKind> held;
  std::uint64_t generation = 0;
  WallTime since;
  ReasonCode reason_code = ReasonCode::Insufficient;
  std::string open_escalation_key;  // the open dispute/flapping/blast-radius episode, if any
  // That episode's kind (DisputeOpened, FlappingStarted, BlastRadiusHeld).
  // When absent, it is taken from reason_code, which only tells the kind as
  // of the last verdict change.
  std::optional<EventKind> open_escalation_kind;
  bool open_escalation_silenced = false;  // opened inside a maintenance window
  std::optional<Override> override_in_force;
  // Every escalation key this target has used, so no key is handed out twice.
  std::vector<std::string> used_keys;
  // A group's group_definition() when its row was written; "" for a target
  // or a row from before schema 7 (taken as unchanged).
  std::string definition;
  // The verdict's stable_from, and the maintenance window it was in when
  // the row was written: a restart that finds that window over (it ended,
  // or the config dropped it, while the daemon was stopped) ends it then,
  // and a restart inside it does not enter it a second time.
  std::optional<WallTime> stable_from;
  std::optional<MaintenanceView> window;
};

// An escalation that was open when the daemon stopped, restored so that the
// same episode continues (same key, no resolved/firing pair).
struct RestoredEpisode {
  EventKind kind = EventKind::DisputeOpened;
  std::string key;
  std::string target;   // for target episodes
  std::string vantage;  // for VantageSuspect
  std::string reason;
  bool silenced = false;  // opened inside a maintenance window
};

// The event that closes an episode opened by `opened` (DisputeOpened ->
// DisputeResolved, FlappingStarted -> FlappingStopped, ...).
EventKind resolution_of(EventKind opened);

// Whether a restored verdict was held as flapping when it was stored.
bool was_flapping(const RestoredVerdict& restored);

// What Engine::reconfigure() did (for the log and the escalation list).
struct Reconfiguration {
  std::vector<std::string> targets_added;
  std::vector<std::string> targets_removed;
  std::vector<std::string> targets_reset;  // kept, but judged on fresh evidence only
  std::vector<std::string> vantages_added;
  std::vector<std::string> vantages_removed;
  // Resolutions of the open episodes whose target or vantage went away.
  std::vector<Event> events;
  std::uint64_t revision = 0;

  bool empty() const {
    return targets_added.empty() && targets_removed.empty() && targets_reset.empty() &&
           vantages_added.empty() && vantages_removed.empty();
  }
};

// What a reload invalidates: targets whose check changed and vantages whose
// resolver or source changed. They keep their place (and the targets their
// verdict and generation) but start over on fresh observations.
struct Resets {
  std::vector<std::string> targets;
  std::vector<std::string> vantages;
};

struct Evaluation {
  std::vector<Event> events;  // in order: vantages, then targets in policy order
  std::uint64_t revision = 0;
};

class Engine {
 public:
  explicit Engine(Policy policy);

  // Records one observation; rejects unknown targets and vantages,
  // observations older than the newest one already seen for that pair, and
  // duplicates: delivery is at least once (retried pulls, replay files
  // assembled from logs), so the same (target, vantage, time) counts once;
  // a second one that tells another result is a Conflict.
  ObserveStatus observe(const Observation& observation);

  // Sets a registered remote vantage's vote for a target (a peer pull). The
  // newest pull wins; it goes unknown once observed_at is older than
  // stale_after, so a silent peer's vantages turn unknown, never down.
  // Rejects unknown targets, and vantages that are local or unregistered.
  ObserveStatus observe_remote(const RemoteVote& vote);

  // Registers a peer's vantage ("NODE/VANTAGE") and the failure domain it
  // reports, counted as counted_peer_domain() says: a peer without declared
  // domains (Policy::peer_domains) counts as one domain, its own name; one
  // with them counts in those only, a declared domain equal to a local one
  // merging with it (one vote). So one node never carries more than its
  // declared domains (or one) into the quorum. Re-registering updates the
  // domain. Returns false for a malformed name, for a node that is not a
  // configured peer (a pull that outlived the reload removing its peer), and
  // for a domain the peer did not declare (the vote is to be dropped; a vote
  // registered earlier under a declared domain ages out).
  // A peer registers at most k_max_vantages_per_peer vantages; a new name
  // past it is refused (false).
  bool add_remote_vantage(const VantagePolicy& reported);
  static constexpr std::size_t k_max_vantages_per_peer = 64;

  // Operator override; returns false for an unknown target or a verdict that
  // is not Healthy or Unhealthy. Takes effect at the next evaluate(), which
  // turns its remaining time (expires_at - now.wall) into a monotonic
  // deadline: the override lasts its ttl whatever the wall clock does.
  bool set_override(std::string_view target, const Override& value);
  bool clear_override(std::string_view target);

  // Ad-hoc maintenance window (PUT /v1/maintenance/T); false for an unknown
  // target or expires_at not after set_at. Like an override, its remaining
  // time becomes a monotonic deadline at the next evaluate(). While a target
  // is in a window (this one, or a recurring one of Policy::maintenance) its
  // verdict carries `maintenance`, every gate holds, and the escalations it
  // opens are silenced (Event::silenced); at the window's end those still
  // open are resolved (silenced too), and the rules open them again, sent
  // this time, if the trouble outlived the window.
  bool set_maintenance(std::string_view target, const AdHocMaintenance& value);
  bool clear_maintenance(std::string_view target);
  // The ad-hoc window in force for a target (nullptr when none).
  const AdHocMaintenance* maintenance_set(std::string_view target) const;

  // The cooldown after an action recorded on `target` (the service's ledger
  // says which unacknowledged action holds it; nullopt ends it, as an ack
  // does). While it lasts the verdict carries it and a gate that would
  // proceed holds; it ends by itself at `until` (on the monotonic clock from
  // the first evaluate() that sees it). False for an unknown target.
  bool set_cooldown(std::string_view target, std::optional<CooldownView> value);

  // Seeds a target's published verdict and generation before the first
  // evaluate(). It is served with fresh = false until evidence confirms it,
  // for at most the target's restore_hold; then the current votes decide.
  // A target storage knows but the config no longer names returns false and
  // is remembered as retired (see reconfigure()).
  bool restore(const RestoredVerdict& restored);
  // Continues an escalation episode that was open at the stop: split,
  // quorum_unreachable and canary_down episodes of a target, and suspect
  // vantages (which stay suspect through the restore hold). Dispute-type
  // episodes come with their RestoredVerdict. Before the first evaluate().
  bool restore_episode(const RestoredEpisode& episode);

  // Replaces the policy (a config reload), matching targets and vantages by
  // name. Kept targets keep their votes, verdict, generation, override and
  // open episode; new ones start unknown; removed ones are dropped and their
  // open episodes resolved (the returned events). A kept peer vantage counts
  // as counted_peer_domain() says under the new policy: in the peer's own
  // domain when the peer no longer declares any, dropped (until its next
  // pull registers what it may still say) when its domain is no longer declared. A generation is a
  // fencing token and never goes back for a name: a removed target's end is a VerdictChanged event
  // (unknown, one generation on; there is no verdict behind it any more, so
  // the caller persists it from the event), and a target removed earlier (by
  // a reload, or before a restart) comes back unknown at that generation.
  // What `resets` names loses its votes (a reset target keeps verdict and
  // generation): old evidence says nothing about a new check or a new
  // resolver. Local vantages come
  // from `policy`; peers' vantages stay while their node is still a peer.
  // Takes effect at the next evaluate().
  Reconfiguration reconfigure(Policy policy, const Resets& resets, const Instant& now);

  // Judges every target at `now` and returns what changed.
  Evaluation evaluate(const Instant& now);

  const std::vector<Verdict>& verdicts() const { return published_; }
  // The groups' verdicts (target "group:NAME"), in config order, judged
  // after the targets at every evaluate() (engine_groups.cpp).
  const std::vector<Verdict>& groups() const { return group_published_; }
  // A target's verdict, or a group's for "group:NAME".
  const Verdict* verdict(std::string_view target) const;
  // The groups (indices into groups()) a target belongs to.
  const std::vector<std::size_t>& groups_of(std::string_view target) const;
  // Increments whenever any published verdict changes (for watchers).
  std::uint64_t revision() const { return revision_; }
  // Suspect vantages and why, as of the last evaluate().
  const std::map<std::string, std::string>& suspects() const { return suspects_; }
  const Policy& policy() const { return policy_; }
  // Every failure domain currently known (local, peers' reported, and one
  // placeholder per peer that has reported nothing yet).
  std::vector<std::string> known_domains() const;
  const std::vector<VantagePolicy>& vantages() const { return vantages_; }

 private:
  struct TargetState {
    std::map<std::string, VoteTracker, std::less<>> trackers;  // by vantage
    // What the rules chose before the guards, for counting flapping only:
    // never published as such (grace keeps the *published* verdict).
    VerdictKind judged = VerdictKind::Unknown;
    std::optional<MonoTime> disagreement_since;
    std::optional<MonoTime> split_since;
    // A split episode restored at start-up, not yet seen again: it stays
    // open through the restore hold (the liar's fall outlasts the honest
    // vantages' rise).
    bool split_restored = false;
    std::optional<MonoTime> canary_broken_since;
    // Open cert_expiring or rrsig_expiring: since when every local vantage
    // has shown what expires valid past its threshold.
    std::map<EventKind, MonoTime> renewed_since;
    std::optional<VerdictKind> last_confirmed;
    std::vector<MonoTime> changes;  // judged changes inside flap_window
    std::optional<Override> override_in_force;
    // When the override ends on the monotonic clock, fixed at the first
    // evaluate() after it was set or restored: a wall clock step neither
    // ends it early nor stretches it.
    std::optional<MonoTime> override_deadline;
    std::optional<AdHocMaintenance> maintenance_set;
    std::optional<MonoTime> maintenance_deadline;
    std::optional<CooldownView> cooldown;
    std::optional<MonoTime> cooldown_deadline;
    // The window the target is in as of the last evaluate(), and the group
    // it came from when it is a group's: that group still counts the member
    // (its own window holds its own gate), every other group does not.
    std::optional<MaintenanceView> maintenance;
    std::optional<std::size_t> window_group;
    // Open episodes opened inside a window: their resolution is silenced too.
    std::set<std::string, std::less<>> silenced_keys;
    bool restored_pending = false;  // restored, not yet confirmed
    // Restored while held as flapping: the first judgement starts the flap
    // window over full, so a restart (or a crash loop) never lifts the hold.
    bool restored_flapping = false;
    std::optional<MonoTime> restored_at;
    std::string episode_key;  // open dispute/flapping/blast-radius episode ("" when none)
    EventKind episode_kind = EventKind::DisputeOpened;
    // Open split, quorum_unreachable, canary_down, cert_expiring and
    // rrsig_expiring episodes: kind -> key.
    std::map<EventKind, std::string> side_episodes;
    std::vector<std::string> used_keys;  // every key this target opened
  };

  // What a target would publish. `supported`: the votes counted now back
  // its kind (always true for disputed/unknown, which hold; false for a
  // confirmed verdict carried over by grace or a restore).
  struct Candidate {
    VerdictKind kind = VerdictKind::Unknown;
    ReasonCode code = ReasonCode::Insufficient;
    std::string reason;
    bool supported = true;
  };

  struct SuspectState {
    std::string reason;
    std::string key;
    bool restored = false;  // restored at start-up, not yet re-established
  };

  // The evidence of target `index` at `now`: the published list itself when
  // every vantage still says what it says, else a new one. Its raw votes are
  // now's; a kept list's suspect marks are the last pass's until
  // apply_suspects(), a new list has none.
  EvidenceList raw_evidence(std::size_t index, MonoTime now) const;
  const VoteTracker* tracker_of(std::size_t index, const std::string& vantage) const;
  // Marks the suspect vantages' votes unknown and clears the marks of
  // vantages no longer suspect.
  void apply_suspects(EvidenceList& evidence) const;
  // Updates the suspect vantages; returns what the rules found about
  // canaries (broken ones, and those seen up).
  SuspicionFindings update_suspects(const std::vector<EvidenceList>& evidence, const Instant& now,
                                    Evaluation& out);
  Candidate judge(std::size_t index, const VoteCounts& counts,
                  const std::vector<Evidence>& evidence, const Instant& now);
  bool down_only_from_pending_suspects(const std::vector<Evidence>& evidence) const;
  // Dependencies and the blast-radius guard, parents before children
  // (engine_dependencies.cpp): a child failing while a parent is published
  // unhealthy and fresh becomes unreachable and spends no budget; a parent
  // the guard holds is not confirmed, and its child is judged on its own.
  void apply_dependencies_and_blast_radius(std::vector<Candidate>& candidates,
                                           const std::vector<VoteCounts>& counts) const;
  struct DependencyPass {
    std::vector<Candidate> candidates;
    // Targets staying unhealthy that the pass assumed unreachable, but whose
    // parent the guard held: counted late, so the pass is redone.
    std::vector<std::size_t> late;
  };
  DependencyPass dependency_pass(const std::vector<Candidate>& input,
                                 const std::vector<VoteCounts>& counts,
                                 const std::vector<std::vector<std::size_t>>& parents,
                                 const std::vector<std::size_t>& order,
                                 const std::vector<bool>& assumed, bool guard) const;
  // Each target's parents by index (unknown names and itself left out).
  std::vector<std::vector<std::size_t>> dependency_parents() const;
  // Parents before children, else config order; targets in a cycle last,
  // their parents cleared.
  // Higher priority first among targets ready at once.
  static std::vector<std::size_t> dependency_order(std::vector<std::vector<std::size_t>>& parents,
                                                   const std::vector<int>& priorities);
  // The first group of `target` whose own guard would be exceeded by one
  // more unhealthy member (counts in `group_unhealthy`), if any.
  std::optional<std::size_t> group_guard_holding(std::size_t target,
                                                 const std::vector<int>& group_unhealthy) const;
  Candidate apply_override_and_restore(std::size_t index, Candidate candidate, const Instant& now,
                                       Evaluation& out);
  void publish(std::size_t index, const Candidate& candidate, VoteCounts counts,
               EvidenceList evidence, const Instant& now, Evaluation& out);
  // The VerdictChanged event that announces `verdict` (published, or the
  // end of a removed target).
  static Event change_event(const Verdict& verdict, const Instant& now);
  // An event of `kind` about `verdict` at `now` (target, verdict, held,
  // generation, reason); the caller sets the key.
  static Event verdict_event(EventKind kind, const Verdict& verdict, const Instant& now);
  void update_episode(std::size_t index, const Instant& now, Evaluation& out);
  // Works out the window a target is in now, announcing entering and leaving.
  void update_maintenance(std::size_t index, const Instant& now, Evaluation& out);
  void update_cooldown(std::size_t index, const Instant& now);
  // Marks an episode event silenced when it opens inside a window, or
  // resolves one that did.
  static void silence(TargetState& state, Event& event);
  // At a window's end: resolves the target's silenced open episodes.
  void close_silenced(std::size_t index, const Instant& now, Evaluation& out);
  void update_side_episodes(std::size_t index, const SuspicionFindings& canaries,
                            const Instant& now, Evaluation& out);
  // The escalation episode a reason code belongs to (dispute, flapping, blast radius).
  static EventKind episode_kind_of(ReasonCode code);
  std::string new_key(std::size_t index, EventKind kind);
  Duration longest_restore_hold() const;
  std::optional<std::size_t> target_index(std::string_view name) const;
  // The name index, and the dependency parents and order built from it.
  void index_targets();
  void retire_vantages(const std::vector<std::string>& names, const Instant& now,
                       Reconfiguration& out);
  const VantagePolicy* find_vantage(std::string_view name) const;
  void index_vantages();
  // Appends `item` unless present; false when it was.
  static bool push_unique(std::vector<std::string>& list, const std::string& item);

  // A group's state between evaluations (engine_groups.cpp).
  struct GroupState {
    VerdictKind judged = VerdictKind::Unknown;
    std::vector<MonoTime> changes;  // judged changes inside the group's flap_window
    std::optional<AdHocMaintenance> maintenance_set;
    std::optional<MonoTime> maintenance_deadline;
    std::optional<MaintenanceView> maintenance;
    std::optional<CooldownView> cooldown;
    std::optional<MonoTime> cooldown_deadline;
    std::optional<VerdictKind> last_confirmed;  // what a hold keeps in force
    // The open flapping episode ("" when none), whether it opened inside a
    // window, and every key the group opened (sinks dedupe by key).
    std::string episode_key;
    bool episode_silenced = false;
    std::vector<std::string> used_keys;
    // Restored under another definition: the first evaluation is a change
    // (one generation on, since then) whatever it finds.
    bool redefined = false;
    bool restored_flapping = false;  // as TargetState's
  };
  // Judges every group from its members' published verdicts.
  void evaluate_groups(const Instant& now, Evaluation& out);
  void publish_group(std::size_t index, const Instant& now, Evaluation& out);
  // A group's own window (ad-hoc, else a recurring one naming it), before
  // the targets: its members inherit it.
  void update_group_window(std::size_t index, const Instant& now, Evaluation& out);
  // Opens and closes a group's flapping episode (the members' own disputes
  // page for themselves; a group that flaps while no member does would not).
  void update_group_episode(std::size_t index, const Instant& now, Evaluation& out);
  // The window a target is in through one of its groups, if any, and that group.
  std::optional<std::pair<MaintenanceView, std::size_t>> inherited_window(std::size_t target) const;
  std::optional<std::size_t> group_index(std::string_view name) const;  // "group:NAME"
  void index_groups();
  // Moves group state to a reloaded policy (engine_groups.cpp).
  void reconfigure_groups(const Policy& next, const Instant& now, Reconfiguration& out);
  bool restore_group(std::size_t index, const RestoredVerdict& restored);

  Policy policy_;
  std::vector<VantagePolicy> vantages_;              // local, then remote as registered
  std::vector<TargetState> states_;                  // parallel to policy_.targets
  std::vector<Verdict> published_;                   // parallel to policy_.targets
  StringMap<std::size_t> target_indices_;            // name -> index in policy_
  StringMap<std::size_t> vantage_indices_;           // name -> index in vantages_
  std::vector<GroupState> group_states_;             // parallel to policy_.groups
  std::vector<Verdict> group_published_;             // parallel to policy_.groups
  StringMap<std::size_t> group_indices_;             // "group:NAME" -> index
  std::vector<std::vector<std::size_t>> groups_of_;  // per target: its groups
  // Built by index_targets() from policy_ (they change only with it), not
  // on every evaluation: 10,000 vectors a pass were allocated and freed.
  std::vector<std::vector<std::size_t>> parents_;          // dependency_parents(), cycles cleared
  std::vector<std::size_t> dependency_order_;              // dependency_order() of parents_
  bool any_parents_ = false;                               // some target has a parent
  std::map<std::string, SuspectState> suspect_state_;      // suspect vantages
  std::map<std::string, MonoTime> suspect_pending_since_;  // meeting a rule, within grace
  // Every suspect key handed out (or restored): keys carry the wall time,
  // which a clock step can bring back.
  std::set<std::string, std::less<>> suspect_keys_;
  // The last generation of every target removed from the config (or known
  // to storage but not configured at start-up): a re-added one continues it.
  struct Retired {
    std::uint64_t generation = 0;  // where a re-added target continues, unknown
    bool announce = false;         // storage does not hold that yet: announce it
    // Keys it used at `generation`: a row storage kept may be a live
    // "unknown" (removed while stopped), whose episodes carry that
    // generation; the re-added target must not hand them out again.
    std::vector<std::string> used_keys;
  };
  std::map<std::string, Retired, std::less<>> retired_;
  std::map<std::string, std::string> suspects_;  // name -> reason (the view)
  std::optional<MonoTime> first_evaluation_;
  std::uint64_t revision_ = 0;
  bool evaluated_once_ = false;
};

}  // namespace crosscheck::consensus
