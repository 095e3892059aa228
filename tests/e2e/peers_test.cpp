// Three real `crosscheck run` processes peered with each other, each with
// its own resolver in its own failure domain, all judging one HTTP service;
// judged only through each node's REST API.
#include "peer_fixture.hpp"
#include "peers/auth.hpp"
#include "three_nodes.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck::testing;

namespace {

// The signed pull `node` makes of /v1/peer/votes with `key`, now.
std::vector<std::pair<std::string, std::string>> pull_headers(const std::string& node,
                                                              const std::string& key) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto s = crosscheck::peers::sign_peer_request(node, key, "GET", "/v1/peer/votes", now);
  return {{"X-Crosscheck-Node", s.node},
          {"X-Crosscheck-Timestamp", s.timestamp},
          {"X-Crosscheck-Nonce", s.nonce},
          {"X-Crosscheck-Signature", s.signature}};
}

// The names listed under "recheck"."`key`" of a recheck answer.
std::vector<std::string> recheck_names(const std::string& body, std::string_view key) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  std::vector<std::string> out;
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* recheck = object != nullptr ? object->if_contains("recheck") : nullptr;
  const auto* list =
      recheck != nullptr && recheck->is_object() ? recheck->as_object().if_contains(key) : nullptr;
  if (list != nullptr && list->is_array()) {
    for (const auto& name : list->as_array()) {
      out.emplace_back(name.as_string());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a recheck on one node re-probes through every peered node and names their domains",
          "[e2e][peers][recheck]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  const auto answer = nodes.post(0, "/v1/verdicts/web/recheck?timeout=5s", "");
  INFO(answer.body);
  INFO(nodes.logs());
  REQUIRE(answer.status == 200);
  using Names = std::vector<std::string>;
  // Without `domains:` each peer's votes count as one domain named after it.
  CHECK(recheck_names(answer.body, "domains_answered") == Names{"node-b", "node-c", "region-a"});
  CHECK(recheck_names(answer.body, "domains_missing").empty());
  CHECK(recheck_names(answer.body, "peers_answered") == Names{"node-b", "node-c"});
  // node-b and node-c re-probed on node-a's signed request: their audit logs say so.
  const std::string bearer = std::string("Bearer ") + ThreeNodes::k_api_token;
  for (const std::size_t i : {1U, 2U}) {
    const auto audit = nodes.get(i, "/v1/audit?target=web", {{"Authorization", bearer}}).body;
    INFO(audit);
    CHECK_THAT(audit, Catch::Contains(R"("action":"recheck")") &&
                          Catch::Contains(R"("principal":"peer:node-a")") &&
                          Catch::Contains(R"("outcome":"done")"));
  }
  // A peer's recheck is no reason to refuse an operator's right after it
  // (a hostile review saw 429s at the start of every outage, when fast
  // confirmation asks the peers), and the operator's asks the peers.
  const auto operator_answer = nodes.post(1, "/v1/verdicts/web/recheck?timeout=5s", "");
  INFO(operator_answer.body);
  CHECK(operator_answer.status == 200);
  CHECK(recheck_names(operator_answer.body, "peers_answered") == Names{"node-a", "node-c"});

  // A killed peer is named as missing (once the spacing lets a recheck run
  // again): its refused connection ends the wait for it, not the deadline.
  nodes.kill(2);
  std::string late;
  const bool named = eventually([&] {
    const auto again = nodes.post(0, "/v1/verdicts/web/recheck?timeout=2s", "");
    late = again.body;
    return again.status == 200 && recheck_names(again.body, "peers_missing") == Names{"node-c"} &&
           recheck_names(again.body, "domains_missing") == Names{"node-c"};
  });
  INFO(late);
  CHECK(named);
}

TEST_CASE("a forged or unsigned peer recheck is refused, counted, and probes nothing",
          "[e2e][peers][recheck]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  const std::string target = "/v1/peer/recheck?target=web&timeout=1000ms";
  const auto signed_with = [&](const std::string& key) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto s = crosscheck::peers::sign_peer_request("node-a", key, "POST", target, now);
    return std::vector<std::pair<std::string, std::string>>{
        {"X-Crosscheck-Node", s.node},
        {"X-Crosscheck-Timestamp", s.timestamp},
        {"X-Crosscheck-Nonce", s.nonce},
        {"X-Crosscheck-Signature", s.signature}};
  };
  const std::string invalid = R"(crosscheck_api_auth_refusals_total{reason="invalid"})";
  const auto before = nodes.metric(1, invalid).value_or(0);
  const auto unsigned_answer = http_request("127.0.0.1", nodes.ports[1], "POST", target, "", {});
  CHECK(unsigned_answer.status == 401);
  const auto forged =
      http_request("127.0.0.1", nodes.ports[1], "POST", target, "", signed_with("wrong-key"));
  CHECK(forged.status == 401);
  CHECK(forged.header("X-Crosscheck-Reply-Signature").empty());
  CHECK(nodes.metric(1, invalid).value_or(0) == before + 1);
  const std::string bearer = std::string("Bearer ") + ThreeNodes::k_api_token;
  CHECK_THAT(nodes.get(1, "/v1/audit?target=web", {{"Authorization", bearer}}).body,
             !Catch::Contains("peer:node-a"));
  // The right key is served: signed votes of web only.
  const auto genuine = http_request("127.0.0.1", nodes.ports[1], "POST", target, "",
                                    signed_with("shared-peer-secret"));
  INFO(genuine.body);
  CHECK(genuine.status == 200);
  CHECK_THAT(genuine.body, Catch::Contains(R"("node":"node-b")"));
  CHECK_FALSE(genuine.header("X-Crosscheck-Reply-Signature").empty());
}

TEST_CASE("three peered nodes agree, one lying resolver only disputes, held healthy",
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

TEST_CASE("a service slow from every region is degraded on every peered node, by the peers' votes",
          "[e2e][peers][degraded]") {
  // Each node has one vantage (its region): degraded needs two regions, so
  // each node counts at least one peer's degraded vote (protocol version 2).
  ThreeNodes nodes({}, std::nullopt,
                   "    interval: 1s\n    timeout: 900ms\n    stale_after: 4s\n"
                   "    latency: { p90: 150ms, window: 6s }\n");
  nodes.require_all_healthy();
  nodes.web.set("/health", FakeResponse::slow_body("slowok", std::chrono::milliseconds(60)));
  const bool degraded = OracleHarness::wait_for(
      [&] {
        return nodes.all_show({0, 1, 2}, "degraded") &&
               nodes.vote_of(0, "node-b/v") == "degraded" &&
               nodes.vote_of(0, "node-c/v") == "degraded" &&
               nodes.metric(1, R"(crosscheck_votes{target="web",vote="degraded"})") == 3;
      },
      std::chrono::seconds(40));
  INFO(nodes.logs());
  CHECK(degraded);
}

TEST_CASE("peer votes are refused without the right key, and leak nothing", "[e2e][peers]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  const auto headers = [](const std::string& key) { return pull_headers("node-b", key); };
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

TEST_CASE("a configured peer's first pull, as soon as the API answers, is served, not refused",
          "[e2e][peers]") {
  // The API starts before the pullers: it must know the peers' keys from its
  // first connection on, or a peer pulling a restarted node is refused 401
  // "not a configured peer" (and backs off) for the first moments.
  OracleWithPeer node("http://127.0.0.1:1");
  const auto port = node.oracle.api_port();
  HttpAnswer first;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (first.status == 0 && std::chrono::steady_clock::now() < deadline) {
    first = http_request("127.0.0.1", port, "GET", "/v1/peer/votes", {},
                         pull_headers("bad-peer", "shared-peer-secret"));
    if (first.status == 0) {  // not listening yet: poll closely, the window is short
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  REQUIRE(first.status != 0);
  CHECK(first.status == 200);
  CHECK_THAT(first.body, Catch::Contains(R"("node":"e2e")"));
}

TEST_CASE(
    "an action recorded on one node holds the gate on every peered node, and an ack on another "
    "lifts it everywhere",
    "[e2e][peers][cooldown]") {
  ThreeNodes nodes;
  nodes.require_all_healthy();
  nodes.web.set("/health", FakeResponse::with_status(503, "down"));
  REQUIRE(eventually([&] { return nodes.all_show({0, 1, 2}, "unhealthy"); }));
  const std::string gate = "/v1/verdicts/web?expect=unhealthy&for=service";
  const auto code_on = [&](std::size_t i) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(nodes.get(i, gate).body, ec);
    const auto* object = ec ? nullptr : body.if_object();
    const auto* found = object != nullptr ? object->if_contains("gate") : nullptr;
    return found != nullptr ? std::string(found->at("code").as_string()) : std::string();
  };
  REQUIRE(eventually([&] { return code_on(0) == "proceed"; }));
  const auto recorded = nodes.post(0, "/v1/verdicts/web/gate?expect=unhealthy&for=service",
                                   R"({"what": "promote web-2", "by": "bot"})");
  INFO(recorded.body);
  REQUIRE(recorded.status == 200);
  const std::string id(boost::json::parse(recorded.body).at("action").at("id").as_string());
  CHECK(id.rfind("node-a-", 0) == 0);
  // The peers learn it from node-a's signed reply: their gates hold too.
  const bool replicated =
      eventually([&] { return code_on(1) == "cooldown" && code_on(2) == "cooldown"; });
  INFO(nodes.logs());
  CHECK(replicated);
  // Acknowledged on node-c: node-a (through node-c's reply) proceeds again.
  const auto ack =
      nodes.post(2, "/v1/actions/" + id + "/ack", R"({"by": "alice", "note": "checked"})");
  REQUIRE(ack.status == 200);
  CHECK(eventually([&] {
    return code_on(0) == "proceed" && code_on(1) == "proceed" && code_on(2) == "proceed";
  }));
  const auto listed = boost::json::parse(
      nodes
          .get(1, "/v1/actions",
               {{"Authorization", std::string("Bearer ") + ThreeNodes::k_api_token}})
          .body);
  REQUIRE(listed.at("actions").as_array().size() == 1);
  CHECK(listed.at("actions").as_array()[0].at("ack").at("by") == "alice");
  CHECK(listed.at("actions").as_array()[0].at("ack").at("node") == "node-c");
}
