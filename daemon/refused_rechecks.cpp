#include "daemon/refused_rechecks.hpp"

#include "consensus/time_format.hpp"

namespace crosscheck::daemon {

void RefusedRechecks::refuse(storage::AuditEntry line, const std::string& error,
                             consensus::MonoTime now) {
  const Key key{line.principal, line.target, error};
  auto [found, opened] = open_.try_emplace(key);
  Window& window = found->second;
  if (opened) {
    window.opened = now;
    window.error = error;
    window.line = std::move(line);
  } else {
    window.line.why = std::move(line.why);  // the newest reason ("retry in 2s")
  }
  ++window.count;
}

std::vector<storage::AuditEntry> RefusedRechecks::due(consensus::MonoTime now) {
  std::vector<storage::AuditEntry> lines;
  for (auto it = open_.begin(); it != open_.end();) {
    if (now - it->second.opened < window_) {
      ++it;
      continue;
    }
    lines.push_back(close(it->second));
    it = open_.erase(it);
  }
  return lines;
}

std::vector<storage::AuditEntry> RefusedRechecks::drain() {
  std::vector<storage::AuditEntry> lines;
  for (auto& [key, window] : open_) {
    lines.push_back(close(window));
  }
  open_.clear();
  return lines;
}

storage::AuditEntry RefusedRechecks::close(Window& window) const {
  storage::AuditEntry line = std::move(window.line);
  line.outcome = storage::AuditOutcome::Refused;
  line.detail = "refused " + std::to_string(window.count) +
                (window.count == 1 ? " time" : " times") + " in " +
                consensus::format_duration(window_) + ": " + window.error;
  return line;
}

}  // namespace crosscheck::daemon
