// Three real `crosscheck run` processes peered with each other, each with
// its own resolver in its own failure domain, all judging one HTTP service;
// judged only through each node's REST API.
#include "oracle_harness.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace crosscheck::testing;
using namespace std::chrono_literals;

constexpr std::array<const char*, 3> k_nodes{"node-a", "node-b", "node-c"};
constexpr std::array<const char*, 3> k_resolvers{"127.0.0.121", "127.0.0.122", "127.0.0.123"};
constexpr auto k_wait = 15s;

bool eventually(const std::function<bool()>& condition) {
  return OracleHarness::wait_for(condition, k_wait);
}

// More keys for node i's entry of peer j, e.g. ", domains: [region-b]".
using PeerExtra = std::function<std::string(std::size_t i, std::size_t j)>;

class ThreeNodes {
 public:
  explicit ThreeNodes(PeerExtra peer_extra = {}) : peer_extra_(std::move(peer_extra)) {
    web.set("/health", FakeResponse::with_status(200, "ready"));
    std::ofstream(key_file()) << "shared-peer-secret\n";
    for (std::size_t i = 0; i < k_nodes.size(); ++i) {
      resolvers[i] = std::make_unique<FakeDnsServer>(k_resolvers[i]);
      honest(i);
      ports[i] = free_port("127.0.0.1");
    }
    for (std::size_t i = 0; i < k_nodes.size(); ++i) {
      start(i);
    }
  }

  void honest(std::size_t i) {
    resolvers[i]->set("web.test", FakeDnsBehaviour::answer({FakeRecord{"A", "127.0.0.1", 60, ""}}));
  }
  void lie(std::size_t i) { resolvers[i]->set("web.test", FakeDnsBehaviour::empty()); }
  // SIGKILL: no goodbye to the peers, as when a region loses power.
  void kill(std::size_t i) {
    ::kill(processes[i]->pid(), SIGKILL);
    processes[i].reset();
  }

  HttpAnswer get(std::size_t i, const std::string& target,
                 std::vector<std::pair<std::string, std::string>> headers = {}) const {
    return http_request("127.0.0.1", ports[i], "GET", target, {}, std::move(headers));
  }

  json::object verdict(std::size_t i) const {
    boost::system::error_code ec;
    auto value = json::parse(get(i, "/v1/verdicts/web").body, ec);
    return !ec && value.is_object() ? value.as_object() : json::object{};
  }

  static std::string text(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
  }

  // The vote `vantage` ("node-c/vc") has in node i's evidence; "" if absent.
  std::string vote_of(std::size_t i, const std::string& vantage) const {
    const auto body = verdict(i);
    const auto* evidence = body.if_contains("evidence");
    if (evidence == nullptr || !evidence->is_array()) {
      return "";
    }
    for (const auto& item : evidence->get_array()) {
      if (text(item.as_object(), "vantage") == vantage) {
        return text(item.as_object(), "vote");
      }
    }
    return "";
  }

  // Every listed node shows `verdict` (and `held`, when given) for web.
  bool all_show(const std::vector<std::size_t>& nodes, const std::string& verdict_name,
                const std::string& held = "") const {
    return std::all_of(nodes.begin(), nodes.end(), [&](std::size_t i) {
      const auto body = verdict(i);
      return text(body, "verdict") == verdict_name && (held.empty() || text(body, "held") == held);
    });
  }

  // What a failure shows: every node's log and its current verdict.
  std::string logs() const {
    std::string out;
    for (std::size_t i = 0; i < processes.size(); ++i) {
      out += std::string(k_nodes[i]) + " verdict: " + get(i, "/v1/verdicts/web").body + "\n";
    }
    for (std::size_t i = 0; i < processes.size(); ++i) {
      out += std::string(k_nodes[i]) + ":\n" + (processes[i] ? processes[i]->log() : "(killed)\n");
    }
    return out;
  }

  void require_all_healthy() const {
    const bool healthy = eventually([&] { return all_show({0, 1, 2}, "healthy"); });
    INFO(logs());
    REQUIRE(healthy);
  }

  fs::path key_file() const { return dir.path() / "peer-key"; }

  TempDir dir;
  FakeHttpServer web;
  std::array<std::unique_ptr<FakeDnsServer>, 3> resolvers;
  std::array<unsigned short, 3> ports{};
  std::array<std::unique_ptr<ChildProcess>, 3> processes;

 private:
  PeerExtra peer_extra_;

  void start(std::size_t i) {
    const auto config = dir.path() / (std::string(k_nodes[i]) + ".yaml");
    const auto data = dir.path() / k_nodes[i];
    fs::create_directories(data);
    std::ostringstream yaml;
    yaml << "node: { name: " << k_nodes[i] << ", data_dir: " << data.string() << " }\n"
         << "api: { listen: 127.0.0.1:" << ports[i] << " }\n"
         << "defaults: { interval: 300ms, timeout: 250ms, rise: 1, fall: 1, stale_after: 2s }\n"
         << "quorum: { dispute_grace: 1s }\n"
         << "vantages:\n"
         << "  - { name: v, domain: region-" << char('a' + i) << ", resolver: \""
         << resolvers[i]->endpoint().to_string() << "\" }\n"
         << "targets:\n"
         << "  - name: web\n"
         << "    dns: { name: web.test }\n"
         << "    http: { url: \"" << web.url("web.test", "/health")
         << "\", expect_status: [200] }\n"
         << "peers:\n";
    for (std::size_t j = 0; j < k_nodes.size(); ++j) {
      if (j != i) {
        yaml << "  - { name: " << k_nodes[j] << ", url: \"http://127.0.0.1:" << ports[j]
             << "\", key_file: " << key_file().string() << ", unreachable_after: 2s"
             << (peer_extra_ ? peer_extra_(i, j) : "") << " }\n";
      }
    }
    std::ofstream(config) << yaml.str();
    processes[i] = std::make_unique<ChildProcess>(
        std::vector<std::string>{CROSSCHECK_BINARY, "run", "--config", config.string()},
        dir.path() / (std::string(k_nodes[i]) + ".log"));
  }
};

}  // namespace

TEST_CASE("three peered nodes agree; one lying resolver only disputes, held healthy",
          "[e2e][peers]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  // Healthy needs only a quorum: a node can show it before its last peer's
  // first pull has landed, so the peers' votes are waited for, not read once.
  CHECK(eventually([&] {
    return nodes.vote_of(0, "node-b/v") == "up" && nodes.vote_of(0, "node-c/v") == "up" &&
           nodes.vote_of(2, "node-a/v") == "up";
  }));

  nodes.lie(0);
  bool any_unhealthy = false;
  const bool disputed = eventually([&] {
    for (std::size_t i = 0; i < 3; ++i) {
      any_unhealthy = any_unhealthy || ThreeNodes::text(nodes.verdict(i), "verdict") == "unhealthy";
    }
    return nodes.all_show({0, 1, 2}, "disputed", "healthy");
  });
  INFO(nodes.logs());
  CHECK(disputed);
  CHECK_FALSE(any_unhealthy);
  CHECK(nodes.vote_of(1, "node-a/v") == "down");
}

TEST_CASE("a killed node's vantages turn unknown on the others, who stay healthy", "[e2e][peers]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  nodes.kill(2);
  const bool unknown = eventually([&] {
    return nodes.vote_of(0, "node-c/v") == "unknown" && nodes.vote_of(1, "node-c/v") == "unknown";
  });
  INFO(nodes.logs());
  CHECK(unknown);
  CHECK(nodes.all_show({0, 1}, "healthy"));
  // Past unreachable_after (2s) the outage is escalated.
  CHECK(eventually([&] {
    return nodes.get(0, "/v1/escalations").body.find("peer_unreachable") != std::string::npos;
  }));
}

TEST_CASE("a service really down is unhealthy on every peered node", "[e2e][peers]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  nodes.web.set("/health", FakeResponse::with_status(503, "down"));
  const bool unhealthy = eventually([&] { return nodes.all_show({0, 1, 2}, "unhealthy"); });
  INFO(nodes.logs());
  CHECK(unhealthy);
}

TEST_CASE("peer votes are refused without the right key, and leak nothing", "[e2e][peers]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto headers = [&](const std::string& key) {
    const auto s =
        crosscheck::peers::sign_peer_request("node-b", key, "GET", "/v1/peer/votes", now);
    return std::vector<std::pair<std::string, std::string>>{
        {"X-Crosscheck-Node", s.node},
        {"X-Crosscheck-Timestamp", s.timestamp},
        {"X-Crosscheck-Nonce", s.nonce},
        {"X-Crosscheck-Signature", s.signature}};
  };
  for (const auto& refused :
       {nodes.get(0, "/v1/peer/votes"), nodes.get(0, "/v1/peer/votes", headers("wrong-key"))}) {
    CHECK(refused.status == 401);
    CHECK_THAT(refused.body, Catch::Contains("unauthorized"));
    CHECK_THAT(refused.body, !Catch::Contains("votes"));
  }
  const auto right = headers("shared-peer-secret");
  const auto accepted = nodes.get(0, "/v1/peer/votes", right);
  CHECK(accepted.status == 200);
  CHECK_THAT(accepted.body, Catch::Contains(R"("node":"node-a")"));
  CHECK(nodes.get(0, "/v1/peer/votes", right).status == 401);  // the same nonce again
}

TEST_CASE("a peer's votes for a domain it did not declare are dropped, counted and logged",
          "[e2e][peers][trust]") {
  // node-a lets node-b speak for "elsewhere" only (its vantage reports
  // region-b) and node-c for region-c (what it reports). node-b and node-c
  // declare nothing about each other, nor about node-a.
  ThreeNodes nodes([](std::size_t i, std::size_t j) -> std::string {
    if (i != 0) {
      return "";
    }
    return j == 1 ? ", domains: [elsewhere]" : ", domains: [region-c]";
  });
  const bool counted = eventually([&] {
    return nodes.all_show({0, 1, 2}, "healthy") && nodes.vote_of(0, "node-c/v") == "up";
  });
  INFO(nodes.logs());
  REQUIRE(counted);
  CHECK(nodes.vote_of(0, "node-b/v").empty());  // never registered on node-a
  const auto dropped = [&] {
    const auto metrics = nodes.get(0, "/metrics").body;
    const std::string series = R"(crosscheck_peer_votes_dropped_total{peer="node-b"} )";
    const auto at = metrics.find(series);
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + series.size()));
  };
  CHECK(eventually([&] { return dropped() >= 2; }));
  CHECK(nodes.get(0, "/metrics")
            .body.find(R"(crosscheck_peer_votes_dropped_total{peer="node-c"} 0)") !=
        std::string::npos);
  CHECK_THAT(nodes.processes[0]->log(),
             Catch::Contains("peer node-b: dropped 1 votes claiming failure domains") &&
                 Catch::Contains("(region-b)"));

  // node-b's resolver lies: node-c, which counts node-b, disputes; node-a,
  // which never counts it, stays healthy and holds nothing.
  nodes.lie(1);
  const bool c_disputes = eventually([&] { return nodes.all_show({2}, "disputed", "healthy"); });
  INFO(nodes.logs());
  CHECK(c_disputes);
  CHECK(nodes.all_show({0}, "healthy"));
}
