// The time source seam. Decisions take `now` as an argument; whoever drives
// the engine gets it from a Clock. The real clock lives in daemon/; tests and
// `replay` use ManualClock, which only moves when told to.
#pragma once

#include "consensus/types.hpp"

#include <chrono>

namespace crosscheck::consensus {

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  Clock(Clock&&) = delete;
  Clock& operator=(Clock&&) = delete;
  virtual ~Clock() = default;

  virtual MonoTime monotonic() const = 0;
  virtual WallTime system() const = 0;
  Instant now() const { return Instant{monotonic(), system()}; }
  // The monotonic reading finer than a millisecond, for measuring latency
  // (a loopback check takes 0.3 ms). By default the coarse reading.
  virtual std::chrono::nanoseconds monotonic_fine() const { return monotonic().time_since_epoch(); }
};

// A clock that stands still until advanced; both axes move together, except
// when a test steps the wall clock alone (an NTP correction, a resumed VM).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start) : now_{MonoTime{start.time_since_epoch()}, start} {}

  MonoTime monotonic() const override { return now_.mono; }
  WallTime system() const override { return now_.wall; }
  void advance(Duration by) { now_ = now_ + by; }
  void step_wall(Duration by) { now_.wall += by; }
  // Moves to `to` (never backwards: a monotonic clock cannot).
  void advance_to(WallTime to) {
    if (to > now_.wall) {
      advance(to - now_.wall);
    }
  }

 private:
  Instant now_;
};

}  // namespace crosscheck::consensus
