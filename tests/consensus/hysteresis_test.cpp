#include "consensus/hysteresis.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

Instant at(Duration offset) {
  return Instant{MonoTime{offset}, WallTime{offset}};
}

Observation make(Outcome outcome, Duration when) {
  Observation observation;
  observation.target = "t";
  observation.vantage = "v";
  observation.outcome = outcome;
  observation.at = at(when);
  return observation;
}

}  // namespace

TEST_CASE("a vote turns down only after fall consecutive downs", "[hysteresis]") {
  const int fall = GENERATE(1, 2, 3, 5);
  const HysteresisRules rules{2, fall, 30s};
  VoteTracker tracker;
  tracker.observe(make(Outcome::Up, 0s), rules);
  tracker.observe(make(Outcome::Up, 1s), rules);
  REQUIRE(tracker.vote_at(MonoTime{1s}, rules) == Vote::Up);
  for (int i = 0; i < fall - 1; ++i) {
    tracker.observe(make(Outcome::Down, Duration{2'000 + i * 1'000}), rules);
  }
  CHECK(tracker.vote_at(MonoTime{10s}, rules) == Vote::Up);
  tracker.observe(make(Outcome::Down, 11s), rules);
  CHECK(tracker.vote_at(MonoTime{11s}, rules) == Vote::Down);
}

TEST_CASE("a vote turns up only after rise consecutive ups", "[hysteresis]") {
  const int rise = GENERATE(1, 2, 4);
  const HysteresisRules rules{rise, 1, 30s};
  VoteTracker tracker;
  tracker.observe(make(Outcome::Down, 0s), rules);
  REQUIRE(tracker.vote_at(MonoTime{0s}, rules) == Vote::Down);
  for (int i = 0; i < rise - 1; ++i) {
    tracker.observe(make(Outcome::Up, Duration{1'000 + i * 1'000}), rules);
    CHECK(tracker.vote_at(MonoTime{Duration{1'000 + i * 1'000}}, rules) == Vote::Down);
  }
  tracker.observe(make(Outcome::Up, 20s), rules);
  CHECK(tracker.vote_at(MonoTime{20s}, rules) == Vote::Up);
}

TEST_CASE("a vote starts unknown and an up in the middle resets the down streak", "[hysteresis]") {
  const HysteresisRules rules{2, 3, 30s};
  VoteTracker tracker;
  CHECK(tracker.vote_at(MonoTime{0s}, rules) == Vote::Unknown);
  tracker.observe(make(Outcome::Down, 1s), rules);
  tracker.observe(make(Outcome::Down, 2s), rules);
  tracker.observe(make(Outcome::Up, 3s), rules);
  tracker.observe(make(Outcome::Down, 4s), rules);
  tracker.observe(make(Outcome::Down, 5s), rules);
  CHECK(tracker.vote_at(MonoTime{5s}, rules) == Vote::Unknown);
  tracker.observe(make(Outcome::Down, 6s), rules);
  CHECK(tracker.vote_at(MonoTime{6s}, rules) == Vote::Down);
}

TEST_CASE("observer errors neither count as down nor refresh the vote", "[hysteresis]") {
  const HysteresisRules rules{1, 1, 30s};
  VoteTracker tracker;
  tracker.observe(make(Outcome::Up, 0s), rules);
  for (int i = 1; i <= 5; ++i) {
    tracker.observe(make(Outcome::ObserverError, Duration{i * 10'000}), rules);
  }
  CHECK(tracker.last()->outcome == Outcome::ObserverError);
  CHECK(tracker.vote_at(MonoTime{30s}, rules) == Vote::Up);
  CHECK(tracker.vote_at(MonoTime{50s}, rules) == Vote::Unknown);
}

TEST_CASE("a vote exactly stale_after old still counts, one millisecond older does not",
          "[hysteresis]") {
  const HysteresisRules rules{1, 1, 30s};
  VoteTracker tracker;
  tracker.observe(make(Outcome::Down, 0s), rules);
  const auto [offset, expected] =
      GENERATE(std::pair{29'999, Vote::Down}, std::pair{30'000, Vote::Down},
               std::pair{30'001, Vote::Unknown});
  CHECK(tracker.vote_at(MonoTime{Duration{offset}}, rules) == expected);
}

TEST_CASE("a vantage back after a silence must earn its vote again", "[hysteresis]") {
  const HysteresisRules rules{2, 2, 30s};
  VoteTracker tracker;
  tracker.observe(make(Outcome::Down, 0s), rules);
  tracker.observe(make(Outcome::Down, 10s), rules);
  REQUIRE(tracker.vote_at(MonoTime{10s}, rules) == Vote::Down);
  tracker.observe(make(Outcome::Down, 5min), rules);
  CHECK(tracker.vote_at(MonoTime{5min}, rules) == Vote::Unknown);
  tracker.observe(make(Outcome::Down, 5min + 10s), rules);
  CHECK(tracker.vote_at(MonoTime{5min + 10s}, rules) == Vote::Down);
}
