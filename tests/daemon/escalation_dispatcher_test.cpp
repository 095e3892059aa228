// The delivery rules of one sink, on a manual clock with a scripted
// transport: pump() delivers what is due now, on this thread; no sleeps.
#include "escalation/dispatcher.hpp"
#include "escalation/sinks.hpp"

#include "consensus/time_format.hpp"
#include "net/system_clock.hpp"
#include "support/child_process.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_pki.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace crosscheck::escalation;
using namespace crosscheck::net;
using crosscheck::testing::TempDir;
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

// Answers as scripted (default: delivered) and records what it was sent.
struct ScriptedTransport final : SinkTransport {
  struct Shared {
    std::deque<bool> script;
    bool down = false;
    std::vector<std::pair<std::string, AlertStatus>> sent;  // (key, status) delivered
    int attempts = 0;
  };
  explicit ScriptedTransport(Shared& shared) : shared_(shared) {}
  DeliveryResult deliver(const Alert& alert) override {
    ++shared_.attempts;
    bool ok = !shared_.down;
    if (!shared_.script.empty()) {
      ok = shared_.script.front();
      shared_.script.pop_front();
    }
    if (ok) {
      shared_.sent.emplace_back(alert.key, alert.status);
    }
    return {ok, ok ? "HTTP 200" : "HTTP 503", ok ? "" : "status"};
  }
  Shared& shared_;
};

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

Alert alert(const std::string& key, AlertStatus status = AlertStatus::Firing) {
  Alert out;
  out.key = key;
  out.kind = "dispute";
  out.status = status;
  out.target = "web";
  out.opened_at = cs::parse_rfc3339("2026-01-02T03:04:05Z").value_or(cs::WallTime{});
  if (status == AlertStatus::Resolved) {
    out.resolved_at = out.opened_at + 60s;
    out.kind = "dispute_resolved";
  }
  return out;
}

struct Fixture {
  cs::ManualClock clock{cs::parse_rfc3339("2026-01-02T03:04:05Z").value_or(cs::WallTime{})};
  ScriptedTransport::Shared shared;

  std::unique_ptr<SinkWorker> worker(SinkPolicy policy = {}, std::filesystem::path file = {}) {
    return std::make_unique<SinkWorker>(
        SinkSpec{"webhook", std::make_unique<ScriptedTransport>(shared), policy, std::move(file)},
        clock, quiet(), 42);
  }
};

using Sent = std::vector<std::pair<std::string, AlertStatus>>;

}  // namespace

TEST_CASE("a firing escalation is delivered once and a duplicate is not sent again",
          "[escalation][dispatcher]") {
  Fixture f;
  auto sink = f.worker();
  sink->submit(alert("k1"));
  sink->submit(alert("k1"));
  CHECK(sink->pump() == 1);
  sink->submit(alert("k1"));
  f.clock.advance(10min);
  CHECK(sink->pump() == 0);
  CHECK(f.shared.sent == Sent{{"k1", AlertStatus::Firing}});
  CHECK(sink->counters().delivered == 1);
}

TEST_CASE("every firing escalation gets exactly one resolved message", "[escalation][dispatcher]") {
  Fixture f;
  auto sink = f.worker();
  sink->submit(alert("k1"));
  sink->pump();
  sink->submit(alert("k1", AlertStatus::Resolved));
  sink->submit(alert("k1", AlertStatus::Resolved));
  sink->pump();
  sink->submit(alert("k1", AlertStatus::Resolved));
  sink->submit(alert("never-fired", AlertStatus::Resolved));
  f.clock.advance(10min);
  sink->pump();
  CHECK(f.shared.sent == Sent{{"k1", AlertStatus::Firing}, {"k1", AlertStatus::Resolved}});
}

TEST_CASE(
    "an episode that opened and closed while the sink was down arrives as firing then "
    "resolved once it returns",
    "[escalation][dispatcher]") {
  Fixture f;
  auto sink = f.worker();
  f.shared.down = true;
  sink->submit(alert("k1"));
  CHECK(sink->pump() == 1);
  sink->submit(alert("k1", AlertStatus::Resolved));
  f.shared.down = false;
  f.clock.advance(5min);
  CHECK(sink->pump() == 2);
  CHECK(f.shared.sent == Sent{{"k1", AlertStatus::Firing}, {"k1", AlertStatus::Resolved}});
  CHECK(sink->counters().failed == 1);
}

TEST_CASE("a failing sink is retried with exponential backoff and full jitter, within the cap",
          "[escalation][dispatcher]") {
  SinkPolicy policy;
  policy.backoff_base = 1s;
  policy.backoff_cap = 8s;
  SinkQueue queue(policy);
  std::mt19937_64 random(7);
  const cs::MonoTime start{};
  queue.offer(alert("k1"), start);
  auto now = start;
  for (int failure = 1; failure <= 8; ++failure) {
    const auto job = queue.next(now);
    REQUIRE(job);
    queue.complete(*job, false, now, random);
    const auto due = queue.next_due();
    REQUIRE(due);
    const auto ceiling = std::min<std::chrono::milliseconds>(8s, 1s * (1 << (failure - 1)));
    CAPTURE(failure);
    CHECK(*due - now >= 100ms);
    CHECK(*due - now <= std::max<std::chrono::milliseconds>(ceiling, 100ms));
    CHECK_FALSE(queue.next(*due - 1ms));  // not before its time
    now = *due;
  }
  const auto job = queue.next(now);
  REQUIRE(job);
  queue.complete(*job, true, now, random);
  CHECK(queue.counters().failed == 8);
  CHECK(queue.counters().delivered == 1);
}

TEST_CASE("a full queue refuses new escalations and counts them as dropped",
          "[escalation][dispatcher]") {
  Fixture f;
  SinkPolicy policy;
  policy.capacity = 2;
  auto sink = f.worker(policy);
  f.shared.down = true;
  CHECK(sink->submit(alert("k1")));
  CHECK(sink->submit(alert("k2")));
  CHECK_FALSE(sink->submit(alert("k3")));
  CHECK(sink->submit(alert("k1", AlertStatus::Resolved)));  // never refused: it frees a slot
  CHECK(sink->counters().dropped == 1);
}

TEST_CASE("Alertmanager's firing alert is re-sent every resend interval until resolved",
          "[escalation][dispatcher]") {
  Fixture f;
  SinkPolicy policy;
  policy.resend_interval = 1min;
  auto sink = f.worker(policy);
  sink->submit(alert("k1"));
  CHECK(sink->pump() == 1);
  f.clock.advance(59s);
  CHECK(sink->pump() == 0);
  f.clock.advance(1s);
  CHECK(sink->pump() == 1);
  sink->submit(alert("k1", AlertStatus::Resolved));
  CHECK(sink->pump() == 1);
  f.clock.advance(10min);
  CHECK(sink->pump() == 0);
  CHECK(f.shared.sent == Sent{{"k1", AlertStatus::Firing},
                              {"k1", AlertStatus::Firing},
                              {"k1", AlertStatus::Resolved}});
}

TEST_CASE("a restart resumes from the state file: nothing lost, nothing repeated",
          "[escalation][dispatcher]") {
  Fixture f;
  TempDir dir;
  const auto file = dir.path() / "escalations-webhook.json";
  {
    auto sink = f.worker({}, file);
    sink->submit(alert("delivered"));
    sink->pump();
    f.shared.down = true;
    sink->submit(alert("pending"));
    sink->pump();
  }
  REQUIRE(std::filesystem::exists(file));
  f.shared.down = false;
  f.shared.sent.clear();
  auto restarted = f.worker({}, file);
  CHECK(restarted->delivered("delivered") == Delivered::Firing);
  restarted->submit(alert("delivered"));  // the engine restored it: a duplicate
  restarted->pump();
  CHECK(f.shared.sent == Sent{{"pending", AlertStatus::Firing}});
  restarted->submit(alert("delivered", AlertStatus::Resolved));
  restarted->pump();
  CHECK(f.shared.sent.back() == std::pair{std::string("delivered"), AlertStatus::Resolved});
}

TEST_CASE("an unreadable state file is reported and the sink starts empty",
          "[escalation][dispatcher]") {
  Fixture f;
  TempDir dir;
  const auto file = dir.path() / "escalations-webhook.json";
  std::ofstream(file) << "{not json";
  auto sink = f.worker({}, file);
  sink->submit(alert("k1"));
  CHECK(sink->pump() == 1);
}

TEST_CASE("the exec sink runs argv without a shell, with the environment and stdin",
          "[escalation][exec]") {
  TempDir dir;
  const auto out = dir.path() / "out";
  const auto result = run_command(
      {"/bin/sh", "-c", "printf '%s|' \"$CROSSCHECK_KEY\" > \"$1\"; cat >> \"$1\"; echo hi", "sh",
       out.string()},
      {"CROSSCHECK_KEY=k;1 $(x)"}, R"({"key":"k"})", 5s);
  CHECK(result.ok);
  CHECK(result.detail == "exit status 0: hi\n");
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == R"(k;1 $(x)|{"key":"k"})");
}

TEST_CASE("the exec sink fails on a non-zero exit, a missing program and a timeout",
          "[escalation][exec]") {
  CHECK(run_command({"/bin/sh", "-c", "echo nope >&2; exit 3"}, {}, "", 5s).detail ==
        "exit status 3: nope\n");
  CHECK_FALSE(run_command({"/bin/sh", "-c", "exit 3"}, {}, "", 5s).ok);
  CHECK_FALSE(run_command({"/nonexistent/page-oncall"}, {}, "", 5s).ok);
  const auto slow = run_command({"/bin/sleep", "30"}, {}, "", 200ms);
  CHECK_FALSE(slow.ok);
  CHECK(slow.detail == "killed after 200ms");
}

TEST_CASE("the exec sink's child inherits none of the daemon's other descriptors",
          "[escalation][exec]") {
  const int inherited = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(inherited > 2);
  const auto result = run_command(
      {"/bin/sh", "-c", "[ ! -e /proc/self/fd/" + std::to_string(inherited) + " ]"}, {}, "", 5s);
  ::close(inherited);
  CHECK(result.ok);
}

TEST_CASE("every sink delivers on the dispatcher's one thread: webhook, Alertmanager and exec",
          "[escalation][dispatcher]") {
  TempDir dir;
  crosscheck::testing::FakeHttpServer hook;
  crosscheck::testing::FakeHttpServer alertmanager;
  // A receiver's long answer is cut, not a failed delivery: only the status counts.
  hook.set("/hook", crosscheck::testing::FakeResponse::huge_body(std::size_t{1024} * 1024));
  alertmanager.set("/api/v2/alerts", crosscheck::testing::FakeResponse::with_status(200));
  crosscheck::config::Config config;
  config.node.data_dir = dir.path();
  std::string why;
  config.escalation.webhook = crosscheck::config::WebhookSink{
      *crosscheck::config::Url::parse(hook.url("127.0.0.1", "/hook"), &why), {}, {}};
  config.escalation.alertmanager = crosscheck::config::AlertmanagerSink{
      *crosscheck::config::Url::parse(alertmanager.url("127.0.0.1", ""), &why), 60s, {}};
  const auto exec_log = dir.path() / "exec.log";
  config.escalation.exec = crosscheck::config::ExecSink{
      {"/bin/sh", "-c", "printf '%s\\n' \"$CROSSCHECK_KEY\" >> \"$0\"", exec_log.string()}};
  const SystemClock clock;
  auto dispatcher = make_dispatcher(make_sinks(config), clock, quiet());
  REQUIRE(dispatcher);
  dispatcher->submit(alert("k1"));
  const auto delivered = [&] {
    const auto counters = dispatcher->counters();
    return std::all_of(counters.begin(), counters.end(),
                       [](const auto& entry) { return entry.second.delivered == 1; });
  };
  for (int step = 0; step < 500 && !delivered(); ++step) {
    std::this_thread::sleep_for(10ms);  // polling a condition, bounded at 5 s
  }
  CHECK(delivered());
  dispatcher->stop(1s);
  CHECK(hook.request_count() == 1);
  CHECK(alertmanager.request_count() == 1);
  REQUIRE(alertmanager.last_request());
  CHECK(alertmanager.last_request()->target == "/api/v2/alerts");
  std::ifstream in(exec_log);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "k1\n");
}

TEST_CASE(
    "https sinks with a tls: block trust only its CA, a refused handshake is logged and "
    "counted by its reason",
    "[escalation][dispatcher][tls]") {
  TempDir dir;
  crosscheck::testing::TestPki pki(dir.path() / "pki");
  const auto receivers_ca = pki.ca("receivers-ca");
  const auto other_ca = pki.ca("other-ca");
  const auto clients_ca = pki.ca("clients-ca");
  const auto client = pki.leaf("oracle-a", clients_ca, "DNS:oracle-a.test");
  // Alertmanager requires a client certificate the sink does not have (its
  // own certificate passes the pin); the webhook presents a certificate from
  // a CA the pin does not name. (A POST that gets through is the net tests':
  // s_server answers GET only.)
  const crosscheck::testing::TlsTestServer alertmanager(
      pki.leaf("am", receivers_ca, "IP:127.0.0.1"), dir.path() / "am.log", clients_ca.cert);
  const crosscheck::testing::TlsTestServer hook(pki.leaf("hook", other_ca, "IP:127.0.0.1"),
                                                dir.path() / "hook.log");
  crosscheck::config::Config config;
  config.node.data_dir = dir.path();
  std::string why;
  crosscheck::config::TlsClientConfig pinned;
  pinned.ca_file = receivers_ca.cert;
  config.escalation.webhook = crosscheck::config::WebhookSink{
      *crosscheck::config::Url::parse(hook.url(), &why), {}, pinned};
  config.escalation.alertmanager = crosscheck::config::AlertmanagerSink{
      *crosscheck::config::Url::parse(alertmanager.url(), &why), 60s, pinned};
  const SystemClock clock;
  auto dispatcher = make_dispatcher(make_sinks(config), clock, quiet());
  REQUIRE(dispatcher);
  dispatcher->submit(alert("k1"));
  const auto settled = [&] {
    const auto counters = dispatcher->counters();
    return counters.size() == 2 && counters[0].second.failed >= 1 && counters[1].second.failed >= 1;
  };
  for (int step = 0; step < 500 && !settled(); ++step) {
    std::this_thread::sleep_for(10ms);  // polling a condition, bounded at 5 s
  }
  REQUIRE(settled());
  const auto counters = dispatcher->counters();
  dispatcher->stop(1s);
  CHECK(counters[0].first == "webhook");
  CHECK(counters[0].second.delivered == 0);
  CHECK(counters[0].second.failed_by_reason.at("tls_unknown_ca") == counters[0].second.failed);
  CHECK(counters[1].first == "alertmanager");
  CHECK(counters[1].second.delivered == 0);
  CHECK(counters[1].second.failed_by_reason.at("tls_client_cert") == counters[1].second.failed);
  // Every reason an HTTP sink can fail for is there from 0, not only those seen.
  for (const auto& [sink, sink_counters] : counters) {
    INFO(sink);
    CHECK(sink_counters.failed_by_reason.size() == 7);
    CHECK(sink_counters.failed_by_reason.at("status") == 0);
    CHECK(sink_counters.failed_by_reason.at("transport") == 0);
  }

  // A tls: block whose files cannot be used stops make_sinks (reload keeps the old sinks).
  config.escalation.webhook->tls->ca_file = client.key;
  CHECK_THROWS_WITH(make_sinks(config),
                    Catch::StartsWith("escalation.webhook.tls: ca_file '" + client.key.string() +
                                      "' holds no PEM certificate"));
}
