// The quorum engine's vocabulary: instants, observations, votes, verdicts and
// events (DESIGN.md "Vocabulary"). Plain values only: no I/O, no clock reads,
// nothing from the rest of crosscheck.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

using Duration = std::chrono::milliseconds;
// Monotonic time drives every decision (intervals, staleness, grace, flapping).
using MonoTime = std::chrono::time_point<std::chrono::steady_clock, Duration>;
// Wall time is what users see (since, evaluated_at, valid_until).
using WallTime = std::chrono::time_point<std::chrono::system_clock, Duration>;

// One moment on both clocks.
struct Instant {
  MonoTime mono;
  WallTime wall;
  friend bool operator==(const Instant&, const Instant&) = default;
};

// Moves both clocks by d.
Instant operator+(const Instant& at, Duration d);

enum class Outcome : std::uint8_t { Up, Down, ObserverError };
// Which step of the check chain failed (None when nothing failed).
// App: a protocol check (redis, postgres, mysql) found the service up but
// not serving as asked (role, writes, replica lag, an error answer).
enum class Layer : std::uint8_t { None, Dns, Connect, Tls, Http, App };
// When DNS failed: did the last-known-good addresses still answer?
enum class LastKnownGood : std::uint8_t { NotTried, Reachable, Unreachable };
// Degraded: the check passes, but the vantage's latency window breaks the
// target's objective (TargetPolicy::latency): the service answers, slowly.
enum class Vote : std::uint8_t { Up, Down, Unknown, Degraded };
// Which failover the evidence supports (DESIGN.md "Layers"): the plane that
// down_quorum domains confirm failing. Service: the service itself fails
// (connect, tls or http; or DNS fails and the last-known-good addresses do
// not answer either). Dns: DNS fails while the service is not seen failing.
// Observer: the failing evidence is the observers' (suspect vantages, a
// blast-radius hold). None: no plane is confirmed failing (healthy, too
// little evidence, or the down domains see different planes fail).
enum class FailureScope : std::uint8_t { None, Service, Dns, Observer };
// Unreachable: the target fails while a target it depends on (depends_on)
// is confirmed unhealthy; a hold like Disputed, the parent carries the alert.
// Degraded: confirmed like Healthy and Unhealthy: fewer than down_quorum
// domains see it down, but with those seeing it slow a quorum sees it not
// serving well (DESIGN.md "Planned states"; docs/degraded.md).
enum class VerdictKind : std::uint8_t {
  Healthy,
  Unhealthy,
  Disputed,
  Unknown,
  Unreachable,
  Degraded
};

// Why a verdict is what it is, as a code (the text is in Verdict::reason).
enum class ReasonCode : std::uint8_t {
  Quorum,        // healthy or unhealthy by quorum
  Dispute,       // some domains down, not enough agree
  Insufficient,  // too few domains voting
  Flapping,      // too many changes inside flap_window
  BlastRadius,   // confirming would make too many targets unhealthy
  Override,      // an operator override is in force
  Restored,      // restored after a restart, not yet confirmed
  Dependency,    // unreachable: a parent (depends_on) is confirmed unhealthy
};

std::string_view to_string(Outcome value);
std::string_view to_string(Layer value);
std::string_view to_string(LastKnownGood value);
std::string_view to_string(Vote value);
std::string_view to_string(VerdictKind value);
std::string_view to_string(ReasonCode value);
std::string_view to_string(FailureScope value);
std::optional<Outcome> parse_outcome(std::string_view text);
std::optional<Layer> parse_layer(std::string_view text);
std::optional<LastKnownGood> parse_last_known_good(std::string_view text);
std::optional<Vote> parse_vote(std::string_view text);
std::optional<VerdictKind> parse_verdict_kind(std::string_view text);
std::optional<FailureScope> parse_failure_scope(std::string_view text);

// One probe result from one vantage.
struct Observation {
  std::string target;
  std::string vantage;  // local name, or "NODE/VANTAGE" for a peer's vantage
  Instant at;
  Outcome outcome = Outcome::Up;
  Layer layer = Layer::None;  // the failing step when outcome is Down
  LastKnownGood last_known_good = LastKnownGood::NotTried;
  double latency_ms = 0;
  std::string detail;                // "dns: NOERROR, empty answer"
  std::vector<std::string> answers;  // resolved records, for comparison
  // The earliest notAfter of the leaf certificates this check was shown
  // (https, tcp tls/starttls); nullopt when no handshake completed.
  std::optional<WallTime> cert_not_after{};
  // With dns.dnssec: the earliest expiration of the RRSIGs over the
  // target's own answer; nullopt without DO or signatures.
  std::optional<WallTime> rrsig_expires{};
  // dns.authoritative: how far apart the zone's servers' SOA serials are,
  // and whether a server's NS set differs from the delegation; each nullopt
  // unless at least two servers answered that question with AA (nothing
  // measured: never "skew 0, no drift").
  std::optional<std::int64_t> soa_serial_skew{};
  std::optional<bool> ns_drift{};
  // Layer Dns: the resolver refused the answer because DNSSEC validation
  // fails (its EDE said so, or it resolves with checking disabled).
  bool dnssec_failure{};
};

// A peer's vote for one of its vantages, settled by the peer's own
// hysteresis: the engine takes it as is instead of counting the observation
// again on every pull.
struct RemoteVote {
  std::string target;
  std::string vantage;  // "NODE/VANTAGE"
  Vote vote = Vote::Unknown;
  // The vote's last real observation on this node's clock (now - age -
  // transfer time); nullopt when the peer never observed the target.
  std::optional<Instant> observed_at;
  std::optional<Observation> last;  // for evidence: detail, layer, answers
};

// The state of one (target, vantage) as the engine counts it.
struct Evidence {
  std::string vantage;
  std::string node;  // empty for this node's own vantages
  std::string domain;
  Vote vote = Vote::Unknown;      // after staleness and suspicion
  Vote raw_vote = Vote::Unknown;  // hysteresis result before suspicion
  bool suspect = false;
  bool stale = false;
  std::optional<Instant> last_observed;
  // The newest observation, errors included. Shared with the vote tracker
  // and every snapshot that shows it: an evaluation copies the evidence of
  // every pair, twice a second (a copy of the observation was a dozen
  // allocations each).
  std::shared_ptr<const Observation> last;
  // The latency objective's quantile over its window (local vantages of a
  // target with `latency:`); nullopt without enough passing checks.
  std::optional<double> window_latency_ms;
  // The notAfter of the certificate this vantage last saw (local vantages,
  // kept through failed checks); nullopt when it never completed a handshake.
  std::optional<WallTime> cert_not_after{};
  // The RRSIG expiration this vantage last saw over the answer (local
  // vantages with dns.dnssec, kept through failed checks).
  std::optional<WallTime> rrsig_expires{};
};

// A verdict's evidence, one item per vantage: a list that every copy of
// the verdict shares (the engine's, each snapshot's, a gate's mask). Why
// shared: every pass copied the evidence of every (target, vantage) into a
// new snapshot twice a second and freed the last one's, a vector and a
// reference count per observation each time (a sixth of the daemon's
// samples at 10,000 targets x 5, bench row 4). Read like a const vector;
// edit() copies the list first when anything else shares it.
class EvidenceList {
 public:
  using const_iterator = std::vector<Evidence>::const_iterator;

  EvidenceList() = default;
  // Implicit, like the vector it stands for: `verdict.evidence = {a, b}`.
  EvidenceList(std::vector<Evidence> items);  // NOLINT(google-explicit-constructor)
  EvidenceList(std::initializer_list<Evidence> items);

  // Read as the vector every evidence function takes (tally, scope, ...).
  const std::vector<Evidence>& items() const;
  operator const std::vector<Evidence>&() const { return items(); }  // NOLINT
  const_iterator begin() const { return items().begin(); }
  const_iterator end() const { return items().end(); }
  std::size_t size() const { return items_ ? items_->size() : 0; }
  bool empty() const { return size() == 0; }
  const Evidence& operator[](std::size_t i) const { return items()[i]; }
  const Evidence& front() const { return items().front(); }
  const Evidence& back() const { return items().back(); }

  // The list to change, this verdict's own: a copy when another shares it.
  std::vector<Evidence>& edit();
  void push_back(Evidence item) { edit().push_back(std::move(item)); }
  // True when both are the same list (not merely equal items).
  bool same_list(const EvidenceList& other) const { return items_ == other.items_; }

 private:
  std::shared_ptr<std::vector<Evidence>> items_;  // null when empty
};

// The earliest expiry one field of the evidence shows (a certificate's
// notAfter, the RRSIGs' expiration), and the vantage that saw it.
struct SeenExpiry {
  WallTime at;
  std::string vantage;
};
std::optional<SeenExpiry> earliest_expiry(const std::vector<Evidence>& evidence,
                                          std::optional<WallTime> Evidence::*field);

struct VoteCounts {
  int up = 0;       // distinct domains voting up (none of their vantages down)
  int down = 0;     // distinct domains voting down (none of their vantages up)
  int unknown = 0;  // known domains with no counted vote
  int down_quorum = 0;
  int up_quorum = 0;
  int known_domains = 0;
  std::vector<std::string> up_domains;
  std::vector<std::string> down_domains;
  // Known domains whose counted vantages disagree: neither up nor down.
  std::vector<std::string> split_domains;
  int split = 0;
  // Distinct domains voting degraded: none of their vantages up, at least
  // one degraded (a domain with down and degraded vantages is degraded:
  // the claim both make is "not serving well", the weaker one).
  int degraded = 0;
  std::vector<std::string> degraded_domains{};

  // An explicit quorum larger than the domains that exist can never be met.
  bool quorum_unreachable() const {
    return down_quorum > known_domains || up_quorum > known_domains;
  }
};

// An operator's decision that wins while it lasts.
struct Override {
  VerdictKind verdict = VerdictKind::Healthy;  // Healthy or Unhealthy
  std::string reason;
  std::string by;
  WallTime set_at;
  WallTime expires_at;
};

// An ad-hoc maintenance window set over the API (PUT /v1/maintenance/T);
// it ends at expires_at (set_at + ttl) or when cleared.
struct AdHocMaintenance {
  std::string reason;
  std::string by;
  WallTime set_at;
  WallTime expires_at;
  // The peer whose API set it, learnt from its export (docs/peers.md);
  // empty when it was set over this node's own API. Initialised so that
  // the four-field form {reason, by, set_at, expires_at} stays warning-free.
  std::string node{};
};

enum class MaintenanceSource : std::uint8_t { Config, Api };
std::string_view to_string(MaintenanceSource value);

// The maintenance window a target is in (consensus/maintenance.hpp): gates
// hold and escalations opened meanwhile are silenced.
struct MaintenanceView {
  MaintenanceSource source = MaintenanceSource::Config;
  std::string window;  // the config window's name; "api" for an ad-hoc one
  WallTime since;      // this occurrence's start (an ad-hoc one: when it was set)
  WallTime until;
  std::string reason;  // ad-hoc only
  std::string by;      // ad-hoc only
  std::string node{};  // ad-hoc only: the peer that set it; empty when set here
  friend bool operator==(const MaintenanceView&, const MaintenanceView&) = default;
};

// The failover a script is about to run (`crosscheck gate --for`, REST
// `for=`): it proceeds only on a verdict whose scope supports it.
enum class GateFor : std::uint8_t {
  Service,  // move traffic away from the service (promote a replica, ...)
  Dns,      // switch the DNS plane (a secondary DNS provider, ...)
  Any,      // any confirmed unhealthy verdict (before --for existed)
};

// An acknowledgement that ends an action's cooldown (POST /v1/actions/ID/ack).
struct ActionAck {
  std::string by;
  std::string note;
  WallTime at;
  std::string node;  // the node that took it
  friend bool operator==(const ActionAck&, const ActionAck&) = default;
};

// One entry of the action ledger: a script (or a person) recorded that it
// acted on a target (`crosscheck gate --record`, POST /v1/actions). Until it
// is acknowledged or its cooldown ends, a gate on the target holds instead
// of proceeding: one outage, one failover (docs/gate.md "Cooldown").
struct RecordedAction {
  std::string id;    // "NODE-SEQ", unique across peered nodes ("oracle-a-17")
  std::string node;  // the node that recorded it
  std::string target;
  VerdictKind expect = VerdictKind::Unhealthy;  // what the script gated on
  GateFor for_ = GateFor::Service;
  std::uint64_t generation = 0;  // the verdict generation it acted on
  std::string by;                // who acted ("failover-bot", "alice")
  std::string what;              // what it did ("promote db-2")
  std::string principal;         // the API token that recorded it
  WallTime at;
  WallTime cooldown_until;  // at + the target's cooldown
  std::optional<ActionAck> ack;
  friend bool operator==(const RecordedAction&, const RecordedAction&) = default;
};

// The cooldown a target is in: the unacknowledged action that opened it.
struct CooldownView {
  std::string action_id;
  std::string by;
  std::string what;
  WallTime since;  // the action's time
  WallTime until;
  friend bool operator==(const CooldownView&, const CooldownView&) = default;
};

// A group's name as verdicts, gates, the ledger and maintenance spell it:
// "group:" + the group's name (config names never contain ':').
inline constexpr std::string_view k_group_prefix = "group:";
inline bool is_group_name(std::string_view name) {
  return name.starts_with(k_group_prefix);
}
inline std::string group_name(std::string_view group) {
  std::string name(k_group_prefix);
  name += group;
  return name;
}

// One member of a group as the group's verdict counted it.
struct GroupMemberView {
  std::string target;
  VerdictKind kind = VerdictKind::Unknown;
  bool fresh = true;
  // In a window of its own (or another group's): it counts for nothing,
  // healthy or not. The group's own window holds the group's gate instead.
  bool maintenance = false;
  // Published by an operator override, not by the domains: shown, because
  // it moves the group on an operator's word (which the invariant allows).
  bool overridden = false;
  friend bool operator==(const GroupMemberView&, const GroupMemberView&) = default;
};

// What a group verdict was computed from (docs/groups.md): its members'
// published verdicts and the threshold.
struct GroupView {
  int healthy_at_least = 1;
  std::vector<GroupMemberView> members;
  friend bool operator==(const GroupView&, const GroupView&) = default;
};

// The published judgement of one target.
struct Verdict {
  std::string target;
  VerdictKind kind = VerdictKind::Unknown;
  // The last confirmed verdict (Healthy/Unhealthy) still in force while
  // Disputed, Unknown or Unreachable; nullopt when there never was one.
  std::optional<VerdictKind> held;
  // False when the published kind is carried over rather than supported by
  // the votes counted now: a restored verdict not yet confirmed, or a
  // confirmed verdict kept through dispute_grace. A gate never acts on it.
  bool fresh = true;
  std::uint64_t generation = 0;
  WallTime since;
  // `since` on the monotonic clock: how long the verdict has held is an
  // interval (a gate's stable_for) that a wall clock step must not stretch.
  // Empty for a verdict read back from JSON.
  std::optional<MonoTime> since_mono;
  // When the last maintenance window this verdict was in ended, if it
  // ended after `since` (and a restart that found the window over since the
  // stop): a gate's stable_for counts from stable_since(), never from inside
  // a window. Stored with the verdict so a restart keeps it.
  std::optional<WallTime> stable_from;
  WallTime evaluated_at;
  WallTime valid_until;
  ReasonCode reason_code = ReasonCode::Insufficient;
  std::string reason;
  std::optional<Layer> failing_layer;
  // When the failing layer is DNS: what the last-known-good addresses did.
  LastKnownGood last_known_good = LastKnownGood::NotTried;
  FailureScope scope = FailureScope::None;
  VoteCounts votes;
  EvidenceList evidence;
  // The earliest certificate notAfter the local vantages last saw.
  std::optional<WallTime> cert_not_after{};
  // The earliest RRSIG expiration over the answer the local vantages last saw.
  std::optional<WallTime> rrsig_expires{};
  std::optional<Override> override_in_force;
  // The maintenance window in force, if any: every gate holds.
  std::optional<MaintenanceView> maintenance;
  // The cooldown after a recorded action, if any: a gate that would proceed
  // holds instead.
  std::optional<CooldownView> cooldown;
  // Set on a group's verdict (target "group:NAME"): its members as counted.
  std::optional<GroupView> group;
  bool canary = false;

  // Where a gate's stable_for starts: the later of since and stable_from.
  WallTime stable_since() const {
    return stable_from && *stable_from > since ? *stable_from : since;
  }

  // What a gate may act on: the verdict itself when confirmed, else held.
  bool confirmed() const {
    return kind == VerdictKind::Healthy || kind == VerdictKind::Unhealthy ||
           kind == VerdictKind::Degraded;
  }
};

enum class EventKind : std::uint8_t {
  VerdictChanged,  // a target's verdict changed (generation moved)
  DisputeOpened,   // escalation: domains disagree, verdict held
  DisputeResolved,
  FlappingStarted,  // escalation: held as disputed (flapping)
  FlappingStopped,
  BlastRadiusHeld,  // escalation: held as disputed (blast_radius)
  BlastRadiusReleased,
  VantageSuspect,  // escalation: a vantage's votes no longer count
  VantageCleared,
  OverrideExpired,
  ConfigRejected,   // escalation: a reloaded config is invalid; the old one runs on
  ConfigAccepted,   // a later reload succeeded (resolves ConfigRejected)
  PeerUnreachable,  // escalation: a peer has not answered for unreachable_after
  PeerReachable,    // it answers again (resolves PeerUnreachable)
  SplitOpened,      // escalation: a domain's own vantages disagree past dispute_grace
  SplitResolved,
  QuorumUnreachable,  // escalation: the configured quorum exceeds the known domains
  QuorumReachable,
  CanaryDown,  // escalation: a canary is down from every domain (the canary is broken)
  CanaryRecovered,
  PeerUnauthenticated,   // escalation: a peer's reply failed its signature check
  PeerAuthenticated,     // a later reply verified (resolves PeerUnauthenticated)
  MaintenanceStarted,    // a target entered a maintenance window (a record)
  MaintenanceEnded,      // it left it (a record)
  CertExpiring,          // escalation: a target's certificate expires within tls.min_days
  CertExpiringResolved,  // renewed and seen for an hour, or tls.min_days no longer applies
  RrsigExpiring,  // escalation: the answer's DNSSEC signatures expire within rrsig_min_remaining
  RrsigExpiringResolved,  // re-signed and seen for an hour, or the threshold no longer applies
};
std::string_view to_string(EventKind kind);

// Something the daemon turns into a log line, a row or a notification.
// Opening and resolving events of one episode share `key`, so sinks dedupe.
struct Event {
  EventKind kind = EventKind::VerdictChanged;
  std::string key;
  Instant at;
  std::string target;   // empty for vantage events
  std::string vantage;  // set for vantage events
  VerdictKind verdict = VerdictKind::Unknown;
  std::optional<VerdictKind> held;
  std::uint64_t generation = 0;
  std::string reason;
  // An escalation opened inside a maintenance window (and its resolution):
  // recorded and shown, never sent to a sink.
  bool silenced = false;

  // Escalations go to a human; verdict changes and expiries are records.
  bool is_escalation() const;
  // True for the event that closes an episode (…Resolved, …Stopped, …Cleared).
  bool is_resolution() const;
};

}  // namespace crosscheck::consensus
