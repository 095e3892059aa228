#include "consensus/window_book.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>
#include <tuple>

namespace crosscheck::consensus {
namespace {

bool live(const SharedWindow& entry, WallTime now) {
  return !entry.cleared_at && entry.window.expires_at > now;
}

std::optional<std::string> check(const SharedWindow& entry, std::string_view source, WallTime now) {
  const auto& window = entry.window;
  if (window.node != source) {
    return "set on node '" + window.node + "', not by the peer that sent it";
  }
  if (window.set_at > now + k_max_window_skew) {
    return "set_at " + format_rfc3339(window.set_at) + " is more than " +
           format_duration(k_max_window_skew) + " ahead of this node's clock";
  }
  if (window.expires_at <= window.set_at || window.expires_at - window.set_at > k_max_window_ttl) {
    return "expires_at must be after set_at and at most " + format_duration(k_max_window_ttl) +
           " after it";
  }
  if (entry.cleared_at && *entry.cleared_at < window.set_at) {
    return "cleared_at is before set_at";
  }
  return std::nullopt;
}

}  // namespace

void WindowBook::set_local(std::string_view target, AdHocMaintenance window) {
  window.node = self_;
  auto& by_node = entries_[std::string(target)];
  by_node.insert_or_assign(self_,
                           SharedWindow{std::string(target), std::move(window), std::nullopt});
}

bool WindowBook::clear_local(std::string_view target, WallTime now) {
  const auto it = entries_.find(target);
  if (it == entries_.end()) {
    return false;
  }
  const auto own = it->second.find(self_);
  if (own == it->second.end() || !live(own->second, now)) {
    return false;
  }
  own->second.cleared_at = now;
  return true;
}

WindowBook::Merged WindowBook::merge(const SharedWindow& entry, std::string_view source,
                                     WallTime now) {
  Merged out;
  out.refused = check(entry, source, now);
  if (out.refused || entry.window.expires_at <= now) {
    return out;
  }
  auto& by_node = entries_[entry.target];
  const auto it = by_node.find(entry.window.node);
  if (entry.cleared_at) {
    // Why by identity only: a tombstone that arrives late (the peer was
    // unreachable) must not end a window set since.
    if (it != by_node.end() && !it->second.cleared_at &&
        it->second.window.set_at == entry.window.set_at) {
      it->second.cleared_at = entry.cleared_at;
      out.changed = true;
    }
    if (by_node.empty()) {
      entries_.erase(entry.target);
    }
    return out;
  }
  if (it == by_node.end()) {
    by_node.emplace(entry.window.node, entry);
    out.changed = true;
    return out;
  }
  // Example: node b set db at 10:00 and cleared it; its tombstone stays
  // here until the window would have ended, so b's window of 10:00, still
  // in another copy of b's export, is not taken again; b's window of
  // 10:05 replaces it.
  if (entry.window.set_at > it->second.window.set_at) {
    it->second = entry;
    out.changed = true;
  }
  return out;
}

// Why the union, not the newest: a window only ever holds. Taken as "the
// newest wins", a peer's window of one second (or its DELETE) ended a
// window of ten minutes set on this node, and its gates proceeded inside
// the planned work (a hostile review).
std::optional<AdHocMaintenance> WindowBook::in_force(std::string_view target, WallTime now) const {
  const auto it = entries_.find(target);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  const SharedWindow* chosen = nullptr;
  for (const auto& [node, entry] : it->second) {
    if (live(entry, now) &&
        (chosen == nullptr ||
         std::tie(entry.window.expires_at, entry.window.set_at, entry.window.node) >
             std::tie(chosen->window.expires_at, chosen->window.set_at, chosen->window.node))) {
      chosen = &entry;
    }
  }
  if (chosen == nullptr) {
    return std::nullopt;
  }
  auto window = chosen->window;
  if (window.node == self_) {
    window.node.clear();
  }
  return window;
}

std::vector<SharedWindow> WindowBook::own(WallTime now, std::size_t limit) const {
  std::vector<SharedWindow> out;
  for (const auto& [target, by_node] : entries_) {
    const auto it = by_node.find(self_);
    if (it != by_node.end() && it->second.window.expires_at > now) {
      out.push_back(it->second);
    }
  }
  std::sort(out.begin(), out.end(), [](const SharedWindow& a, const SharedWindow& b) {
    return a.window.set_at > b.window.set_at;
  });
  if (out.size() > limit) {
    out.resize(limit);
  }
  return out;
}

void WindowBook::forget(std::string_view target) {
  if (const auto it = entries_.find(target); it != entries_.end()) {
    entries_.erase(it);
  }
}

void WindowBook::prune(WallTime now) {
  for (auto& [target, by_node] : entries_) {
    std::erase_if(by_node,
                  [now](const auto& item) { return item.second.window.expires_at <= now; });
  }
  std::erase_if(entries_, [](const auto& item) { return item.second.empty(); });
}

std::size_t WindowBook::size() const {
  std::size_t count = 0;
  for (const auto& [target, by_node] : entries_) {
    count += by_node.size();
  }
  return count;
}

}  // namespace crosscheck::consensus
