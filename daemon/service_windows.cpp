// Service's share of the ad-hoc maintenance windows every oracle holds
// (docs/gate.md "Maintenance windows"): the book of this node's windows and
// its peers', kept in step with the engine, and a peer's merged at each
// pull. Windows only ever hold gates: nothing here can make one proceed.
#include "consensus/time_format.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "peers/window_codec.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

void Service::apply_window(const std::string& target) {
  if (const auto window = windows_.in_force(target, clock_.system())) {
    engine_.set_maintenance(target, *window);
  } else {
    engine_.clear_maintenance(target);
  }
  windows_view_.reset();  // the next snapshot (and peer reply) lists them anew
}

void Service::set_window_here(const std::string& target, const cs::AdHocMaintenance& value) {
  windows_.set_local(target, value);
  // The engine holds the window that ends last, ours or a peer's: a
  // shorter one set here never ends a longer one set elsewhere.
  apply_window(target);
}

bool Service::clear_window_here(const std::string& target) {
  const bool had = windows_.clear_local(target, clock_.system());
  if (had) {
    apply_window(target);  // a peer's window may still hold; the tombstone goes out
  }
  return had;
}

void Service::forget_window(const std::string& target) {
  windows_.forget(target);
  windows_view_.reset();
}

std::size_t Service::merge_windows(std::string_view source,
                                   const std::vector<cs::SharedWindow>& entries) {
  const auto now = clock_.system();
  windows_.prune(now);
  std::size_t changed = 0;
  for (const auto& entry : entries) {
    if (!config_->names(entry.target)) {
      continue;  // a target this node does not judge: nothing to hold
    }
    const auto merged = windows_.merge(entry, source, now);
    if (merged.refused) {
      ++peer_windows_refused_[std::string(source)];
      // One line a minute per peer: a lying peer cannot flood the journal.
      if (const auto held =
              action_log_limiter_.admit(std::string(source) + " window", clock_.monotonic())) {
        log_->warn("maintenance window on {} from {} refused: {}{}", entry.target, source,
                   *merged.refused,
                   *held > 0 ? " (" + std::to_string(*held) + " more refused since)" : "");
      }
      continue;
    }
    if (!merged.changed) {
      continue;
    }
    ++changed;
    apply_window(entry.target);
    if (entry.cleared_at) {
      log_->info("maintenance window on {} set by {} on node {} at {}: cleared there at {}",
                 entry.target, quote_field(entry.window.by), source,
                 cs::format_rfc3339(entry.window.set_at), cs::format_rfc3339(*entry.cleared_at));
      continue;
    }
    // Ours (and its row) stays: a peer's window adds to the hold, never
    // replaces it (WindowBook::in_force).
    log_->warn("maintenance target={} by={} node={} until={} reason={}", entry.target,
               quote_field(entry.window.by), source, cs::format_rfc3339(entry.window.expires_at),
               quote_field(entry.window.reason));
  }
  return changed;
}

std::shared_ptr<const std::vector<cs::SharedWindow>> Service::windows_view() {
  if (!windows_view_) {
    windows_view_ = std::make_shared<const std::vector<cs::SharedWindow>>(
        windows_.own(clock_.system(), peers::k_peer_max_windows));
  }
  return windows_view_;
}

}  // namespace crosscheck::daemon
