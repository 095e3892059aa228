// Tests what a peer's export may hold at the edges of its bounds
// (peers/protocol.cpp decode_export, peers/window_codec.cpp, import_pull in
// peers/client.cpp): duplicates, sizes, nesting, lists past their count,
// text a terminal would act on. DESIGN.md: anything that can move a verdict
// is authenticated and bounded; one bad entry never hides the others.
#include "peers/client.hpp"
#include "peers/protocol.hpp"
#include "peers/window_codec.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

namespace cs = crosscheck::consensus;
namespace peers = crosscheck::peers;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

std::string vote_json(const std::string& target, const std::string& vantage,
                      const std::string& vote, const std::string& extra = "",
                      const std::string& age = "0") {
  return R"({"target":")" + target + R"(","vantage":")" + vantage + R"(","domain":")" + vantage +
         R"(","vote":")" + vote + R"(","age_ms":)" + age +
         R"(,"layer":"none","detail":"d","answers":[],"latency_ms":)" +
         (extra.empty() ? std::string("1") : extra) + "}";
}

std::string export_of(const std::vector<std::string>& votes, const std::string& tail = "") {
  std::string body = R"({"node":"oracle-b","version":2,"votes":[)";
  for (std::size_t i = 0; i < votes.size(); ++i) {
    body += (i == 0 ? "" : ",") + votes[i];
  }
  return body + "]" + tail + "}";
}

}  // namespace

// A malformed duplicate never suppresses the good one, whichever comes
// first, and the bad one is counted; the malformed field being the last
// one the decoder reads (latency_ms, after vote/age/layer were filled)
// leaves nothing of it behind.
TEST_CASE("a malformed duplicate vote never suppresses nor alters the good one", "[peers]") {
  const auto good = vote_json("web", "hetzner", "down");
  const auto bad = vote_json("web", "hetzner", "up", R"("fast")");
  const bool bad_first = GENERATE(true, false);
  std::string why;
  const auto decoded = peers::decode_export(
      export_of(bad_first ? std::vector{bad, good} : std::vector{good, bad}), "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  REQUIRE(decoded->votes.size() == 1);
  CHECK(decoded->votes[0].vote == cs::Vote::Down);
  CHECK(decoded->votes[0].latency_ms == 1);
  CHECK(decoded->malformed == 1);
  CHECK_THAT(decoded->first_malformed, Catch::Contains("latency_ms"));
}

// Two well-formed votes for one (target, vantage) with opposite values in
// one export: the vantage counts once (never two votes), whichever wins.
TEST_CASE("duplicate good votes for one target and vantage count as one vote", "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  World world(std::move(policy));
  std::string why;
  const auto decoded = peers::decode_export(
      export_of({vote_json("web", "hetzner", "down"), vote_json("web", "hetzner", "up"),
                 vote_json("web", "hetzner", "down")}),
      "oracle-b", why);
  REQUIRE(decoded);
  REQUIRE(decoded->votes.size() == 3);
  const auto imported =
      peers::import_pull(world.engine(), peers::PeerPull{*decoded, 1ms}, world.now());
  CHECK(imported.vantages == std::vector<std::string>{"oracle-b/hetzner"});
  world.evaluate();
  const auto& verdict = world.verdict("web");
  CHECK(verdict.votes.down + verdict.votes.up <= 1);
  const auto item = std::find_if(
      verdict.evidence.begin(), verdict.evidence.end(),
      [](const cs::Evidence& evidence) { return evidence.vantage == "oracle-b/hetzner"; });
  REQUIRE(item != verdict.evidence.end());
  CHECK(item->vote == cs::Vote::Down);  // the last one in the export
}

// Bounded: at 1 MiB the number of well-formed votes is bounded by the body,
// and decoding them is quick.
TEST_CASE("a 1 MiB export of valid votes decodes in bounded time and count", "[peers]") {
  std::vector<std::string> votes;
  std::size_t size = 64;
  for (int i = 0; size < peers::k_peer_body_limit - 200; ++i) {
    votes.push_back(vote_json("t" + std::to_string(i), "v", "down"));
    size += votes.back().size() + 1;
  }
  const auto start = std::chrono::steady_clock::now();
  std::string why;
  const auto decoded = peers::decode_export(export_of(votes), "oracle-b", why);
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->votes.size() == votes.size());
  CHECK(votes.size() < 12'000);
  CHECK(took < 2s);
}

// first_malformed goes into a log line: terminal escapes, newlines and
// huge text from the peer come out printable ASCII of at most 300 bytes,
// whichever field carried them (an unknown key, a vote value, an action's
// or a window's error).
TEST_CASE("first_malformed carries no terminal escape and stays bounded", "[peers]") {
  const std::string escape = "\\u001b]0;pwned\\u0007\\u001b[2J\\r\\nFAKE LOG LINE \\u009b31m";
  const std::string huge(5000, 'A');
  const auto [label, body] = GENERATE_COPY(table<std::string, std::string>({
      {"unknown key", export_of({R"({")" + escape + huge + R"(":1})"})},
      {"vote value", export_of({vote_json("web", "hetzner", escape + huge)})},
      {"layer",
       export_of({R"({"target":"web","vantage":"v","domain":"d","vote":"up","age_ms":0,"layer":")" +
                  escape + R"(","detail":"","answers":[],"latency_ms":0})"})},
      {"action", export_of({}, R"(,"actions":[{")" + escape + huge + R"(":")" + escape + R"("}])")},
      {"window", export_of({}, R"(,"windows":[{"target":"web","node":"oracle-b","set_at":")" +
                                   escape + R"(","expires_at":"x","reason":"r","by":"b"}])")},
  }));
  CAPTURE(label);
  std::string why;
  const auto decoded = peers::decode_export(body, "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  REQUIRE(decoded->malformed == 1);
  const auto& said = decoded->first_malformed;
  CHECK(said.size() <= peers::k_peer_max_malformed_bytes);
  CHECK(std::all_of(said.begin(), said.end(), [](char c) { return c >= ' ' && c <= '~'; }));
}

// A vote's domain and detail go into the evidence `crosscheck explain` and
// the API show, and (the domain) into log lines: they are held to
// text::printable_line's rules, as this node's encoder holds its own. A C1
// control (U+009B, an 8-bit CSI) or a bidi override (U+202E) passed the
// byte-wise control check. A domain with one is malformed (it is a name);
// a detail only describes the vote: the character is marked '?'.
TEST_CASE("a peer's domain and detail cannot carry C1 controls or bidi overrides", "[peers]") {
  const std::string csi =
      "\xc2\x9b"
      "31m";
  const std::string rlo = "\xe2\x80\xae";
  const std::string lri = "\xe2\x81\xa6";
  const auto vote = [](const std::string& vantage, const std::string& domain,
                       const std::string& detail) {
    return R"({"target":"web","vantage":")" + vantage + R"(","domain":")" + domain +
           R"(","vote":"up","age_ms":0,"layer":"none","detail":")" + detail + R"(","answers":["a)" +
           detail + R"("],"latency_ms":0})";
  };
  const std::string body =
      export_of({vote("v1", "evil" + csi, "ok"), vote("v2", "bidi" + rlo, "ok"),
                 vote("v3", "hetzner", "ok" + rlo + "gnp.exe" + lri), vote("v4", "ovh", "ok")});
  std::string why;
  const auto decoded = peers::decode_export(body, "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->malformed == 2);
  CHECK_THAT(decoded->first_malformed,
             Catch::StartsWith("votes[0]: domain must be") && Catch::Contains("control"));
  REQUIRE(decoded->votes.size() == 2);
  CHECK(decoded->votes[0].domain == "hetzner");
  CHECK(decoded->votes[0].detail == "ok???gnp.exe???");
  CHECK(decoded->votes[0].answers == std::vector<std::string>{"aok???gnp.exe???"});
  CHECK(decoded->votes[1].detail == "ok");
}

// A peer whose ledger holds 501 entries in cooldown (a newer version with
// a higher cap, a bug) went blind at every puller: the list over its bound
// refused the export, votes and all. The first 500 are read, the rest left
// out and counted under one reason.
TEST_CASE("an actions or windows list past its bound keeps the first 500 and the node's votes",
          "[peers]") {
  const std::string list = GENERATE(as<std::string>{}, "actions", "windows");
  CAPTURE(list);
  const auto bound = list == "actions" ? peers::k_peer_max_actions : peers::k_peer_max_windows;
  std::string actions = ",\"" + list + "\":[";
  for (std::size_t i = 0; i <= bound; ++i) {
    actions += (i == 0 ? "" : ",") + std::string("0");
  }
  actions += "]";
  std::string why;
  const auto decoded = peers::decode_export(
      export_of({vote_json("web", "hetzner", "down")}, actions), "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->votes.size() == 1);
  // The 500 read are not objects either: each is left out too.
  CHECK(decoded->malformed == bound + 1);
  CHECK(decoded->first_malformed == list + "[500] on: 1 entry past the first 500 left out");
  CHECK(decoded->actions.empty());
  CHECK(decoded->windows.empty());
}

// A malformed entry the JSON parser would refuse at Boost.JSON's default
// depth (32) made the whole body "not JSON", hiding every vote of the
// node; nested up to k_peer_max_depth it is one malformed vote. Numbers
// the parser reads as a double out of range cost only their vote too.
TEST_CASE("an entry too deep or too large for the JSON parser's defaults hides no other vote",
          "[peers]") {
  const auto [label, entry] = GENERATE(table<std::string, std::string>({
      {"nested answers",
       R"({"target":"web","vantage":"v2","domain":"v2","vote":"up","age_ms":0,"layer":"none","detail":"","answers":[)" +
           std::string(40, '[') + std::string(40, ']') + R"(],"latency_ms":0})"},
      {"huge latency",
       R"({"target":"web","vantage":"v2","domain":"v2","vote":"up","age_ms":0,"layer":"none","detail":"","answers":[],"latency_ms":1e400})"},
      {"huge age",
       R"({"target":"web","vantage":"v2","domain":"v2","vote":"up","age_ms":123456789012345678901234567890,"layer":"none","detail":"","answers":[],"latency_ms":0})"},
  }));
  CAPTURE(label);
  std::string why;
  const auto decoded = peers::decode_export(
      export_of({vote_json("web", "hetzner", "down"), entry, vote_json("db", "hetzner", "down")}),
      "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->votes.size() == 2);
  CHECK(decoded->malformed == 1);
}

// Past k_peer_max_depth the body is refused whole, saying so (the depth
// bounds the recursion that frees a parsed value).
TEST_CASE("an export nested deeper than the peer bound is refused as not JSON", "[peers]") {
  const auto depth = peers::k_peer_max_depth + 1;
  const std::string entry =
      R"({"target":"web","vantage":"v2","domain":"v2","vote":"up","age_ms":0,"layer":"none","detail":"","answers":)" +
      std::string(depth, '[') + std::string(depth, ']') + R"(,"latency_ms":0})";
  std::string why;
  CHECK_FALSE(peers::decode_export(export_of({vote_json("web", "hetzner", "down"), entry}),
                                   "oracle-b", why));
  CHECK(why == "not JSON: nested deeper than 128 levels");
}
