// How long a check took: the one place probes/ reads the time to measure a
// latency (deadlines are Asio timers' real time). Why not consensus::Clock:
// it counts whole milliseconds and a loopback check takes 0.3 ms, so every
// latency would round to 0 or 1; once the injected clock has a finer
// monotonic reading, this is the one place to switch to it.
#pragma once

#include <chrono>

namespace crosscheck::probes {

class Stopwatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Stopwatch() : started_(std::chrono::steady_clock::now()) {}

  // When it started, on the clock Asio deadlines use.
  TimePoint started() const { return started_; }
  // Milliseconds since it started, with sub-millisecond precision (0.504).
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
        .count();
  }

 private:
  TimePoint started_;
};

}  // namespace crosscheck::probes
