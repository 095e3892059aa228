#include "daemon/notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

namespace {

// Status text must stay one line: systemctl shows it as is.
std::string one_line(std::string text) {
  for (auto& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

}  // namespace

std::string status_line(const snapshot::Snapshot& snapshot) {
  constexpr std::array<cs::VerdictKind, 4> k_order{
      cs::VerdictKind::Healthy, cs::VerdictKind::Disputed, cs::VerdictKind::Unhealthy,
      cs::VerdictKind::Unknown};
  std::string text = snapshot.ready ? "" : "starting: ";
  text += std::to_string(snapshot.targets.size()) +
          (snapshot.targets.size() == 1 ? " target:" : " targets:");
  for (std::size_t i = 0; i < k_order.size(); ++i) {
    int count = 0;
    for (const auto& view : snapshot.targets) {
      count += view.verdict.kind == k_order[i] ? 1 : 0;
    }
    text += (i == 0 ? " " : ", ") + std::to_string(count) + " " +
            std::string(cs::to_string(k_order[i]));
  }
  // Named only when there are some: the line systemd shows stays short.
  for (const auto kind : {cs::VerdictKind::Unreachable, cs::VerdictKind::Degraded}) {
    const auto count =
        std::count_if(snapshot.targets.begin(), snapshot.targets.end(),
                      [kind](const auto& view) { return view.verdict.kind == kind; });
    if (count > 0) {
      text += ", " + std::to_string(count) + " " + std::string(cs::to_string(kind));
    }
  }
  const auto open = snapshot.escalations.size();
  text += "; " + std::to_string(open) + (open == 1 ? " escalation open" : " escalations open");
  if (!snapshot.storage.ok) {
    text += "; storage degraded";
  }
  return text;
}

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = cs::Duration{static_cast<std::int64_t>(usec / 1000)};
  }
}

void Notifier::send(const std::string& message) {
  if (enabled_) {
    sd_notify(0, message.c_str());
  }
}

void Notifier::ready(const std::string& status) {
  last_status_ = one_line(status);
  send("READY=1\nSTATUS=" + last_status_);
}

void Notifier::status(const std::string& status) {
  auto line = one_line(status);
  if (line != last_status_) {
    last_status_ = std::move(line);
    send("STATUS=" + last_status_);
  }
}

void Notifier::reloading(cs::MonoTime now) {
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec.count()));
}

void Notifier::stopping() {
  send("STOPPING=1");
}

void Notifier::watchdog_ping(cs::MonoTime now) {
  if (!watchdog_ || (last_ping_ && now - *last_ping_ < *watchdog_ / 2)) {
    return;
  }
  last_ping_ = now;
  send("WATCHDOG=1");
}

}  // namespace crosscheck::daemon
