// Ad-hoc maintenance windows reach every peered oracle: a window set over
// one node's API holds the gates of the others within a pull, and its
// DELETE ends it there too. Three real `crosscheck run` processes on
// loopback, judged only through their REST APIs.
#include "three_nodes.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck::testing;

namespace {

// Node i's gate on web expecting healthy: its status and gate.code.
std::pair<int, std::string> gate_of(const ThreeNodes& nodes, std::size_t i) {
  const auto answer = nodes.get(i, "/v1/verdicts/web?expect=healthy");
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(answer.body, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* gate = object != nullptr ? object->if_contains("gate") : nullptr;
  std::string code;
  if (gate != nullptr && gate->is_object()) {
    code = ThreeNodes::text(gate->as_object(), "code");
  }
  return {answer.status, code};
}

HttpAnswer write(const ThreeNodes& nodes, std::size_t i, const std::string& method,
                 const std::string& body = {}) {
  return http_request("127.0.0.1", nodes.ports[i], method, "/v1/maintenance/web", body,
                      {{"Authorization", std::string("Bearer ") + ThreeNodes::k_api_token}});
}

}  // namespace

TEST_CASE("a maintenance window set on one node holds its peers' gates until it is cleared",
          "[e2e][peers][maintenance]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  REQUIRE(eventually([&] { return gate_of(nodes, 1).first == 200; }));  // proceeds before

  const auto set =
      write(nodes, 0, "PUT", R"({"reason":"kernel upgrade","ttl":"45m","by":"alice"})");
  INFO(set.body);
  REQUIRE(set.status == 200);
  // node-b never heard of it over its own API: it learns it at its next
  // pull of node-a (every 300 ms here) and holds.
  std::pair<int, std::string> held;
  const bool holds = eventually([&] {
    held = gate_of(nodes, 1);
    return held == std::pair<int, std::string>{423, "maintenance"};
  });
  INFO(nodes.logs());
  CAPTURE(held.first, held.second);
  REQUIRE(holds);
  // node-c too, at its own next pull (not necessarily before node-b's).
  CHECK(eventually([&] { return gate_of(nodes, 2).second == "maintenance"; }));
  // node-b's verdict names the window and the node that set it.
  const auto verdict = nodes.verdict(1);
  REQUIRE(verdict.at("maintenance").is_object());
  const auto& window = verdict.at("maintenance").as_object();
  CHECK(ThreeNodes::text(window, "source") == "api");
  CHECK(ThreeNodes::text(window, "node") == "node-a");
  CHECK(ThreeNodes::text(window, "by") == "alice");
  CHECK(ThreeNodes::text(window, "reason") == "kernel upgrade");
  // On node-a it is its own: no node named.
  CHECK(nodes.verdict(0).at("maintenance").as_object().at("node").is_null());

  const auto cleared = write(nodes, 0, "DELETE");
  INFO(cleared.body);
  REQUIRE(cleared.status == 200);
  const bool proceeds =
      eventually([&] { return gate_of(nodes, 1).first == 200 && gate_of(nodes, 2).first == 200; });
  CHECK(proceeds);
  CHECK(nodes.verdict(1).at("maintenance").is_null());
  CHECK(nodes.verdict(2).at("maintenance").is_null());
}

TEST_CASE("a window cleared on one node does not end a newer one set on another",
          "[e2e][peers][maintenance]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  REQUIRE(write(nodes, 0, "PUT", R"({"reason":"first","ttl":"45m","by":"alice"})").status == 200);
  REQUIRE(eventually([&] { return gate_of(nodes, 2).second == "maintenance"; }));
  // node-b sets a window on web too, ending later: every node shows it,
  // and holds both.
  REQUIRE(write(nodes, 1, "PUT", R"({"reason":"second","ttl":"45m","by":"bob"})").status == 200);
  // node-a must have pulled node-b's window too before it deletes its own:
  // until then it knows only its own, and the DELETE lifts its gate for a
  // pull (CI saw that race once).
  for (const std::size_t i : {std::size_t{0}, std::size_t{2}}) {
    REQUIRE(eventually([&] {
      const auto view = nodes.verdict(i).at("maintenance");
      return view.is_object() && ThreeNodes::text(view.as_object(), "reason") == "second";
    }));
  }
  // DELETE on node-a ends node-a's own window, everywhere; node-b's is
  // node-b's to end, and every node keeps it.
  REQUIRE(write(nodes, 0, "DELETE").status == 200);
  CHECK(write(nodes, 0, "DELETE").status == 404);  // node-b's is not node-a's to end
  const bool still = OracleHarness::wait_for(
      [&] {
        return gate_of(nodes, 0).second != "maintenance" ||
               gate_of(nodes, 2).second != "maintenance";
      },
      std::chrono::seconds(2));
  CHECK_FALSE(still);
  CHECK(gate_of(nodes, 1).second == "maintenance");
}

TEST_CASE("a shorter or cleared window of one node never ends a window set on another",
          "[e2e][peers][maintenance]") {
  // Found by a hostile review: "the newest window wins" let bob's window
  // of a second on node-b (or his DELETE of it) end alice's 45 minutes set
  // on node-a, on every node, and the gates proceeded inside her work.
  ThreeNodes nodes;
  nodes.require_all_healthy();
  REQUIRE(write(nodes, 0, "PUT", R"({"reason":"first","ttl":"45m","by":"alice"})").status == 200);
  REQUIRE(eventually([&] { return gate_of(nodes, 2).second == "maintenance"; }));
  REQUIRE(write(nodes, 1, "PUT", R"({"reason":"short","ttl":"1s","by":"bob"})").status == 200);
  const auto lifted = [&] {
    return OracleHarness::wait_for(
        [&] {
          return gate_of(nodes, 0).second != "maintenance" ||
                 gate_of(nodes, 1).second != "maintenance" ||
                 gate_of(nodes, 2).second != "maintenance";
        },
        std::chrono::milliseconds(2500));
  };
  CHECK_FALSE(lifted());  // bob's second ran out; alice's window still holds everywhere
  write(nodes, 1, "PUT", R"({"reason":"again","ttl":"45m","by":"bob"})");
  REQUIRE(eventually([&] {
    const auto view = nodes.verdict(2).at("maintenance");
    return view.is_object() && ThreeNodes::text(view.as_object(), "reason") == "again";
  }));
  REQUIRE(write(nodes, 1, "DELETE").status == 200);  // bob ends his, on every node
  CHECK_FALSE(lifted());
  for (std::size_t i = 0; i < 3; ++i) {
    const auto view = nodes.verdict(i).at("maintenance");
    REQUIRE(view.is_object());
    CHECK(ThreeNodes::text(view.as_object(), "reason") == "first");
  }
}

TEST_CASE(
    "a node restarted while the window's node is down still holds that window, and writes "
    "no end for it",
    "[e2e][peers][maintenance][restart]") {
  // Found by a hostile review: node-b restarted while node-a was down
  // ended node-a's window at its first evaluation (a false
  // maintenance_ended that also unsilences escalations), then started it
  // again once node-a came back.
  ThreeNodes nodes;
  nodes.require_all_healthy();
  REQUIRE(
      write(nodes, 0, "PUT", R"({"reason":"kernel upgrade","ttl":"45m","by":"alice"})").status ==
      200);
  REQUIRE(eventually([&] { return gate_of(nodes, 1).second == "maintenance"; }));
  nodes.kill(0);
  nodes.kill(1);
  nodes.start(1);
  REQUIRE(eventually([&] { return nodes.get(1, "/readyz").status == 200; }));
  const bool lifted = OracleHarness::wait_for(
      [&] { return gate_of(nodes, 1).second != "maintenance"; }, std::chrono::seconds(2));
  INFO(nodes.logs());
  CHECK_FALSE(lifted);
  const auto view = nodes.verdict(1).at("maintenance");
  REQUIRE(view.is_object());
  CHECK(ThreeNodes::text(view.as_object(), "node") == "node-a");
  const auto audit =
      http_request("127.0.0.1", nodes.ports[1], "GET",
                   "/v1/audit?target=web&action=maintenance_started,maintenance_ended", {},
                   {{"Authorization", std::string("Bearer ") + ThreeNodes::k_api_token}});
  REQUIRE(audit.status == 200);
  const auto lines = boost::json::parse(audit.body).at("audit").as_array();
  REQUIRE(lines.size() == 1);  // the start before the restart, and nothing since
  CHECK(lines[0].at("action") == "maintenance_started");
}
