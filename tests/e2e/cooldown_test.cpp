// The action ledger end to end: the gate that records its action lets one
// failover through, holds the next (even a concurrent one, and after a
// restart) until a human acknowledges it; all through the REST API of a
// real Service with real storage on loopback.
#include "cli/gate_command.hpp"
#include "oracle_harness.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

using crosscheck::testing::OracleHarness;
namespace json = boost::json;

namespace {

constexpr const char* k_gate = "/v1/verdicts/web/gate?expect=unhealthy&for=dns";
constexpr const char* k_read_gate = "/v1/verdicts/web?expect=unhealthy&for=dns";
constexpr const char* k_switch = R"({"what": "switch to the secondary DNS", "by": "bot"})";

std::string code_of(const crosscheck::testing::HttpAnswer& answer) {
  return std::string(json::parse(answer.body).at("gate").at("code").as_string());
}

}  // namespace

TEST_CASE(
    "a recorded failover holds the next one, concurrent or after a restart, until it is "
    "acknowledged",
    "[e2e][cooldown]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  // Recording needs the gate to proceed: on a healthy verdict nothing is recorded.
  const auto early = oracle.send("POST", k_gate, k_switch);
  CHECK(early.status == 409);
  CHECK_FALSE(json::parse(early.body).as_object().contains("action"));
  for (auto* server : {&oracle.alpha, &oracle.beta, &oracle.gamma}) {
    oracle.lie(*server);
  }
  REQUIRE(oracle.wait_for_verdict("unhealthy"));
  REQUIRE(oracle.wait_for([&] { return oracle.get(k_read_gate).status == 200; }));  // the GET form

  // Two scripts at once: exactly one proceeds and is recorded.
  auto first =
      std::async(std::launch::async, [&] { return oracle.send("POST", k_gate, k_switch); });
  auto second =
      std::async(std::launch::async, [&] { return oracle.send("POST", k_gate, k_switch); });
  const auto a = first.get();
  const auto b = second.get();
  std::multiset<int> statuses{a.status, b.status};
  REQUIRE(statuses == std::multiset<int>{200, 423});
  const auto& won = a.status == 200 ? a : b;
  const auto& lost = a.status == 200 ? b : a;
  const auto action = json::parse(won.body).at("action").as_object();
  const std::string id(action.at("id").as_string());
  CHECK(action.at("what") == "switch to the secondary DNS");
  CHECK(action.at("for") == "dns");
  CHECK(action.at("ack").is_null());
  CHECK(code_of(lost) == "cooldown");
  CHECK(code_of(oracle.get(k_read_gate)) == "cooldown");
  CHECK(oracle.verdict().at("cooldown").at("action").as_string() == id);
  // Bad input records nothing.
  CHECK(oracle.send("POST", k_gate, R"({"what": ""})").status == 400);
  CHECK(oracle.send("POST", "/v1/actions", R"({"target": "nope", "what": "x"})").status == 404);

  // A restart keeps the cooldown: once the verdict is fresh again, it holds.
  oracle.stop();
  oracle.start();
  REQUIRE(oracle.wait_for([&] {
    const auto verdict = oracle.verdict();
    return verdict.contains("fresh") && verdict.at("fresh") == true &&
           verdict.at("verdict") == "unhealthy";
  }));
  const auto after = oracle.get(k_read_gate);
  CHECK(after.status == 423);
  CHECK(code_of(after) == "cooldown");
  const auto listed = json::parse(oracle.send("GET", "/v1/actions?target=web").body);
  REQUIRE(listed.at("actions").as_array().size() == 1);
  CHECK(listed.at("actions").as_array()[0].at("id").as_string() == id);

  // A human acknowledges it: the next failover may proceed (and is recorded).
  const auto ack =
      oracle.send("POST", "/v1/actions/" + id + "/ack", R"({"by": "alice", "note": "checked"})");
  REQUIRE(ack.status == 200);
  CHECK(json::parse(ack.body).at("action").at("ack").at("by") == "alice");
  CHECK(oracle.send("POST", "/v1/actions/" + id + "/ack").status == 409);
  CHECK(oracle.send("POST", "/v1/actions/oracle-x-99/ack").status == 404);
  CHECK(oracle.verdict().at("cooldown").is_null());
  const auto next = oracle.send("POST", k_gate, k_switch);
  REQUIRE(next.status == 200);
  CHECK(json::parse(next.body).at("action").at("id").as_string() != id);

  // The CLI records like the POST form: the next `gate --record` holds
  // (exit 3) while the one above is in cooldown.
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string> args{"web",
                                      "--oracle",
                                      oracle.oracle_url(),
                                      "--expect",
                                      "unhealthy",
                                      "--for",
                                      "dns",
                                      "--record",
                                      "second switch",
                                      "--token-file",
                                      oracle.token_file().string()};
  CHECK(crosscheck::cli::run_gate_command(args, out, err) == crosscheck::cli::k_gate_hold);
  CHECK_THAT(out.str() + err.str(), Catch::Contains("cooldown"));
  const auto listed_after = json::parse(oracle.send("GET", "/v1/actions?target=web").body);
  CHECK(listed_after.at("actions").as_array().size() == 2);  // the hold recorded nothing

  const auto audit = json::parse(
      oracle.send("GET", "/v1/audit?target=web&action=action_recorded,action_acked").body);
  std::vector<std::string> lines;
  for (const auto& line : audit.at("audit").as_array()) {
    lines.emplace_back(std::string(line.at("action").as_string()) + " " +
                       std::string(line.at("outcome").as_string()));
  }
  // Newest first; the second ack was refused (409) and says so.
  CHECK(lines == std::vector<std::string>{"action_recorded done", "action_acked refused",
                                          "action_acked done", "action_recorded done"});
  // Acknowledged, the CLI's own record proceeds (exit 0) and says its id.
  const std::string next_id(json::parse(next.body).at("action").at("id").as_string());
  REQUIRE(oracle.send("POST", "/v1/actions/" + next_id + "/ack").status == 200);
  std::ostringstream proceed_out;
  CHECK(crosscheck::cli::run_gate_command(args, proceed_out, err) ==
        crosscheck::cli::k_gate_proceed);
  CHECK_THAT(proceed_out.str(), Catch::Contains("recorded as"));
  CHECK(oracle.get(k_read_gate).status == 423);
}

TEST_CASE(
    "a cooldown recorded before its target was removed holds it again when a reload re-adds it",
    "[e2e][cooldown]") {
  OracleHarness oracle;
  oracle.append_config("  - name: other\n    dns: { name: other.test }\n");
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto recorded =
      oracle.send("POST", "/v1/actions", R"({"target": "web", "what": "promote web-2"})");
  REQUIRE(recorded.status == 201);
  const std::string id(json::parse(recorded.body).at("action").at("id").as_string());
  CHECK(oracle.verdict().at("cooldown").at("action").as_string() == id);

  std::ostringstream text;
  text << std::ifstream(oracle.config_path()).rdbuf();
  const std::string with_web = text.str();
  const auto web_at = with_web.find("  - name: web\n");
  const auto other_at = with_web.find("  - name: other\n");
  REQUIRE(web_at != std::string::npos);
  REQUIRE(other_at > web_at);
  const std::string without_web = with_web.substr(0, web_at) + with_web.substr(other_at);
  const auto write = [&](const std::string& yaml) {
    std::ofstream(oracle.config_path(), std::ios::trunc) << yaml;
  };

  write(without_web);
  oracle.reload();
  REQUIRE(oracle.wait_for([&] { return oracle.get("/v1/verdicts/web").status == 404; }));
  write(with_web);
  oracle.reload();
  REQUIRE(oracle.wait_for([&] { return oracle.get("/v1/verdicts/web").status == 200; }));
  // Re-added: the ledger's cooldown holds it again.
  CHECK(oracle.verdict().at("cooldown").at("action").as_string() == id);
}
