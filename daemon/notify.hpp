// The systemd notify protocol (sd_notify(3)) for a Type=notify unit: READY
// once the first evaluation is done, STATUS with a one-line summary,
// RELOADING/READY around a reload, STOPPING on shutdown, and WATCHDOG pings
// from the service loop itself, so a wedged loop is restarted. Without
// NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once

#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::daemon {

// "3 targets: 2 healthy, 1 disputed, 0 unhealthy, 0 unknown; 1 escalation
// open" (`ready` false: "starting: ..."). Pure.
std::string status_line(const snapshot::Snapshot& snapshot);

class Notifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
  Notifier();

  bool enabled() const { return enabled_; }
  // The watchdog period systemd expects pings within (WatchdogSec=).
  std::optional<consensus::Duration> watchdog() const { return watchdog_; }

  void ready(const std::string& status);
  // Sends STATUS= only when the text changed since the last one sent.
  void status(const std::string& status);
  // RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ignore it).
  void reloading(consensus::MonoTime now);
  void stopping();
  // WATCHDOG=1 when half the watchdog period passed since the last ping.
  void watchdog_ping(consensus::MonoTime now);

 private:
  void send(const std::string& message);

  bool enabled_ = false;
  std::optional<consensus::Duration> watchdog_;
  std::optional<consensus::MonoTime> last_ping_;
  std::string last_status_;
};

}  // namespace crosscheck::daemon
