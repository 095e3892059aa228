// When this oracle's own event loop stood still, and what that does to a
// probe's result. A probe that timed out while the loop was not running (a
// stopped or paused process, a VM its host froze, a loop too busy to run
// its timers) did not wait for the service for as long as its timeout
// says: the reply may have come, unread, or the next step may have started
// too late to finish. Such a timeout is the observer's failure, not the
// service's, and must never count as a down vote (every local domain would
// see it at once: a false unhealthy from one frozen process).
#pragma once

#include "consensus/types.hpp"
#include "probes/chain.hpp"

#include <deque>
#include <optional>

namespace crosscheck::probes {

// The gaps between the runs of a ticker on the probing event loop. Pure:
// the times come in as arguments (the Prober ticks it on its loop).
class StallLog {
 public:
  static constexpr consensus::Duration k_period{100};  // how often the ticker asks to run
  // Stalls older than this are forgotten (longer than any probe lasts).
  static constexpr consensus::Duration k_keep{600'000};
  static constexpr std::size_t k_max_stalls = 1024;
  // Gaps shorter than this beyond the period are not kept: they are below
  // every threshold (stall_threshold() is at least this), and a busy loop
  // makes one at nearly every tick, which filled the log.
  static constexpr consensus::Duration k_min_stall{250};

  // The ticker ran at `now`.
  void tick(consensus::MonoTime now);
  // The longest time the loop stood still inside [since, now]: the part of
  // a gap between ticks (or since the last tick) in that window, beyond
  // k_period; zero when none.
  consensus::Duration longest(consensus::MonoTime since, consensus::MonoTime now) const;

 private:
  struct Stall {
    consensus::MonoTime from;
    consensus::MonoTime to;
  };
  std::optional<consensus::MonoTime> last_;
  std::deque<Stall> stalls_;  // oldest first
};

// The shortest stall, inside the probe's wait (from its start to its
// deadline), that makes its timeout no vote: a quarter of its timeout, at
// least 250 ms. A busy loop runs its timers well within that (a 10,000-target
// evaluation takes under 100 ms), and a stopped process stands still for
// seconds.
consensus::Duration stall_threshold(consensus::Duration timeout);

// Whether the report's failure is one a stall of this oracle can cause: a
// DNS query (or its TCP retry), connect, request or protocol answer that
// timed out, or a TLS handshake that did not complete (its timeout has no
// type of its own).
bool timing_failure(const ProbeReport& report);

// Turns a timing failure into an observer error (no vote) when the loop
// stood still for `stall` >= stall_threshold(timeout) while the probe ran,
// saying so in the detail; returns whether it did.
bool discount_stall(ProbeReport& report, consensus::Duration stall, consensus::Duration timeout);

}  // namespace crosscheck::probes
