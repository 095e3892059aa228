// The ad-hoc maintenance windows every oracle shares (docs/gate.md
// "Maintenance windows"): the ones set over this node's API and the ones its
// peers set, learnt from their signed exports. Pure: no I/O, no clock reads;
// the caller passes `now` and applies what changed to the engine.
#pragma once

#include "consensus/types.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

// The API's longest ttl: a peer's window may not last longer.
constexpr Duration k_max_window_ttl{7LL * 24 * 3'600'000};
// How far in the future a peer's set_at may be (its clock ahead of ours).
constexpr Duration k_max_window_skew{5LL * 60'000};

// One window as the peers exchange it. Its identity is (node, set_at): a
// tombstone (cleared_at set) names exactly one window.
struct SharedWindow {
  std::string target;                  // a target or "group:NAME"
  AdHocMaintenance window;             // window.node: the node whose API set it
  std::optional<WallTime> cleared_at;  // set: ended by a DELETE on its node then
  friend bool operator==(const SharedWindow& a, const SharedWindow& b) {
    return a.target == b.target && a.window.reason == b.window.reason &&
           a.window.by == b.window.by && a.window.set_at == b.window.set_at &&
           a.window.expires_at == b.window.expires_at && a.window.node == b.window.node &&
           a.cleared_at == b.cleared_at;
  }
};

class WindowBook {
 public:
  // `self`: this node's name, which its own windows carry.
  explicit WindowBook(std::string self) : self_(std::move(self)) {}

  // A window set over this node's API (or restored from its storage): it
  // replaces this node's own window of the target, never a peer's.
  void set_local(std::string_view target, AdHocMaintenance window);

  // DELETE over this node's API: this node's own live window of the target
  // ends, kept as a tombstone exported until the window would have
  // expired, so it ends on every peer too. A peer's window is that peer's
  // to end (a hold only: it runs out at its expires_at). False when this
  // node had no live window of the target.
  bool clear_local(std::string_view target, WallTime now);

  struct Merged {
    bool changed = false;                // the target's live window changed
    std::optional<std::string> refused;  // why the entry was refused
  };
  // Takes one entry of peer `source`'s export. Refused: an entry set on
  // another node (no relays: a peer cannot speak for a third), a set_at
  // more than k_max_window_skew ahead of `now`, a window not ending after
  // it starts or lasting longer than k_max_window_ttl, a cleared_at before
  // set_at. Each node has at most one window per target: a live entry
  // replaces that node's window only when newer (by set_at); a tombstone
  // ends only the window it names (same node and set_at). Windows of
  // different nodes never replace each other (a hold is the union of them).
  // Windows already over at `now` are ignored.
  Merged merge(const SharedWindow& entry, std::string_view source, WallTime now);

  // The target's window in force at `now` (none when no node's is live):
  // of the live ones, the one that ends last (then the newest), so the hold
  // lasts as long as any node's window; window.node names the peer that set
  // it ("" here).
  std::optional<AdHocMaintenance> in_force(std::string_view target, WallTime now) const;

  // This node's own windows and tombstones not yet over at `now`, newest
  // set_at first, at most `limit` (the export's share).
  std::vector<SharedWindow> own(WallTime now, std::size_t limit) const;

  // Drops a target's entry (a reload removed the target or group).
  void forget(std::string_view target);
  // Drops entries over at `now` (nothing to hold, no tombstone needed).
  void prune(WallTime now);
  std::size_t size() const;
  const std::string& self() const { return self_; }

 private:
  using ByNode = std::map<std::string, SharedWindow, std::less<>>;
  std::string self_;
  std::map<std::string, ByNode, std::less<>> entries_;  // by target, then node
};

}  // namespace crosscheck::consensus
