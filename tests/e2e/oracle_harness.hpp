// An oracle under test: a real Service (probes, engine, storage, REST API)
// on loopback, probing fake resolvers in three failure domains and a fake
// HTTP service, driven and judged through its REST API only.
#pragma once

#include "daemon/service.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace crosscheck::testing {

class OracleHarness {
 public:
  // Three domains (alpha, beta, gamma), one vantage each, and with
  // `second_beta_vantage` a vantage beta-2 in domain beta (resolver beta2).
  // `data_dir` replaces the temporary data directory (e.g. a small tmpfs).
  explicit OracleHarness(bool second_beta_vantage = false,
                         std::optional<std::filesystem::path> data_dir = std::nullopt);
  // Real components instead of the fakes: three resolvers (alpha, beta,
  // gamma) and the URL of a real HTTP server for web.test.
  OracleHarness(const std::vector<config::Endpoint>& resolvers, const std::string& web_url);
  ~OracleHarness();
  OracleHarness(const OracleHarness&) = delete;
  OracleHarness& operator=(const OracleHarness&) = delete;
  OracleHarness(OracleHarness&&) = delete;
  OracleHarness& operator=(OracleHarness&&) = delete;

  // Adds top-level YAML sections (e.g. "escalation: ...") to the config;
  // call before start().
  void append_config(const std::string& yaml);
  // Adds `key: value` to the `api:` section (e.g. "signing_key", a path);
  // call before start().
  void add_api_setting(const std::string& key, const std::string& value);
  // Adds `key: value` to the `quorum:` section (e.g. "flap_limit", "10");
  // call before start().
  void add_quorum_setting(const std::string& key, const std::string& value);
  void start();
  void stop();
  // Reloads the config as SIGHUP would (after start()).
  void reload() { service_->reload_config(); }
  // Runs between a reload's validation and its apply (set before start()).
  std::function<void()> on_reload_validated;
  // Every resolver answers web.test with 127.0.0.1 (where `web` listens).
  void all_honest();
  // `server` publishes web.test with an empty answer.
  void lie(FakeDnsServer& server);

  HttpAnswer get(const std::string& target) const;
  HttpAnswer send(const std::string& method, const std::string& target,
                  const std::string& body = {}, bool with_token = true) const;
  boost::json::object verdict(const std::string& target = "web") const;
  // Polls `condition` until true or `timeout` passes (bounded, no fixed sleep
  // beyond a short pause between polls). The default bounds what must
  // happen, never what must not (those pass their own): it is patient, as a
  // daemon's start-up under ASan, beside other tests on two cores, has taken
  // over 8 s (the first wait after most tests start one).
  static bool wait_for(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000));
  bool wait_for_verdict(const std::string& verdict, const std::string& target = "web") const;

  unsigned short api_port() const { return api_port_; }
  std::string oracle_url() const { return "http://127.0.0.1:" + std::to_string(api_port_); }
  const std::string& token() const { return token_; }
  std::filesystem::path token_file() const { return dir_.path() / "api-token"; }
  const std::filesystem::path& data_dir() const { return dir_.path(); }
  // The config start() runs (tests may run the real binary on it instead).
  const std::filesystem::path& config_path() const { return config_path_; }

  FakeDnsServer alpha{"127.0.0.81"};
  FakeDnsServer beta{"127.0.0.82"};
  FakeDnsServer gamma{"127.0.0.83"};
  FakeDnsServer beta2{"127.0.0.84"};
  FakeHttpServer web;

 private:
  void write_config(const std::vector<config::Endpoint>& resolvers, const std::string& web_url,
                    bool second_beta_vantage, const std::filesystem::path& data_dir);
  // Appends `, setting` to the config's `anchor` (a section's last setting).
  void add_after(const std::string& anchor, const std::string& setting);

  TempDir dir_;
  std::string token_ = "e2e-secret-token";
  unsigned short api_port_ = 0;
  std::filesystem::path config_path_;
  std::unique_ptr<daemon::Service> service_;
  std::thread thread_;
};

// The value of the sample that starts with `series` ("name" or
// "name{labels}") in a /metrics text; nullopt when absent.
std::optional<double> metric_sample(const std::string& text, const std::string& series);

}  // namespace crosscheck::testing
