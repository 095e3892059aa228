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
  // node-b sets a newer window on web; node-a's own older one ends on node-a.
  REQUIRE(write(nodes, 1, "PUT", R"({"reason":"second","ttl":"45m","by":"bob"})").status == 200);
  REQUIRE(eventually([&] {
    const auto view = nodes.verdict(2).at("maintenance");
    return view.is_object() && ThreeNodes::text(view.as_object(), "reason") == "second";
  }));
  // DELETE on node-a ends whatever node-a holds (node-b's window, here
  // only); the tombstone it sends names no window of its own still live,
  // so node-c keeps node-b's.
  write(nodes, 0, "DELETE");
  const bool still = OracleHarness::wait_for(
      [&] { return gate_of(nodes, 2).second != "maintenance"; }, std::chrono::seconds(2));
  CHECK_FALSE(still);
  CHECK(gate_of(nodes, 1).second == "maintenance");
}
