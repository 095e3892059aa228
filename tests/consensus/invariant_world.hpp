// Randomized worlds for the engine's invariant test: a seeded generator of
// traces (observations, peer votes, overrides, restarts, evaluations at
// absolute times) and a runner that drives a fresh engine through a trace
// while an independent reference model checks, after every evaluation, what
// must never be published (DESIGN.md "The invariant"). Traces are plain
// values, so a failing one can be shrunk by replaying subsets of it.
#pragma once

#include "consensus/engine.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::testing {

namespace cs = crosscheck::consensus;

struct Step {
  enum class Kind : std::uint8_t {
    Observe,        // a local observation (maybe a duplicate or a late one)
    Remote,         // a peer's settled vote
    AddRemote,      // a peer's vantage becomes known
    SetOverride,    // an operator override
    ClearOverride,  // the operator removes it
    Restart,        // the daemon restarts: state goes through restore()
    Evaluate,       // judge every target at `at`
  };
  Kind kind = Kind::Evaluate;
  cs::Instant at;
  cs::Observation observation;
  cs::RemoteVote remote;
  cs::VantagePolicy vantage;
  std::string target;
  cs::Override override_value;
};

struct Trace {
  std::uint64_t seed = 0;
  cs::Policy policy;
  std::vector<Step> steps;
  int evaluations() const;
};

// A world with 2-7 domains of 1-3 vantages, 1-20 targets (some canaries),
// maybe peers (one reporting a domain that is also local), random rules,
// vantages that lie, congest, flap, fall silent and come back, and targets
// whose certificates and DNSSEC signatures run out and are renewed; about
// `evaluations` evaluations long.
Trace generate_trace(std::uint64_t seed, int evaluations);

struct RunResult {
  int evaluations = 0;
  int restarts = 0;
  std::optional<std::string> violation;  // the first broken invariant
  std::map<cs::EventKind, int> events;   // how many of each kind were emitted
  std::size_t failed_step = 0;
};

// How the runner's storage behaves across a restart. The default is what
// storage does; the other setting is storage as it once was, so a test can
// show that a kept regression trace still catches the bug it was kept for.
struct RunOptions {
  // False: storage before 74caefd, which did not join the open escalation's
  // row, so a restored verdict came back without open_escalation_kind.
  bool restore_escalation_kind = true;
};

// Runs `trace` on a fresh engine and checks every invariant after each
// evaluation; stops at the first violation.
RunResult run_trace(const Trace& trace, const RunOptions& options = {});

// The same for generate_trace(seed, evaluations), without holding the trace.
RunResult run_world(std::uint64_t seed, int evaluations);

// The smallest sub-trace (by removing steps) that still breaks an invariant.
Trace shrink(const Trace& failing);

}  // namespace crosscheck::testing
