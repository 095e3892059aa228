// Escalation delivery end to end: a real Service disputes a target (one
// resolver lies) and resolves it; the sinks are a webhook receiver in the
// test, an exec sink writing a file, and a real Alertmanager.
#include "escalation/message.hpp"
#include "oracle_harness.hpp"
#include "support/promtool.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace {

using namespace crosscheck::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* k_secret = "hook-secret";

struct Delivered {
  std::map<std::string, int> firing;    // key -> accepted firing messages
  std::map<std::string, int> resolved;  // key -> accepted resolved messages
  int bad_signatures = 0;
};

// What the receiver accepted (answered 2xx), checked against the signature.
Delivered accepted(const FakeHttpServer& hook) {
  Delivered out;
  for (const auto& request : hook.requests()) {
    if (request.method != "POST" || request.status != 200) {
      continue;
    }
    if (request.header("X-Crosscheck-Signature") !=
        crosscheck::escalation::webhook_signature(request.body, k_secret)) {
      ++out.bad_signatures;
    }
    const auto body = json::parse(request.body).as_object();
    const std::string key(body.at("key").as_string());
    ++(body.at("status") == "firing" ? out.firing : out.resolved)[key];
  }
  return out;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds a webhook (and optionally an exec sink writing `exec_log`) to `oracle`.
void add_sinks(OracleHarness& oracle, const FakeHttpServer& hook,
               const std::filesystem::path& exec_log = {}) {
  const auto secret = oracle.data_dir() / "hook-key";
  std::ofstream(secret) << k_secret << "\n";
  std::string yaml = "escalation:\n  webhook: { url: \"" + hook.url("127.0.0.1", "/hook") +
                     "\", secret_file: " + secret.string() + " }\n";
  if (!exec_log.empty()) {
    yaml +=
        "  exec: { command: [\"/bin/sh\", \"-c\", "
        "\"printf '%s %s %s\\\\n' \\\"$CROSSCHECK_STATUS\\\" \\\"$CROSSCHECK_KIND\\\" "
        "\\\"$CROSSCHECK_KEY\\\" >> \\\"$0\\\"\", \"" +
        exec_log.string() + "\"] }\n";
  }
  oracle.append_config(yaml);
}

// An oracle with a webhook receiver answering `status` (and with
// `with_exec`, an exec sink appending to exec_log()), started.
struct WebhookWorld {
  explicit WebhookWorld(int status, bool with_exec = false) {
    hook.set("/hook", FakeResponse::with_status(status, "answer"));
    add_sinks(oracle, hook, with_exec ? exec_log() : std::filesystem::path{});
    oracle.start();
  }
  std::filesystem::path exec_log() const { return oracle.data_dir() / "exec.log"; }

  OracleHarness oracle;
  FakeHttpServer hook;
};

// beta lies until the target shows disputed.
void open_dispute(OracleHarness& oracle) {
  REQUIRE(oracle.wait_for_verdict("healthy"));
  oracle.lie(oracle.beta);
  REQUIRE(oracle.wait_for_verdict("disputed"));
}

// One dispute episode: opened, then beta tells the truth again.
void dispute_and_resolve(OracleHarness& oracle) {
  open_dispute(oracle);
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
}

bool one_pair(const Delivered& seen) {
  return seen.firing.size() == 1 && seen.resolved.size() == 1;
}

}  // namespace

TEST_CASE(
    "a dispute reaches the webhook signed, as one firing and one resolved message, and the "
    "exec sink",
    "[e2e][escalation]") {
  WebhookWorld world(200, true);
  auto& oracle = world.oracle;
  auto& hook = world.hook;
  const auto exec_log = world.exec_log();
  dispute_and_resolve(oracle);
  REQUIRE(oracle.wait_for([&] { return one_pair(accepted(hook)); }));
  const auto seen = accepted(hook);
  CHECK(seen.bad_signatures == 0);
  CHECK(seen.firing.begin()->first == seen.resolved.begin()->first);
  CHECK(seen.firing.begin()->second == 1);
  CHECK(seen.resolved.begin()->second == 1);
  const auto key = seen.firing.begin()->first;
  REQUIRE(oracle.wait_for([&] {
    return read_text(exec_log) == "firing dispute " + key + "\nresolved dispute " + key + "\n";
  }));
  // Counters reach /metrics with the next published snapshot.
  CHECK(oracle.wait_for([&] {
    const auto metrics = oracle.get("/metrics").body;
    return metrics.find(
               R"(crosscheck_escalation_deliveries_total{sink="webhook",result="delivered"} 2)") !=
               std::string::npos &&
           metrics.find(R"(crosscheck_escalation_dropped_total{sink="exec"} 0)") !=
               std::string::npos;
  }));
  const auto checked = promtool_check_metrics(oracle.get("/metrics").body);
  INFO(checked.output);
  CHECK(checked.exit_status == 0);
}

TEST_CASE(
    "a webhook receiver that is down for a while gets everything once it returns, exactly "
    "once per key",
    "[e2e][escalation]") {
  WebhookWorld world(503);
  auto& oracle = world.oracle;
  auto& hook = world.hook;
  dispute_and_resolve(oracle);
  REQUIRE(oracle.wait_for([&] { return hook.request_count() >= 1; }));
  CHECK(accepted(hook).firing.empty());
  CHECK(oracle.wait_for([&] {
    const auto metrics = oracle.get("/metrics").body;
    const std::string failed =
        R"(crosscheck_escalation_deliveries_total{sink="webhook",result="failed"} )";
    return metrics.find(failed) != std::string::npos &&
           metrics.find(failed + "0\n") == std::string::npos;
  }));
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  // Backoff with full jitter: the retry comes within the first few ceilings.
  REQUIRE(oracle.wait_for([&] { return one_pair(accepted(hook)); }, 20s));
  const auto seen = accepted(hook);
  CHECK(seen.firing.begin()->second == 1);
  CHECK(seen.resolved.begin()->second == 1);
  CHECK(seen.bad_signatures == 0);
}

TEST_CASE("an escalation pending across a restart is delivered once after it",
          "[e2e][escalation]") {
  WebhookWorld world(503);
  auto& oracle = world.oracle;
  auto& hook = world.hook;
  open_dispute(oracle);
  REQUIRE(oracle.wait_for([&] { return hook.request_count() >= 1; }));
  oracle.stop();
  CHECK(std::filesystem::exists(oracle.data_dir() / "escalations-webhook.json"));
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  oracle.start();
  REQUIRE(oracle.wait_for([&] { return accepted(hook).firing.size() == 1; }));
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  REQUIRE(oracle.wait_for([&] { return one_pair(accepted(hook)); }));
  const auto seen = accepted(hook);
  CHECK(seen.firing.begin()->second == 1);
  CHECK(seen.resolved.begin()->second == 1);
}

namespace {

// A real Alertmanager on a free loopback port, clustering off, storage in `dir`.
class Alertmanager {
 public:
  explicit Alertmanager(const std::filesystem::path& dir)
      : port_(free_port("127.0.0.1")),
        process_({"prometheus-alertmanager", "--config.file=" + write_config(dir),
                  "--storage.path=" + (dir / "am-data").string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                  "--cluster.listen-address="},
                 dir / "alertmanager.log") {}

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  std::string log() const { return process_.log(); }

  // The active alerts named `alertname`, from GET /api/v2/alerts.
  std::vector<json::object> active(const std::string& alertname) const {
    std::vector<json::object> out;
    const auto answer =
        http_request("127.0.0.1", port_, "GET", "/api/v2/alerts?active=true", {}, {}, 1s);
    boost::system::error_code ec;
    const auto value = json::parse(answer.body, ec);
    if (answer.status != 200 || ec || !value.is_array()) {
      return out;
    }
    for (const auto& alert : value.as_array()) {
      const auto& labels = alert.as_object().at("labels").as_object();
      if (labels.contains("alertname") && labels.at("alertname") == alertname.c_str()) {
        out.push_back(alert.as_object());
      }
    }
    return out;
  }

 private:
  static std::string write_config(const std::filesystem::path& dir) {
    const auto file = dir / "alertmanager.yml";
    std::ofstream(file) << "route: { receiver: blackhole }\nreceivers:\n  - name: blackhole\n";
    return file.string();
  }

  unsigned short port_;
  ChildProcess process_;
};

}  // namespace

TEST_CASE("a real Alertmanager receives the dispute alert and its resolution",
          "[e2e][escalation][alertmanager]") {
  OracleHarness oracle;
  TempDir dir;
  Alertmanager alertmanager(dir.path());
  REQUIRE(oracle.wait_for(
      [&] {
        return http_request("127.0.0.1", alertmanager.port(), "GET", "/-/ready", {}, {}, 1s)
                   .status == 200;
      },
      15s));
  oracle.append_config("escalation:\n  alertmanager: { url: \"" + alertmanager.url() +
                       "\", resend_interval: 1s }\n");
  oracle.start();
  open_dispute(oracle);
  REQUIRE(oracle.wait_for([&] { return alertmanager.active("CrosscheckDispute").size() == 1; }));
  const auto alert = alertmanager.active("CrosscheckDispute").front();
  const auto& labels = alert.at("labels").as_object();
  CHECK(labels.at("target") == "web");
  CHECK(labels.at("kind") == "dispute");
  CHECK(labels.at("severity") == "warning");
  CHECK(labels.at("node") == "e2e");
  CHECK(alert.at("annotations").as_object().at("verdict") ==
        (oracle.oracle_url() + "/v1/verdicts/web").c_str());
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  // Resolved (endsAt in the past): no longer listed as active.
  CHECK(oracle.wait_for([&] { return alertmanager.active("CrosscheckDispute").empty(); }));
}

TEST_CASE("a webhook added by a SIGHUP reload receives the next dispute", "[e2e][escalation]") {
  OracleHarness oracle;
  FakeHttpServer hook;
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  TempDir dir;
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy"));
  add_sinks(oracle, hook);
  ::kill(daemon.pid(), SIGHUP);
  REQUIRE(
      oracle.wait_for([&] { return daemon.log().find("reload applied") != std::string::npos; }));
  dispute_and_resolve(oracle);
  REQUIRE(oracle.wait_for([&] { return one_pair(accepted(hook)); }));
  CHECK(accepted(hook).bad_signatures == 0);
  ::kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
}

TEST_CASE(
    "a peer down across SIGHUP reloads is one peer_unreachable escalation, not one per reload",
    "[e2e][escalation][peers]") {
  OracleHarness oracle;
  const auto key = oracle.data_dir() / "peer-key";
  std::ofstream(key) << "k3y-of-a-peer-that-never-answers\n";
  oracle.append_config("peers:\n  - { name: gone, url: \"http://127.0.0.1:" +
                       std::to_string(free_port("127.0.0.1")) + "\", key_file: " + key.string() +
                       ", unreachable_after: 1s }\n");
  TempDir dir;
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");
  const auto open = [&] {
    const std::string body = oracle.get("/v1/escalations").body;
    int count = 0;
    for (auto at = body.find(R"("kind":"peer_unreachable")"); at != std::string::npos;
         at = body.find(R"("kind":"peer_unreachable")", at + 1)) {
      ++count;
    }
    return count;
  };
  REQUIRE(oracle.wait_for([&] { return open() == 1; }));
  // Each reload rebuilds the pullers, which count unanswered time afresh:
  // past their unreachable_after (1 s) a second escalation had opened.
  for (int reload = 0; reload < 2; ++reload) {
    ::kill(daemon.pid(), SIGHUP);
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    while (std::chrono::steady_clock::now() < until) {
      REQUIRE(open() <= 1);
      std::this_thread::sleep_for(100ms);
    }
  }
  CHECK(open() == 1);
  ::kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
}

TEST_CASE("a peer down while reloads come faster than its unreachable_after is still escalated",
          "[e2e][escalation][peers]") {
  OracleHarness oracle;
  const auto key = oracle.data_dir() / "peer-key";
  std::ofstream(key) << "k3y-of-a-peer-that-never-answers\n";
  oracle.append_config("peers:\n  - { name: gone, url: \"http://127.0.0.1:" +
                       std::to_string(free_port("127.0.0.1")) + "\", key_file: " + key.string() +
                       ", unreachable_after: 3s }\n");
  TempDir dir;
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for([&] { return oracle.get("/v1/escalations").status == 200; }));
  // A reload every second (config management), each rebuilding the pullers:
  // they counted unanswered time afresh, so 3 s never passed.
  bool escalated = false;
  for (int reload = 0; reload < 10 && !escalated; ++reload) {
    ::kill(daemon.pid(), SIGHUP);
    const auto until = std::chrono::steady_clock::now() + 1s;
    while (!escalated && std::chrono::steady_clock::now() < until) {
      escalated = oracle.get("/v1/escalations").body.find(R"("kind":"peer_unreachable")") !=
                  std::string::npos;
      std::this_thread::sleep_for(100ms);
    }
  }
  CHECK(escalated);
  ::kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
}

TEST_CASE(
    "a maintenance window holds every gate and keeps its dispute from the webhook across a "
    "restart, and the dispute that outlives it is sent",
    "[e2e][escalation][maintenance]") {
  WebhookWorld world(200);
  auto& oracle = world.oracle;
  auto& hook = world.hook;
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto set = oracle.send("PUT", "/v1/maintenance/web",
                               R"({"reason":"kernel upgrade","ttl":"10m","by":"alice"})");
  REQUIRE(set.status == 200);
  CHECK(json::parse(set.body).at("maintenance").at("by") == "alice");
  // Bad input: refused, nothing set.
  CHECK(oracle.send("PUT", "/v1/maintenance/web", R"({"reason":"x","ttl":"forever"})").status ==
        400);
  CHECK(oracle.send("PUT", "/v1/maintenance/nope", R"({"reason":"x","ttl":"1m"})").status == 404);
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy").status == 423);
  CHECK(json::parse(oracle.get("/v1/verdicts/web?expect=healthy").body).at("gate").at("code") ==
        "maintenance");
  open_dispute(oracle);
  // Opened inside the window: listed as silenced, never sent.
  REQUIRE(oracle.wait_for([&] {
    const auto body = json::parse(oracle.get("/v1/escalations").body);
    const auto& open = body.at("escalations").as_array();
    return !open.empty() && open[0].at("silenced") == true;
  }));
  // A restart inside the window keeps it (and the silence).
  oracle.stop();
  oracle.start();
  REQUIRE(oracle.wait_for([&] { return oracle.verdict().at("maintenance").is_object(); }));
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy").status == 423);
  std::this_thread::sleep_for(1s);  // time for a wrongly sent message to arrive
  CHECK(hook.request_count() == 0);
  // The operator ends the window while the dispute goes on: it is sent now.
  REQUIRE(oracle.send("DELETE", "/v1/maintenance/web").status == 200);
  CHECK(oracle.send("DELETE", "/v1/maintenance/web").status == 404);
  REQUIRE(oracle.wait_for([&] { return accepted(hook).firing.size() == 1; }));
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  REQUIRE(oracle.wait_for([&] { return one_pair(accepted(hook)); }));
  const auto seen = accepted(hook);
  CHECK(seen.firing.begin()->first == seen.resolved.begin()->first);
  const auto audit = oracle.send("GET",
                                 "/v1/audit?target=web&action=maintenance_set,"
                                 "maintenance_cleared,maintenance_started,maintenance_ended");
  REQUIRE(audit.status == 200);
  std::vector<std::string> actions;
  const auto lines = json::parse(audit.body);
  for (const auto& line : lines.at("audit").as_array()) {
    if (line.at("outcome") == "done") {  // not the second DELETE's refusal
      actions.emplace_back(line.at("action").as_string());
    }
  }
  // Newest first; the restart continued the window (no second "started").
  INFO(audit.body);
  REQUIRE(actions.size() == 4);
  // The clear and the end it caused share a millisecond: either order.
  CHECK(std::set<std::string>{actions[0], actions[1]} ==
        std::set<std::string>{"maintenance_ended", "maintenance_cleared"});
  CHECK(actions[2] == "maintenance_started");
  CHECK(actions[3] == "maintenance_set");
}

TEST_CASE(
    "a window that ended while crosscheck was stopped ends at the next start, once, and a gate's "
    "stable_for counts from there",
    "[e2e][maintenance][restart]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto set_at = std::chrono::steady_clock::now();
  REQUIRE(oracle.send("PUT", "/v1/maintenance/web", R"({"reason":"patch","ttl":"3s"})").status ==
          200);
  REQUIRE(oracle.wait_for([&] { return oracle.verdict().at("maintenance").is_object(); }));
  oracle.stop();
  std::this_thread::sleep_until(set_at + 3500ms);  // the window runs out while stopped
  oracle.start();
  REQUIRE(oracle.wait_for([&] {
    const auto verdict = oracle.verdict();
    return verdict.at("fresh") == true && verdict.at("maintenance").is_null();
  }));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("verdict") == "healthy");
  REQUIRE(verdict.at("stable_from").is_string());
  CHECK(std::string(verdict.at("stable_from").as_string()) >
        std::string(verdict.at("since").as_string()));
  const auto gate = oracle.get("/v1/verdicts/web?expect=healthy&stable_for=30s");
  CHECK(gate.status == 423);  // a hold
  const auto answer = json::parse(gate.body).at("gate");
  CHECK(answer.at("code") == "unstable");
  CHECK(std::string(answer.at("reason").as_string()).find("out of maintenance since") !=
        std::string::npos);
  // One start, one end: the end written by the start that found it over.
  const auto audit = json::parse(
      oracle.send("GET", "/v1/audit?target=web&action=maintenance_started,maintenance_ended").body);
  std::vector<std::string> actions;
  for (const auto& line : audit.at("audit").as_array()) {
    actions.emplace_back(line.at("action").as_string());
  }
  CHECK(actions == std::vector<std::string>{"maintenance_ended", "maintenance_started"});
}
