// Snapshot lookups. A snapshot is immutable once published, so these are
// plain reads with no locking.
#include "snapshot/snapshot.hpp"

namespace crosscheck::snapshot {

const std::vector<TransitionView>& transitions_of(const History& history) {
  static const std::vector<TransitionView> k_none;
  return history ? *history : k_none;
}

const std::vector<TransitionView>& TargetView::transitions() const {
  return transitions_of(history);
}

const TargetView* Snapshot::find(std::string_view target) const {
  // Linear: targets are a config-sized list (tens), kept in config order.
  for (const auto& view : targets) {
    if (view.verdict.target == target) {
      return &view;
    }
  }
  return nullptr;
}

}  // namespace crosscheck::snapshot
