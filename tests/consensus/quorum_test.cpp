#include "consensus/quorum.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;

namespace {

Evidence vote(const std::string& vantage, const std::string& domain, Vote value) {
  Evidence item;
  item.vantage = vantage;
  item.domain = domain;
  item.vote = value;
  item.raw_vote = value;
  return item;
}

}  // namespace

TEST_CASE("majority is more than half the known domains and at least two", "[quorum]") {
  const auto [domains, expected] =
      GENERATE(table<int, int>({{1, 1}, {2, 2}, {3, 2}, {4, 3}, {5, 3}, {6, 4}, {7, 4}}));
  CHECK(Quorum{}.resolve(domains) == expected);
}

TEST_CASE("an explicit quorum is taken as written", "[quorum]") {
  CHECK(Quorum{2}.resolve(5) == 2);
  CHECK(Quorum{1}.resolve(3) == 1);
}

TEST_CASE("three vantages behind one failure domain are one vote", "[quorum]") {
  const std::vector<Evidence> evidence{
      vote("q1", "quad9", Vote::Down), vote("q2", "quad9", Vote::Down),
      vote("q3", "quad9", Vote::Down), vote("cf", "cloudflare", Vote::Up),
      vote("g", "google", Vote::Up)};
  const auto counts = tally(evidence, {"quad9", "cloudflare", "google"}, Quorum{}, Quorum{});
  CHECK(counts.down == 1);
  CHECK(counts.up == 2);
  CHECK(counts.unknown == 0);
  CHECK(counts.down_quorum == 2);
  CHECK(raw_verdict(counts) == VerdictKind::Disputed);
}

TEST_CASE("a domain whose vantages disagree is split: neither down nor up, still known",
          "[quorum]") {
  const std::vector<Evidence> evidence{vote("a1", "alpha", Vote::Down),
                                       vote("a2", "alpha", Vote::Up), vote("b", "beta", Vote::Up),
                                       vote("c", "gamma", Vote::Up)};
  const auto counts = tally(evidence, {"alpha", "beta", "gamma"}, Quorum{}, Quorum{});
  CHECK(counts.down == 0);
  CHECK(counts.up == 2);
  CHECK(counts.split == 1);
  CHECK(counts.split_domains == std::vector<std::string>{"alpha"});
  CHECK(counts.known_domains == 3);
  CHECK(counts.up_quorum == 2);
  CHECK(raw_verdict(counts) == VerdictKind::Healthy);
  CHECK(describe(counts, VerdictKind::Healthy) ==
        "2 of 3 domains up; quorum 2; 1 split (alpha: its vantages disagree)");
}

TEST_CASE("two lying vantages in two split domains never make a target unhealthy", "[quorum]") {
  // Every domain has an up vote: under "a domain is down when any vantage
  // is", a1 and b1 alone would have made D = 2 = quorum.
  const std::vector<Evidence> evidence{
      vote("a1", "alpha", Vote::Down), vote("a2", "alpha", Vote::Up),
      vote("b1", "beta", Vote::Down), vote("b2", "beta", Vote::Up), vote("c", "gamma", Vote::Up)};
  const auto counts = tally(evidence, {"alpha", "beta", "gamma"}, Quorum{}, Quorum{});
  CHECK(counts.down == 0);
  CHECK(counts.split == 2);
  CHECK(counts.up == 1);
  CHECK(raw_verdict(counts) == VerdictKind::Unknown);  // majorities do not shrink
}

TEST_CASE("a split domain does not shrink the majority a down quorum needs", "[quorum]") {
  const std::vector<Evidence> evidence{
      vote("a", "alpha", Vote::Down), vote("b1", "beta", Vote::Down), vote("b2", "beta", Vote::Up),
      vote("c", "gamma", Vote::Up), vote("d", "delta", Vote::Down)};
  const auto counts = tally(evidence, {"alpha", "beta", "gamma", "delta"}, Quorum{}, Quorum{});
  CHECK(counts.down == 2);
  CHECK(counts.down_quorum == 3);
  CHECK(raw_verdict(counts) == VerdictKind::Disputed);
}

TEST_CASE("the verdict rule at the quorum boundaries", "[quorum]") {
  // Five domains: down quorum 3, up quorum 3 (majority).
  const std::vector<std::string> domains{"a", "b", "c", "d", "e"};
  const auto [down, up, expected] = GENERATE(table<int, int, VerdictKind>({
      {0, 5, VerdictKind::Healthy},
      {0, 3, VerdictKind::Healthy},  // up exactly quorum
      {0, 2, VerdictKind::Unknown},  // up quorum - 1
      {0, 0, VerdictKind::Unknown},
      {1, 4, VerdictKind::Disputed},
      {2, 3, VerdictKind::Disputed},   // down quorum - 1
      {3, 2, VerdictKind::Unhealthy},  // down exactly quorum
      {3, 0, VerdictKind::Unhealthy},
      {5, 0, VerdictKind::Unhealthy},
  }));
  std::vector<Evidence> evidence;
  for (int i = 0; i < 5; ++i) {
    const Vote value = i < down ? Vote::Down : (i < down + up ? Vote::Up : Vote::Unknown);
    evidence.push_back(
        vote(domains[static_cast<std::size_t>(i)], domains[static_cast<std::size_t>(i)], value));
  }
  const auto counts = tally(evidence, domains, Quorum{}, Quorum{});
  CHECK(counts.down_quorum == 3);
  CHECK(counts.unknown == 5 - down - up);
  CHECK(raw_verdict(counts) == expected);
}

TEST_CASE("a reason names the domains and the quorum", "[quorum]") {
  const std::vector<Evidence> evidence{vote("a", "alpha", Vote::Down),
                                       vote("b", "beta", Vote::Down), vote("c", "gamma", Vote::Up)};
  const auto counts = tally(evidence, {"alpha", "beta", "gamma"}, Quorum{}, Quorum{});
  CHECK(describe(counts, raw_verdict(counts)) == "2 of 3 domains down (alpha, beta); quorum 2");

  const std::vector<Evidence> lone{vote("a", "alpha", Vote::Down), vote("b", "beta", Vote::Up),
                                   vote("c", "gamma", Vote::Up)};
  const auto lone_counts = tally(lone, {"alpha", "beta", "gamma"}, Quorum{}, Quorum{});
  CHECK(describe(lone_counts, raw_verdict(lone_counts)) ==
        "1 of 3 domains down (alpha), 2 up; down quorum 2");

  const std::vector<Evidence> sparse{vote("a", "alpha", Vote::Up)};
  const auto sparse_counts = tally(sparse, {"alpha", "beta", "gamma"}, Quorum{}, Quorum{});
  CHECK(describe(sparse_counts, raw_verdict(sparse_counts)) ==
        "only 1 of 3 domains up, none down; up quorum 2");
}
