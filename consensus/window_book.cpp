#include "consensus/window_book.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>
#include <tuple>

namespace crosscheck::consensus {
namespace {

// Which of two windows of one target is newer: set_at, then the node's
// name, so that every oracle picks the same one of two set in the same
// millisecond on two nodes.
bool newer(const SharedWindow& a, const SharedWindow& b) {
  return std::tie(a.window.set_at, a.window.node) > std::tie(b.window.set_at, b.window.node);
}

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
  entries_.insert_or_assign(std::string(target),
                            SharedWindow{std::string(target), std::move(window), std::nullopt});
}

bool WindowBook::clear_local(std::string_view target, WallTime now) {
  const auto it = entries_.find(target);
  if (it == entries_.end() || !live(it->second, now)) {
    return false;
  }
  it->second.cleared_at = now;
  return true;
}

WindowBook::Merged WindowBook::merge(const SharedWindow& entry, std::string_view source,
                                     WallTime now) {
  Merged out;
  out.refused = check(entry, source, now);
  if (out.refused || entry.window.expires_at <= now) {
    return out;
  }
  const auto it = entries_.find(entry.target);
  if (entry.cleared_at) {
    // Why by identity only: a tombstone that arrives late (the peer was
    // unreachable) must not end a window set since, here or anywhere.
    if (it != entries_.end() && !it->second.cleared_at &&
        it->second.window.node == entry.window.node &&
        it->second.window.set_at == entry.window.set_at) {
      it->second.cleared_at = entry.cleared_at;
      out.changed = true;
    }
    return out;
  }
  if (it == entries_.end()) {
    entries_.emplace(entry.target, entry);
    out.changed = true;
    return out;
  }
  // Example: node a set db at 10:00 and cleared it; the tombstone stays
  // here until 10:45, so node b's older window of 09:55, still in b's
  // export until b pulls a, is not taken again.
  if (newer(entry, it->second)) {
    it->second = entry;
    out.changed = true;
  }
  return out;
}

std::optional<AdHocMaintenance> WindowBook::in_force(std::string_view target, WallTime now) const {
  const auto it = entries_.find(target);
  if (it == entries_.end() || !live(it->second, now)) {
    return std::nullopt;
  }
  auto window = it->second.window;
  if (window.node == self_) {
    window.node.clear();
  }
  return window;
}

std::vector<SharedWindow> WindowBook::own(WallTime now, std::size_t limit) const {
  std::vector<SharedWindow> out;
  for (const auto& [target, entry] : entries_) {
    if (entry.window.node == self_ && entry.window.expires_at > now) {
      out.push_back(entry);
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
  std::erase_if(entries_, [now](const auto& item) { return item.second.window.expires_at <= now; });
}

}  // namespace crosscheck::consensus
