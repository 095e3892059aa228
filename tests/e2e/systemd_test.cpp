// The daemon under a service manager, with the real binary: the sd_notify
// protocol against a real datagram socket (READY, STATUS, WATCHDOG cadence,
// RELOADING on SIGHUP, STOPPING on SIGTERM), and live reload of the config.
#include "consensus/time_format.hpp"
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/scoped_env.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

// A unix datagram socket standing in for systemd's notify socket.
class NotifyListener {
 public:
  explicit NotifyListener(const std::filesystem::path& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~NotifyListener() { close(fd_); }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  struct Message {
    steady::time_point at;
    std::string text;
  };

  // A datagram containing `needle` already received, else the next one.
  std::string seen_or_next(const std::string& needle, std::chrono::milliseconds limit = 10s) {
    for (const auto& message : history_) {
      if (message.text.find(needle) != std::string::npos) {
        return message.text;
      }
    }
    return next_with(needle, limit);
  }

  // The next datagram containing `needle`, or "" after `limit`; every
  // datagram read on the way is kept in history().
  std::string next_with(const std::string& needle, std::chrono::milliseconds limit = 10s) {
    const auto until = steady::now() + limit;
    while (steady::now() < until) {
      pollfd poller{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
      if (poll(&poller, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) {
        continue;
      }
      std::string buffer(4096, '\0');
      const auto size = recv(fd_, buffer.data(), buffer.size(), 0);
      if (size <= 0) {
        continue;
      }
      buffer.resize(static_cast<std::size_t>(size));
      history_.push_back({steady::now(), buffer});
      if (buffer.find(needle) != std::string::npos) {
        return buffer;
      }
    }
    return {};
  }
  const std::vector<Message>& history() const { return history_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<Message> history_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<std::string> target_names(const OracleHarness& oracle) {
  std::vector<std::string> names;
  const auto answer = oracle.get("/v1/verdicts");
  if (answer.status != 200) {
    return names;
  }
  const auto body = json::parse(answer.body);
  for (const auto& item : body.as_object().at("verdicts").as_array()) {
    names.emplace_back(item.as_object().at("target").as_string());
  }
  return names;
}

bool has_escalation(const OracleHarness& oracle, const std::string& kind) {
  const auto answer = oracle.get("/v1/escalations");
  return answer.status == 200 && answer.body.find("\"kind\":\"" + kind + "\"") != std::string::npos;
}

std::int64_t generation(const OracleHarness& oracle, const std::string& target) {
  return oracle.verdict(target).at("generation").as_int64();
}

// The config `original` plus a target `switched` checking `path` on the fake
// web server every `interval`, timeout 900ms, and `extra` YAML lines.
std::string with_switched(const std::string& original, const OracleHarness& oracle,
                          const std::string& path, const std::string& interval,
                          const std::string& extra = {}) {
  return original + "  - name: switched\n    dns: { name: web.test }\n    http: { url: \"" +
         oracle.web.url("web.test", path) +
         "\", expect_status: [200] }\n    interval: " + interval + "\n    timeout: 900ms\n" + extra;
}

// The config `original` plus a target `web-copy` (web's DNS check).
std::string with_web_copy(const std::string& original) {
  return original + "  - name: web-copy\n    dns: { name: web.test }\n";
}

// The real daemon on the harness's config, logging at debug level.
ChildProcess run_debug(const OracleHarness& oracle, const std::filesystem::path& log) {
  return ChildProcess(
      {CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string(), "--log-level", "debug"},
      log);
}

// `target` healthy, then overridden unhealthy for 4h (a drill) and shown so.
bool drill_override(const OracleHarness& oracle, const std::string& target) {
  return oracle.wait_for_verdict("healthy", target) &&
         oracle.send("PUT", "/v1/overrides/" + target,
                     R"({"verdict":"unhealthy","reason":"drill","ttl":"4h"})")
                 .status == 200 &&
         oracle.wait_for_verdict("unhealthy", target);
}

}  // namespace

TEST_CASE("sd_notify: READY with a status, watchdog pings, RELOADING on SIGHUP, STOPPING") {
  OracleHarness oracle;
  TempDir dir;
  NotifyListener listener(dir.path() / "notify.sock");
  const ScopedEnv socket("NOTIFY_SOCKET", listener.path().string());
  const ScopedEnv watchdog("WATCHDOG_USEC", "1000000");  // WatchdogSec=1s
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");

  const auto ready = listener.next_with("READY=1");
  REQUIRE_FALSE(ready.empty());
  CHECK(ready.find("STATUS=1 target: ") != std::string::npos);

  // Pings come from the service loop at least every half watchdog period.
  for (int i = 0; i < 6; ++i) {
    REQUIRE_FALSE(listener.next_with("WATCHDOG=1", 2s).empty());
  }
  std::vector<steady::time_point> pings;
  for (const auto& message : listener.history()) {
    if (message.text == "WATCHDOG=1") {
      pings.push_back(message.at);
    }
  }
  for (std::size_t i = 1; i < pings.size(); ++i) {
    CHECK(pings[i] - pings[i - 1] < 900ms);
  }

  REQUIRE(oracle.wait_for_verdict("healthy"));
  CHECK_FALSE(listener.seen_or_next("STATUS=1 target: 1 healthy").empty());

  kill(daemon.pid(), SIGHUP);
  const auto reloading = listener.next_with("RELOADING=1");
  REQUIRE_FALSE(reloading.empty());
  CHECK(reloading.find("MONOTONIC_USEC=") != std::string::npos);
  CHECK_FALSE(listener.next_with("READY=1").empty());

  kill(daemon.pid(), SIGTERM);
  CHECK_FALSE(listener.next_with("STOPPING=1").empty());
  CHECK(WEXITSTATUS(daemon.wait(10s)) == 0);
}

TEST_CASE("SIGHUP applies a valid config at once and refuses an invalid one whole") {
  OracleHarness oracle;
  TempDir dir;
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto web_generation = generation(oracle, "web");
  const auto original = read_file(oracle.config_path());

  // A new target: it appears (unknown first), the kept one keeps its verdict.
  write_file(oracle.config_path(), original + "  - name: web-copy\n    dns: { name: web.test }\n");
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 2; }));
  CHECK(oracle.verdict("web").at("verdict").as_string() == "healthy");
  CHECK(generation(oracle, "web") == web_generation);
  CHECK(oracle.wait_for_verdict("healthy", "web-copy"));

  // An invalid file: nothing changes, an escalation says why.
  write_file(oracle.config_path(), original + "  - name: broken\n    dns: { nmae: x.test }\n");
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return has_escalation(oracle, "config_rejected"); }));
  CHECK(target_names(oracle) == std::vector<std::string>{"web", "web-copy"});
  CHECK(daemon.log().find("crosscheck.yaml:") != std::string::npos);  // file:line:column
  CHECK(daemon.log().find("nmae") != std::string::npos);

  // A setting only a restart can change: refused whole, even with other edits.
  std::string moved = original;
  const auto port = std::to_string(oracle.api_port());
  moved.replace(moved.find(port), port.size(), std::to_string(free_port("127.0.0.1")));
  write_file(oracle.config_path(), moved);
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for(
      [&] { return daemon.log().find("apply only on restart (api.listen") != std::string::npos; }));
  CHECK(target_names(oracle).size() == 2);

  // Back to the original: web-copy is retired, the escalation resolved.
  write_file(oracle.config_path(), original);
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 1; }));
  CHECK(oracle.wait_for([&] { return !has_escalation(oracle, "config_rejected"); }));
  CHECK(generation(oracle, "web") == web_generation);
  CHECK(oracle.verdict("web").at("verdict").as_string() == "healthy");
  CHECK(WEXITSTATUS(daemon.wait(0ms)) == 0);
}

TEST_CASE(
    "a target a reload removed comes back after a restart one generation on, without its "
    "old override") {
  // Found by a hostile review: the removal was not stored, so a restart in
  // the gap served the old verdict at the old generation (a fencing token
  // that did not show the gap), and the override the reload dropped from
  // the engine came back from the database.
  OracleHarness oracle;
  TempDir dir;
  const auto original = read_file(oracle.config_path());
  const auto with_copy = original + "  - name: web-copy\n    dns: { name: web.test }\n";
  write_file(oracle.config_path(), with_copy);
  std::int64_t before = 0;
  {
    ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                        dir.path() / "first.log");
    REQUIRE(drill_override(oracle, "web-copy"));
    before = generation(oracle, "web-copy");
    write_file(oracle.config_path(), original);
    kill(daemon.pid(), SIGHUP);
    REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 1; }));
    kill(daemon.pid(), SIGTERM);
    CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
  }
  write_file(oracle.config_path(), with_copy);
  ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                      dir.path() / "second.log");
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 2; }));
  // Restored as the removal left it: unknown, one generation on; never the
  // overridden unhealthy at the old one.
  const auto restored = oracle.verdict("web-copy");
  CHECK(restored.at("verdict").as_string() != "unhealthy");
  CHECK(restored.at("generation").as_int64() >= before + 1);
  REQUIRE(oracle.wait_for_verdict("healthy", "web-copy"));
  CHECK(generation(oracle, "web-copy") > before + 1);
  CHECK(oracle.verdict("web-copy").at("override").is_null());
  kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
}

TEST_CASE("probes of the old check still in flight at a reload never count for the new one") {
  // Found by a hostile review: the retired prober's probes end after the
  // reload reset the target's votes and are dated then, so with fall 1 one
  // stalled probe of the old URL was a down vote against the new one.
  OracleHarness oracle;
  TempDir dir;
  oracle.web.set("/old", FakeResponse::with_status(200, "ready"));
  oracle.web.set("/new", FakeResponse::with_status(200, "ready"));
  // healthy, (disputed,) unhealthy, (unknown,) healthy: up to five changes
  // in a minute, past the default flap_limit of 4 on some runs, and a
  // flapping hold would keep the target from turning healthy for minutes.
  // Flapping is not what this test is about.
  std::string original = read_file(oracle.config_path());
  const std::string grace = "quorum: { dispute_grace: 400ms }";
  REQUIRE(original.find(grace) != std::string::npos);
  original.replace(original.find(grace), grace.size(),
                   "quorum: { dispute_grace: 400ms, flap_limit: 50 }");
  const auto target = [&](const std::string& path) {
    return with_switched(original, oracle, path, "1s");
  };
  write_file(oracle.config_path(), target("/old"));
  auto daemon = run_debug(oracle, dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy", "switched"));
  // The old URL stalls: probes time out (down, fall 1), and at any moment
  // after that each vantage has a stalled probe in flight.
  oracle.web.set("/old", FakeResponse::stall());
  REQUIRE(oracle.wait_for_verdict("unhealthy", "switched"));
  write_file(oracle.config_path(), target("/new"));
  kill(daemon.pid(), SIGHUP);
  REQUIRE(
      oracle.wait_for([&] { return daemon.log().find("reload applied") != std::string::npos; }));
  // Bounded, with room for a busy machine; the bug this catches keeps it
  // from turning healthy, or disputes it on the way.
  REQUIRE(oracle.wait_for(
      [&] { return oracle.verdict("switched").at("verdict").as_string() == "healthy"; }, 20'000ms));
  std::this_thread::sleep_for(1500ms);  // past every old probe's timeout
  const auto log = daemon.log();
  const auto after = log.substr(log.find("reload applied"));
  // Neither the old check's down votes confirming an outage, nor one of
  // them standing against the new check's ups as a dispute.
  CHECK(after.find("verdict target=switched verdict=unhealthy") == std::string::npos);
  CHECK(after.find("verdict target=switched verdict=disputed") == std::string::npos);
  CHECK(oracle.verdict("switched").at("verdict").as_string() == "healthy");
  // Not vacuous: old probes were in flight, ended, and were dropped.
  REQUIRE(oracle.wait_for([&] {
    const auto text = daemon.log();
    for (const char* vantage : {"alpha", "beta", "gamma"}) {
      if (text.find(std::string("observation of switched from ") + vantage +
                    " dropped: its probe started under the previous config") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
}

TEST_CASE(
    "an override on a target removed while the daemon was stopped never comes back after "
    "the target is re-added and the daemon restarted",
    "[hostile]") {
  // Found by a hostile review: start-up restored overrides only for
  // configured targets and left the others in the database; a reload that
  // re-added the target showed no override, and the next restart brought
  // the old one back (a fresh unhealthy from an override nobody saw).
  OracleHarness oracle;
  TempDir dir;
  const auto original = read_file(oracle.config_path());
  const auto with_copy = original + "  - name: web-copy\n    dns: { name: web.test }\n";
  const auto run = [&](const std::string& log) {
    return ChildProcess({CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
                        dir.path() / log);
  };
  write_file(oracle.config_path(), with_copy);
  {
    auto daemon = run("first.log");
    REQUIRE(drill_override(oracle, "web-copy"));
    kill(daemon.pid(), SIGTERM);
    CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
  }
  write_file(oracle.config_path(), original);  // removed while stopped
  {
    auto daemon = run("second.log");
    REQUIRE(oracle.wait_for_verdict("healthy", "web"));
    write_file(oracle.config_path(), with_copy);
    kill(daemon.pid(), SIGHUP);
    REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 2; }));
    CHECK(oracle.verdict("web-copy").at("override").is_null());
    REQUIRE(oracle.wait_for_verdict("healthy", "web-copy"));
    kill(daemon.pid(), SIGTERM);
    CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
  }
  auto daemon = run("third.log");
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 2; }));
  // Past the first evaluation (the restored verdict is never fresh).
  REQUIRE(oracle.wait_for([&] { return oracle.verdict("web-copy").at("fresh").as_bool(); }));
  INFO(json::serialize(oracle.verdict("web-copy")));
  CHECK(oracle.verdict("web-copy").at("override").is_null());
  CHECK(oracle.verdict("web-copy").at("verdict").as_string() == "healthy");
  kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
}

TEST_CASE(
    "a recheck in flight at a reload answers with the new check's results, never with "
    "dropped ones",
    "[hostile]") {
  // Found by a hostile review: the retired prober's results are dropped at
  // a reload, but each still counted toward the recheck, which answered
  // 200 ("every vantage answered") with none of them in the verdict.
  OracleHarness oracle;
  TempDir dir;
  oracle.web.set("/old", FakeResponse::with_status(200, "ready"));
  oracle.web.set("/new", FakeResponse::with_status(200, "ready"));
  const auto original = read_file(oracle.config_path());
  const auto target = [&](const std::string& path, const std::string& interval) {
    return with_switched(original, oracle, path, interval, "    stale_after: 70s\n");
  };
  write_file(oracle.config_path(), target("/old", "1s"));
  auto daemon = run_debug(oracle, dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy", "switched"));
  oracle.web.set("/old", FakeResponse::stall());
  const auto asked = std::chrono::system_clock::now();
  auto recheck = std::async(std::launch::async,
                            [&] { return oracle.send("POST", "/v1/verdicts/switched/recheck"); });
  std::this_thread::sleep_for(150ms);
  // The new check probes rarely on its own: only the recheck brings its
  // results before the answer.
  write_file(oracle.config_path(), target("/new", "60s"));
  kill(daemon.pid(), SIGHUP);
  const auto answer = recheck.get();
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  const auto body = json::parse(answer.body).as_object();
  const auto& verdict = body.contains("verdict") && body.at("verdict").is_object()
                            ? body.at("verdict").as_object()
                            : body;
  REQUIRE(verdict.contains("evidence"));
  for (const auto& item : verdict.at("evidence").as_array()) {
    const auto& seen = item.as_object().at("last_observed");
    INFO(json::serialize(item));
    REQUIRE(seen.is_string());
    const auto at = crosscheck::consensus::parse_rfc3339(std::string(seen.as_string()));
    REQUIRE(at);
    CHECK(*at >= std::chrono::time_point_cast<crosscheck::consensus::Duration>(asked) - 1s);
  }
  kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
}

TEST_CASE("a target removed and re-added by reloads shows its history, removal included",
          "[hostile]") {
  // Found by a hostile review: the re-added target continued its generation
  // but /history started empty (the transitions that generation follows
  // were only in storage until the next restart).
  OracleHarness oracle;
  TempDir dir;
  const auto original = read_file(oracle.config_path());
  write_file(oracle.config_path(), with_web_copy(original));
  auto daemon = run_debug(oracle, dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy", "web-copy"));
  write_file(oracle.config_path(), original);
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 1; }));
  write_file(oracle.config_path(), with_web_copy(original));
  kill(daemon.pid(), SIGHUP);
  REQUIRE(oracle.wait_for([&] { return target_names(oracle).size() == 2; }));
  const auto history = oracle.get("/v1/verdicts/web-copy/history");
  INFO(history.body);
  REQUIRE(history.status == 200);
  CHECK_THAT(history.body, Catch::Contains("target removed from the config"));
  CHECK_THAT(history.body, Catch::Contains("\"healthy\""));
  kill(daemon.pid(), SIGTERM);
  CHECK(WEXITSTATUS(daemon.wait(10'000ms)) == 0);
}
