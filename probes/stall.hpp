// When this oracle's own event loop stood still, and what that does to a
// probe's result. A probe that failed while the loop was not running (a
// stopped process, a loop too busy to run its timers) did not watch the
// service for as long as its timeout says: the reply may have come,
// unread, the next step may have started too late to finish, or the server
// gave up on a client that went silent. Such a failure is the observer's,
// not the service's, and must never count as a down vote (every local
// domain would see it at once: a false unhealthy from one frozen process).
// A VM paused with its monotonic clock stopped shows no stall: to this
// process no time passed (docs/verdicts.md).
#pragma once

#include "consensus/types.hpp"
#include "probes/chain.hpp"

#include <algorithm>
#include <deque>
#include <optional>

namespace crosscheck::probes {

// What a probe saw of its loop standing still.
struct StallSeen {
  // How long the loop stood still inside its wait, from its start to its
  // deadline (to when it ended, when the deadline was standing still).
  consensus::Duration total{0};
  // The loop stood still when the deadline came: its handler ran late, and
  // a reply that came in the stall before it may have been left unread,
  // however short the part of the stall inside the wait.
  bool at_deadline = false;
};

// The gaps between the runs of a ticker on the probing event loop. Pure:
// the times come in as arguments (the Prober ticks it on its loop).
class StallLog {
 public:
  static constexpr consensus::Duration k_period{100};  // how often the ticker asks to run
  // Stalls older than this are forgotten, at the least (longer than a
  // probe lasts, for timeouts up to 5 minutes).
  static constexpr consensus::Duration k_keep{600'000};
  static constexpr std::size_t k_max_stalls = 1024;
  // Gaps shorter than this beyond the period are not stalls, neither kept
  // nor counted: a busy loop runs its ticker a little late at nearly every
  // tick (they filled the log), and stall_threshold() is at least this.
  static constexpr consensus::Duration k_min_stall{250};

  // `keep`: how long a stall is remembered, k_keep at the least (the
  // Prober asks for twice its longest timeout: a probe's last deadline may
  // come half a timeout after its first).
  explicit StallLog(consensus::Duration keep = k_keep) : keep_(std::max(keep, k_keep)) {}

  // The ticker ran at `now`.
  void tick(consensus::MonoTime now);
  // How long the loop stood still inside [since, now], all its stalls
  // together: the part of each stall (a gap between ticks, or since the
  // last tick, of k_min_stall or more beyond k_period) in that window,
  // beyond k_period; zero when none.
  consensus::Duration total(consensus::MonoTime since, consensus::MonoTime now) const;
  // Whether the loop stood still (a gap of k_min_stall or more beyond the
  // period, logged or still open at `now`) across the instant `at`.
  bool stood_still_at(consensus::MonoTime at, consensus::MonoTime now) const;
  // What a probe that started at `started`, with its deadline at
  // `deadline`, saw of it when it ended at `now` (StallSeen).
  StallSeen seen(consensus::MonoTime started, consensus::MonoTime deadline,
                 consensus::MonoTime now) const;

 private:
  struct Stall {
    consensus::MonoTime from;
    consensus::MonoTime to;
  };
  consensus::Duration keep_;
  std::optional<consensus::MonoTime> last_;
  std::deque<Stall> stalls_;  // oldest first
};

// The shortest stall, inside the probe's wait (from its start to its
// deadline), that makes its timeout no vote: a quarter of its timeout, at
// least 250 ms. A busy loop runs its timers well within that (a 10,000-target
// evaluation takes under 100 ms), and a stopped process stands still for
// seconds.
consensus::Duration stall_threshold(consensus::Duration timeout);

// Whether a stall of this oracle may explain the report's failure. The rule
// runs the other way round from a list of timeouts: a failure counts through
// a stall only when its content is something the target (or its resolver)
// said, which no stall can make up: an NXDOMAIN, SERVFAIL, refusal, rcode or
// answer that does not match, a refused connect, a certificate refused, an
// HTTP status (other than 408) or body, a server in the wrong role, read-only
// or lagging. Everything else may be time passing on the other side while
// this one stood still: our timeouts, a TLS handshake cut off, a connection
// the server closed (an idle timeout, HTTP 408, a protocol error from a
// database that gave up on a silent client), the TCP retry after a truncated
// reply, and any failure kind added later until it is listed here.
bool stall_may_explain(const ProbeReport& report);

// Turns a down report into an observer error (no vote) when the loop stood
// still while the probe waited, for stall_threshold(timeout) or more or
// across its deadline, and the stall may explain its failure; says so in
// the detail and in `report.stalled`; returns whether it did.
bool discount_stall(ProbeReport& report, const StallSeen& seen, consensus::Duration timeout);

}  // namespace crosscheck::probes
