// A config reload as the engine sees it: kept targets and vantages keep
// their state, new ones start unknown, removed ones go with their episodes.
#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace crosscheck::testing;
using cs::EventKind;
using cs::Outcome;
using cs::VerdictKind;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

// Every target healthy by quorum (rise 2: two rounds of ups).
void make_healthy(World& world, const std::vector<std::string>& targets) {
  for (int round = 0; round < 2; ++round) {
    for (const auto& target : targets) {
      world.see_all(target, k_domains, Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
}

}  // namespace

TEST_CASE("reload: a kept target keeps its verdict, generation and votes") {
  World world(make_policy(k_domains, {"db", "web"}));
  make_healthy(world, {"db", "web"});
  const auto generation = world.verdict("db").generation;
  REQUIRE(world.verdict("db").kind == VerdictKind::Healthy);

  const auto done =
      world.engine().reconfigure(make_policy(k_domains, {"db", "web"}), {}, world.now());
  CHECK(done.empty());
  CHECK(done.events.empty());
  world.evaluate();  // no new observation: the kept votes alone decide
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  CHECK(world.verdict("db").generation == generation);
  CHECK(world.verdict("db").votes.up == 3);
}

TEST_CASE("reload: a new target starts unknown, a removed one disappears") {
  World world(make_policy(k_domains, {"db", "web"}));
  make_healthy(world, {"db", "web"});
  const auto revision = world.engine().revision();
  const auto done =
      world.engine().reconfigure(make_policy(k_domains, {"db", "cache"}), {}, world.now());
  CHECK(done.targets_added == std::vector<std::string>{"cache"});
  CHECK(done.targets_removed == std::vector<std::string>{"web"});
  CHECK(done.revision == revision + 1);  // watchers learn the list changed
  CHECK(world.engine().verdict("web") == nullptr);
  REQUIRE(world.engine().verdict("cache") != nullptr);
  CHECK(world.verdict("cache").kind == VerdictKind::Unknown);
  CHECK(world.verdict("cache").generation == 0);
  world.evaluate();
  CHECK(world.verdict("cache").kind == VerdictKind::Unknown);
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  // Observations of the removed target are refused like any unknown target.
  CHECK(world.see("web", "quad9", Outcome::Down) == cs::ObserveStatus::UnknownTarget);
}

TEST_CASE("reload: a target whose check changed keeps its generation but needs fresh votes") {
  World world(make_policy(k_domains, {"db"}));
  make_healthy(world, {"db"});
  const auto generation = world.verdict("db").generation;
  const auto done = world.engine().reconfigure(make_policy(k_domains, {"db"}),
                                               cs::Resets{{"db"}, {}}, world.now());
  CHECK(done.targets_reset == std::vector<std::string>{"db"});
  world.evaluate();
  // No votes yet: unknown, holding the last confirmed verdict, generation moves on.
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  CHECK(world.verdict("db").held == VerdictKind::Healthy);
  CHECK(world.verdict("db").generation == generation + 1);
}

TEST_CASE("reload: removing a disputed target resolves its open episode") {
  World world(make_policy(k_domains, {"db", "web"}));
  make_healthy(world, {"db", "web"});
  for (int round = 0; round < 5; ++round) {  // quad9 alone sees db down, past fall and grace
    world.round("db",
                {{"cloudflare", Outcome::Up}, {"quad9", Outcome::Down}, {"google", Outcome::Up}});
  }
  REQUIRE(world.verdict("db").kind == VerdictKind::Disputed);
  REQUIRE(world.count_events(EventKind::DisputeOpened) == 1);
  const auto done = world.engine().reconfigure(make_policy(k_domains, {"web"}), {}, world.now());
  REQUIRE(done.events.size() == 2);  // its end is a change too: see the generation tests
  CHECK(done.events[0].kind == EventKind::VerdictChanged);
  CHECK(done.events[0].verdict == VerdictKind::Unknown);
  CHECK(done.events[1].kind == EventKind::DisputeResolved);
  CHECK(done.events[1].target == "db");
  const auto opened =
      std::find_if(world.events().begin(), world.events().end(),
                   [](const cs::Event& e) { return e.kind == EventKind::DisputeOpened; });
  CHECK(done.events[1].key == opened->key);
  CHECK(done.events[1].reason == "target removed from the config");
}

TEST_CASE("reload: a removed vantage's votes stop counting, a new one starts unknown") {
  World world(make_policy(k_domains, {"db"}));
  make_healthy(world, {"db"});
  auto policy = make_policy({"cloudflare", "quad9", "level3"}, {"db"});
  const auto done = world.engine().reconfigure(policy, {}, world.now());
  CHECK(done.vantages_removed == std::vector<std::string>{"google"});
  CHECK(done.vantages_added == std::vector<std::string>{"level3"});
  world.evaluate();
  const auto& votes = world.verdict("db").votes;
  CHECK(votes.up == 2);       // cloudflare and quad9 kept theirs
  CHECK(votes.unknown == 1);  // level3 has not observed yet
  CHECK(world.see("db", "google", Outcome::Up) == cs::ObserveStatus::UnknownVantage);
}

TEST_CASE("reload: removing a suspect vantage clears its suspicion with an event") {
  World world(make_policy(k_domains, {"db", "root"}));
  auto policy = make_policy(k_domains, {"db", "root"});
  policy.targets[1].canary = true;
  world.engine().reconfigure(policy, {}, world.now());
  for (int round = 0; round < 4; ++round) {
    world.see_all("root", {"cloudflare", "google"}, Outcome::Up);
    world.see("root", "quad9", Outcome::Down);
    world.evaluate();
    world.clock().advance(10s);
  }
  REQUIRE(world.count_events(EventKind::VantageSuspect) == 1);
  const auto done = world.engine().reconfigure(
      make_policy({"cloudflare", "google"}, {"db", "root"}), {}, world.now());
  REQUIRE(done.events.size() == 1);
  CHECK(done.events[0].kind == EventKind::VantageCleared);
  CHECK(done.events[0].vantage == "quad9");
  CHECK(world.engine().suspects().empty());
}

TEST_CASE("reload: a vantage whose resolver changed starts over, the others keep their votes") {
  World world(make_policy(k_domains, {"db"}));
  make_healthy(world, {"db"});
  world.engine().reconfigure(make_policy(k_domains, {"db"}), cs::Resets{{}, {"quad9"}},
                             world.now());
  world.evaluate();
  CHECK(world.verdict("db").votes.up == 2);
  CHECK(world.verdict("db").votes.unknown == 1);
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
}

TEST_CASE("reload: a target removed and added again continues its generation, never reuses one") {
  World world(make_policy(k_domains, {"db", "web"}));
  make_healthy(world, {"db", "web"});
  for (int round = 0; round < 5; ++round) {  // quad9 alone sees db down: a dispute opens
    world.round("db",
                {{"cloudflare", Outcome::Up}, {"quad9", Outcome::Down}, {"google", Outcome::Up}});
  }
  REQUIRE(world.verdict("db").kind == VerdictKind::Disputed);
  const auto before = world.verdict("db").generation;
  const auto first_key =
      std::find_if(world.events().begin(), world.events().end(), [](const cs::Event& e) {
        return e.kind == EventKind::DisputeOpened;
      })->key;

  const auto gone = world.engine().reconfigure(make_policy(k_domains, {"web"}), {}, world.now());
  // Published "disputed" at `before` is over: that is a new generation,
  // announced so that storage records it (a restart in the gap keeps it).
  REQUIRE_FALSE(gone.events.empty());
  CHECK(gone.events[0].kind == EventKind::VerdictChanged);
  CHECK(gone.events[0].verdict == VerdictKind::Unknown);
  CHECK(gone.events[0].generation == before + 1);
  const auto back =
      world.engine().reconfigure(make_policy(k_domains, {"db", "web"}), {}, world.now());
  CHECK(back.targets_added == std::vector<std::string>{"db"});
  CHECK(back.events.empty());  // back as the removal left it: unknown at before + 1
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  CHECK(world.verdict("db").generation == before + 1);

  // The same lone liar again: the new dispute's key is not the old one.
  for (int round = 0; round < 8; ++round) {
    world.round("db",
                {{"cloudflare", Outcome::Up}, {"quad9", Outcome::Down}, {"google", Outcome::Up}});
  }
  world.evaluate();
  std::vector<std::string> opened;
  for (const auto& event : world.events()) {
    if (event.kind == EventKind::DisputeOpened) {
      opened.push_back(event.key);
    }
  }
  REQUIRE(opened.size() >= 2);
  CHECK(opened.back() != first_key);
  CHECK(world.verdict("db").generation > before + 1);
}

TEST_CASE(
    "reload: a target known to storage but not configured at start-up continues its generation") {
  World world(make_policy(k_domains, {"web"}));
  cs::RestoredVerdict old;
  old.target = "db";
  old.kind = VerdictKind::Unhealthy;
  old.generation = 41;
  old.since = world.now().wall;
  CHECK_FALSE(world.engine().restore(old));  // not configured: remembered, not served
  CHECK(world.engine().verdict("db") == nullptr);
  make_healthy(world, {"web"});
  const auto back =
      world.engine().reconfigure(make_policy(k_domains, {"db", "web"}), {}, world.now());
  REQUIRE(back.events.size() == 1);
  CHECK(back.events[0].generation == 42);
  // Removed while stopped: its unhealthy at 41 is over, so it comes back
  // unknown at 42, announced for storage.
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  CHECK(world.verdict("db").generation == 42);
}

TEST_CASE("reload: a target never seen before starts at generation 0 without an event") {
  World world(make_policy(k_domains, {"web"}));
  make_healthy(world, {"web"});
  const auto done =
      world.engine().reconfigure(make_policy(k_domains, {"db", "web"}), {}, world.now());
  CHECK(done.events.empty());
  CHECK(world.verdict("db").generation == 0);
}

TEST_CASE("reload: a target whose removal storage recorded continues at that generation",
          "[reload]") {
  // The removal's own row (unknown, one generation on) came back from
  // storage: nothing new to announce.
  World world(make_policy(k_domains, {"web"}));
  cs::RestoredVerdict removed;
  removed.target = "db";
  removed.kind = VerdictKind::Unknown;
  removed.generation = 9;
  removed.since = world.now().wall;
  CHECK_FALSE(world.engine().restore(removed));
  make_healthy(world, {"web"});
  const auto back =
      world.engine().reconfigure(make_policy(k_domains, {"db", "web"}), {}, world.now());
  CHECK(back.events.empty());
  CHECK(world.verdict("db").generation == 9);
  world.evaluate();
  CHECK(world.verdict("db").generation == 9);  // still unknown: no change, no new generation
}

TEST_CASE(
    "hostile: a target removed while stopped at an unknown verdict never reuses its keys "
    "when re-added",
    "[reload][hostile]") {
  // Found by a hostile review: storage's row of a target removed while the
  // daemon was stopped is a live "unknown" at generation G (not a removal
  // row); it came back at G with no used keys, so the next split at G was
  // "split/db/G" again: a key a sink already saw (and dedupes).
  auto policy = [](const std::vector<std::string>& targets) {
    auto p = make_policy({"quad9", "google"}, targets);
    p.vantages.push_back(cs::VantagePolicy{"cf-a", "", "cloudflare"});
    p.vantages.push_back(cs::VantagePolicy{"cf-b", "", "cloudflare"});
    for (auto& target : p.targets) {
      target.rise = 1;  // the split is there from the first round: db never leaves unknown
      target.fall = 1;
    }
    return p;
  };
  // cloudflare split, google up, quad9 silent: D 0, U 1 < 2: unknown, split.
  auto split_rounds = [](World& world, int rounds) {
    for (int round = 0; round < rounds; ++round) {
      world.round("db", {{"cf-a", Outcome::Up}, {"cf-b", Outcome::Down}, {"google", Outcome::Up}});
    }
  };
  World first(policy({"db"}));
  split_rounds(first, 6);
  REQUIRE(first.verdict("db").kind == VerdictKind::Unknown);
  REQUIRE(first.verdict("db").generation == 0);
  std::vector<std::string> used;
  for (const auto& event : first.events()) {
    if (event.kind == EventKind::SplitOpened) {
      used.push_back(event.key);
    }
  }
  REQUIRE(used.size() == 1);

  // Stopped; db taken out of the config; started: storage hands db back.
  World second(policy({"web"}));
  cs::RestoredVerdict row;
  row.target = "db";
  row.kind = first.verdict("db").kind;
  row.generation = first.verdict("db").generation;
  row.since = first.verdict("db").since;
  row.used_keys = used;
  CHECK_FALSE(second.engine().restore(row));
  second.evaluate();
  second.engine().reconfigure(policy({"db", "web"}), {}, second.now());
  split_rounds(second, 6);
  for (const auto& event : second.events()) {
    if (event.kind == EventKind::SplitOpened) {
      INFO(event.key << " vs " << used[0]);
      CHECK(std::find(used.begin(), used.end(), event.key) == used.end());
    }
  }
  CHECK(second.count_events(EventKind::SplitOpened) == 1);
}
