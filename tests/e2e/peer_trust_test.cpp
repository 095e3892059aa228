// Peer replies that fail their signature check, against the real daemon: a
// forged, replayed or wrongly signed export at a peer's URL moves no verdict
// and opens one peer_unauthenticated escalation; a forger that lets every
// other genuine reply through keeps that one episode open until the peer's
// replies verify three pulls in a row.
#include "oracle_harness.hpp"
#include "peer_fixture.hpp"
#include "peers/auth.hpp"
#include "support/fake_http_server.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

using namespace crosscheck::testing;
using namespace std::chrono_literals;

namespace {

enum class Forgery : std::uint8_t {
  Unsigned,  // no X-Crosscheck-Reply-Signature at all
  OtherKey,  // signed for the pull, but not with the shared key
  Replayed,  // signed with the shared key, for another (earlier) pull's nonce
};

// The issue's forged export: node bad-peer (its name, as the puller expects)
// says web is down from two vantages in two failure domains, x and y, both
// of which bad-peer may speak for. Counted, D = 2 and web would no longer be
// healthy on an oracle whose three own domains see it up.
std::string forged_export() {
  std::string votes;
  for (const auto* domain : {"x", "y"}) {
    votes += std::string(votes.empty() ? "" : ",") + R"({"target":"web","vantage":"v-)" + domain +
             R"(","domain":")" + domain +
             R"(","vote":"down","age_ms":0,"layer":"http","detail":"lies","answers":[],)"
             R"("latency_ms":1})";
  }
  return R"({"node":"bad-peer","version":1,"votes":[)" + votes + "]}";
}

}  // namespace

TEST_CASE(
    "a forged, replayed or wrongly signed reply at a peer's URL moves no verdict, "
    "peer_unauthenticated opens and the refusal is counted",
    "[e2e][peers][bad_peer][trust]") {
  const auto [forgery, reason] = GENERATE(table<Forgery, std::string>({
      {Forgery::Unsigned, "missing"},
      {Forgery::OtherKey, "bad_signature"},
      {Forgery::Replayed, "bad_signature"},
  }));
  CAPTURE(static_cast<int>(forgery));
  const std::string expected_reason = reason;  // clang 14: no structured binding in a lambda
  const std::string body = forged_export();
  auto answer = FakeResponse::with_status(200, body);
  answer.headers.emplace_back("Content-Type", "application/json");
  if (forgery != Forgery::Unsigned) {
    // What a recorder on the path kept of an earlier pull of the oracle
    // ("e2e"): its timestamp and nonce are not those of any later pull.
    const auto earlier = crosscheck::peers::sign_peer_request(
        "e2e", "shared-peer-secret", "GET", "/v1/peer/votes",
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    const std::string key =
        forgery == Forgery::OtherKey ? "not-the-shared-key" : "shared-peer-secret";
    answer.headers.emplace_back(
        "X-Crosscheck-Reply-Signature",
        crosscheck::peers::sign_peer_reply(
            key, {"bad-peer", "e2e", earlier.timestamp, earlier.nonce}, body));
  }
  FakeHttpServer forger;
  forger.set("/v1/peer/votes", answer);
  OracleWithPeer node(forger.url("127.0.0.1", ""), ", domains: [x, y]");
  OracleHarness& oracle = node.oracle;
  const bool healthy = OracleHarness::wait_for(
      [&] {
        return oracle.get("/readyz").status == 200 && oracle.verdict().at("verdict") == "healthy";
      },
      15s);
  REQUIRE(healthy);

  // Pulled and refused at least twice, escalated, counted; while waiting,
  // the verdict never leaves healthy.
  bool stayed_healthy = true;
  const std::string series = R"(crosscheck_peer_replies_refused_total{peer="bad-peer",reason=")" +
                             expected_reason + R"("})";
  const bool refused = OracleHarness::wait_for(
      [&] {
        stayed_healthy = stayed_healthy && oracle.verdict().at("verdict") == "healthy";
        return forger.request_count() >= 2 && metric(oracle, series).value_or(0) >= 2 &&
               oracle.get("/v1/escalations").body.find("peer_unauthenticated") != std::string::npos;
      },
      15s);
  INFO(oracle.get("/v1/escalations").body);
  CHECK(refused);
  CHECK(stayed_healthy);
  CHECK_THAT(node.log(), Catch::Contains("peer bad-peer: reply refused (" + expected_reason + ")"));
  CHECK_THAT(node.log(), Catch::Contains("none of its votes count"));
  // Nothing of the forged export reached the engine.
  CHECK(oracle.verdict().at("verdict") == "healthy");
  CHECK(oracle.get("/v1/verdicts/web").body.find("lies") == std::string::npos);
  CHECK(oracle.get("/v1/vantages").body.find("bad-peer/") == std::string::npos);
  // One episode for the whole run of refusals.
  const auto escalations = oracle.get("/v1/escalations").body;
  CHECK(escalations.find("peer_unauthenticated") == escalations.rfind("peer_unauthenticated"));
  CHECK(WEXITSTATUS(node.stop()) == 0);
}

namespace {

// bad-peer's genuine export: web up from its vantage v-x in domain x.
std::string genuine_export() {
  return R"({"node":"bad-peer","version":1,"votes":[{"target":"web","vantage":"v-x","domain":"x",)"
         R"("vote":"up","age_ms":0,"layer":"http","detail":"ok","answers":[],"latency_ms":1}]})";
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE(
    "a path that alternates forged and genuine replies keeps one peer_unauthenticated open, "
    "three verified replies in a row close it",
    "[e2e][peers][bad_peer][trust]") {
  std::atomic<bool> honest{false};
  std::atomic<std::size_t> forged{0};
  std::atomic<std::size_t> genuine{0};
  FakeHttpServer peer;
  // Every other reply unsigned while `honest` is false (a forger on the path
  // lets the rest through), then every reply signed for its own pull.
  peer.respond_with("/v1/peer/votes", [&](const RecordedRequest& request) {
    auto answer = FakeResponse::with_status(200, genuine_export());
    answer.headers.emplace_back("Content-Type", "application/json");
    if (!honest && (forged + genuine) % 2 == 0) {
      ++forged;
      return answer;
    }
    ++genuine;
    sign_as_bad_peer(answer, request);
    return answer;
  });
  OracleWithPeer node(peer.url("127.0.0.1", ""), ", domains: [x]", "60s");
  OracleHarness& oracle = node.oracle;
  const bool ready =
      OracleHarness::wait_for([&] { return oracle.get("/readyz").status == 200; }, 15s);
  REQUIRE(ready);

  // Four of each, alternating: one episode, never resolved in between, and
  // the genuine replies' vote counts.
  const bool flapped = OracleHarness::wait_for([&] { return forged >= 4 && genuine >= 4; }, 30s);
  REQUIRE(flapped);
  const bool counted = OracleHarness::wait_for(
      [&] { return oracle.get("/v1/vantages").body.find("bad-peer/v-x") != std::string::npos; },
      10s);
  CHECK(counted);
  CHECK(oracle.get("/v1/escalations").body.find("peer_unauthenticated") != std::string::npos);
  CHECK(count_of(node.log(), "escalation kind=peer_unauthenticated") == 1);
  CHECK(count_of(node.log(), "escalation resolved kind=peer_authenticated") == 0);

  // Honest from now on: closed after three verified replies, once.
  honest = true;
  const auto genuine_before = genuine.load();
  const bool closed = OracleHarness::wait_for(
      [&] {
        return oracle.get("/v1/escalations").body.find("peer_unauthenticated") == std::string::npos;
      },
      15s);
  CHECK(closed);
  CHECK(genuine - genuine_before >= 2);  // the alternation may have ended on a genuine one
  CHECK(count_of(node.log(), "escalation resolved kind=peer_authenticated") == 1);
  CHECK_THAT(node.log(), Catch::Contains("answered 3 pulls in a row with a verified reply"));
  CHECK(count_of(node.log(), "escalation kind=peer_unauthenticated") == 1);
  CHECK(oracle.verdict().at("verdict") == "healthy");
  CHECK(WEXITSTATUS(node.stop()) == 0);
}
