#include "consensus/action_ledger.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace crosscheck::consensus {
namespace {

using namespace std::chrono_literals;

// A peer's clock may run a little ahead; more than this is a lie or a
// broken clock, and an action "recorded" in the future would hold gates
// for longer than any cooldown says.
constexpr Duration k_future_skew = 60s;
constexpr std::size_t k_max_text = 256;
// No honest node records this many actions; an id of ours beyond it comes
// from a liar, and taking it would wrap the next sequence back to 0 (and
// repeat ids already given out).
constexpr std::uint64_t k_max_own_seq = std::uint64_t{1} << 48;
// The furthest the clock's floor (the year 6429, in milliseconds) or a
// peer's word may move the next sequence: what is recorded after it stays
// below k_max_own_seq for another 2^47 ids, so this node's own storage
// never refuses an id it gave out (and drops the cooldown it holds).
constexpr std::uint64_t k_max_start_seq = std::uint64_t{1} << 47;

// Whether an entry no longer holds anything: acknowledged, or its cooldown
// over at `now`. These go first when the ledger is full.
bool finished(const RecordedAction& entry, WallTime now) {
  return entry.ack.has_value() || entry.cooldown_until <= now;
}

bool newer(const RecordedAction& a, const RecordedAction& b) {
  return a.at != b.at ? a.at > b.at : a.id > b.id;
}

}  // namespace

std::optional<std::pair<std::string, std::uint64_t>> parse_action_id(std::string_view id) {
  const auto dash = id.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  const auto digits = id.substr(dash + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || end != digits.data() + digits.size() || seq == 0) {
    return std::nullopt;
  }
  return std::pair{std::string(id.substr(0, dash)), seq};
}

const RecordedAction& ActionLedger::record(ActionRequest request, WallTime now, Duration cooldown) {
  RecordedAction entry;
  entry.id = node_ + "-" + std::to_string(next_seq_++);
  entry.node = node_;
  entry.target = std::move(request.target);
  entry.expect = request.expect;
  entry.for_ = request.for_;
  entry.generation = request.generation;
  entry.by = std::move(request.by);
  entry.what = std::move(request.what);
  entry.principal = std::move(request.principal);
  entry.at = now;
  entry.cooldown_until = now + std::max(cooldown, Duration::zero());
  const auto id = entry.id;
  entries_.push_back(std::move(entry));
  trim(now, id);  // never the one just recorded: the caller holds on to it
  return *find(id);
}

void ActionLedger::continue_after(std::uint64_t issued, WallTime now) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto clock_floor = millis <= 0
                               ? std::uint64_t{1}
                               : std::min(static_cast<std::uint64_t>(millis), k_max_start_seq);
  // A mark at or past the limit is not one an honest run wrote; the merge
  // refuses such ids, so the next one stays below it either way.
  const auto after_issued = std::min(issued, k_max_own_seq - 2) + 1;
  next_seq_ = std::max({next_seq_, clock_floor, after_issued});
}

ActionLedger::Merged ActionLedger::merge(const RecordedAction& entry, WallTime now,
                                         Duration max_cooldown, Origin origin,
                                         std::string_view peer) {
  const auto parsed = parse_action_id(entry.id);
  const auto refuse = [](std::string why) { return Merged{false, std::move(why), false}; };
  if (!parsed) {
    return refuse("malformed id (expected NODE-SEQ)");
  }
  if (parsed->first != entry.node) {
    return refuse("id names node '" + parsed->first + "' but the entry says '" + entry.node + "'");
  }
  for (const auto* text : {&entry.target, &entry.by, &entry.what, &entry.principal}) {
    if (text->size() > k_max_text) {
      return refuse("a text field is longer than 256 bytes");
    }
  }
  if (entry.ack && (entry.ack->by.size() > k_max_text || entry.ack->note.size() > k_max_text ||
                    entry.ack->node.size() > k_max_text)) {
    return refuse("an ack field is longer than 256 bytes");
  }
  // This node's own storage is not a peer's clock: after the clock steps
  // back, what it wrote is "in the future", and refusing it would lift a
  // cooldown a script was told is in force.
  if (origin == Origin::Peer &&
      (entry.at > now + k_future_skew || (entry.ack && entry.ack->at > now + k_future_skew))) {
    return refuse("recorded in the future (more than 60s ahead of this node's clock)");
  }
  if (entry.cooldown_until < entry.at || entry.cooldown_until - entry.at > max_cooldown) {
    return refuse("cooldown is negative or longer than the longest allowed");
  }
  // From a peer the bound is lower: a liar sending "oracle-a-2^48 - 1"
  // would move our next id to 2^48, which our own storage then refuses.
  if (parsed->first == node_ &&
      parsed->second >= (origin == Origin::Peer ? k_max_start_seq : k_max_own_seq)) {
    return refuse("an id in this node's name beyond any sequence it can have recorded");
  }
  if (parsed->first == node_) {
    // Ours, coming back (storage, or a peer relaying it): later ids follow.
    next_seq_ = std::max(next_seq_, parsed->second + 1);
  }
  // Only the node that made an ack, or the node whose entry it is, vouches
  // for it; an empty `peer` vouches for nothing.
  const bool ack_vouched =
      origin == Origin::Storage ||
      (!peer.empty() && entry.ack && (entry.ack->node == peer || entry.node == peer));
  const bool ack_ignored = entry.ack.has_value() && !ack_vouched;
  for (auto& known : entries_) {
    if (known.id != entry.id) {
      continue;
    }
    if (!known.ack && entry.ack && ack_vouched) {
      known.ack = entry.ack;
      return Merged{true, std::nullopt, false};
    }
    // Already acked: nothing to ignore (the first ack won anyway).
    return Merged{false, std::nullopt, ack_ignored && !known.ack};
  }
  entries_.push_back(entry);
  if (ack_ignored) {
    entries_.back().ack.reset();
  }
  trim(now);
  // A full ledger may push the newcomer straight out again (finished, or
  // older than everything kept): then nothing changed.
  return Merged{find(entry.id) != nullptr, std::nullopt, ack_ignored};
}

AckOutcome ActionLedger::ack(std::string_view id, ActionAck ack) {
  for (auto& entry : entries_) {
    if (entry.id == id) {
      if (entry.ack) {
        return AckOutcome::AlreadyAcked;
      }
      entry.ack = std::move(ack);
      return AckOutcome::Acked;
    }
  }
  return AckOutcome::Unknown;
}

std::optional<CooldownView> ActionLedger::cooldown_of(std::string_view target, WallTime now) const {
  const RecordedAction* best = nullptr;
  for (const auto& entry : entries_) {
    if (entry.target != target || entry.ack || entry.cooldown_until <= now) {
      continue;
    }
    if (best == nullptr || entry.cooldown_until > best->cooldown_until) {
      best = &entry;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return CooldownView{best->id, best->by, best->what, best->at, best->cooldown_until};
}

const RecordedAction* ActionLedger::find(std::string_view id) const {
  const auto found = std::find_if(entries_.begin(), entries_.end(),
                                  [&](const RecordedAction& entry) { return entry.id == id; });
  return found == entries_.end() ? nullptr : &*found;
}

std::vector<RecordedAction> ActionLedger::list(std::size_t limit,
                                               std::optional<std::string_view> target) const {
  std::vector<RecordedAction> out;
  for (const auto& entry : entries_) {
    if (!target || entry.target == *target) {
      out.push_back(entry);
    }
  }
  std::sort(out.begin(), out.end(), newer);
  if (out.size() > limit) {
    out.resize(limit);
  }
  return out;
}

std::vector<RecordedAction> ActionLedger::live(WallTime now, std::size_t limit) const {
  std::vector<RecordedAction> out;
  for (const auto& entry : entries_) {
    if (entry.cooldown_until > now) {
      out.push_back(entry);
    }
  }
  std::sort(out.begin(), out.end(), newer);
  if (out.size() > limit) {
    out.resize(limit);
  }
  return out;
}

void ActionLedger::trim(WallTime now, std::string_view keep) {
  if (entries_.size() <= k_max_entries) {
    return;
  }
  // Finished entries (acked, or cooldown over) out first, oldest first; then
  // the oldest still holding. A flood of newer but finished entries cannot
  // push out a cooldown still in force (and let a second gate through).
  std::sort(entries_.begin(), entries_.end(),
            [now, keep](const RecordedAction& a, const RecordedAction& b) {
              if ((a.id == keep) != (b.id == keep)) {
                return b.id == keep;
              }
              const bool a_done = finished(a, now);
              const bool b_done = finished(b, now);
              return a_done != b_done ? a_done : newer(b, a);
            });
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(entries_.size() - k_max_entries));
}

}  // namespace crosscheck::consensus
