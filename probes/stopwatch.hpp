// How long a check took, on the injected clock (consensus::Clock, fine
// reading): the daemon's is the steady clock, a test's stands still or moves
// when told. Deadlines are another matter: Asio timers run on real time, so
// a request's deadline is a steady_clock time point (deadline_after).
#pragma once

#include "consensus/clock.hpp"

#include <chrono>

namespace crosscheck::probes {

class Stopwatch {
 public:
  explicit Stopwatch(const consensus::Clock& clock)
      : clock_(&clock), started_(clock.monotonic_fine()) {}

  void restart() { started_ = clock_->monotonic_fine(); }

  // Milliseconds since it started, with sub-millisecond precision (0.504).
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(clock_->monotonic_fine() - started_).count();
  }

 private:
  const consensus::Clock* clock_;
  std::chrono::nanoseconds started_;
};

// The Asio deadline `budget` from now.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds budget) {
  return std::chrono::steady_clock::now() + budget;
}

// How far away `deadline` is (negative once passed), in whole milliseconds.
inline std::chrono::milliseconds time_left(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::round<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
}

}  // namespace crosscheck::probes
