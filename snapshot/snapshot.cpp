// Snapshot lookups. A snapshot is immutable once published, so these are
// plain reads with no locking.
#include "snapshot/snapshot.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace crosscheck::snapshot {

const std::vector<TransitionView>& transitions_of(const History& history) {
  static const std::vector<TransitionView> k_none;
  return history ? *history : k_none;
}

History aged(const History& history, consensus::WallTime cutoff) {
  const auto& list = transitions_of(history);
  const auto old = [&](const TransitionView& transition) { return transition.at < cutoff; };
  // Newest first, but a clock stepped back can leave an older time before
  // a newer one: every transition is judged, not only the tail.
  if (list.size() <= 1 || std::none_of(list.begin() + 1, list.end(), old)) {
    return history;
  }
  auto kept = std::make_shared<std::vector<TransitionView>>();
  kept->push_back(list.front());
  std::copy_if(list.begin() + 1, list.end(), std::back_inserter(*kept),
               [&](const TransitionView& transition) { return !old(transition); });
  return kept;
}

const std::vector<TransitionView>& TargetView::transitions() const {
  return transitions_of(history);
}

TargetIndex::TargetIndex(std::vector<std::string> names) : names_(std::move(names)) {
  positions_.reserve(names_.size());
  for (std::size_t i = 0; i < names_.size(); ++i) {
    positions_.emplace(names_[i], i);  // a repeated name keeps its first place, as a scan would
  }
}

bool TargetIndex::matches(const std::vector<TargetView>& views) const {
  if (views.size() != names_.size()) {
    return false;
  }
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (views[i].verdict.target != names_[i]) {
      return false;
    }
  }
  return true;
}

std::optional<std::size_t> TargetIndex::position(std::string_view name) const {
  const auto found = positions_.find(name);
  if (found == positions_.end()) {
    return std::nullopt;
  }
  return found->second;
}

const TargetView* Snapshot::find(std::string_view target) const {
  // Why the size and the name are checked again: a copy edited by hand (a
  // test, a future caller) must neither read past its list nor answer with
  // another target's view; a view that does not fit is looked for by a
  // scan. A name the index does not know is not there: a flood of requests
  // for unknown names costs no scan each.
  if (index && index->size() == targets.size()) {
    const auto position = index->position(target);
    if (!position) {
      return nullptr;
    }
    if (targets[*position].verdict.target == target) {
      return &targets[*position];
    }
  }
  for (const auto& view : targets) {
    if (view.verdict.target == target) {
      return &view;
    }
  }
  return nullptr;
}

}  // namespace crosscheck::snapshot
