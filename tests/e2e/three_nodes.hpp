// Three real `crosscheck run` processes peered with each other, each with
// its own resolver in its own failure domain, all judging one HTTP service
// (`web`); judged only through each node's REST API. Over plain HTTP, or
// with MeshTls over https with mTLS, as docs/peers.md configures it.
#pragma once

#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"
#include "support/test_pki.hpp"
#include "support/tls_test_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::testing {

inline constexpr std::array<const char*, 3> k_nodes{"node-a", "node-b", "node-c"};
inline constexpr std::array<const char*, 3> k_node_resolvers{"127.0.0.121", "127.0.0.122",
                                                             "127.0.0.123"};

inline bool eventually(const std::function<bool()>& condition) {
  return OracleHarness::wait_for(condition, std::chrono::seconds(15));
}

// More keys for node i's entry of peer j, e.g. ", domains: [region-b]".
using PeerExtra = std::function<std::string(std::size_t i, std::size_t j)>;

// One node's TLS: its API serves `cert` and requires client certificates
// from `ca_file`; it pulls its peers over https trusting only `ca_file` and
// presenting `cert`. `issuer` is the CA that issued `cert` (what a test
// client trusts to reach this node).
struct NodeTls {
  std::filesystem::path ca_file;
  TestCertificate cert;
  std::filesystem::path issuer;
};

struct MeshTls {
  std::array<NodeTls, 3> nodes;
  TestCertificate client;  // the test's own client certificate
};

class ThreeNodes {
 public:
  // `target_extra`: more lines of the target `web` (each "    key: value\n").
  explicit ThreeNodes(PeerExtra peer_extra = {}, std::optional<MeshTls> mesh_tls = std::nullopt,
                      std::string target_extra = {})
      : tls(std::move(mesh_tls)),
        peer_extra_(std::move(peer_extra)),
        target_extra_(std::move(target_extra)) {
    web.set("/health", FakeResponse::with_status(200, "ready"));
    std::ofstream(key_file()) << "shared-peer-secret\n";
    std::ofstream(token_file()) << k_api_token << "\n";
    for (std::size_t i = 0; i < k_nodes.size(); ++i) {
      resolvers[i] = std::make_unique<FakeDnsServer>(k_node_resolvers[i]);
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
    if (tls) {
      const ClientOptions client{tls->client.cert.string(), tls->client.key.string(), {}};
      return TlsClient(tls->nodes[i].issuer.string(), ports[i], client).get(target, headers);
    }
    return http_request("127.0.0.1", ports[i], "GET", target, {}, std::move(headers));
  }

  // A write to node i's API with the nodes' shared token (plain HTTP only).
  HttpAnswer post(std::size_t i, const std::string& target, const std::string& body) const {
    return http_request("127.0.0.1", ports[i], "POST", target, body,
                        {{"Authorization", std::string("Bearer ") + k_api_token}});
  }

  std::string url(std::size_t i) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(ports[i]);
  }

  boost::json::object verdict(std::size_t i) const {
    boost::system::error_code ec;
    auto value = boost::json::parse(get(i, "/v1/verdicts/web").body, ec);
    return !ec && value.is_object() ? value.as_object() : boost::json::object{};
  }

  static std::string text(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
  }

  // The vote `vantage` ("node-c/v") has in node i's evidence; "" if absent.
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

  // The value of one series on node i's /metrics, if present.
  std::optional<double> metric(std::size_t i, const std::string& series) const {
    return metric_sample(get(i, "/metrics").body, series);
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

  std::filesystem::path key_file() const { return dir.path() / "peer-key"; }
  std::filesystem::path token_file() const { return dir.path() / "api-token"; }
  static constexpr const char* k_api_token = "three-nodes-token";

  // Writes node i's config and runs it (again, after kill(i): same port,
  // same data directory).
  void start(std::size_t i) {
    const auto config = dir.path() / (std::string(k_nodes[i]) + ".yaml");
    const auto data = dir.path() / k_nodes[i];
    std::filesystem::create_directories(data);
    std::ostringstream yaml;
    yaml << "node: { name: " << k_nodes[i] << ", data_dir: " << data.string() << " }\n"
         << "api:\n  listen: 127.0.0.1:" << ports[i] << "\n"
         << "  token_file: " << token_file().string() << "\n";
    if (tls) {
      const auto& own = tls->nodes[i];
      yaml << "  tls:\n    cert_file: " << own.cert.cert.string()
           << "\n    key_file: " << own.cert.key.string()
           << "\n    client_ca_file: " << own.ca_file.string() << "\n";
    }
    yaml << "defaults: { interval: 300ms, timeout: 250ms, rise: 1, fall: 1, stale_after: 2s }\n"
         << "quorum: { dispute_grace: 1s }\n"
         << "vantages:\n"
         << "  - { name: v, domain: region-" << char('a' + i) << ", resolver: \""
         << resolvers[i]->endpoint().to_string() << "\" }\n"
         << "targets:\n"
         << "  - name: web\n"
         << "    dns: { name: web.test }\n"
         << "    http: { url: \"" << web.url("web.test", "/health")
         << "\", expect_status: [200] }\n"
         << target_extra_ << "peers:\n";
    for (std::size_t j = 0; j < k_nodes.size(); ++j) {
      if (j != i) {
        yaml << peer_entry(i, j);
      }
    }
    std::ofstream(config) << yaml.str();
    processes[i] = std::make_unique<ChildProcess>(
        std::vector<std::string>{CROSSCHECK_BINARY, "run", "--config", config.string()},
        dir.path() / (std::string(k_nodes[i]) + ".log"));
  }

  TempDir dir;
  FakeHttpServer web;
  std::array<std::unique_ptr<FakeDnsServer>, 3> resolvers;
  std::array<unsigned short, 3> ports{};
  std::array<std::unique_ptr<ChildProcess>, 3> processes;
  std::optional<MeshTls> tls;

 private:
  PeerExtra peer_extra_;
  std::string target_extra_;

  // Node i's entry for peer j: docs/peers.md's shape, the `tls:` block of
  // "Peering over TLS" when the mesh has TLS.
  std::string peer_entry(std::size_t i, std::size_t j) const {
    std::ostringstream entry;
    const std::string extra = peer_extra_ ? peer_extra_(i, j) : "";
    if (!tls) {
      entry << "  - { name: " << k_nodes[j] << ", url: \"" << url(j)
            << "\", key_file: " << key_file().string() << ", unreachable_after: 2s" << extra
            << " }\n";
      return entry.str();
    }
    const auto& own = tls->nodes[i];
    entry << "  - name: " << k_nodes[j] << "\n    url: " << url(j)
          << "\n    key_file: " << key_file().string() << "\n    unreachable_after: 2s\n"
          << "    tls:\n      ca_file: " << own.ca_file.string()
          << "\n      cert_file: " << own.cert.cert.string()
          << "\n      key_file: " << own.cert.key.string() << "\n";
    if (!extra.empty()) {
      throw std::logic_error("peer_extra is for the plain mesh");
    }
    return entry.str();
  }
};

}  // namespace crosscheck::testing
