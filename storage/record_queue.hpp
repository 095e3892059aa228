// The bounded hand-off between callers and the writer thread: what a write
// call asks for, in order, with a sequence number. Never grows past its
// capacity and never blocks; not thread-safe (the Store locks around it).
#pragma once

#include "consensus/types.hpp"
#include "storage/types.hpp"

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace crosscheck::storage {

// A published verdict as storage keeps it (without the evidence list).
struct VerdictRecord {
  std::string target;
  consensus::VerdictKind kind = consensus::VerdictKind::Unknown;
  std::optional<consensus::VerdictKind> held;
  std::uint64_t generation = 0;
  consensus::WallTime since;
  consensus::WallTime evaluated_at;
  consensus::WallTime valid_until;
  consensus::ReasonCode reason_code = consensus::ReasonCode::Insufficient;
  std::string reason;
  bool fresh = true;
  bool changed = false;  // also append a transition to the verdict log
  consensus::VoteCounts votes;
  std::string definition;  // a group's consensus::group_definition(); "" for a target
  std::optional<consensus::WallTime> stable_from;
  std::optional<consensus::MaintenanceView> maintenance;  // the window in force
};

struct Acknowledgement {
  std::int64_t escalation_id = 0;
  std::string by;
  consensus::WallTime at;
};

// What an operator sets per target until it ends or is cleared: an
// override (consensus::Override) or an ad-hoc maintenance window
// (consensus::AdHocMaintenance). Setting replaces the target's previous one.
template <typename Value>
struct TargetSet {
  std::string target;
  Value value;
};

template <typename Value>
struct TargetCleared {
  std::string target;
};

using OverrideSet = TargetSet<consensus::Override>;
using OverrideCleared = TargetCleared<consensus::Override>;
using MaintenanceSet = TargetSet<consensus::AdHocMaintenance>;
using MaintenanceCleared = TargetCleared<consensus::AdHocMaintenance>;

// An escalation opening or resolution with the id the daemon gave it (0:
// let SQLite choose), so the API's ids survive restarts.
struct EscalationRecordEvent {
  consensus::Event event;
  std::int64_t id = 0;
};

// An entry of the action ledger, own or a peer's: inserted, or merged into
// the stored one with the same id (never losing its ack).
struct ActionRecord {
  consensus::RecordedAction action;
  // Recorded by this node just now: its sequence also raises the node's
  // high-water mark (table `action_sequences`), which outlives the row.
  bool issued_here = false;
};

// The acknowledgement of ledger entry `id`; the first one stays.
struct ActionAckRecord {
  std::string id;
  consensus::ActionAck ack;
};

using Record = std::variant<consensus::Observation, VerdictRecord, EscalationRecordEvent,
                            Acknowledgement, OverrideSet, OverrideCleared, MaintenanceSet,
                            MaintenanceCleared, AuditEntry, ActionRecord, ActionAckRecord>;

struct QueuedRecord {
  std::uint64_t seq = 0;  // 1, 2, 3... in the order the calls were made
  Record record;
};

inline constexpr std::uint64_t k_no_seq = std::numeric_limits<std::uint64_t>::max();

// Two lanes, observations and everything else, so that a flood of
// observations pushes out older observations, not a verdict or escalation.
class RecordQueue {
 public:
  explicit RecordQueue(std::size_t capacity);

  // Appends `record`; when full, first drops the oldest observation (or,
  // with none queued, the oldest other record). Returns the one it dropped.
  std::optional<QueuedRecord> push(Record record);
  // Moves up to `limit` of the oldest records, in call order, to `out`.
  void take(std::size_t limit, std::vector<QueuedRecord>& out);
  // Empties the queue; returns how many records it held.
  std::size_t clear();

  std::size_t size() const { return observations_.size() + others_.size(); }
  bool empty() const { return size() == 0; }
  // The seq of the newest record ever pushed (0 before the first).
  std::uint64_t last_seq() const { return last_seq_; }
  // The seq of the oldest record still queued, k_no_seq when empty.
  std::uint64_t oldest_seq() const;

 private:
  std::size_t capacity_;
  std::uint64_t last_seq_ = 0;
  std::deque<QueuedRecord> observations_;
  std::deque<QueuedRecord> others_;
};

}  // namespace crosscheck::storage
