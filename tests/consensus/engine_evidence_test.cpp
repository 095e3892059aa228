// The evidence a pass publishes: kept from the last pass while it still
// holds (consensus/engine.cpp raw_evidence), and never when it does not.
#include "consensus/engine.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

const Evidence& of(const std::vector<Evidence>& evidence, const std::string& vantage) {
  const auto found = std::find_if(evidence.begin(), evidence.end(),
                                  [&](const Evidence& item) { return item.vantage == vantage; });
  REQUIRE(found != evidence.end());
  return *found;
}

}  // namespace

TEST_CASE("a pass without news publishes the last pass's evidence list, news a new one",
          "[engine][evidence]") {
  World world(make_policy(k_domains, {"a", "b"}));
  world.see_all("a", k_domains, Outcome::Up);
  world.see_all("b", k_domains, Outcome::Up);
  world.evaluate();
  const EvidenceList a = world.verdict("a").evidence;
  const EvidenceList b = world.verdict("b").evidence;

  world.clock().advance(500ms);
  world.see("a", "quad9", Outcome::Down);
  world.evaluate();
  CHECK(world.verdict("b").evidence.same_list(b));  // nothing new about b
  CHECK_FALSE(world.verdict("a").evidence.same_list(a));
  CHECK(of(world.verdict("a").evidence, "quad9").last->outcome == Outcome::Down);
  CHECK(of(world.verdict("a").evidence, "quad9").last_observed->mono == world.clock().now().mono);
  CHECK(a[1].last->outcome == Outcome::Up);  // what an older snapshot holds stays as it was
}

TEST_CASE("evidence kept from an earlier pass turns stale when its time comes",
          "[engine][evidence]") {
  World world(make_policy(k_domains, {"a"}));
  world.see_all("a", k_domains, Outcome::Up);
  world.evaluate();
  world.clock().advance(500ms);
  world.see_all("a", k_domains, Outcome::Up);
  world.evaluate();
  REQUIRE(of(world.verdict("a").evidence, "quad9").raw_vote == Vote::Up);
  const EvidenceList kept = world.verdict("a").evidence;

  // No observation at all: at stale_after (30 s) the list still holds, past it not.
  world.clock().advance(30s);
  world.evaluate();
  CHECK(world.verdict("a").evidence.same_list(kept));
  world.clock().advance(1ms);
  world.evaluate();
  const auto& quad9 = of(world.verdict("a").evidence, "quad9");
  CHECK(quad9.stale);
  CHECK(quad9.raw_vote == Vote::Unknown);
  CHECK(quad9.vote == Vote::Unknown);
  CHECK(world.verdict("a").kind == VerdictKind::Unknown);
}

TEST_CASE("a kept evidence list follows suspicion as it starts and ends", "[engine][evidence]") {
  // quad9 alone sees three targets down while the others see them up: it
  // turns suspect after suspicion_grace, with nothing new observed meanwhile.
  const std::vector<std::string> targets{"a", "b", "c"};
  World world(make_policy(k_domains, targets));
  for (int round = 0; round < 3; ++round) {
    for (const auto& target : targets) {
      world.see(target, "cloudflare", Outcome::Up);
      world.see(target, "google", Outcome::Up);
      world.see(target, "quad9", Outcome::Down);
    }
    world.evaluate();
    world.clock().advance(1s);
  }
  REQUIRE_FALSE(world.engine().suspects().contains("quad9"));
  const EvidenceList before = world.verdict("a").evidence;
  CHECK_FALSE(of(world.verdict("a").evidence, "quad9").suspect);
  // No observation from here on: only the passes and the clock move.
  for (int pass = 0; pass < 40 && !world.engine().suspects().contains("quad9"); ++pass) {
    world.clock().advance(500ms);
    world.evaluate();
  }
  REQUIRE(world.engine().suspects().contains("quad9"));
  const auto& quad9 = of(world.verdict("a").evidence, "quad9");
  CHECK(quad9.suspect);
  CHECK(quad9.raw_vote == Vote::Down);
  CHECK(quad9.vote == Vote::Unknown);
  CHECK_FALSE(of(before, "quad9").suspect);  // the earlier list was copied, not changed
}

TEST_CASE("a peer's vantage moved to another of its domains shows the new one at once",
          "[engine][evidence]") {
  auto policy = make_policy(k_domains, {"a"});
  policy.peers = {"oracle-b"};
  policy.peer_domains = {{"oracle-b", {"east", "west"}}};
  World world(policy);
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/x", "oracle-b", "east"}));
  Observation last;
  last.target = "a";
  last.vantage = "oracle-b/x";
  last.at = world.now();
  last.outcome = Outcome::Up;
  REQUIRE(world.engine().observe_remote(RemoteVote{"a", "oracle-b/x", Vote::Up, last.at, last}) ==
          ObserveStatus::Accepted);
  world.evaluate();
  CHECK(of(world.verdict("a").evidence, "oracle-b/x").domain == "east");

  // The peer says the vantage is in west now; no vote has changed.
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/x", "oracle-b", "west"}));
  world.clock().advance(500ms);
  world.evaluate();
  CHECK(of(world.verdict("a").evidence, "oracle-b/x").domain == "west");
  CHECK(world.verdict("a").votes.up_domains ==
        std::vector<std::string>{"west"});  // counted there too
}
