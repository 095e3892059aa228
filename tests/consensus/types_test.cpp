#include "consensus/types.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;

namespace {

Evidence item(const std::string& vantage, Vote vote) {
  Evidence evidence;
  evidence.vantage = vantage;
  evidence.domain = vantage;
  evidence.vote = vote;
  evidence.raw_vote = vote;
  return evidence;
}

}  // namespace

TEST_CASE("an evidence list is shared by its copies and copied when one of them edits it",
          "[evidence]") {
  EvidenceList first{item("quad9", Vote::Up), item("google", Vote::Down)};
  const EvidenceList copy = first;
  CHECK(copy.same_list(first));
  REQUIRE(copy.size() == 2);
  CHECK(&copy[0] == &first[0]);  // one list, not two equal ones

  first.edit()[0].vote = Vote::Unknown;
  CHECK_FALSE(copy.same_list(first));
  CHECK(copy[0].vote == Vote::Up);  // the copy still says what it said
  CHECK(first[0].vote == Vote::Unknown);

  // A list nobody else holds is edited in place.
  const auto* before = &first[0];
  first.edit()[1].vote = Vote::Up;
  CHECK(&first[0] == before);
  CHECK(first[1].vote == Vote::Up);
}

TEST_CASE("an empty evidence list reads as an empty vector and grows like one", "[evidence]") {
  EvidenceList list;
  CHECK(list.empty());
  CHECK(list.begin() == list.end());
  const std::vector<Evidence>& items = list;
  CHECK(items.empty());
  const EvidenceList empty_copy = list;
  list.push_back(item("quad9", Vote::Down));
  CHECK(list.size() == 1);
  CHECK(list.front().vantage == "quad9");
  CHECK(empty_copy.empty());
  CHECK(EvidenceList(std::vector<Evidence>{}).empty());
}
