// Scoped API tokens against the real binary: a failover script's token
// with scopes read and recheck drives `crosscheck gate` under
// read_requires_token, and SIGHUP rotates tokens (old refused, new
// accepted) while an emptied token file refuses the reload and keeps them.
#include "oracle_harness.hpp"
#include "support/cli_run.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

namespace {

using namespace crosscheck::testing;
using namespace std::chrono_literals;

constexpr const char* k_failover_secret = "f41l0v3r-e2e";

// The harness's config with a failover-script token and read_requires_token.
void add_scoped_token(OracleHarness& oracle) {
  std::ifstream in(oracle.config_path());
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string from = "token_file: api-token }";
  const auto at = yaml.find(from);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, from.size(),
               "token_file: api-token, read_requires_token: true, tokens: [{name: "
               "failover-script, file: failover, scopes: [read, recheck]}] }");
  std::ofstream(oracle.config_path()) << yaml;
  std::ofstream(oracle.data_dir() / "failover") << k_failover_secret << "\n";
}

HttpAnswer get_with(const OracleHarness& oracle, const std::string& target,
                    const std::string& token) {
  return http_request("127.0.0.1", oracle.api_port(), "GET", target, {},
                      {{"Authorization", "Bearer " + token}});
}

// The real binary on the harness's config with the failover-script token.
struct ScopedDaemon {
  ScopedDaemon() : ready(prepare(oracle)) {}

  static bool prepare(OracleHarness& harness) {
    add_scoped_token(harness);
    return true;
  }
  // SIGTERM and a clean exit.
  void stop() {
    ::kill(daemon.pid(), SIGTERM);
    CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
  }

  OracleHarness oracle;
  bool ready;
  TempDir dir;
  ChildProcess daemon{{CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log"};
};

bool reloads_seen(const ChildProcess& daemon, const std::string& line, std::size_t count) {
  std::size_t seen = 0;
  const std::string log = daemon.log();
  for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) {
    ++seen;
  }
  return seen >= count;
}

}  // namespace

TEST_CASE("a token with read and recheck is all the gate needs when reads require a token",
          "[e2e][tokens]") {
  ScopedDaemon scoped;
  OracleHarness& oracle = scoped.oracle;
  ChildProcess& daemon = scoped.daemon;
  INFO(daemon.log());
  REQUIRE(oracle.wait_for([&] {
    return get_with(oracle, "/v1/verdicts/web", k_failover_secret).body.find("\"healthy\"") !=
           std::string::npos;
  }));
  CHECK(oracle.get("/v1/verdicts").status == 401);  // no token
  CHECK(oracle.get("/healthz").status == 200);      // probes never need one
  const auto ack = http_request("127.0.0.1", oracle.api_port(), "POST", "/v1/escalations/1/ack", {},
                                {{"Authorization", std::string("Bearer ") + k_failover_secret}});
  CHECK(ack.status == 403);
  CHECK(ack.header("WWW-Authenticate") ==
        R"(Bearer realm="crosscheck", error="insufficient_scope", scope="ack")");

  const std::string token_file = (oracle.data_dir() / "failover").string();
  const auto gate =
      run_cli_captured({"gate", "web", "--expect", "healthy", "--oracle", oracle.oracle_url(),
                        "--recheck", "--token-file", token_file, "--timeout", "10s"});
  INFO(gate.out << gate.err);
  CHECK(gate.status == 0);
  // Without the token the gate's read is refused: never "proceed".
  const auto refused =
      run_cli_captured({"gate", "web", "--expect", "healthy", "--oracle", oracle.oracle_url()});
  CHECK(refused.status != 0);
  scoped.stop();
}

TEST_CASE("SIGHUP rotates a token, and an emptied token file refuses the reload", "[e2e][tokens]") {
  ScopedDaemon scoped;
  OracleHarness& oracle = scoped.oracle;
  ChildProcess& daemon = scoped.daemon;
  INFO(daemon.log());
  REQUIRE(oracle.wait_for(
      [&] { return get_with(oracle, "/v1/verdicts", k_failover_secret).status == 200; }));

  // Rotation: the new file is written, then the daemon reloads.
  const std::string rotated = "r0t4t3d-e2e";
  std::ofstream(oracle.data_dir() / "failover") << rotated << "\n";
  ::kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return reloads_seen(daemon, "reload applied", 1); }));
  CHECK(get_with(oracle, "/v1/verdicts", k_failover_secret).status == 401);
  CHECK(get_with(oracle, "/v1/verdicts", rotated).status == 200);
  CHECK(get_with(oracle, "/v1/verdicts", oracle.token()).status == 200);  // "default" stays

  // An emptied file: the reload is refused whole, the rotated token still works.
  std::ofstream(oracle.data_dir() / "failover", std::ios::trunc).flush();
  ::kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return reloads_seen(daemon, "is empty", 1); }));
  REQUIRE(
      oracle.wait_for([&] { return reloads_seen(daemon, "running config stays in force", 1); }));
  CHECK(get_with(oracle, "/v1/verdicts", rotated).status == 200);
  CHECK(get_with(oracle, "/v1/verdicts", "").status == 401);
  CHECK_FALSE(reloads_seen(daemon, "reload applied", 2));
  scoped.stop();
}
