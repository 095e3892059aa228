// Engine::observe_remote: a peer's settled votes, taken without re-running
// hysteresis, aging from the peer's observation time.
#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace {

using namespace crosscheck::testing;
using cs::Outcome;
using cs::Vote;

// Two local domains (a, b) and one peer (oracle-b) with vantage "c".
cs::Policy peered_policy() {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  return policy;
}

struct PeeredWorld : World {
  PeeredWorld() : World(peered_policy()) {
    REQUIRE(engine().add_remote_vantage({"oracle-b/c", "oracle-b", "c"}));
  }
};

cs::RemoteVote remote(const World& world, Vote vote, cs::Duration age = 0ms) {
  cs::Observation last;
  last.target = "web";
  last.vantage = "oracle-b/c";
  last.at = world.now() + (-age);
  last.outcome = vote == Vote::Down ? Outcome::Down : Outcome::Up;
  last.detail = "remote detail";
  return cs::RemoteVote{"web", "oracle-b/c", vote, last.at, last};
}

const cs::Evidence& evidence_of(const World& world, const std::string& vantage) {
  for (const auto& item : world.verdict("web").evidence) {
    if (item.vantage == vantage) {
      return item;
    }
  }
  FAIL("no evidence for " << vantage);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a remote vote counts at once, without the local rise or fall", "[engine][peers]") {
  PeeredWorld world;
  REQUIRE(world.engine().observe_remote(remote(world, Vote::Down)) == cs::ObserveStatus::Accepted);
  world.evaluate();
  const auto& item = evidence_of(world, "oracle-b/c");
  CHECK(item.vote == Vote::Down);
  CHECK(item.node == "oracle-b");
  CHECK(item.last->detail == "remote detail");
}

TEST_CASE("pulling the same remote vote again does not count it twice", "[engine][peers]") {
  PeeredWorld world;
  // The peer reported up; a later pull still says up, then it says unknown:
  // a re-pulled vote replaces the previous one, it never accumulates streaks.
  world.engine().observe_remote(remote(world, Vote::Up));
  world.engine().observe_remote(remote(world, Vote::Up));
  world.engine().observe_remote(remote(world, Vote::Unknown));
  world.evaluate();
  CHECK(evidence_of(world, "oracle-b/c").vote == Vote::Unknown);
}

TEST_CASE("a remote vote goes unknown once its observation is older than stale_after",
          "[engine][peers]") {
  PeeredWorld world;
  const auto age = GENERATE(29'999ms, 30'000ms, 30'001ms);
  world.engine().observe_remote(remote(world, Vote::Down, age));
  world.evaluate();
  const auto& item = evidence_of(world, "oracle-b/c");
  CHECK(item.vote == (age <= 30'000ms ? Vote::Down : Vote::Unknown));
  CHECK(item.stale == (age > 30'000ms));
}

TEST_CASE("a silent peer's vantages turn unknown, never down, and the rest stays healthy",
          "[engine][peers]") {
  PeeredWorld world;
  for (int i = 0; i < 3; ++i) {
    world.engine().observe_remote(remote(world, Vote::Up));
    world.round("web", {{"a", Outcome::Up}, {"b", Outcome::Up}}, 10s);
  }
  REQUIRE(world.verdict("web").kind == cs::VerdictKind::Healthy);
  // The peer stops answering: no more remote votes for 40 s.
  for (int i = 0; i < 4; ++i) {
    world.round("web", {{"a", Outcome::Up}, {"b", Outcome::Up}}, 10s);
  }
  CHECK(evidence_of(world, "oracle-b/c").vote == Vote::Unknown);
  CHECK(world.verdict("web").kind == cs::VerdictKind::Healthy);
  CHECK(world.verdict("web").votes.down == 0);
}

TEST_CASE("remote down votes join the local ones in the quorum", "[engine][peers]") {
  PeeredWorld world;
  for (int i = 0; i < 3; ++i) {
    world.engine().observe_remote(remote(world, Vote::Down));
    world.round("web", {{"a", Outcome::Down}, {"b", Outcome::Up}}, 10s);
  }
  // a and oracle-b/c down: 2 of 3 domains, the majority.
  CHECK(world.verdict("web").kind == cs::VerdictKind::Unhealthy);
}

TEST_CASE("observe_remote refuses local, unregistered vantages and unknown targets",
          "[engine][peers]") {
  PeeredWorld world;
  auto vote = remote(world, Vote::Up);
  vote.vantage = "a";
  CHECK(world.engine().observe_remote(vote) == cs::ObserveStatus::UnknownVantage);
  vote.vantage = "oracle-b/zzz";
  CHECK(world.engine().observe_remote(vote) == cs::ObserveStatus::UnknownVantage);
  vote = remote(world, Vote::Up);
  vote.target = "nope";
  CHECK(world.engine().observe_remote(vote) == cs::ObserveStatus::UnknownTarget);
}
