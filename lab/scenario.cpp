#include "lab/scenario.hpp"

#include <algorithm>

namespace crosscheck::lab {
namespace cs = crosscheck::consensus;

namespace {

using cs::VerdictKind;

std::string service() {
  return std::string(k_service_target);
}

Expectation expect(VerdictKind verdict, std::optional<VerdictKind> held = {}) {
  Expectation out;
  out.target = service();
  out.verdict = verdict;
  out.held = held;
  return out;
}

Step healthy_start() {
  return Step{
      "all is well",
      "alpha, beta and gamma resolve shop.lab.test; the service answers 200.",
      {},
      {expect(VerdictKind::Healthy)},
      "A quorum of failure domains (2 of 3) votes up: healthy.",
  };
}

Step empty_answer_on_beta() {
  return Step{
      "beta publishes an empty answer",
      "Resolver beta answers NOERROR with an empty answer section for shop.lab.test "
      "(the Oct 2025 DynamoDB record); alpha and gamma still resolve it.",
      {{{"beta", ResolverMode::EmptyAnswer}}, true},
      {expect(VerdictKind::Disputed, VerdictKind::Healthy)},
      "One domain of three is down, two are needed: the oracle holds the last confirmed "
      "verdict (healthy) and escalates to a human. A failover gated on it would hold.",
  };
}

Step service_down(WorldState world) {
  world.service_up = false;
  auto unhealthy = expect(VerdictKind::Unhealthy);
  unhealthy.failing_layer = cs::Layer::Http;
  unhealthy.scope = cs::FailureScope::Service;
  unhealthy.gates = {{cs::GateFor::Service, cs::GateAnswer::Proceed},
                     {cs::GateFor::Dns, cs::GateAnswer::Hold}};
  return Step{
      "the service really goes down",
      "The service answers 503 Service Unavailable; every resolver resolves it correctly.",
      std::move(world),
      {unhealthy},
      "A quorum of failure domains sees the same failure at the HTTP layer: unhealthy, "
      "confirmed, scope service. A gated service failover (crosscheck gate shop --expect "
      "unhealthy) would proceed now; a DNS failover (--for dns) would hold: DNS is fine.",
  };
}

// Back to a healthy world; `title` and `narration` say what was repaired.
Step recovered(std::string title, std::string narration) {
  return Step{
      std::move(title),
      std::move(narration),
      {},
      {expect(VerdictKind::Healthy)},
      "Two consecutive ups (rise: 2) from a quorum of domains: healthy again, and the "
      "escalation, if any, is resolved.",
  };
}

Step service_recovers() {
  return recovered("the service recovers",
                   "The service answers 200 again; all three resolvers are healthy.");
}

Step congested_gamma() {
  auto still_healthy = expect(VerdictKind::Healthy);
  still_healthy.suspect = "gamma";
  return Step{
      "gamma's network is congested",
      "Every answer from resolver gamma arrives after the probe timeout, for every name, "
      "the canary lab.test included.",
      {{{"gamma", ResolverMode::Congested}}, true},
      {still_healthy},
      "gamma fails the canary every resolver must pass, so it is suspect: its votes stop "
      "counting and the verdict stays healthy on alpha and beta. The observer is broken, "
      "not the world.",
  };
}

Step gamma_recovers() {
  auto healthy = expect(VerdictKind::Healthy);
  healthy.trusted = "gamma";
  return Step{
      "gamma's network recovers",
      "gamma answers in time again.",
      {},
      {healthy},
      "gamma passes the canary again; its votes count again.",
  };
}

Step dns_down_everywhere() {
  auto unhealthy = expect(VerdictKind::Unhealthy);
  unhealthy.failing_layer = cs::Layer::Dns;
  unhealthy.last_known_good = cs::LastKnownGood::Reachable;
  unhealthy.scope = cs::FailureScope::Dns;
  unhealthy.gates = {{cs::GateFor::Service, cs::GateAnswer::Hold},
                     {cs::GateFor::Dns, cs::GateAnswer::Proceed}};
  return Step{
      "shop.lab.test stops resolving everywhere",
      "All three resolvers answer SERVFAIL for shop.lab.test; the service itself still "
      "answers 200 on its address.",
      {{{"alpha", ResolverMode::ServFail},
        {"beta", ResolverMode::ServFail},
        {"gamma", ResolverMode::ServFail}},
       true},
      {unhealthy},
      "Clients cannot resolve the name, so the target is unhealthy, and the failing layer "
      "says DNS; the addresses last resolved still answer: scope dns. Failing over the "
      "service would not help, so a service failover gate (crosscheck gate shop --expect "
      "unhealthy, --for service by default) holds with reason scope; a DNS failover "
      "(--for dns) proceeds. Fix the DNS.",
  };
}

std::vector<Scenario> build() {
  const WorldState beta_fixed;
  return {
      {"tour",
       "the whole story: healthy, one resolver publishes an empty answer (held), the "
       "service really goes down (confirmed), then recovers",
       {healthy_start(), empty_answer_on_beta(), service_down(beta_fixed), service_recovers()}},
      {"empty-dns-answer",
       "one resolver of three publishes an empty answer: disputed, held healthy, escalated",
       {healthy_start(), empty_answer_on_beta(),
        recovered("beta is fixed", "Resolver beta resolves shop.lab.test again.")}},
      {"congested-vantage",
       "one vantage's network is congested: it fails the canary, becomes suspect, and "
       "the verdict stays healthy",
       {healthy_start(), congested_gamma(), gamma_recovers()}},
      {"true-outage",
       "the service goes down for everyone: unhealthy, confirmed by every domain",
       {healthy_start(), service_down({}), service_recovers()}},
      {"dns-down-service-up",
       "the name stops resolving everywhere while the service still answers: unhealthy "
       "at the DNS layer, last-known-good addresses reachable",
       {healthy_start(), dns_down_everywhere(),
        recovered("DNS is fixed", "All three resolvers resolve shop.lab.test again.")}},
  };
}

std::string_view answer_word(cs::GateAnswer answer) {
  switch (answer) {
    case cs::GateAnswer::Proceed:
      return "proceeds";
    case cs::GateAnswer::Otherwise:
      return "says otherwise";
    case cs::GateAnswer::GenerationMoved:
    case cs::GateAnswer::Hold:
      break;
  }
  return "holds";
}

cs::GateAnswer gate_answer(const cs::Verdict& verdict, cs::GateFor for_, const cs::Instant& now) {
  const auto answer =
      cs::decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, {}, now, for_).answer;
  return answer == cs::GateAnswer::GenerationMoved ? cs::GateAnswer::Hold : answer;
}

const cs::Verdict* find_verdict(const Observed& observed, const std::string& target) {
  const auto found = std::find_if(observed.verdicts.begin(), observed.verdicts.end(),
                                  [&](const cs::Verdict& v) { return v.target == target; });
  return found == observed.verdicts.end() ? nullptr : &*found;
}

}  // namespace

std::string_view to_string(ResolverMode mode) {
  switch (mode) {
    case ResolverMode::Healthy:
      return "healthy";
    case ResolverMode::EmptyAnswer:
      return "empty answer";
    case ResolverMode::ServFail:
      return "SERVFAIL";
    case ResolverMode::Congested:
      return "congested";
  }
  return "?";
}

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = build();
  return all;
}

const Scenario* find_scenario(std::string_view name) {
  for (const auto& scenario : scenarios()) {
    if (scenario.name == name) {
      return &scenario;
    }
  }
  return nullptr;
}

std::string describe(const Expectation& expectation) {
  std::string text = expectation.target + ": " + std::string(cs::to_string(expectation.verdict));
  if (expectation.held) {
    text += " (held " + std::string(cs::to_string(*expectation.held)) + ")";
  }
  if (expectation.failing_layer) {
    text += ", failing layer " + std::string(cs::to_string(*expectation.failing_layer));
  }
  if (expectation.last_known_good) {
    text += ", last-known-good " + std::string(cs::to_string(*expectation.last_known_good));
  }
  if (expectation.scope) {
    text += ", scope " + std::string(cs::to_string(*expectation.scope));
  }
  for (const auto& gate : expectation.gates) {
    text += ", gate --for " + std::string(cs::to_string(gate.for_)) + " " +
            std::string(answer_word(gate.answer));
  }
  if (expectation.suspect) {
    text += ", vantage " + *expectation.suspect + " suspect";
  }
  if (expectation.trusted) {
    text += ", vantage " + *expectation.trusted + " trusted";
  }
  return text;
}

std::string describe_observed(const Expectation& expectation, const Observed& observed) {
  const auto* verdict = find_verdict(observed, expectation.target);
  if (verdict == nullptr) {
    return expectation.target + ": not published";
  }
  Expectation seen;
  seen.target = verdict->target;
  seen.verdict = verdict->kind;
  seen.held = verdict->held;
  seen.failing_layer = verdict->failing_layer;
  if (verdict->last_known_good != cs::LastKnownGood::NotTried) {
    seen.last_known_good = verdict->last_known_good;
  }
  if (expectation.scope) {
    seen.scope = verdict->scope;
  }
  for (const auto& gate : expectation.gates) {
    seen.gates.push_back({gate.for_, gate_answer(*verdict, gate.for_, observed.now)});
  }
  if (expectation.suspect && observed.suspects.contains(*expectation.suspect)) {
    seen.suspect = expectation.suspect;
  }
  if (expectation.trusted && !observed.suspects.contains(*expectation.trusted)) {
    seen.trusted = expectation.trusted;
  }
  return describe(seen);
}

bool met(const Expectation& expectation, const Observed& observed) {
  const auto* verdict = find_verdict(observed, expectation.target);
  if (verdict == nullptr || verdict->kind != expectation.verdict) {
    return false;
  }
  if (expectation.held && verdict->held != expectation.held) {
    return false;
  }
  if (expectation.failing_layer && verdict->failing_layer != expectation.failing_layer) {
    return false;
  }
  if (expectation.last_known_good && verdict->last_known_good != *expectation.last_known_good) {
    return false;
  }
  if (expectation.scope && verdict->scope != *expectation.scope) {
    return false;
  }
  for (const auto& gate : expectation.gates) {
    if (gate_answer(*verdict, gate.for_, observed.now) != gate.answer) {
      return false;
    }
  }
  if (expectation.trusted && observed.suspects.contains(*expectation.trusted)) {
    return false;
  }
  return !expectation.suspect || observed.suspects.contains(*expectation.suspect);
}

}  // namespace crosscheck::lab
