// The lab's scripts and world, without running an oracle: every scenario is
// well formed, expectations match exactly what they say, and the config the
// lab writes is one crosscheck accepts.
#include "lab/scenario.hpp"
#include "config/config.hpp"
#include "lab/world.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace crosscheck;
namespace cs = crosscheck::consensus;

namespace {

cs::Verdict verdict(cs::VerdictKind kind, std::optional<cs::VerdictKind> held = {}) {
  cs::Verdict out;
  out.target = "shop";
  out.kind = kind;
  out.held = held;
  return out;
}

lab::Expectation expect(cs::VerdictKind kind, std::optional<cs::VerdictKind> held = {}) {
  lab::Expectation out;
  out.target = "shop";
  out.verdict = kind;
  out.held = held;
  return out;
}

}  // namespace

TEST_CASE("the lab offers the incidents the README promises, the tour first") {
  std::vector<std::string> names;
  for (const auto& scenario : lab::scenarios()) {
    names.push_back(scenario.name);
    CHECK_FALSE(scenario.summary.empty());
    REQUIRE(scenario.steps.size() >= 2);
    // Every script starts from a healthy world and ends in one.
    CHECK(scenario.steps.front().expect.front().verdict == cs::VerdictKind::Healthy);
    CHECK(scenario.steps.back().world.service_up);
    CHECK(scenario.steps.back().world.resolvers.empty());
    for (const auto& step : scenario.steps) {
      CHECK_FALSE(step.expect.empty());
      CHECK_FALSE(step.lesson.empty());
    }
  }
  CHECK(names == std::vector<std::string>{"tour", "empty-dns-answer", "congested-vantage",
                                          "true-outage", "dns-down-service-up"});
  CHECK(lab::find_scenario("true-outage") == &lab::scenarios()[3]);
  CHECK(lab::find_scenario("no-such-incident") == nullptr);
}

TEST_CASE("the tour goes healthy, disputed holding healthy, unhealthy, healthy") {
  const auto* tour = lab::find_scenario("tour");
  REQUIRE(tour != nullptr);
  std::vector<std::string> sequence;
  for (const auto& step : tour->steps) {
    sequence.push_back(lab::describe(step.expect.front()));
  }
  CHECK(sequence == std::vector<std::string>{"shop: healthy", "shop: disputed (held healthy)",
                                             "shop: unhealthy, failing layer http, scope "
                                             "service, gate --for service proceeds, gate "
                                             "--for dns holds",
                                             "shop: healthy"});
  CHECK(tour->steps[1].world.resolvers.at("beta") == lab::ResolverMode::EmptyAnswer);
  CHECK_FALSE(tour->steps[2].world.service_up);
}

TEST_CASE("an expectation is met only by exactly what it asks for") {
  lab::Observed observed;
  observed.verdicts.push_back(verdict(cs::VerdictKind::Disputed, cs::VerdictKind::Healthy));

  CHECK(lab::met(expect(cs::VerdictKind::Disputed, cs::VerdictKind::Healthy), observed));
  CHECK(lab::met(expect(cs::VerdictKind::Disputed), observed));  // held not asked
  CHECK_FALSE(lab::met(expect(cs::VerdictKind::Disputed, cs::VerdictKind::Unhealthy), observed));
  CHECK_FALSE(lab::met(expect(cs::VerdictKind::Healthy), observed));

  auto other = expect(cs::VerdictKind::Disputed);
  other.target = "elsewhere";
  CHECK_FALSE(lab::met(other, observed));
  CHECK(lab::describe_observed(other, observed) == "elsewhere: not published");
}

TEST_CASE("layer, last-known-good and suspicion are part of an expectation") {
  lab::Observed observed;
  auto unhealthy = verdict(cs::VerdictKind::Unhealthy);
  unhealthy.failing_layer = cs::Layer::Dns;
  unhealthy.last_known_good = cs::LastKnownGood::Reachable;
  observed.verdicts.push_back(unhealthy);

  auto wanted = expect(cs::VerdictKind::Unhealthy);
  wanted.failing_layer = cs::Layer::Http;
  CHECK_FALSE(lab::met(wanted, observed));
  CHECK(lab::describe_observed(wanted, observed) ==
        "shop: unhealthy, failing layer dns, last-known-good reachable");
  wanted.failing_layer = cs::Layer::Dns;
  wanted.last_known_good = cs::LastKnownGood::Reachable;
  CHECK(lab::met(wanted, observed));

  wanted.suspect = "gamma";
  CHECK_FALSE(lab::met(wanted, observed));
  observed.suspects.insert("gamma");
  CHECK(lab::met(wanted, observed));

  wanted.suspect.reset();
  wanted.trusted = "gamma";
  CHECK_FALSE(lab::met(wanted, observed));
  CHECK(lab::describe(wanted) ==
        "shop: unhealthy, failing layer dns, last-known-good reachable, vantage gamma trusted");
}

TEST_CASE("the lab's timings scale from the probe interval") {
  lab::LabTiming fast{cs::Duration{300}};
  CHECK(fast.timeout() == cs::Duration{150});
  CHECK(fast.dispute_grace() == cs::Duration{600});
  CHECK(fast.congestion() > fast.timeout());
  CHECK(fast.step_deadline() >= cs::Duration{10'000});
  lab::LabTiming tiny{cs::Duration{150}};
  CHECK(tiny.timeout() == cs::Duration{100});  // never below 100ms
}

TEST_CASE("the config the lab writes is one crosscheck accepts") {
  lab::LabWorld world;
  lab::LabConfigOptions options;
  options.data_dir = "/tmp/unused-lab-data";
  options.listen = "127.0.0.1:9999";
  const auto loaded = config::load_config_text(world.config_text(options), "lab.yaml");
  for (const auto& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.to_string());
  }
  REQUIRE(loaded.ok());
  const auto& config = *loaded.config;
  CHECK(config.vantages.size() == 3);
  CHECK(config.local_domains().size() == 3);
  REQUIRE(config.targets.size() == 2);
  CHECK(config.targets[0].name == "shop");
  CHECK(config.targets[1].canary);
  CHECK(config.api.listen.to_string() == "127.0.0.1:9999");
  CHECK(world.describe().find("resolver beta 127.0.0.92:") != std::string::npos);
}

TEST_CASE("a listen address with port 0 becomes a concrete free port") {
  const auto chosen = lab::concrete_listen("127.0.0.1:0");
  REQUIRE(chosen.has_value());
  CHECK(chosen->starts_with("127.0.0.1:"));
  CHECK(*chosen != "127.0.0.1:0");
  CHECK(lab::concrete_listen("127.0.0.1:9470") == "127.0.0.1:9470");
  CHECK_FALSE(lab::concrete_listen("localhost:9470").has_value());
  CHECK_FALSE(lab::concrete_listen("127.0.0.1").has_value());
}

TEST_CASE("dns-down-service-up expects a held service failover and a DNS failover let through") {
  const auto* scenario = lab::find_scenario("dns-down-service-up");
  REQUIRE(scenario != nullptr);
  const auto& wanted = scenario->steps[1].expect.front();
  CHECK(lab::describe(wanted) ==
        "shop: unhealthy, failing layer dns, last-known-good reachable, scope dns, gate --for "
        "service holds, gate --for dns proceeds");
  lab::Observed observed;
  auto unhealthy = verdict(cs::VerdictKind::Unhealthy);
  unhealthy.failing_layer = cs::Layer::Dns;
  unhealthy.last_known_good = cs::LastKnownGood::Reachable;
  unhealthy.scope = cs::FailureScope::Dns;
  unhealthy.fresh = true;
  unhealthy.valid_until = cs::WallTime{std::chrono::hours(1)};
  observed.verdicts.push_back(unhealthy);
  observed.now =
      cs::Instant{cs::MonoTime{std::chrono::minutes(1)}, cs::WallTime{std::chrono::minutes(1)}};
  CHECK(lab::met(wanted, observed));
  // The same verdict read as a service failure lets the wrong failover through.
  observed.verdicts.front().scope = cs::FailureScope::Service;
  CHECK_FALSE(lab::met(wanted, observed));
  CHECK(lab::describe_observed(wanted, observed) ==
        "shop: unhealthy, failing layer dns, last-known-good reachable, scope service, gate "
        "--for service proceeds, gate --for dns holds");
  // Past valid_until every gate holds: a stale answer lets nothing through.
  observed.verdicts.front().scope = cs::FailureScope::Dns;
  observed.now.wall = cs::WallTime{std::chrono::hours(2)};
  CHECK_FALSE(lab::met(wanted, observed));
}
