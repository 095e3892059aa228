#include "probes/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace crosscheck::probes {

using consensus::Duration;
using consensus::MonoTime;

Scheduler::Scheduler(std::vector<Duration> intervals, ScheduleLimits limits, std::uint64_t seed,
                     MonoTime start, const std::vector<int>& costs)
    : limits_(limits),
      rng_(seed),
      start_(start),
      refilled_at_(start),
      tokens_(static_cast<double>(std::max(1, limits.max_per_second))) {
  limits_.max_in_flight = std::max(1, limits_.max_in_flight);
  limits_.max_per_second = std::max(1, limits_.max_per_second);
  pairs_.resize(intervals.size());
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    auto& pair = pairs_[i];
    pair.interval = std::max(intervals[i], Duration{1});
    pair.cost = i < costs.size() ? static_cast<double>(std::max(1, costs[i])) : 1.0;
    // Why a random phase: a thousand targets configured with the same
    // interval must not fire in one burst at start-up and every 10 s after.
    std::uniform_int_distribution<std::int64_t> phase(0, pair.interval.count() - 1);
    pair.phase = Duration{phase(rng_)};
    pair.turn = -1;
    schedule_next(i);
  }
}

void Scheduler::schedule_next(std::size_t index) {
  auto& pair = pairs_[index];
  ++pair.turn;
  // Jitter within the first tenth of the interval, on top of a fixed grid
  // (start + phase + turn * interval), so it never drifts or accumulates.
  // config::jitter_window() mirrors this spread: stale_after is validated
  // against it (config/config.hpp); tests/config fails if the two disagree.
  const auto spread = std::max<std::int64_t>(1, pair.interval.count() / 10);
  std::uniform_int_distribution<std::int64_t> jitter(0, spread - 1);
  pair.due = start_ + pair.phase + pair.interval * pair.turn + Duration{jitter(rng_)};
  turns_.push(Entry{pair.due, index, pair.moved});
}

bool Scheduler::bring_forward(std::size_t index, MonoTime due) {
  if (index >= pairs_.size()) {
    return false;
  }
  auto& pair = pairs_[index];
  if (pair.in_flight || pair.waiting || pair.due <= due) {
    return false;
  }
  // Why move the phase: the grid (start + phase + turn * interval) then
  // continues from `due`, one interval on, never a gap, never a turn more
  // per interval; the old entry in turns_ goes stale (moved differs).
  pair.phase -= pair.due - due;
  pair.due = due;
  ++pair.moved;
  turns_.push(Entry{due, index, pair.moved});
  return true;
}

void Scheduler::refill(MonoTime now) {
  if (now <= refilled_at_) {
    return;
  }
  const auto elapsed_ms = static_cast<double>((now - refilled_at_).count());
  const auto rate = static_cast<double>(limits_.max_per_second);
  tokens_ = std::min(rate, tokens_ + elapsed_ms * rate / 1000.0);
  refilled_at_ = now;
}

std::vector<std::size_t> Scheduler::take_due(MonoTime now) {
  refill(now);
  while (!turns_.empty() && turns_.top().due <= now) {
    const auto index = turns_.top().pair;
    const bool stale = turns_.top().moved != pairs_[index].moved;
    turns_.pop();
    if (stale) {
      continue;  // a turn bring_forward() moved earlier: it already ran
    }
    auto& pair = pairs_[index];
    if (pair.in_flight || pair.waiting) {
      // Skip, never queue: the next turn is the retry.
      ++counters_.skipped;
    } else {
      pair.waiting = true;
      pair.waiting_due = pair.due;
      ready_.push_back(index);
      ++uncounted_waits_;
    }
    schedule_next(index);
  }
  std::vector<std::size_t> start;
  while (!ready_.empty() && counters_.in_flight < limits_.max_in_flight && tokens_ >= 1.0) {
    const auto index = ready_.front();
    ready_.pop_front();
    auto& pair = pairs_[index];
    pair.waiting = false;
    pair.in_flight = true;
    // Why the bucket may go below zero: a start that costs more than the
    // burst (20 tokens at max_per_second 10) must still start; the debt
    // delays the next starts instead, so the rate holds over time.
    tokens_ -= pair.cost;
    // Why from waiting_due: a turn held back by the in-flight cap or the rate
    // budget started that much later than planned, and that is what an
    // operator wants to see (due 12:00:00.000, started 12:00:00.030: 30 ms).
    counters_.start_lateness.observe(now - pair.waiting_due);
    ++counters_.started;
    ++counters_.in_flight;
    counters_.peak_in_flight = std::max(counters_.peak_in_flight, counters_.in_flight);
    start.push_back(index);
  }
  // What still waits is deferred. ready_ is FIFO, so the waits not counted
  // yet are its newest entries: count them without walking the queue (a
  // walk per tick made a saturated scheduler quadratic at 50,000 pairs).
  counters_.deferred += std::min(uncounted_waits_, ready_.size());
  uncounted_waits_ = 0;
  return start;
}

void Scheduler::finish(std::size_t index) {
  if (index >= pairs_.size() || !pairs_[index].in_flight) {
    return;
  }
  pairs_[index].in_flight = false;
  --counters_.in_flight;
}

MonoTime Scheduler::next_wakeup(MonoTime now) const {
  MonoTime next = turns_.empty() ? now + Duration{1'000} : turns_.top().due;
  if (!ready_.empty() && counters_.in_flight < limits_.max_in_flight) {
    // Waiting on the rate budget: wake when the next token is there.
    const double missing = std::max(0.0, 1.0 - tokens_);
    const auto wait = Duration{static_cast<std::int64_t>(
        std::ceil(missing * 1000.0 / static_cast<double>(limits_.max_per_second)))};
    next = std::min(next, std::max(now, refilled_at_) + wait);
  }
  return std::max(next, now);
}

}  // namespace crosscheck::probes
