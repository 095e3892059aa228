// `crosscheck status` and `explain` as a user runs them: options, where the
// API is looked for, and exit statuses when nothing answers. (Against a real
// oracle: tests/e2e/status_test.cpp.)
#include "cli/status_command.hpp"

#include "support/child_process.hpp"
#include "support/cli_run.hpp"
#include "support/fake_http_server.hpp"
#include "support/scoped_env.hpp"
#include "support/test_pki.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using crosscheck::cli::locate_api;
using crosscheck::testing::CliRun;
using crosscheck::testing::TempFile;

namespace {

CliRun cli(const std::vector<std::string>& args) {
  return crosscheck::testing::run_cli_captured(args);
}

// Sets CROSSCHECK_API for one test and restores the absence afterwards.
struct ApiEnv {
  explicit ApiEnv(const char* value) {
    if (value != nullptr) {
      ::setenv("CROSSCHECK_API", value, 1);
    } else {
      ::unsetenv("CROSSCHECK_API");
    }
  }
  ~ApiEnv() { ::unsetenv("CROSSCHECK_API"); }
  ApiEnv(const ApiEnv&) = delete;
  ApiEnv& operator=(const ApiEnv&) = delete;
  ApiEnv(ApiEnv&&) = delete;
  ApiEnv& operator=(ApiEnv&&) = delete;
};

std::string located(const std::string& flag, const std::string& config = {}) {
  std::string why;
  const auto url = locate_api(flag, config, why);
  return url ? url->text : "error: " + why;
}

const std::string k_config =
    "api: { listen: 0.0.0.0:9555 }\n"
    "vantages:\n"
    "  - { name: a, domain: a, resolver: 127.0.0.1 }\n"
    "targets:\n"
    "  - { name: t, dns: { name: example.test } }\n";

}  // namespace

TEST_CASE("the API is --api, else CROSSCHECK_API, else the config's api.listen, else 9470",
          "[cli]") {
  const TempFile config("status.yaml", k_config);
  {
    const ApiEnv env("http://10.0.0.1:1234");
    CHECK(located("https://oracle.example:8443/base", config.path()) ==
          "https://oracle.example:8443/base");
    CHECK(located("", config.path()) == "http://10.0.0.1:1234");
  }
  const ApiEnv none(nullptr);
  CHECK(located("", config.path()) == "http://127.0.0.1:9555");  // wildcard -> loopback
  CHECK(located("") == "http://127.0.0.1:9470");
  CHECK(located("ftp://x") != located(""));
  CHECK_THAT(located("http://u@host:1/"), Catch::Contains("--api 'http://u@host:1/'"));
}

TEST_CASE("the config's API is https:// when it sets api.tls", "[cli][tls]") {
  const crosscheck::testing::TempDir dir;
  crosscheck::testing::TestPki pki(dir.path() / "pki");
  const auto ca = pki.ca("api-ca");
  const auto leaf = pki.leaf("oracle", ca, "IP:127.0.0.1");
  const TempFile config(
      "status-tls.yaml",
      "api:\n  listen: 127.0.0.1:9556\n  tls: { cert_file: " + leaf.cert.string() +
          ", key_file: " + leaf.key.string() + " }\n" + k_config.substr(k_config.find('\n') + 1));
  const ApiEnv none(nullptr);
  CHECK(located("", config.path()) == "https://127.0.0.1:9556");
}

TEST_CASE("status and explain reject bad usage with exit 2", "[cli]") {
  const auto [args, message] = GENERATE(table<std::vector<std::string>, std::string>({
      {{"status", "--count", "1"}, "--count and --for need --watch"},
      {{"status", "--watch", "--for", "soon"}, "--for 'soon' is not a positive duration"},
      {{"status", "--timeout", "0s"}, "--timeout '0s' is not a positive duration"},
      {{"status", "extra"}, "unexpected argument 'extra'"},
      {{"status", "--frobnicate"}, "unrecognised option"},
      {{"explain"}, "expected exactly one TARGET"},
      {{"explain", "a", "b"}, "expected exactly one TARGET"},
      {{"explain", "a", "--api", "gopher://x"}, "--api 'gopher://x'"},
  }));
  const auto run = cli(args);
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains(message));
  CHECK(run.out.empty());
}

TEST_CASE("status and explain --help describe their options and exit 0", "[cli]") {
  const auto status = cli({"status", "--help"});
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::StartsWith("usage: crosscheck status"));
  CHECK_THAT(status.out, Catch::Contains("--watch"));
  const auto explain = cli({"explain", "--help"});
  CHECK(explain.status == 0);
  CHECK_THAT(explain.out, Catch::StartsWith("usage: crosscheck explain TARGET"));
  CHECK_THAT(cli({"help"}).out, Catch::Contains("explain TARGET"));
}

TEST_CASE("status and explain exit 1 with a hint when nothing listens at the API", "[cli]") {
  const auto port = std::to_string(crosscheck::testing::free_port("127.0.0.1"));
  const std::string api = "http://127.0.0.1:" + port;
  for (const auto& command : {std::vector<std::string>{"status", "--api", api},
                              std::vector<std::string>{"explain", "web", "--api", api},
                              std::vector<std::string>{"status", "--json", "--api", api}}) {
    const auto run = cli(command);
    CHECK(run.status == 1);
    CHECK(run.err == "crosscheck " + command.front() + ": cannot connect to 127.0.0.1:" + port +
                         ": connection refused — is `crosscheck run` running? (--api URL)\n");
  }
}

TEST_CASE("status and explain send the token of --token-file, else of CROSSCHECK_TOKEN_FILE",
          "[cli][tokens]") {
  crosscheck::testing::FakeHttpServer api;
  api.set("/v1/verdicts", crosscheck::testing::FakeResponse::with_status(401, "{}"));
  const std::string url = "http://127.0.0.1:" + std::to_string(api.port());
  const TempFile flag_token("flag-token", "fl4g\n");
  const TempFile env_token("env-token", "  3nv  \n");
  const TempFile empty("empty-token", "\n");
  crosscheck::testing::ScopedEnv env("CROSSCHECK_TOKEN_FILE", env_token.path());

  CHECK(cli({"status", "--api", url, "--token-file", flag_token.path()}).status == 1);
  REQUIRE(api.last_request());
  CHECK(api.last_request()->header("Authorization") == "Bearer fl4g");
  CHECK(cli({"explain", "web", "--api", url}).status == 1);
  CHECK(api.last_request()->header("Authorization") == "Bearer 3nv");

  // An unusable file is a usage error naming it, before any request.
  const std::size_t sent = api.request_count();
  const auto run = cli({"status", "--api", url, "--token-file", empty.path()});
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("--token-file '" + empty.path() + "' is empty"));
  crosscheck::testing::ScopedEnv unreadable("CROSSCHECK_TOKEN_FILE", "/nonexistent/token");
  const auto from_env = cli({"explain", "web", "--api", url});
  CHECK(from_env.status == 2);
  CHECK_THAT(from_env.err, Catch::Contains("$CROSSCHECK_TOKEN_FILE '/nonexistent/token'"));
  CHECK(api.request_count() == sent);
  // Without either, no Authorization header at all.
  crosscheck::testing::ScopedEnv none("CROSSCHECK_TOKEN_FILE", std::nullopt);
  CHECK(cli({"status", "--api", url}).status == 1);
  CHECK(api.last_request()->header("Authorization").empty());
}

TEST_CASE("status --cacert trusts an https API's CA, without it the refusal says why",
          "[cli][tls]") {
  const crosscheck::testing::TempDir dir;
  crosscheck::testing::TestPki pki(dir.path() / "pki");
  const auto ca = pki.ca("api-ca");
  const auto leaf = pki.leaf("oracle", ca, "IP:127.0.0.1");
  const auto clients = pki.ca("clients-ca");
  const auto client = pki.leaf("operator", clients, "DNS:operator.test");
  // s_server -WWW answers GET /v1/verdicts with this file (until the API
  // speaks TLS natively: then a real daemon).
  std::filesystem::create_directories(dir.path() / "www/v1");
  std::ofstream(dir.path() / "www/v1/verdicts") << R"({"targets": []})";
  const crosscheck::testing::TlsTestServer server(leaf, dir.path() / "server.log", clients.cert,
                                                  dir.path() / "www");
  const auto api = server.url();
  const std::vector<std::string> base{"status", "--json", "--api", api};
  const auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  };

  const auto trusted = with(
      {"--cacert", ca.cert.string(), "--cert", client.cert.string(), "--key", client.key.string()});
  CHECK(trusted.err.empty());
  CHECK(trusted.status == 0);
  CHECK(trusted.out == "{\"targets\": []}\n");

  const auto system_store = with({"--cert", client.cert.string(), "--key", client.key.string()});
  CHECK(system_store.status == 1);
  CHECK_THAT(system_store.err,
             Catch::Contains("certificate verify failed") && Catch::Contains("[tls_unknown_ca]"));

  const auto no_client_cert = with({"--cacert", ca.cert.string()});
  CHECK(no_client_cert.status == 1);
  CHECK_THAT(no_client_cert.err, Catch::Contains("refused our client certificate") &&
                                     Catch::Contains("[tls_client_cert]"));

  const auto half = with({"--cert", client.cert.string()});
  CHECK(half.status == 2);
  CHECK_THAT(half.err, Catch::StartsWith("crosscheck status: --cert needs --key"));

  const auto not_a_ca = with({"--cacert", client.key.string()});
  CHECK(not_a_ca.status == 2);
  CHECK_THAT(not_a_ca.err, Catch::StartsWith("crosscheck status: --cacert: ca_file '" +
                                             client.key.string() + "' holds no PEM certificate"));
}
