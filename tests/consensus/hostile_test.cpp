// Hostile review (issue 14): where reload, restart, peers, clock steps and
// side episodes meet. Each case failed before its fix.
#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

namespace {

using namespace crosscheck::testing;
using cs::EventKind;
using cs::Outcome;
using cs::VerdictKind;
using cs::Vote;

cs::RemoteVote remote_vote(const World& world, const std::string& target,
                           const std::string& vantage, Vote vote) {
  cs::Observation last;
  last.target = target;
  last.vantage = vantage;
  last.at = world.now();
  last.outcome = vote == Vote::Down ? Outcome::Down : Outcome::Up;
  return cs::RemoteVote{target, vantage, vote, last.at, last};
}

// Local domains a, b, c, d, e; one peer p that may speak for x and y.
cs::Policy trusted_peer_policy(bool trusted) {
  auto policy = make_policy({"a", "b", "c", "d", "e"}, {"db"});
  policy.peers = {"p"};
  if (trusted) {
    policy.peer_domains["p"] = {"x", "y"};
  }
  return policy;
}

}  // namespace

TEST_CASE(
    "hostile: a reload that takes a peer's domains away counts its kept vantages as one "
    "domain at once",
    "[engine][peers][reload][hostile]") {
  World world(trusted_peer_policy(true));
  REQUIRE(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
  REQUIRE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  // The operator no longer trusts p to speak for x and y (say it was
  // compromised): from now on all its vantages are one domain, "p".
  world.engine().reconfigure(trusted_peer_policy(false), {}, world.now());
  for (const auto& vantage : world.engine().vantages()) {
    if (vantage.node == "p") {
      CHECK(vantage.domain == "p");
    }
  }
  // Local a and b see db down; p's two vantages say down as well. Domains:
  // a..e and p: 6, down quorum 4. a, b and p are 3: not a quorum.
  for (int i = 0; i < 4; ++i) {
    world.see("db", "a", Outcome::Down);
    world.see("db", "b", Outcome::Down);
    REQUIRE(world.engine().observe_remote(remote_vote(world, "db", "p/v1", Vote::Down)) ==
            cs::ObserveStatus::Accepted);
    REQUIRE(world.engine().observe_remote(remote_vote(world, "db", "p/v2", Vote::Down)) ==
            cs::ObserveStatus::Accepted);
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.verdict("db").votes.down == 3);
  CHECK(world.verdict("db").kind != VerdictKind::Unhealthy);
}

TEST_CASE(
    "hostile: a reload that takes one declared domain away drops the peer's vantages in it at once",
    "[engine][peers][reload][hostile]") {
  World world(trusted_peer_policy(true));  // p may speak for x and y
  REQUIRE(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
  REQUIRE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  auto only_x = trusted_peer_policy(true);
  only_x.peer_domains["p"] = {"x"};
  const auto done = world.engine().reconfigure(only_x, {}, world.now());
  CHECK(done.vantages_removed == std::vector<std::string>{"p/v2"});
  std::vector<std::string> counted;
  for (const auto& vantage : world.engine().vantages()) {
    if (vantage.node == "p") {
      counted.push_back(vantage.name + "@" + vantage.domain);
    }
  }
  CHECK(counted == std::vector<std::string>{"p/v1@x"});
  // Its next pull still claims y for v2: dropped.
  CHECK_FALSE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  CHECK(world.engine().observe_remote(remote_vote(world, "db", "p/v2", Vote::Down)) ==
        cs::ObserveStatus::UnknownVantage);
}

TEST_CASE(
    "hostile: a reload that lists a peer's vantages drops the unlisted ones at once and refuses "
    "them after",
    "[engine][peers][reload][hostile]") {
  World world(trusted_peer_policy(true));
  REQUIRE(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
  REQUIRE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  auto only_v1 = trusted_peer_policy(true);
  only_v1.peer_vantages["p"] = {"v1"};
  const auto done = world.engine().reconfigure(only_v1, {}, world.now());
  CHECK(done.vantages_removed == std::vector<std::string>{"p/v2"});
  CHECK_FALSE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  CHECK(world.engine().observe_remote(remote_vote(world, "db", "p/v2", Vote::Down)) ==
        cs::ObserveStatus::UnknownVantage);
  CHECK(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
}

TEST_CASE("hostile: a reload that declares a peer's domains counts them from its next pull",
          "[engine][peers][reload][hostile]") {
  World world(trusted_peer_policy(false));  // p: one domain, "p"
  REQUIRE(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
  REQUIRE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  world.engine().reconfigure(trusted_peer_policy(true), {}, world.now());
  // Counted as "p", which p does not declare: gone until it reports again.
  for (const auto& vantage : world.engine().vantages()) {
    CHECK(vantage.node != "p");
  }
  REQUIRE(world.engine().add_remote_vantage({"p/v1", "p", "x"}));
  REQUIRE(world.engine().add_remote_vantage({"p/v2", "p", "y"}));
  const auto known = world.engine().known_domains();
  CHECK(std::count(known.begin(), known.end(), "x") == 1);
  CHECK(std::count(known.begin(), known.end(), "y") == 1);
  CHECK(std::count(known.begin(), known.end(), "p") == 0);
}

TEST_CASE("hostile: a peer that sends new vantage names on every pull registers at most the cap",
          "[engine][peers][hostile]") {
  auto policy = make_policy({"a", "b", "c"}, {"db"});
  policy.peers = {"p", "q"};
  World world(policy);
  const auto cap = cs::Engine::k_max_vantages_per_peer;
  for (std::size_t i = 0; i < cap; ++i) {
    REQUIRE(world.engine().add_remote_vantage({"p/v" + std::to_string(i), "p", "p"}));
  }
  const auto before = world.engine().vantages().size();
  for (std::size_t i = cap; i < cap + 500; ++i) {
    CHECK_FALSE(world.engine().add_remote_vantage({"p/v" + std::to_string(i), "p", "p"}));
  }
  CHECK(world.engine().vantages().size() == before);
  // Known names still update, and another peer has a cap of its own.
  CHECK(world.engine().add_remote_vantage({"p/v0", "p", "p"}));
  CHECK(world.engine().add_remote_vantage({"q/v", "q", "q"}));
  // One peer, however many vantages, is still one failure domain.
  CHECK(world.engine().known_domains().size() == 5);
}

TEST_CASE("hostile: a pull from a node that is not (or no longer) a peer is refused",
          "[engine][peers][reload][hostile]") {
  auto policy = make_policy({"a", "b", "c"}, {"db"});
  policy.peers = {"p"};
  World world(policy);
  // The reload removed peer p; a pull of p's queued before it runs after.
  world.engine().reconfigure(make_policy({"a", "b", "c"}, {"db"}), {}, world.now());
  CHECK_FALSE(world.engine().add_remote_vantage({"p/v", "p", "p"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"stranger/v", "stranger", "stranger"}));
  CHECK(world.engine().known_domains().size() == 3);
  CHECK(world.engine().observe_remote(remote_vote(world, "db", "p/v", Vote::Down)) ==
        cs::ObserveStatus::UnknownVantage);
}

TEST_CASE(
    "hostile: a split episode restored after a restart is neither resolved nor reopened "
    "while the votes re-form",
    "[engine][restart][split][hostile]") {
  // Domain a has two vantages: a1 honest, a2 lying. b and c are honest.
  cs::Policy policy = make_policy({"b", "c"}, {"db"});
  policy.vantages.push_back(cs::VantagePolicy{"a1", "", "a"});
  policy.vantages.push_back(cs::VantagePolicy{"a2", "", "a"});
  World world(policy);
  cs::RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Healthy;
  restored.generation = 3;
  restored.since = world.now().wall - 1h;
  restored.reason_code = cs::ReasonCode::Quorum;
  restored.used_keys = {"split/db/3"};
  REQUIRE(world.engine().restore(restored));
  REQUIRE(world.engine().restore_episode(
      cs::RestoredEpisode{EventKind::SplitOpened, "split/db/3", "db", "", "split"}));
  // The same world as before the stop: a2 alone says down. Honest votes
  // (rise 2) form before the liar's (fall 3).
  for (int round = 0; round < 12; ++round) {
    world.round(
        "db", {{"a1", Outcome::Up}, {"a2", Outcome::Down}, {"b", Outcome::Up}, {"c", Outcome::Up}});
  }
  CHECK(world.count_events(EventKind::SplitResolved) == 0);
  CHECK(world.count_events(EventKind::SplitOpened) == 0);
  CHECK(world.verdict("db").generation == 3);
  CHECK(world.verdict("db").votes.split == 1);
}

TEST_CASE("hostile: a vantage suspect again after a wall clock step back gets a new key",
          "[engine][suspicion][clock][hostile]") {
  auto policy = make_policy({"a", "b", "c"}, {"canary"});
  policy.targets[0].canary = true;
  World world(policy);
  std::set<std::string> keys;
  std::vector<std::string> opened;
  auto run = [&](Outcome from_a, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      const auto result =
          world.round("canary", {{"a", from_a}, {"b", Outcome::Up}, {"c", Outcome::Up}}, 1s);
      for (const auto& event : result.events) {
        if (event.kind == EventKind::VantageSuspect) {
          opened.push_back(event.key);
        }
      }
    }
  };
  run(Outcome::Up, 3);
  const auto start = world.now().wall;
  run(Outcome::Down, 30);  // a fails the canary: suspect once the grace passes
  REQUIRE(opened.size() == 1);
  run(Outcome::Up, 10);  // a recovers: cleared
  REQUIRE(world.count_events(EventKind::VantageCleared) == 1);
  // NTP steps the wall clock back to where it was when a started failing.
  world.clock().step_wall(start - world.now().wall);
  run(Outcome::Down, 30);
  REQUIRE(opened.size() == 2);
  CHECK(opened[0] != opened[1]);
}
