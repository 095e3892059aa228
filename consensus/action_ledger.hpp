// The action ledger (docs/gate.md "Cooldown"): what scripts recorded they
// did, here and on peered nodes, and which cooldown each target is in.
// Pure: the caller passes the time and does the I/O (storage, peers).
#pragma once

#include "consensus/types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

// What a caller says when it records an action (the ledger adds id, node,
// time and cooldown).
struct ActionRequest {
  std::string target;
  VerdictKind expect = VerdictKind::Unhealthy;
  GateFor for_ = GateFor::Service;
  std::uint64_t generation = 0;
  std::string by;
  std::string what;
  std::string principal;
};

enum class AckOutcome : std::uint8_t { Acked, Unknown, AlreadyAcked };

// Why a peer's entry was refused (merge()), for the log and a counter.
struct MergeRefusal {
  std::string id;
  std::string why;
};

class ActionLedger {
 public:
  // At most this many entries are kept (finished ones go first, then the
  // oldest); and no more than
  // this many in one peer reply are looked at.
  static constexpr std::size_t k_max_entries = 10'000;
  static constexpr std::size_t k_max_merge = 1'000;

  explicit ActionLedger(std::string node) : node_(std::move(node)) {}

  // Records an action taken now on this node: id "NODE-SEQ", cooldown until
  // now + `cooldown` (0 records it without a cooldown).
  const RecordedAction& record(ActionRequest request, WallTime now, Duration cooldown);

  // Takes an entry from storage or from a peer: a new id is added, a known
  // one only gains an ack (the first ack wins; nothing un-acks). Returns
  // true when anything changed, or the reason it was refused: a malformed
  // id, a node that is not the id's, times in the future (more than a
  // minute past `now`), a cooldown longer than `max_cooldown`, a text
  // field over 256 bytes, or an id in this node's name with a sequence no
  // honest run reaches (2^48 and up from storage, 2^47 and up from a peer:
  // it would move the next id past what storage takes back, or wrap it).
  // From Origin::Storage (this node's own file) times are not checked
  // against `now`: the clock may have stepped back since they were written.
  //
  // A peer's ack is taken only from the node that made it (ack.node is
  // `peer`) or from the entry's own node (entry.node is `peer`); a third
  // node's ack relayed by `peer` is dropped (`ack_ignored`) and the rest of
  // the entry merged. Why: an ack lifts a cooldown, and a lying peer could
  // otherwise end any node's cooldown and let a second failover through.
  // Example (A, B, C peered): C acks A's entry; A and B take it from C
  // (made there), B also from A (A's entry); from B, A and C ignore it.
  struct Merged {
    bool changed = false;
    std::optional<std::string> refused;
    bool ack_ignored = false;
  };
  enum class Origin : std::uint8_t { Peer, Storage };
  Merged merge(const RecordedAction& entry, WallTime now, Duration max_cooldown,
               Origin origin = Origin::Peer, std::string_view peer = {});

  // Ids recorded from now on follow `issued` (the highest sequence this node
  // is known to have given out: storage's high-water mark) and the clock:
  // at least `now` in milliseconds since the epoch (capped at 2^47), so a
  // node whose storage was lost or reset repeats no id an earlier run gave
  // out (it would have had to record more than one action per millisecond
  // since). Never moves the sequence back.
  void continue_after(std::uint64_t issued, WallTime now);
  // The sequence the next recorded id gets.
  std::uint64_t next_seq() const { return next_seq_; }

  AckOutcome ack(std::string_view id, ActionAck ack);

  // The unacknowledged action with the latest cooldown_until after `now`
  // on `target`, as the engine shows it; nullopt when none.
  std::optional<CooldownView> cooldown_of(std::string_view target, WallTime now) const;

  const RecordedAction* find(std::string_view id) const;
  // Newest first (by time, then id), at most `limit`, optionally one target's.
  std::vector<RecordedAction> list(std::size_t limit,
                                   std::optional<std::string_view> target = std::nullopt) const;
  // What a peer needs to enforce the ledger: every entry still in cooldown,
  // acked or not (an ack must reach the peers too), newest first, bounded.
  std::vector<RecordedAction> live(WallTime now, std::size_t limit) const;
  std::size_t size() const { return entries_.size(); }

 private:
  // Down to k_max_entries: finished entries first, then the oldest; never
  // the entry `keep`.
  void trim(WallTime now, std::string_view keep = {});

  std::string node_;
  std::uint64_t next_seq_ = 1;
  std::vector<RecordedAction> entries_;  // in no particular order
};

// "NODE-SEQ" split at the last '-': nullopt when SEQ is not a positive
// integer or NODE is empty.
std::optional<std::pair<std::string, std::uint64_t>> parse_action_id(std::string_view id);

}  // namespace crosscheck::consensus
