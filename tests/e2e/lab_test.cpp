// The offline demo, end to end: the real `crosscheck lab` binary plays each
// scenario (fast timings) while this test follows the oracle through its
// REST API, as an operator would, and checks the verdicts it goes through.
#include "support/child_process.hpp"
#include "support/http_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto k_scenario_deadline = 90s;

// "disputed/healthy" for GET /v1/verdicts/shop's verdict and held fields;
// "" while the API does not answer.
std::string shop_state(unsigned short port) {
  const auto answer = http_request("127.0.0.1", port, "GET", "/v1/verdicts/shop", {}, {}, 1s);
  if (answer.status != 200) {
    return {};
  }
  const auto body = json::parse(answer.body).as_object();
  std::string state(body.at("verdict").as_string());
  if (const auto* held = body.if_contains("held"); held != nullptr && held->is_string()) {
    state += "/" + std::string(held->as_string());
  }
  return state;
}

struct LabRun {
  int exit_status = -1;
  std::vector<std::string> states;  // distinct consecutive states seen through the API
  std::string output;
};

// Runs `crosscheck lab --scenario NAME --exit-when-done` and polls the API
// until it exits (bounded).
LabRun run_lab(const std::string& scenario) {
  TempDir dir;
  const auto port = free_port("127.0.0.1");
  ChildProcess lab({CROSSCHECK_BINARY, "lab", "--scenario", scenario, "--interval", "300ms",
                    "--linger", "600ms", "--exit-when-done", "--listen",
                    "127.0.0.1:" + std::to_string(port), "--dir", (dir.path() / "lab").string()},
                   dir.path() / "output.log");
  LabRun run;
  const auto until = std::chrono::steady_clock::now() + k_scenario_deadline;
  while (lab.running() && std::chrono::steady_clock::now() < until) {
    const auto state = shop_state(port);
    if (!state.empty() && (run.states.empty() || run.states.back() != state)) {
      run.states.push_back(state);
    }
    std::this_thread::sleep_for(50ms);
  }
  const int status = lab.stop();
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.output = lab.log();
  return run;
}

// True when `wanted` appears in `seen` in order (other states may come between).
bool in_order(const std::vector<std::string>& seen, const std::vector<std::string>& wanted) {
  std::size_t next = 0;
  for (const auto& state : seen) {
    if (next < wanted.size() && state == wanted[next]) {
      ++next;
    }
  }
  return next == wanted.size();
}

std::string joined(const std::vector<std::string>& states) {
  std::string out;
  for (const auto& state : states) {
    out += (out.empty() ? "" : " -> ") + state;
  }
  return out;
}

}  // namespace

TEST_CASE("lab tour: healthy, disputed (held healthy), unhealthy, healthy through the API") {
  const auto run = run_lab("tour");
  INFO(run.output);
  INFO("seen through the API: " << joined(run.states));
  CHECK(run.exit_status == 0);
  CHECK(in_order(run.states, {"healthy", "disputed/healthy", "unhealthy", "healthy"}));
  CHECK(run.output.find("escalation #1 (dispute)") != std::string::npos);
  CHECK(run.output.find("every step showed what it should") != std::string::npos);
}

TEST_CASE("lab empty-dns-answer: the oracle holds healthy and never says unhealthy") {
  const auto run = run_lab("empty-dns-answer");
  INFO(run.output);
  INFO("seen through the API: " << joined(run.states));
  CHECK(run.exit_status == 0);
  CHECK(in_order(run.states, {"healthy", "disputed/healthy", "healthy"}));
  CHECK_FALSE(in_order(run.states, {"unhealthy"}));
}

TEST_CASE("lab congested-vantage: the congested vantage turns suspect, the verdict stays healthy") {
  const auto run = run_lab("congested-vantage");
  INFO(run.output);
  INFO("seen through the API: " << joined(run.states));
  CHECK(run.exit_status == 0);
  CHECK(run.output.find("vantage gamma is suspect") != std::string::npos);
  CHECK(run.output.find("vantage gamma is trusted again") != std::string::npos);
  CHECK_FALSE(in_order(run.states, {"unhealthy"}));
}

TEST_CASE("lab true-outage: every domain agrees and the verdict turns unhealthy") {
  const auto run = run_lab("true-outage");
  INFO(run.output);
  INFO("seen through the API: " << joined(run.states));
  CHECK(run.exit_status == 0);
  CHECK(in_order(run.states, {"healthy", "unhealthy", "healthy"}));
}

TEST_CASE("lab dns-down-service-up: unhealthy at the DNS layer, last-known-good reachable") {
  const auto run = run_lab("dns-down-service-up");
  INFO(run.output);
  INFO("seen through the API: " << joined(run.states));
  CHECK(run.exit_status == 0);
  CHECK(in_order(run.states, {"healthy", "unhealthy", "healthy"}));
  CHECK(run.output.find("last-known-good") != std::string::npos);
}

TEST_CASE("crosscheck lab refuses an unknown scenario and lists the real ones") {
  TempDir dir;
  {
    ChildProcess lab({CROSSCHECK_BINARY, "lab", "--scenario", "meteor-strike"},
                     dir.path() / "unknown.log");
    CHECK(WEXITSTATUS(lab.wait(10s)) == 2);
    CHECK(lab.log().find("no scenario 'meteor-strike'") != std::string::npos);
  }
  ChildProcess list({CROSSCHECK_BINARY, "lab", "--list"}, dir.path() / "list.log");
  CHECK(WEXITSTATUS(list.wait(10s)) == 0);
  for (const char* name :
       {"tour", "empty-dns-answer", "congested-vantage", "true-outage", "dns-down-service-up"}) {
    CHECK(list.log().find(std::string(name) + ": ") != std::string::npos);
  }
}

TEST_CASE("the lab serves the status page and its ack token acknowledges the dispute") {
  TempDir dir;
  const auto port = free_port("127.0.0.1");
  const auto lab_dir = dir.path() / "lab";
  ChildProcess lab({CROSSCHECK_BINARY, "lab", "--scenario", "empty-dns-answer", "--interval",
                    "300ms", "--linger", "3s", "--exit-when-done", "--listen",
                    "127.0.0.1:" + std::to_string(port), "--dir", lab_dir.string()},
                   dir.path() / "output.log");
  // The escalation the dispute opens, by id (bounded wait).
  std::string id;
  const auto until = std::chrono::steady_clock::now() + k_scenario_deadline;
  while (id.empty() && lab.running() && std::chrono::steady_clock::now() < until) {
    const auto answer = http_request("127.0.0.1", port, "GET", "/v1/escalations", {}, {}, 1s);
    if (answer.status == 200) {
      const auto body = json::parse(answer.body);
      const auto& items = body.as_object().at("escalations").as_array();
      if (!items.empty()) {
        id = std::to_string(items.front().as_object().at("id").as_int64());
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE_FALSE(id.empty());
  CHECK(lab.log().find("page     http://127.0.0.1:" + std::to_string(port) + "/") !=
        std::string::npos);
  const auto page = http_request("127.0.0.1", port, "GET", "/");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");

  const auto ack_path = "/v1/escalations/" + id + "/ack";
  CHECK(http_request("127.0.0.1", port, "POST", ack_path).status == 401);
  std::ifstream token_file(lab_dir / "ack.token");
  std::string token;
  token_file >> token;
  REQUIRE(token.size() == 64);
  const auto acked = http_request("127.0.0.1", port, "POST", ack_path, "{\"by\": \"lab-test\"}",
                                  {{"Authorization", "Bearer " + token}});
  INFO(acked.body);
  CHECK(acked.status == 200);
  // The token has scope ack and nothing more.
  const auto override = http_request("127.0.0.1", port, "PUT", "/v1/overrides/shop",
                                     R"({"verdict": "healthy", "reason": "x", "ttl": "1m"})",
                                     {{"Authorization", "Bearer " + token}});
  CHECK(override.status == 403);
  lab.stop();
}
