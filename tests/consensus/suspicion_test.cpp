#include "consensus/suspicion.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;

namespace {

std::vector<Evidence> votes(Vote cloudflare, Vote quad9, Vote google) {
  std::vector<Evidence> out;
  for (const auto& [name, value] : {std::pair{"cloudflare", cloudflare}, std::pair{"quad9", quad9},
                                    std::pair{"google", google}}) {
    Evidence item;
    item.vantage = name;
    item.domain = name;
    item.raw_vote = value;
    item.vote = value;
    out.push_back(item);
  }
  return out;
}

}  // namespace

TEST_CASE("a vantage that sees a canary down is suspect", "[suspicion]") {
  const auto canary = votes(Vote::Up, Vote::Down, Vote::Up);
  const auto normal = votes(Vote::Up, Vote::Up, Vote::Up);
  const auto found = find_suspects({{"root-zone", true, &canary}, {"db", false, &normal}}, 0.5);
  REQUIRE(found.suspects.size() == 1);
  CHECK(found.suspects.at("quad9") == "canary 'root-zone' is down from this vantage");
  CHECK(found.broken_canaries.empty());
}

TEST_CASE("a canary down from every domain is broken, and makes no vantage suspect",
          "[suspicion]") {
  // Two or more domains see it down and none up: the canary failed, not
  // every observer at once. Blinding them all would leave real outages unknown.
  const auto everywhere = votes(Vote::Down, Vote::Down, Vote::Down);
  const auto two_of_three = votes(Vote::Down, Vote::Unknown, Vote::Down);
  for (const auto* canary : {&everywhere, &two_of_three}) {
    const auto found = find_suspects({{"root-zone", true, canary}}, 0.5);
    CHECK(found.suspects.empty());
    REQUIRE(found.broken_canaries.size() == 1);
    CHECK(found.broken_canaries.at("root-zone") ==
          "canary 'root-zone' is down from all " + std::to_string(canary == &everywhere ? 3 : 2) +
              " domains that see it: the canary is broken");
  }
}

TEST_CASE("a canary that most domains see down makes no vantage suspect", "[suspicion]") {
  // 2 down, 1 up: the odd one out is the one seeing it up; suspecting the
  // two that see it down would blind a majority of the oracle.
  const auto canary = votes(Vote::Down, Vote::Down, Vote::Up);
  const auto found = find_suspects({{"root-zone", true, &canary}}, 0.5);
  CHECK(found.suspects.empty());
  CHECK(found.broken_canaries.empty());
}

TEST_CASE("a canary down from one vantage with no other domain voting proves nothing",
          "[suspicion]") {
  const auto canary = votes(Vote::Unknown, Vote::Down, Vote::Unknown);
  const auto found = find_suspects({{"root-zone", true, &canary}}, 0.5);
  CHECK(found.suspects.empty());
  CHECK(found.broken_canaries.empty());
}

TEST_CASE("a vantage alone seeing more than suspect_fraction of targets down is suspect",
          "[suspicion]") {
  // Four targets, fraction 0.5: alone-down on 2 is not more than 2; on 3 it is.
  const int lone = GENERATE(1, 2, 3, 4);
  std::vector<std::vector<Evidence>> evidence;
  for (int i = 0; i < 4; ++i) {
    evidence.push_back(i < lone ? votes(Vote::Up, Vote::Down, Vote::Up)
                                : votes(Vote::Up, Vote::Up, Vote::Up));
  }
  std::vector<TargetVotes> targets;
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    targets.push_back({"t" + std::to_string(i), false, &evidence[i]});
  }
  const auto found = find_suspects(targets, 0.5);
  CHECK(found.suspects.contains("quad9") == (lone > 2));
}

TEST_CASE("one lone disagreement is a dispute about that target, not suspicion", "[suspicion]") {
  // One target: 1 of 1 is more than half, but a single dissent is what
  // disputes are for (the empty DNS record of Oct 2025).
  const auto only = votes(Vote::Up, Vote::Down, Vote::Up);
  CHECK(find_suspects({{"dynamodb", false, &only}}, 0.5).suspects.empty());
}

TEST_CASE("a vantage is not alone when another domain also sees the target down", "[suspicion]") {
  const auto a = votes(Vote::Down, Vote::Down, Vote::Up);
  const auto b = votes(Vote::Down, Vote::Down, Vote::Up);
  CHECK(find_suspects({{"a", false, &a}, {"b", false, &b}}, 0.5).suspects.empty());
}

TEST_CASE("a vantage is not alone when no other domain sees the target up", "[suspicion]") {
  const auto a = votes(Vote::Unknown, Vote::Down, Vote::Unknown);
  const auto b = votes(Vote::Unknown, Vote::Down, Vote::Unknown);
  CHECK(find_suspects({{"a", false, &a}, {"b", false, &b}}, 0.5).suspects.empty());
}
