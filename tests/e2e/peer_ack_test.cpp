// Acks from a peer, against the real daemon: a peer whose replies verify
// may still lie. Its ack of our entry in a third node's name is relayed
// from nowhere it can vouch for: ignored (the cooldown holds, counted and
// logged); an ack it made itself is taken (docs/gate.md "Cooldown").
#include "oracle_harness.hpp"
#include "peer_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <mutex>
#include <string>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// bad-peer's export: no votes, and `actions` as the test sets them.
class LyingPeer {
 public:
  LyingPeer() {
    server_.respond_with("/v1/peer/votes", [this](const RecordedRequest& request) {
      json::object body{{"node", "bad-peer"}, {"version", 1}, {"votes", json::array{}}};
      {
        const std::lock_guard lock(mutex_);
        body["actions"] = actions_;
      }
      auto answer = FakeResponse::with_status(200, json::serialize(body));
      answer.headers.emplace_back("Content-Type", "application/json");
      sign_as_bad_peer(answer, request);
      return answer;
    });
  }
  void set_actions(json::array actions) {
    const std::lock_guard lock(mutex_);
    actions_ = std::move(actions);
  }
  std::string url() const { return server_.url("127.0.0.1", ""); }

 private:
  std::mutex mutex_;
  json::array actions_;
  FakeHttpServer server_;
};

// `action` (as the API shows it) acknowledged by mallory on `node`.
json::object acked_on(json::object action, const std::string& node) {
  action["ack"] =
      json::object{{"by", "mallory"}, {"note", "lifted"}, {"at", action.at("at")}, {"node", node}};
  return action;
}

}  // namespace

TEST_CASE(
    "a peer's relayed ack made on a third node lifts no cooldown, but an ack the peer made "
    "itself does",
    "[e2e][peers][bad_peer][cooldown]") {
  LyingPeer peer;
  OracleWithPeer node(peer.url(), "", "60s");
  OracleHarness& oracle = node.oracle;
  const bool ready = OracleHarness::wait_for(
      [&] {
        return oracle.get("/readyz").status == 200 && oracle.verdict().at("verdict") == "healthy";
      },
      15s);
  REQUIRE(ready);
  const auto recorded = oracle.send("POST", "/v1/actions",
                                    R"({"target": "web", "what": "promote db-2", "by": "bot"})");
  REQUIRE(recorded.status == 201);
  const auto action = json::parse(recorded.body).at("action").as_object();
  const std::string id(action.at("id").as_string());
  REQUIRE_FALSE(oracle.verdict().at("cooldown").is_null());

  // The lie: "node-c acked your entry". bad-peer made no such ack, and the
  // entry is ours, not bad-peer's.
  peer.set_actions(json::array{acked_on(action, "node-c")});
  const std::string ignored = R"(crosscheck_peer_action_acks_ignored_total{peer="bad-peer"})";
  CHECK(metric(oracle, ignored) == 0);
  const bool counted =
      OracleHarness::wait_for([&] { return metric(oracle, ignored).value_or(0) >= 2; }, 15s);
  CHECK(counted);
  CHECK_FALSE(oracle.verdict().at("cooldown").is_null());
  CHECK(oracle.verdict().at("cooldown").at("action").as_string() == id);
  const auto listed = json::parse(oracle.send("GET", "/v1/actions?target=web").body);
  CHECK(listed.at("actions").as_array().at(0).at("ack").is_null());
  CHECK_THAT(node.log(), Catch::Contains("ack of action \"" + id +
                                         "\" from bad-peer ignored: made on \"node-c\""));

  // bad-peer's own ack (made there, as a human acking on bad-peer would):
  // taken, and the cooldown ends here too.
  peer.set_actions(json::array{acked_on(action, "bad-peer")});
  const bool lifted =
      OracleHarness::wait_for([&] { return oracle.verdict().at("cooldown").is_null(); }, 15s);
  CHECK(lifted);
  const auto after = json::parse(oracle.send("GET", "/v1/actions?target=web").body);
  CHECK(after.at("actions").as_array().at(0).at("ack").at("node") == "bad-peer");
  CHECK(WEXITSTATUS(node.stop()) == 0);
}
