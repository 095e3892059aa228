// The lab's scripts (`crosscheck lab --scenario NAME`): what the simulated
// world looks like at each step of an incident, and what a correct oracle
// must conclude from it. Pure: no I/O; the world and the runner apply it.
#pragma once

#include "consensus/gate.hpp"
#include "consensus/types.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::lab {

// How one simulated resolver treats the lab's names.
enum class ResolverMode : std::uint8_t {
  Healthy,      // answers every lab name correctly
  EmptyAnswer,  // NOERROR with an empty answer for the service's name (Oct 2025)
  ServFail,     // SERVFAIL for the service's name
  Congested,    // every answer arrives after the probe timeout (all names)
};
std::string_view to_string(ResolverMode mode);

// The world during one step. Resolvers not named are Healthy.
struct WorldState {
  std::map<std::string, ResolverMode> resolvers;  // by resolver (= vantage) name
  bool service_up = true;                         // false: the service answers 503
};

// What a failover gate (--expect unhealthy --for FOR) must decide.
struct GateCheck {
  consensus::GateFor for_ = consensus::GateFor::Service;
  consensus::GateAnswer answer = consensus::GateAnswer::Hold;
};

// What the oracle must publish before the step is done.
struct Expectation {
  std::string target;
  consensus::VerdictKind verdict = consensus::VerdictKind::Healthy;
  std::optional<consensus::VerdictKind> held;     // required held verdict
  std::optional<consensus::Layer> failing_layer;  // required failing layer
  std::optional<consensus::LastKnownGood> last_known_good;
  std::optional<consensus::FailureScope> scope;  // required scope
  std::vector<GateCheck> gates;                  // failover gates asked at that moment
  std::optional<std::string> suspect;            // this vantage must be suspect
  std::optional<std::string> trusted;            // this vantage must not be suspect
};

struct Step {
  std::string title;      // "beta publishes an empty answer"
  std::string narration;  // what happens in the world, in words
  WorldState world;
  std::vector<Expectation> expect;
  std::string lesson;  // why the oracle's answer is the right one
};

struct Scenario {
  std::string name;
  std::string summary;
  std::vector<Step> steps;
};

// The lab's fixed cast: three resolvers in three failure domains, one
// service behind one name, and a canary name every resolver must answer.
inline constexpr std::string_view k_service_target = "shop";
inline constexpr std::string_view k_service_name = "shop.lab.test";
inline constexpr std::string_view k_canary_target = "lab-canary";
inline constexpr std::string_view k_canary_name = "lab.test";
inline const std::vector<std::string> k_resolvers{"alpha", "beta", "gamma"};

// Every scenario, the default ("tour") first.
const std::vector<Scenario>& scenarios();
const Scenario* find_scenario(std::string_view name);

// What the oracle currently shows, as far as expectations care.
struct Observed {
  std::vector<consensus::Verdict> verdicts;
  std::set<std::string> suspects;
  consensus::Instant now{};  // when, for the gates
};

// "shop: disputed (held healthy)" for one expectation, words for the runner.
std::string describe(const Expectation& expectation);
// The observed state of `expectation.target` in the same words.
std::string describe_observed(const Expectation& expectation, const Observed& observed);
// True when `observed` shows what `expectation` asks for.
bool met(const Expectation& expectation, const Observed& observed);

}  // namespace crosscheck::lab
