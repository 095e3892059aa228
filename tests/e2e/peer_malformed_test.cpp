// One bad entry costs itself, against the real daemon (docs/peers.md): a
// peer whose signed export holds one malformed vote among good ones still
// has its good votes counted; the bad one is counted in
// crosscheck_peer_votes_dropped_total and logged once, not at every pull.
#include "oracle_harness.hpp"
#include "peer_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <string>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

json::object vote(const std::string& vantage, const std::string& says) {
  return json::object{
      {"target", "web"},  {"vantage", vantage}, {"domain", "far"},  {"vote", says},
      {"age_ms", 0},      {"layer", "none"},    {"detail", "fine"}, {"answers", json::array{}},
      {"latency_ms", 1.5}};
}

// `vantage`'s vote on web in the oracle's evidence ("" when absent).
std::string vote_of(const OracleHarness& oracle, const std::string& vantage) {
  const auto verdict = oracle.verdict();
  const auto* evidence = verdict.if_contains("evidence");
  if (evidence == nullptr || !evidence->is_array()) {
    return "";
  }
  for (const auto& item : evidence->get_array()) {
    const auto& object = item.as_object();
    const auto* name = object.if_contains("vantage");
    if (name != nullptr && name->is_string() && name->get_string() == vantage) {
      return std::string(object.at("vote").as_string());
    }
  }
  return "";
}

}  // namespace

TEST_CASE(
    "a peer's one malformed vote is left out alone: its good votes count and the bad is counted",
    "[e2e][peers][bad_peer]") {
  FakeHttpServer peer;
  peer.respond_with("/v1/peer/votes", [](const RecordedRequest& request) {
    json::object body{
        {"node", "bad-peer"},
        {"version", 1},
        {"votes", json::array{vote("good1", "up"), vote("odd", "sideways"), vote("good2", "up")}}};
    auto answer = FakeResponse::with_status(200, json::serialize(body));
    answer.headers.emplace_back("Content-Type", "application/json");
    sign_as_bad_peer(answer, request);
    return answer;
  });
  OracleWithPeer node(peer.url("127.0.0.1", ""), "", "60s");
  OracleHarness& oracle = node.oracle;
  const std::string dropped = R"(crosscheck_peer_votes_dropped_total{peer="bad-peer"})";
  const bool counted = OracleHarness::wait_for(
      [&] {
        return oracle.get("/readyz").status == 200 && vote_of(oracle, "bad-peer/good1") == "up" &&
               vote_of(oracle, "bad-peer/good2") == "up" &&
               metric(oracle, dropped).value_or(0) >= 2;
      },
      20s);
  REQUIRE(counted);
  CHECK(vote_of(oracle, "bad-peer/odd").empty());
  // Every pull left it out, but the reason did not change: one line.
  const auto log = node.log();
  const std::string line =
      R"(peer bad-peer: left out 1 malformed entries of its export, the rest counts; the first: )"
      R"(votes[1]: unknown vote value "sideways")";
  CHECK_THAT(log, Catch::Contains(line));
  CHECK(log.find(line) == log.rfind(line));
  CHECK(metric(oracle,
               R"(crosscheck_peer_pull_failures_total{peer="bad-peer",reason="bad_export"})") == 0);
  CHECK(WEXITSTATUS(node.stop()) == 0);
}
