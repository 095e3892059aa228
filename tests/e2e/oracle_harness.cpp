#include "oracle_harness.hpp"

#include "config/config.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace crosscheck::testing {
namespace json = boost::json;
using namespace std::chrono_literals;

OracleHarness::OracleHarness(bool second_beta_vantage,
                             std::optional<std::filesystem::path> data_dir) {
  web.set("/health", FakeResponse::with_status(200, "ready"));
  all_honest();
  write_config({alpha.endpoint(), beta.endpoint(), gamma.endpoint()},
               web.url("web.test", "/health"), second_beta_vantage, data_dir.value_or(dir_.path()));
}

OracleHarness::OracleHarness(const std::vector<config::Endpoint>& resolvers,
                             const std::string& web_url) {
  write_config(resolvers, web_url, false, dir_.path());
}

void OracleHarness::write_config(const std::vector<config::Endpoint>& resolvers,
                                 const std::string& web_url, bool second_beta_vantage,
                                 const std::filesystem::path& data_dir) {
  api_port_ = free_port("127.0.0.1");
  std::ofstream(token_file()) << token_ << "\n";
  std::ostringstream yaml;
  yaml << "node: { name: e2e, data_dir: " << data_dir.string() << " }\n"
       << "api: { listen: 127.0.0.1:" << api_port_ << ", token_file: api-token }\n"
       << "defaults: { interval: 300ms, timeout: 250ms, rise: 1, fall: 1, stale_after: 3s }\n"
       << "quorum: { dispute_grace: 400ms }\n"
       << "vantages:\n";
  const std::vector<std::string> names{"alpha", "beta", "gamma"};
  for (std::size_t i = 0; i < names.size() && i < resolvers.size(); ++i) {
    yaml << "  - { name: " << names[i] << ", domain: " << names[i] << ", resolver: \""
         << resolvers[i].to_string() << "\" }\n";
  }
  if (second_beta_vantage) {
    yaml << "  - { name: beta-2, domain: beta, resolver: \"" << beta2.endpoint().to_string()
         << "\" }\n";
  }
  yaml << "targets:\n"
       << "  - name: web\n"
       << "    dns: { name: web.test }\n"
       << "    http: { url: \"" << web_url << "\", expect_status: [200] }\n";
  config_path_ = dir_.path() / "crosscheck.yaml";
  std::ofstream(config_path_) << yaml.str();
}

OracleHarness::~OracleHarness() {
  stop();
}

void OracleHarness::append_config(const std::string& yaml) {
  std::ofstream(config_path_, std::ios::app) << yaml;
}

void OracleHarness::add_api_setting(const std::string& key, const std::string& value) {
  add_after("token_file: api-token", key + ": \"" + value + "\"");
}

void OracleHarness::add_quorum_setting(const std::string& key, const std::string& value) {
  add_after("dispute_grace: 400ms", key + ": " + value);
}

void OracleHarness::add_after(const std::string& anchor, const std::string& setting) {
  std::ostringstream text;
  text << std::ifstream(config_path_).rdbuf();
  std::string yaml = text.str();
  yaml.replace(yaml.find(anchor), anchor.size(), anchor + ", " + setting);
  std::ofstream(config_path_, std::ios::trunc) << yaml;
}

void OracleHarness::start() {
  const auto loaded = config::load_config(config_path_);
  for (const auto& diagnostic : loaded.diagnostics) {
    INFO(diagnostic.to_string());
  }
  REQUIRE(loaded.ok());
  daemon::ServiceOptions options;
  options.config = std::make_shared<const config::Config>(*loaded.config);
  options.config_path = config_path_;
  options.log =
      std::make_shared<spdlog::logger>("e2e", std::make_shared<spdlog::sinks::null_sink_mt>());
  options.handle_signals = false;
  options.on_reload_validated = on_reload_validated;
  service_ = std::make_unique<daemon::Service>(std::move(options));
  thread_ = std::thread([this] { service_->run(); });
  // Serving once the first snapshot (with every target) is published.
  REQUIRE(wait_for([this] { return get("/v1/verdicts/web").status == 200; }));
}

void OracleHarness::stop() {
  if (service_) {
    service_->stop();
    thread_.join();
    service_.reset();
  }
}

void OracleHarness::all_honest() {
  for (auto* server : {&alpha, &beta, &gamma, &beta2}) {
    server->set("web.test", FakeDnsBehaviour::answer({FakeRecord{"A", "127.0.0.1", 60, ""}}));
  }
}

void OracleHarness::lie(FakeDnsServer& server) {
  server.set("web.test", FakeDnsBehaviour::empty());
}

HttpAnswer OracleHarness::get(const std::string& target) const {
  return http_request("127.0.0.1", api_port_, "GET", target);
}

HttpAnswer OracleHarness::send(const std::string& method, const std::string& target,
                               const std::string& body, bool with_token) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (with_token) {
    headers.emplace_back("Authorization", "Bearer " + token_);
  }
  return http_request("127.0.0.1", api_port_, method, target, body, headers);
}

json::object OracleHarness::verdict(const std::string& target) const {
  const auto answer = get("/v1/verdicts/" + target);
  boost::system::error_code ec;
  auto value = json::parse(answer.body, ec);
  if (ec || !value.is_object()) {
    return {};
  }
  return value.as_object();
}

bool OracleHarness::wait_for(const std::function<bool()>& condition,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

bool OracleHarness::wait_for_verdict(const std::string& verdict_name,
                                     const std::string& target) const {
  return wait_for([&] {
    const auto body = verdict(target);
    const auto* value = body.if_contains("verdict");
    return value != nullptr && value->is_string() && value->get_string() == verdict_name;
  });
}

std::optional<double> metric_sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace crosscheck::testing
