// When each (target, vantage) pair probes: a random phase per pair, a small
// jitter per turn, at most one probe in flight per pair (a turn that finds
// its probe still running is skipped and counted, never queued), and global
// bounds on probes in flight and probe starts per second. Pure: time comes
// in as arguments, randomness from a seed; the I/O driver lives in prober.
#pragma once

#include "consensus/types.hpp"
#include "probes/histogram.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <queue>
#include <random>
#include <vector>

namespace crosscheck::probes {

struct ScheduleLimits {
  int max_in_flight = 256;   // probes running at once, all pairs
  int max_per_second = 500;  // probe starts per second (token bucket, 1 s burst); see costs
};

// Upper bounds in seconds of the start-lateness buckets, as Prometheus' `le`;
// +Inf is implicit.
inline constexpr std::array<double, 14> k_lateness_buckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// How late scheduled probes started: the time from a turn's due time (jitter
// included) to the take_due() that started it, waits for the caps included.
using LatenessHistogram = FixedHistogram<k_lateness_buckets>;

struct ScheduleCounters {
  std::uint64_t started = 0;
  std::uint64_t skipped = 0;   // turns dropped: the pair was still running or waiting
  std::uint64_t deferred = 0;  // turns that had to wait for the in-flight cap or rate budget
  int in_flight = 0;
  int peak_in_flight = 0;
  LatenessHistogram start_lateness;  // turns started, from when they were due
};

class Scheduler {
 public:
  // One pair per entry of `intervals`; phases are drawn from `seed`.
  // `costs` (empty: 1 each) are the tokens of the rate budget each pair's
  // start takes: an authoritative DNS probe sends some twenty queries.
  Scheduler(std::vector<consensus::Duration> intervals, ScheduleLimits limits, std::uint64_t seed,
            consensus::MonoTime start, const std::vector<int>& costs = {});

  // The pairs to start at `now`, each now counted in flight until finish().
  std::vector<std::size_t> take_due(consensus::MonoTime now);
  // The probe of `pair` completed (whatever its outcome).
  void finish(std::size_t pair);
  // Moves the pair's next turn forward to `due` (a recheck, fast confirmation's round):
  // the turn is not added but brought forward, and the pair's grid restarts
  // from it, so its turns after come one interval apart from `due` (no gap
  // longer than an interval). Still through the in-flight cap and the rate
  // budget. False (nothing changed) when it is in flight or waiting, or its
  // next turn is not later than `due`.
  bool bring_forward(std::size_t pair, consensus::MonoTime due);
  // The earliest time take_due() may return something new.
  consensus::MonoTime next_wakeup(consensus::MonoTime now) const;

  const ScheduleCounters& counters() const { return counters_; }
  std::size_t size() const { return pairs_.size(); }
  // The scheduled time of the pair's next turn (for tests and metrics).
  consensus::MonoTime next_turn(std::size_t pair) const { return pairs_[pair].due; }

 private:
  struct Pair {
    consensus::Duration interval{};
    consensus::Duration phase{};
    double cost = 1;  // tokens a start takes
    std::int64_t turn = 0;
    consensus::MonoTime due;          // of the next turn in turns_
    consensus::MonoTime waiting_due;  // of the turn waiting in ready_ (its lateness counts)
    bool in_flight = false;
    bool waiting = false;
    std::uint64_t moved = 0;  // bring_forward()s: an entry of an older count is stale
  };
  struct Entry {
    consensus::MonoTime due;
    std::size_t pair = 0;
    std::uint64_t moved = 0;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : pair > other.pair;
    }
  };

  void schedule_next(std::size_t pair);
  void refill(consensus::MonoTime now);

  std::vector<Pair> pairs_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> turns_;
  std::deque<std::size_t> ready_;    // due, waiting for capacity (FIFO, each pair once)
  std::size_t uncounted_waits_ = 0;  // newest entries of ready_ not yet counted as deferred
  ScheduleLimits limits_;
  std::mt19937_64 rng_;
  consensus::MonoTime start_;
  consensus::MonoTime refilled_at_;
  double tokens_ = 0;
  ScheduleCounters counters_;
};

}  // namespace crosscheck::probes
