// Scoped API tokens against the real binary: a failover script's token
// with scopes read and recheck drives `crosscheck gate` under
// read_requires_token, and SIGHUP rotates tokens (old refused, new
// accepted) while an emptied token file refuses the reload and keeps them.
#include "oracle_harness.hpp"
#include "support/cli_run.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
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
  // Both reloads are in the audit log, the refused one with its error. The
  // log line comes before the audit row is committed (storage writes off
  // the I/O thread): wait for it, bounded.
  auto audit = get_with(oracle, "/v1/audit?limit=2", rotated);
  oracle.wait_for([&] {
    audit = get_with(oracle, "/v1/audit?limit=2", rotated);
    return audit.body.find(R"("outcome":"refused")") != std::string::npos;
  });
  INFO(audit.body);
  const auto refused = audit.body.find(R"("action":"reload")");
  REQUIRE(refused != std::string::npos);
  CHECK(audit.body.find(R"("outcome":"refused")") != std::string::npos);
  CHECK(audit.body.find("is empty") != std::string::npos);
  CHECK(audit.body.find(R"("action":"reload")", refused + 1) != std::string::npos);
  CHECK(audit.body.find(R"("outcome":"done")") != std::string::npos);
  scoped.stop();
}

TEST_CASE("a token file gone between a reload's validation and its apply fails the reload's line",
          "[e2e][tokens][audit]") {
  OracleHarness oracle;
  std::atomic<bool> remove_token{true};
  oracle.on_reload_validated = [&] {
    if (remove_token) {
      std::filesystem::remove(oracle.token_file());  // after validation read it
    }
  };
  oracle.start();
  const auto reload_line = [&] {
    const auto body = oracle.send("GET", "/v1/audit?action=reload&limit=1").body;
    const auto lines = boost::json::parse(body).at("audit").as_array();
    return lines.empty() ? boost::json::object() : lines[0].as_object();
  };
  const auto config_rejected = [&] {
    return oracle.get("/v1/escalations").body.find(R"("kind":"config_rejected")") !=
           std::string::npos;
  };
  oracle.reload();
  REQUIRE(oracle.wait_for([&] { return !reload_line().empty(); }));
  auto line = reload_line();
  INFO(boost::json::serialize(line));
  // The API keeps the token it had; the line says so instead of "done".
  CHECK(line.at("outcome") == "failed");
  CHECK(std::string(line.at("detail").as_string()).find("applied in part") != std::string::npos);
  const std::string why(line.at("why").as_string());
  CHECK(why.find("api-token") != std::string::npos);
  CHECK(why.find("previous tokens kept") != std::string::npos);
  CHECK(oracle.send("GET", "/v1/audit?limit=1").status == 200);  // the token still works
  CHECK(oracle.wait_for(config_rejected));
  // The file back, the next reload is done and resolves the escalation.
  remove_token = false;
  std::ofstream(oracle.token_file()) << oracle.token() << "\n";
  oracle.reload();
  REQUIRE(oracle.wait_for([&] {
    const auto latest = reload_line();
    return latest.contains("outcome") && latest.at("outcome") == "done";
  }));
  CHECK(oracle.wait_for([&] { return !config_rejected(); }));
}

TEST_CASE("the audit log names who overrode what from where, and a 200 survives SIGKILL",
          "[e2e][tokens][audit]") {
  ScopedDaemon scoped;
  OracleHarness& oracle = scoped.oracle;
  const std::string bearer = "Bearer " + oracle.token();
  REQUIRE(oracle.wait_for(
      [&] { return get_with(oracle, "/v1/verdicts", oracle.token()).status == 200; }));
  // Refused by the service (nothing to clear): a line too. It is written
  // before the override's line, so the 200 below waits on both.
  CHECK(http_request("127.0.0.1", oracle.api_port(), "DELETE", "/v1/overrides/web", {},
                     {{"Authorization", bearer}})
            .status == 404);
  // A recheck's line carries its outcome (here done: every vantage answered).
  REQUIRE(http_request("127.0.0.1", oracle.api_port(), "POST", "/v1/verdicts/web/recheck", {},
                       {{"Authorization", std::string("Bearer ") + k_failover_secret}})
              .status == 200);
  const auto set = http_request(
      "127.0.0.1", oracle.api_port(), "PUT", "/v1/overrides/web",
      R"({"verdict": "unhealthy", "reason": "failover drill", "ttl": "30m", "by": "alice"})",
      {{"Authorization", bearer}});
  REQUIRE(set.status == 200);
  // Killed right after the 200: the line was committed before it.
  ::kill(scoped.daemon.pid(), SIGKILL);
  scoped.daemon.wait(10s);
  ChildProcess restarted({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                         scoped.dir.path() / "restarted.log");
  HttpAnswer audit;
  REQUIRE(oracle.wait_for([&] {
    audit = get_with(oracle, "/v1/audit", k_failover_secret);
    return audit.status == 200;
  }));
  CHECK(get_with(oracle, "/v1/audit", "wrong").status == 401);
  INFO(audit.body);
  CHECK(audit.body.find(R"("action":"override_set")") != std::string::npos);
  CHECK(audit.body.find(R"("principal":"default")") != std::string::npos);
  CHECK(audit.body.find(R"("client":"127.0.0.1:)") != std::string::npos);
  CHECK(audit.body.find("reason=\\\"failover drill\\\"") != std::string::npos);
  CHECK(audit.body.find(R"("action":"override_cleared")") != std::string::npos);
  CHECK(audit.body.find(R"("action":"recheck","principal":"failover-script")") !=
        std::string::npos);
  CHECK(audit.body.find(R"("outcome":"refused")") != std::string::npos);
  CHECK(audit.body.find("no override in force for 'web'") != std::string::npos);
  // explain shows who set the override in force, from where (once the
  // restarted oracle has evaluated and shows the override again).
  REQUIRE(oracle.wait_for([&] {
    return get_with(oracle, "/v1/verdicts/web", k_failover_secret).body.find(R"("override":{)") !=
           std::string::npos;
  }));
  const auto explained =
      run_cli_captured({"explain", "web", "--api", oracle.oracle_url(), "--token-file",
                        (oracle.data_dir() / "failover").string()});
  INFO(explained.out << explained.err);
  CHECK(explained.status == 0);
  CHECK(explained.out.find("override_set by default from 127.0.0.1:") != std::string::npos);
  ::kill(restarted.pid(), SIGTERM);
  CHECK(WEXITSTATUS(restarted.wait(10s)) == 0);
}

TEST_CASE("a flood of refused rechecks is a few tallied audit lines and counted on /metrics",
          "[e2e][tokens][audit]") {
  ScopedDaemon scoped;
  OracleHarness& oracle = scoped.oracle;
  REQUIRE(oracle.wait_for(
      [&] { return get_with(oracle, "/v1/verdicts", oracle.token()).status == 200; }));
  REQUIRE(http_request("127.0.0.1", oracle.api_port(), "PUT", "/v1/overrides/web",
                       R"({"verdict": "unhealthy", "reason": "drill", "ttl": "30m"})",
                       {{"Authorization", "Bearer " + oracle.token()}})
              .status == 200);
  // A read-and-recheck token (a failover script's) asks 1100 times: a
  // recheck runs every 5 s, the others are refused 429. Each used to be an
  // audit line (~2000 a second, kept for the retention).
  int refused = 0;
  for (int i = 0; i < 1100; ++i) {
    refused += http_request("127.0.0.1", oracle.api_port(), "POST", "/v1/verdicts/web/recheck", {},
                            {{"Authorization", std::string("Bearer ") + k_failover_secret}})
                   .status == 429;
  }
  REQUIRE(refused >= 1000);
  // Every refusal is counted at once (with the next snapshot) ...
  REQUIRE(oracle.wait_for([&] {
    return metric_sample(get_with(oracle, "/metrics", k_failover_secret).body,
                         R"(crosscheck_api_rechecks_refused_total{reason="rate_limited"})") ==
           static_cast<double>(refused);
  }));
  // Who set the override is still there for explain.
  const auto explained =
      run_cli_captured({"explain", "web", "--api", oracle.oracle_url(), "--token-file",
                        (oracle.data_dir() / "failover").string()});
  INFO(explained.out << explained.err);
  CHECK(explained.out.find("override_set by default from 127.0.0.1:") != std::string::npos);
  // The audit log tallies them: one line per window of 10 s, which
  // a stop closes early. Stopped, the log is read from storage after a restart.
  scoped.stop();
  ChildProcess restarted({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                         scoped.dir.path() / "restarted.log");
  HttpAnswer audit;
  REQUIRE(oracle.wait_for([&] {
    audit = get_with(oracle, "/v1/audit?limit=1000&action=recheck", k_failover_secret);
    return audit.status == 200;
  }));
  INFO(audit.body);
  const auto lines = boost::json::parse(audit.body).at("audit").as_array();
  std::size_t tallies = 0;
  long tallied = 0;
  for (const auto& line : lines) {
    const std::string detail(line.at("detail").as_string());
    if (line.at("outcome") == "refused") {
      ++tallies;
      long count = 0;
      REQUIRE(std::sscanf(detail.c_str(), "refused %ld time", &count) == 1);
      CHECK(detail.find("in 10s: rate_limited") != std::string::npos);
      CHECK(line.at("principal") == "failover-script");
      tallied += count;
    }
  }
  CHECK(tallied == refused);
  CHECK(tallies >= 1);
  CHECK(lines.size() <= 12);  // a few windows and the rechecks that ran, not 1100 lines
  ::kill(restarted.pid(), SIGTERM);
  CHECK(WEXITSTATUS(restarted.wait(10s)) == 0);
}
