#include "snapshot/commit_gate.hpp"
#include "snapshot/snapshot.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace crosscheck;

namespace {

snapshot::TargetView view_named(const std::string& name, std::uint64_t generation = 1) {
  snapshot::TargetView view;
  view.verdict.target = name;
  view.verdict.generation = generation;
  return view;
}

std::vector<std::string> names_of(const snapshot::Snapshot& snapshot) {
  std::vector<std::string> names;
  for (const auto& view : snapshot.targets) {
    names.push_back(view.verdict.target);
  }
  return names;
}

// A snapshot listing `names` in order, with an index when `indexed`.
std::shared_ptr<snapshot::Snapshot> snapshot_of(const std::vector<std::string>& names,
                                                bool indexed) {
  auto made = std::make_shared<snapshot::Snapshot>();
  for (const auto& name : names) {
    made->targets.push_back(view_named(name));
  }
  if (indexed) {
    made->index = std::make_shared<const snapshot::TargetIndex>(names);
  }
  return made;
}

// What a scan finds: the first view with that name.
const snapshot::TargetView* scanned(const snapshot::Snapshot& snapshot, const std::string& name) {
  const auto found =
      std::find_if(snapshot.targets.begin(), snapshot.targets.end(),
                   [&](const snapshot::TargetView& view) { return view.verdict.target == name; });
  return found == snapshot.targets.end() ? nullptr : &*found;
}

}  // namespace

TEST_CASE("an indexed snapshot finds what a scan finds over random target lists",
          "[snapshot_index]") {
  std::mt19937 random(20261206);
  for (int world = 0; world < 200; ++world) {
    const auto count = std::uniform_int_distribution<int>(0, 60)(random);
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(count) + 1);
    for (int i = 0; i < count; ++i) {
      // A small alphabet: repeated names happen, as in a hand-edited copy.
      names.push_back("t" + std::to_string(std::uniform_int_distribution<int>(0, 80)(random)));
    }
    names.emplace_back("group:edge");
    const auto indexed = snapshot_of(names, true);
    REQUIRE(indexed->index->matches(indexed->targets));
    for (int probe = 0; probe < 100; ++probe) {
      const auto asked =
          probe == 0 ? std::string("group:edge")
                     : "t" + std::to_string(std::uniform_int_distribution<int>(0, 100)(random));
      INFO("world " << world << ", name " << asked);
      REQUIRE(indexed->find(asked) == scanned(*indexed, asked));
    }
    REQUIRE(indexed->find("") == nullptr);
    REQUIRE(indexed->find("t") == nullptr);
  }
}

TEST_CASE("a target index matches only the same names in the same order", "[snapshot_index]") {
  const snapshot::TargetIndex index({"a", "b", "c"});
  REQUIRE(index.matches(snapshot_of({"a", "b", "c"}, false)->targets));
  REQUIRE_FALSE(index.matches(snapshot_of({"a", "c", "b"}, false)->targets));
  REQUIRE_FALSE(index.matches(snapshot_of({"a", "b"}, false)->targets));
  REQUIRE_FALSE(index.matches(snapshot_of({"a", "b", "c", "d"}, false)->targets));
  REQUIRE_FALSE(index.matches(snapshot_of({"a", "b", "x"}, false)->targets));
  REQUIRE(index.position("c") == 2U);
  REQUIRE_FALSE(index.position("d").has_value());
}

TEST_CASE("a snapshot whose list no longer fits its index scans instead of reading past it",
          "[snapshot_index]") {
  auto made = snapshot_of({"a", "b"}, true);
  made->targets.push_back(view_named("c"));  // edited after the index was attached
  REQUIRE(made->find("c") == &made->targets[2]);
  REQUIRE(made->find("a") == made->targets.data());
  made->targets.clear();
  REQUIRE(made->find("a") == nullptr);
}

TEST_CASE("a view renamed in a copy is never found under the name it had", "[snapshot_index]") {
  auto made = snapshot_of({"a", "b", "c"}, true);
  made->targets[1].verdict.target = "x";  // same length, another name at b's place
  REQUIRE(made->find("b") == nullptr);
  REQUIRE(made->find("a") == made->targets.data());
  REQUIRE(made->find("c") == &made->targets[2]);
}

TEST_CASE("a snapshot masked before its commit keeps finding every target by name",
          "[snapshot_index]") {
  const std::vector<std::string> names{"api", "db", "cache", "group:all"};
  auto durable = snapshot_of(names, true);
  auto shown = snapshot_of(names, true);
  shown->targets[1].verdict.generation = 2;  // "db" changed, not on disk yet
  const auto masked = snapshot::mask_undurable(*shown, durable.get(), snapshot::Undurable::Overdue);
  REQUIRE(names_of(*masked) == names);
  for (const auto& name : names) {
    INFO(name);
    REQUIRE(masked->find(name) == scanned(*masked, name));
    REQUIRE(masked->find(name) != nullptr);
  }
  // The masked view is the one found: the last durable generation, not fresh.
  REQUIRE(masked->find("db")->verdict.generation == 1);
  REQUIRE_FALSE(masked->find("db")->verdict.fresh);
}
