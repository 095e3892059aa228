// daemon/log_limiter.cpp: one line per key per period, with the count of
// lines held back in between; keys are independent.
#include "daemon/log_limiter.hpp"

#include <catch2/catch.hpp>

using crosscheck::consensus::MonoTime;
using crosscheck::daemon::LogLimiter;
using namespace std::chrono_literals;

TEST_CASE("a log limiter lets one line a minute through per key and counts the rest",
          "[log_limiter]") {
  LogLimiter limiter(1min);
  const MonoTime start{};
  CHECK(limiter.admit("expired", start) == 0u);
  CHECK_FALSE(limiter.admit("expired", start + 10s));
  CHECK_FALSE(limiter.admit("expired", start + 59'999ms));
  CHECK(limiter.admit("unknown_ca", start + 20s) == 0u);  // another key: its own minute
  CHECK(limiter.admit("expired", start + 60s) == 2u);     // period reached: two held back
  CHECK_FALSE(limiter.admit("expired", start + 61s));
  CHECK(limiter.admit("expired", start + 10min) == 1u);
  CHECK(limiter.admit("expired", start + 11min) == 0u);
}
