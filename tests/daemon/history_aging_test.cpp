// snapshot::aged: what storage.history_retention leaves of a target's
// transitions in memory (GET /v1/verdicts/{target}/history). Randomized
// histories, a clock stepped back included: the newest always stays, every
// transition at or after the cutoff stays in its order, nothing older does,
// and an unchanged history is the same shared list.
#include "snapshot/snapshot.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;

namespace {

const consensus::WallTime k_now{consensus::Duration{1'760'942'880'000}};

snapshot::TransitionView transition(std::uint64_t generation, consensus::WallTime at) {
  snapshot::TransitionView view;
  view.generation = generation;
  view.at = at;
  return view;
}

}  // namespace

TEST_CASE("aged history keeps the newest and every transition from the cutoff on", "[snapshot]") {
  const auto seed = GENERATE(range(1, 41));
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  INFO("seed " << seed);
  // Newest first, mostly an hour back each, sometimes a step back in time.
  std::vector<snapshot::TransitionView> list;
  const auto size = 1 + rng() % 12;
  auto at = k_now - std::chrono::minutes(rng() % 120);
  for (std::uint64_t generation = size; generation >= 1; --generation) {
    list.push_back(transition(generation, at));
    at = rng() % 5 == 0 ? at + std::chrono::minutes(rng() % 300)
                        : at - std::chrono::minutes(1 + rng() % 90);
  }
  const auto history = std::make_shared<const std::vector<snapshot::TransitionView>>(list);
  const auto cutoff = k_now - std::chrono::minutes(rng() % 600);

  const auto result = snapshot::aged(history, cutoff);
  const auto& kept = snapshot::transitions_of(result);
  REQUIRE_FALSE(kept.empty());
  CHECK(kept.front().generation == list.front().generation);
  std::vector<std::uint64_t> expected{list.front().generation};
  for (std::size_t i = 1; i < list.size(); ++i) {
    if (list[i].at >= cutoff) {
      expected.push_back(list[i].generation);
    }
  }
  std::vector<std::uint64_t> got;
  for (const auto& item : kept) {
    got.push_back(item.generation);
  }
  CHECK(got == expected);
  // Nothing to drop: the very list every snapshot shares, not a copy.
  CHECK((result == history) == (expected.size() == list.size()));
}

TEST_CASE("aged history of nothing or of one old transition is left as it is", "[snapshot]") {
  CHECK(snapshot::aged(nullptr, k_now) == nullptr);
  const auto one = std::make_shared<const std::vector<snapshot::TransitionView>>(
      std::vector{transition(7, k_now - 400 * 24h)});
  CHECK(snapshot::aged(one, k_now) == one);
}
