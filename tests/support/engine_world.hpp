// A small simulated world for quorum-engine tests: a policy builder, a
// manual clock and helpers that feed observations and evaluate, so a test
// reads like the incident it describes.
#pragma once

#include "consensus/clock.hpp"
#include "consensus/engine.hpp"
#include "consensus/time_format.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::testing {

using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;

// Vantages named after their domains, one per domain, plus targets with the
// DESIGN.md defaults (rise 2, fall 3, stale 30s, grace 10s).
inline cs::Policy make_policy(const std::vector<std::string>& domains,
                              const std::vector<std::string>& targets) {
  cs::Policy policy;
  for (const auto& domain : domains) {
    policy.vantages.push_back(cs::VantagePolicy{domain, "", domain});
  }
  for (const auto& name : targets) {
    cs::TargetPolicy target;
    target.name = name;
    policy.targets.push_back(target);
  }
  return policy;
}

// `targets` in config order, each child given its parents (depends_on).
inline cs::Policy make_policy(const std::vector<std::string>& domains,
                              const std::vector<std::string>& targets,
                              const std::map<std::string, std::vector<std::string>>& parents) {
  auto policy = make_policy(domains, targets);
  for (auto& target : policy.targets) {
    if (const auto found = parents.find(target.name); found != parents.end()) {
      target.depends_on = found->second;
    }
  }
  return policy;
}

class World {
 public:
  explicit World(cs::Policy policy)
      : clock_(*cs::parse_rfc3339("2025-10-20T06:00:00Z")), engine_(std::move(policy)) {}

  cs::Engine& engine() { return engine_; }
  cs::ManualClock& clock() { return clock_; }
  cs::Instant now() const { return clock_.now(); }

  cs::ObserveStatus see(const std::string& target, const std::string& vantage, cs::Outcome outcome,
                        cs::Layer layer = cs::Layer::None,
                        cs::LastKnownGood lkg = cs::LastKnownGood::NotTried) {
    cs::Observation observation;
    observation.target = target;
    observation.vantage = vantage;
    observation.at = clock_.now();
    observation.outcome = outcome;
    observation.layer =
        outcome == cs::Outcome::Down && layer == cs::Layer::None ? cs::Layer::Dns : layer;
    observation.last_known_good = lkg;
    observation.detail = std::string(cs::to_string(outcome));
    return engine_.observe(observation);
  }

  // Every vantage sees every listed outcome for `target` at the current time.
  void see_all(const std::string& target, const std::vector<std::string>& vantages,
               cs::Outcome outcome) {
    for (const auto& vantage : vantages) {
      see(target, vantage, outcome);
    }
  }

  cs::Evaluation evaluate() {
    auto result = engine_.evaluate(clock_.now());
    for (auto& event : result.events) {
      events_.push_back(event);
    }
    return result;
  }

  // One probe round: the listed outcomes at the current time, evaluate, then
  // advance by `step`.
  cs::Evaluation round(const std::string& target,
                       const std::vector<std::pair<std::string, cs::Outcome>>& outcomes,
                       cs::Duration step = 10s) {
    for (const auto& [vantage, outcome] : outcomes) {
      see(target, vantage, outcome);
    }
    auto result = evaluate();
    clock_.advance(step);
    return result;
  }

  // One probe round of passing checks that took the listed latencies.
  cs::Evaluation latency_round(const std::string& target,
                               const std::vector<std::pair<std::string, double>>& latencies,
                               cs::Duration step = 10s) {
    for (const auto& [vantage, latency_ms] : latencies) {
      cs::Observation observation;
      observation.target = target;
      observation.vantage = vantage;
      observation.at = clock_.now();
      observation.outcome = cs::Outcome::Up;
      observation.latency_ms = latency_ms;
      engine_.observe(observation);
    }
    auto result = evaluate();
    clock_.advance(step);
    return result;
  }

  const cs::Verdict& verdict(const std::string& target) const { return *engine_.verdict(target); }
  const std::vector<cs::Event>& events() const { return events_; }
  // Events of `kind` about `target`.
  int count_events(cs::EventKind kind, const std::string& target) const {
    int count = 0;
    for (const auto& event : events_) {
      count += event.kind == kind && event.target == target ? 1 : 0;
    }
    return count;
  }
  int count_events(cs::EventKind kind) const {
    int count = 0;
    for (const auto& event : events_) {
      count += event.kind == kind ? 1 : 0;
    }
    return count;
  }
  // The newest event of `kind`; nullptr when none.
  const cs::Event* last_event(cs::EventKind kind) const {
    const auto found = std::find_if(events_.rbegin(), events_.rend(),
                                    [kind](const cs::Event& event) { return event.kind == kind; });
    return found == events_.rend() ? nullptr : &*found;
  }

 private:
  cs::ManualClock clock_;
  cs::Engine engine_;
  std::vector<cs::Event> events_;
};

}  // namespace crosscheck::testing
