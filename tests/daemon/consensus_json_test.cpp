// json/consensus_json.hpp: the one JSON mapping of VoteCounts, written by
// the API and storage and read back by storage and the CLI.
#include "json/consensus_json.hpp"

#include "json/write.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
using crosscheck::consensus::VoteCounts;

namespace {

VoteCounts sample() {
  VoteCounts votes;
  votes.up = 1;
  votes.down = 2;
  votes.unknown = 1;
  votes.down_quorum = 2;
  votes.up_quorum = 2;
  votes.known_domains = 5;
  votes.up_domains = {"eu"};
  votes.down_domains = {"us-east", "us-west"};
  votes.split_domains = {"ap"};
  votes.split = 1;
  return votes;
}

bool same(const VoteCounts& a, const VoteCounts& b) {
  return a.up == b.up && a.down == b.down && a.unknown == b.unknown &&
         a.down_quorum == b.down_quorum && a.up_quorum == b.up_quorum &&
         a.known_domains == b.known_domains && a.up_domains == b.up_domains &&
         a.down_domains == b.down_domains && a.split_domains == b.split_domains &&
         a.split == b.split;
}

}  // namespace

TEST_CASE("vote counts read back as they were written", "[json]") {
  const VoteCounts votes = sample();
  const std::string text = crosscheck::json_text::write(json::value_from(votes));
  CHECK(text == R"({"up":1,"down":2,"unknown":1,"down_quorum":2,"up_quorum":2,"split":1,)"
                R"("split_domains":["ap"],"known_domains":5,"up_domains":["eu"],)"
                R"("down_domains":["us-east","us-west"],"degraded":0,"degraded_domains":[]})");
  CHECK(same(json::value_to<VoteCounts>(json::parse(text)), votes));
}

TEST_CASE("vote counts read leniently: what is missing or mistyped is zero or empty", "[json]") {
  // An older row or another node's answer: fields absent, of the wrong
  // type, negative or beyond an int; never an exception.
  const auto read = [](std::string_view text) {
    return json::value_to<VoteCounts>(json::parse(text));
  };
  CHECK(same(read("null"), VoteCounts{}));
  CHECK(same(read("[1,2]"), VoteCounts{}));
  const VoteCounts partial = read(R"({"up":3,"down":"2","unknown":-1,"split":4294967296,)"
                                  R"("up_domains":["a",7,null,"b"],"down_domains":{}})");
  CHECK(partial.up == 3);
  CHECK(partial.down == 0);
  CHECK(partial.unknown == 0);
  CHECK(partial.split == 0);
  CHECK(partial.up_domains == std::vector<std::string>{"a", "b"});
  CHECK(partial.down_domains.empty());
}
