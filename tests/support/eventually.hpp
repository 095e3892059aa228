// Polls a condition until it holds or a bound passes: for tests that wait on
// another thread (a server's counters, a released pointer).
#pragma once

#include <chrono>
#include <thread>

namespace crosscheck::testing {

// True once `condition()` holds, false when `limit` passed first.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace crosscheck::testing
