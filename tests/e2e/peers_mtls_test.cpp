// The deployment of docs/peers.md "Peering over TLS": three real `crosscheck
// run` daemons on loopback, each API serving TLS and requiring a client
// certificate from one shared CA, each node pulling the other two over https
// with `tls: { ca_file, cert_file, key_file }`. Certificates are made once
// per test case by the openssl command line (support/test_pki.hpp), the way
// docs/peers.md makes them.
#include "support/cli_run.hpp"
#include "support/test_pki.hpp"
#include "three_nodes.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace crosscheck::testing;

namespace {

const std::vector<std::string> k_tls_reasons{"tls_unknown_ca", "tls_expired", "tls_wrong_name",
                                             "tls_client_cert", "tls_handshake"};
const std::vector<std::string> k_api_tls_reasons{
    "no_client_certificate", "unknown_ca", "expired",
    "fingerprint_mismatch",  "not_tls",    "handshake"};

std::string pull_failures(std::size_t peer, const std::string& reason) {
  return std::string("crosscheck_peer_pull_failures_total{peer=\"") + k_nodes[peer] +
         "\",reason=\"" + reason + "\"}";
}

std::string handshake_failures(const std::string& reason) {
  return "crosscheck_api_tls_handshake_failures_total{reason=\"" + reason + "\"}";
}

// One CA for servers and clients, a leaf per node naming IP:127.0.0.1 and
// one for the test itself (an operator's `crosscheck status`).
class MeshPki {
 public:
  MeshPki() : ca(pki.ca("peers-ca")) {
    for (std::size_t i = 0; i < k_nodes.size(); ++i) {
      tls.nodes[i] = NodeTls{ca.cert, pki.leaf(k_nodes[i], ca, "IP:127.0.0.1"), ca.cert};
    }
    tls.client = pki.leaf("operator", ca, "IP:127.0.0.1");
  }

  TempDir dir;
  TestPki pki{dir.path()};
  TestCertificate ca;
  MeshTls tls;
};

// The number of TLS-caused pull failures node i counted for its peers.
double tls_pull_failures(const ThreeNodes& nodes, std::size_t i) {
  double total = 0;
  for (std::size_t j = 0; j < k_nodes.size(); ++j) {
    for (const auto& reason : k_tls_reasons) {
      if (j != i) {
        total += nodes.metric(i, pull_failures(j, reason)).value_or(-1000);
      }
    }
  }
  return total;
}

double api_handshake_failures(const ThreeNodes& nodes, std::size_t i) {
  double total = 0;
  for (const auto& reason : k_api_tls_reasons) {
    total += nodes.metric(i, handshake_failures(reason)).value_or(-1000);
  }
  return total;
}

// Every node counts the other two nodes' vantages, voting `vote`.
bool all_count_each_other(const ThreeNodes& nodes, const std::string& vote) {
  for (std::size_t i = 0; i < k_nodes.size(); ++i) {
    for (std::size_t j = 0; j < k_nodes.size(); ++j) {
      if (j != i && nodes.vote_of(i, std::string(k_nodes[j]) + "/v") != vote) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST_CASE("peers over mTLS: three nodes count each other's vantages and agree",
          "[e2e][peers][tls]") {
  const MeshPki pki;
  ThreeNodes nodes({}, pki.tls);
  nodes.require_all_healthy();
  const bool counted = eventually([&] { return all_count_each_other(nodes, "up"); });
  INFO(nodes.logs());
  REQUIRE(counted);
  for (std::size_t i = 0; i < k_nodes.size(); ++i) {
    CAPTURE(i);
    const auto vantages = nodes.get(i, "/v1/vantages").body;
    for (std::size_t j = 0; j < k_nodes.size(); ++j) {
      CHECK((vantages.find(std::string(k_nodes[j]) + "/v") != std::string::npos) == (j != i));
    }
    const auto votes = nodes.verdict(i).at("votes").as_object();
    CHECK(votes.at("up").as_int64() == 3);
    CHECK(votes.at("down").as_int64() == 0);
    // Every pull handshake passed, on both sides of every pair.
    CHECK(tls_pull_failures(nodes, i) == 0);
    CHECK(api_handshake_failures(nodes, i) == 0);
  }

  const auto ca = pki.ca.cert.string();
  const auto cert = pki.tls.client.cert.string();
  const auto key = pki.tls.client.key.string();
  const auto status = run_cli_captured(
      {"status", "--api", nodes.url(1), "--cacert", ca, "--cert", cert, "--key", key});
  INFO(status.out << status.err);
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::StartsWith("crosscheck node-b, revision "));
  CHECK_THAT(status.out, Catch::Contains("3 of 3 domains up"));
  // The same without a client certificate is refused at the handshake.
  const auto refused = run_cli_captured({"status", "--api", nodes.url(1), "--cacert", ca});
  CHECK(refused.status == 1);
  CHECK_THAT(refused.err, Catch::Contains("[tls_client_cert]"));
  CHECK(eventually([&] {
    return nodes.metric(1, handshake_failures("no_client_certificate")).value_or(0) == 1;
  }));
}

TEST_CASE(
    "peers over mTLS: a node with a certificate from another CA is refused both ways and no "
    "verdict moves on its account",
    "[e2e][peers][tls]") {
  MeshPki pki;
  const auto rogue_ca = pki.pki.ca("rogue-ca");
  // node-c trusts the deployment's CA, but serves and presents a certificate
  // the others' CA never issued.
  pki.tls.nodes[2] =
      NodeTls{pki.ca.cert, pki.pki.leaf("node-c-rogue", rogue_ca, "IP:127.0.0.1"), rogue_ca.cert};
  ThreeNodes nodes({}, pki.tls);
  nodes.lie(2);  // were its votes counted, node-a and node-b would dispute
  const bool lying = eventually([&] {
    return nodes.all_show({0, 1}, "healthy") && nodes.vote_of(2, "v") == "down";
  });
  INFO(nodes.logs());
  REQUIRE(lying);
  const std::array<boost::json::value, 2> generations{nodes.verdict(0).at("generation"),
                                                      nodes.verdict(1).at("generation")};

  // node-c's pulls: refused by node-a's and node-b's API (unknown CA), and
  // counted by its puller as a refused client certificate.
  CHECK(eventually([&] {
    return nodes.metric(0, handshake_failures("unknown_ca")).value_or(0) >= 2 &&
           nodes.metric(1, handshake_failures("unknown_ca")).value_or(0) >= 2 &&
           nodes.metric(2, pull_failures(0, "tls_client_cert")).value_or(0) >= 2 &&
           nodes.metric(2, pull_failures(1, "tls_client_cert")).value_or(0) >= 2;
  }));
  CHECK_THAT(nodes.processes[2]->log(),
             Catch::Contains("peer node-a: pull failed (tls_client_cert)"));
  CHECK_THAT(nodes.processes[0]->log(),
             Catch::Contains("api tls: refused handshake from 127.0.0.1:"));
  // node-a's and node-b's pulls of node-c: its certificate is not from their CA.
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(eventually(
        [&] { return nodes.metric(i, pull_failures(2, "tls_unknown_ca")).value_or(0) >= 2; }));
  }
  CHECK_THAT(nodes.processes[0]->log(),
             Catch::Contains("peer node-c: pull failed (tls_unknown_ca)"));

  // For 2.5 s after node-c voted down (dispute_grace 1s, 8 intervals),
  // every look finds node-a and node-b healthy and node-c nowhere. Time, not
  // a count of their refused pulls: those back off (doubling, full jitter).
  const auto moved = OracleHarness::wait_for(
      [&] {
        return !nodes.all_show({0, 1}, "healthy") ||
               nodes.get(0, "/v1/vantages").body.find("node-c/") != std::string::npos;
      },
      std::chrono::milliseconds(2'500));
  CHECK_FALSE(moved);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(nodes.all_show({i}, "healthy"));
    CHECK(nodes.vote_of(i, std::string(k_nodes[1 - i]) + "/v") == "up");
    CHECK(nodes.vote_of(i, "node-c/v").empty());
    CHECK(nodes.get(i, "/v1/vantages").body.find("node-c/") == std::string::npos);
    CHECK(nodes.verdict(i).at("generation") == generations.at(i));
  }
}

TEST_CASE(
    "peers over mTLS: a killed node's domain goes unknown while the service fails from the "
    "others, restarted, it is counted again",
    "[e2e][peers][tls]") {
  const MeshPki pki;
  ThreeNodes nodes({}, pki.tls);
  nodes.require_all_healthy();
  REQUIRE(eventually([&] { return all_count_each_other(nodes, "up"); }));

  nodes.kill(2);
  nodes.web.set("/health", FakeResponse::with_status(503, "down"));
  // Two of three known domains down meets the quorum of 2: node-c's domain
  // stays known (unknown, never down) and the verdict rests on the others.
  const bool unhealthy = eventually([&] {
    return nodes.all_show({0, 1}, "unhealthy") && nodes.vote_of(0, "node-c/v") == "unknown" &&
           nodes.vote_of(1, "node-c/v") == "unknown";
  });
  INFO(nodes.logs());
  REQUIRE(unhealthy);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const auto votes = nodes.verdict(i).at("votes").as_object();
    CHECK(votes.at("down").as_int64() == 2);
    CHECK(votes.at("unknown").as_int64() == 1);
    CHECK(votes.at("down_quorum").as_int64() == 2);
    CHECK(eventually([&] {
      return nodes.get(i, "/v1/escalations").body.find("peer_unreachable") != std::string::npos;
    }));
    // A dead peer is a transport failure, never a TLS one.
    CHECK(nodes.metric(i, pull_failures(2, "transport")).value_or(0) >= 1);
    CHECK(tls_pull_failures(nodes, i) == 0);
  }

  // node-a and node-b pull it again at their next retry: failed pulls back
  // off (doubling from one interval, full jitter), so a few seconds dead can
  // mean a wait of up to ~20 s; the bound allows that.
  nodes.start(2);
  const bool counted = OracleHarness::wait_for(
      [&] {
        return nodes.all_show({0, 1, 2}, "unhealthy") && all_count_each_other(nodes, "down");
      },
      std::chrono::seconds(40));
  INFO(nodes.logs());
  CHECK(counted);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(eventually([&] {
      return nodes.get(i, "/v1/escalations").body.find("peer_unreachable") == std::string::npos;
    }));
    CHECK(nodes.verdict(i).at("votes").as_object().at("down").as_int64() == 3);
    CHECK(tls_pull_failures(nodes, i) == 0);
  }
}
