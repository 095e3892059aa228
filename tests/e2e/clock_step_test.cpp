// Wall clock steps under a running daemon (an NTP correction, a VM resumed):
// libfaketime, preloaded into the `crosscheck run` child alone, moves its
// CLOCK_REALTIME by whole hours through a timestamp file this test rewrites,
// while CLOCK_MONOTONIC stays real (FAKETIME_DONT_FAKE_MONOTONIC). Intervals
// and staleness run on the monotonic clock, so no verdict, generation or
// escalation may move; what users read (evaluated_at, valid_until) follows
// the new wall time. Between peers, a step beyond the signature's skew
// window shows as authentication refusals, never as votes.
#include "consensus/time_format.hpp"
#include "oracle_harness.hpp"
#include "peers/client.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/fake_http_server.hpp"
#include "support/http_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace cs = crosscheck::consensus;
using namespace crosscheck::testing;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// OracleHarness's timings: interval 300ms, stale_after 3s, dispute_grace 400ms.
constexpr auto k_stale_after = 3s;
// Each clock position is watched past stale_after: a vote aged on the wall
// clock would go stale (and the verdict unknown) inside this window.
constexpr auto k_watch = k_stale_after + 1500ms;
// The daemon evaluates every 500 ms; a step shows in evaluated_at by then.
constexpr auto k_catch_up = 5s;
// How far evaluated_at may trail the daemon's wall clock (one evaluation
// period, one probe interval and a loaded machine's scheduling).
constexpr auto k_behind = 3s;
// Request latency between reading the test's clock and the daemon's.
constexpr auto k_slack = 1s;
constexpr auto k_settle = 15s;
constexpr auto k_poll = 50ms;
constexpr auto k_http_timeout = 2s;

// libfaketime.so.1 as the Debian package installed it ("" when it is not).
std::string libfaketime_path() {
  const std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("dpkg -L libfaketime 2>/dev/null", "r"),
                                                   &pclose);
  if (!pipe) {
    return {};
  }
  std::string output;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) {
    output += buffer.data();
  }
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.ends_with("/libfaketime.so.1") && fs::exists(line)) {
      return line;
    }
  }
  return {};
}

// `crosscheck run --config CONFIG` whose wall clock (only) follows the
// libfaketime timestamp file this object rewrites. Starts at "+0".
class SteppedDaemon {
 public:
  SteppedDaemon(const fs::path& config, const fs::path& dir, const std::string& name)
      : timestamp_file_(dir / (name + ".faketime")) {
    const auto library = libfaketime_path();
    // Loud, never green: without the library nothing here would be stepped.
    INFO("libfaketime is not installed (Debian package libfaketime; scripts/install-deps.sh)");
    REQUIRE_FALSE(library.empty());
    step("+0", 0s);
    // `env` sets the variables for the daemon it executes and for nothing
    // else: the test process and its fakes keep the real clock.
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"env", "LD_PRELOAD=" + library,
                                 "FAKETIME_TIMESTAMP_FILE=" + timestamp_file_.string(),
                                 "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                                 CROSSCHECK_BINARY, "run", "--config", config.string()},
        dir / (name + ".log"));
    pid_ = process_->pid();
  }
  SteppedDaemon(const SteppedDaemon&) = delete;
  SteppedDaemon& operator=(const SteppedDaemon&) = delete;
  SteppedDaemon(SteppedDaemon&&) = delete;
  SteppedDaemon& operator=(SteppedDaemon&&) = delete;

  ~SteppedDaemon() {
    process_->stop();
    // libfaketime's per-process semaphore and shared memory are removed at a
    // clean exit; after a SIGKILL they would stay and break a later process
    // that gets the same pid. Only this daemon's, by its pid.
    std::error_code ignored;
    fs::remove("/dev/shm/faketime_shm_" + std::to_string(pid_), ignored);
    fs::remove("/dev/shm/sem.faketime_sem_" + std::to_string(pid_), ignored);
  }

  // Moves the daemon's wall clock to real time + `offset` ("+1h", "-1h",
  // "+0"); `value` is the same offset for the test's own arithmetic. Written
  // to a temporary name and renamed: libfaketime never reads half a line.
  void step(const std::string& offset, std::chrono::seconds value) {
    const auto temporary = fs::path(timestamp_file_.string() + ".new");
    std::ofstream(temporary) << offset << "\n";
    fs::rename(temporary, timestamp_file_);
    offset_ = value;
  }

  // The wall time the daemon reads now (the test's clock plus the offset).
  [[nodiscard]] cs::WallTime wall_now() const {
    return std::chrono::time_point_cast<cs::Duration>(std::chrono::system_clock::now()) + offset_;
  }
  [[nodiscard]] std::string log() const { return process_->log(); }
  [[nodiscard]] bool running() const { return process_->running(); }

 private:
  fs::path timestamp_file_;
  std::unique_ptr<ChildProcess> process_;
  pid_t pid_ = -1;
  std::chrono::seconds offset_{0};
};

std::optional<json::object> get_object(unsigned short port, const std::string& target) {
  const auto answer = http_request("127.0.0.1", port, "GET", target, {}, {}, k_http_timeout);
  if (answer.status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto value = json::parse(answer.body, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  return value.as_object();
}

std::string text(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

// The vote `vantage` has in a verdict's evidence; "" when absent.
std::string vote_of(const json::object& verdict, const std::string& vantage) {
  const auto* evidence = verdict.if_contains("evidence");
  if (evidence == nullptr || !evidence->is_array()) {
    return "";
  }
  for (const auto& item : evidence->get_array()) {
    if (item.is_object() && text(item.as_object(), "vantage") == vantage) {
      return text(item.as_object(), "vote");
    }
  }
  return "";
}

using EscalationSet = std::set<std::pair<std::int64_t, std::string>>;  // (id, key)

// What a user reads about target `web` at one moment, with the daemon's
// wall time just before and just after the reads.
struct Reading {
  std::string error;  // why the reading is incomplete; "" when complete
  std::string verdict;
  std::string held;
  bool fresh = false;
  std::int64_t generation = -1;
  cs::WallTime evaluated_at;
  cs::WallTime valid_until;
  EscalationSet escalations;
  std::size_t transitions = 0;
  int gate = 0;         // status of GET /v1/verdicts/web?expect=healthy
  int gate_stable = 0;  // the same with stable_for=30m (the daemon is younger)
  cs::WallTime wall_before;
  cs::WallTime wall_after;
};

Reading read(unsigned short port, const SteppedDaemon& daemon) {
  Reading out;
  out.wall_before = daemon.wall_now();
  const auto verdict = get_object(port, "/v1/verdicts/web");
  const auto escalations = get_object(port, "/v1/escalations");
  const auto history = get_object(port, "/v1/verdicts/web/history");
  out.gate = http_request("127.0.0.1", port, "GET", "/v1/verdicts/web?expect=healthy", {}, {},
                          k_http_timeout)
                 .status;
  out.gate_stable =
      http_request("127.0.0.1", port, "GET", "/v1/verdicts/web?expect=healthy&stable_for=30m", {},
                   {}, k_http_timeout)
          .status;
  out.wall_after = daemon.wall_now();
  if (!verdict || !escalations || !history) {
    out.error = "the API did not answer";
    return out;
  }
  out.verdict = text(*verdict, "verdict");
  out.held = text(*verdict, "held");
  out.fresh = verdict->at("fresh").as_bool();
  out.generation = verdict->at("generation").to_number<std::int64_t>();
  const auto evaluated = cs::parse_rfc3339(text(*verdict, "evaluated_at"));
  const auto valid = cs::parse_rfc3339(text(*verdict, "valid_until"));
  if (!evaluated || !valid) {
    out.error = "unreadable evaluated_at or valid_until";
    return out;
  }
  out.evaluated_at = *evaluated;
  out.valid_until = *valid;
  for (const auto& item : escalations->at("escalations").as_array()) {
    const auto& escalation = item.as_object();
    out.escalations.emplace(escalation.at("id").to_number<std::int64_t>(), text(escalation, "key"));
  }
  out.transitions = history->at("history").as_array().size();
  return out;
}

std::string describe(const EscalationSet& escalations) {
  std::string out = "{";
  for (const auto& [id, key] : escalations) {
    out += " " + std::to_string(id) + ":" + key;
  }
  return out + " }";
}

// What must hold through every step: the judgement, its fencing token and
// the open episodes, exactly as they were before the clock moved.
struct Settled {
  std::string verdict;
  std::string held;
  bool fresh = false;
  std::int64_t generation = -1;
  EscalationSet escalations;
  std::size_t transitions = 0;
  int gate = 0;
  int gate_stable = 0;
};

Settled settled_from(const Reading& reading) {
  return Settled{reading.verdict,     reading.held,        reading.fresh, reading.generation,
                 reading.escalations, reading.transitions, reading.gate,  reading.gate_stable};
}

// "" when `now` shows the settled judgement; otherwise what moved.
std::string judgement_moved(const Reading& now, const Settled& settled) {
  std::ostringstream out;
  if (!now.error.empty()) {
    out << now.error << "; ";
  }
  if (now.verdict != settled.verdict || now.held != settled.held) {
    out << "verdict " << now.verdict << "/" << now.held << " (was " << settled.verdict << "/"
        << settled.held << "); ";
  }
  if (now.fresh != settled.fresh) {
    out << "fresh " << now.fresh << " (was " << settled.fresh << "); ";
  }
  if (now.generation != settled.generation) {
    out << "generation " << now.generation << " (was " << settled.generation << "); ";
  }
  if (now.escalations != settled.escalations) {
    out << "open escalations " << describe(now.escalations) << " (were "
        << describe(settled.escalations) << "); ";
  }
  // A verdict seconds old is never "stable for 30m", whatever the wall says.
  if (now.gate_stable != settled.gate_stable) {
    out << "gate with stable_for=30m answered " << now.gate_stable << " (was "
        << settled.gate_stable << "); ";
  }
  if (now.transitions != settled.transitions) {
    out << now.transitions << " transitions in history (were " << settled.transitions << "); ";
  }
  return out.str();
}

// "" when evaluated_at and valid_until read sanely on the daemon's (stepped)
// wall clock; otherwise what is wrong.
std::string wall_times_wrong(const Reading& now) {
  std::ostringstream out;
  const auto evaluated = cs::format_rfc3339(now.evaluated_at);
  const auto wall = cs::format_rfc3339(now.wall_after);
  if (now.valid_until - now.evaluated_at != k_stale_after) {
    out << "valid_until - evaluated_at = "
        << std::chrono::duration_cast<milliseconds>(now.valid_until - now.evaluated_at).count()
        << " ms, not stale_after; ";
  }
  if (now.evaluated_at < now.wall_before - k_behind ||
      now.evaluated_at > now.wall_after + k_slack) {
    out << "evaluated_at " << evaluated << " is not just before the daemon's wall time " << wall
        << "; ";
  }
  if (now.valid_until < now.wall_before - k_slack ||
      now.valid_until > now.wall_after + k_stale_after + k_slack) {
    out << "valid_until " << cs::format_rfc3339(now.valid_until)
        << " is not within stale_after of the daemon's wall time " << wall << "; ";
  }
  return out.str();
}

// Steps `daemon`'s wall clock and watches the target for a bounded time:
// the judgement never moves; within k_catch_up evaluated_at follows the new
// wall time, and from then on the wall times and the gate read sanely.
void hold_through_step(SteppedDaemon& daemon, unsigned short port, const Settled& settled,
                       const std::string& offset, std::chrono::seconds value) {
  INFO("wall clock stepped to real time " << offset);
  daemon.step(offset, value);
  const auto stepped = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> caught_up;
  std::string first_violation;
  int readings = 0;
  int violations = 0;
  // Bounded: the catch-up deadline, then k_watch of sane readings.
  while (true) {
    const auto clock = std::chrono::steady_clock::now();
    if ((caught_up && clock - *caught_up >= k_watch) ||
        (!caught_up && clock - stepped > k_catch_up)) {
      break;
    }
    const auto now = read(port, daemon);
    ++readings;
    std::string problem = judgement_moved(now, settled);
    if (now.error.empty() && wall_times_wrong(now).empty()) {
      caught_up = caught_up.value_or(std::chrono::steady_clock::now());
    }
    if (caught_up) {
      // A gate compares valid_until with the wall clock: until the first
      // evaluation after a forward step it may hold (stale), never after.
      problem += wall_times_wrong(now);
      if (now.gate != settled.gate) {
        problem += "gate answered " + std::to_string(now.gate) + " (was " +
                   std::to_string(settled.gate) + "); ";
      }
    }
    if (!problem.empty()) {
      ++violations;
      if (first_violation.empty()) {
        first_violation =
            std::to_string(std::chrono::duration_cast<milliseconds>(clock - stepped).count()) +
            " ms after the step: " + problem;
      }
    }
    std::this_thread::sleep_for(k_poll);
  }
  INFO("first violation of " << violations << " in " << readings
                             << " readings: " << first_violation);
  CHECK(caught_up.has_value());
  CHECK(violations == 0);
  CHECK(daemon.running());
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return OracleHarness::wait_for(condition, timeout);
}

// Reads until `condition` holds for one complete reading (bounded).
Reading wait_for_reading(unsigned short port, const SteppedDaemon& daemon,
                         const std::function<bool(const Reading&)>& condition) {
  Reading last;
  wait_until(
      [&] {
        last = read(port, daemon);
        return last.error.empty() && condition(last);
      },
      k_settle);
  return last;
}

// The three hour-sized steps of issue 14: forward, back, and back again to
// before the start.
void step_forward_back_and_before_start(SteppedDaemon& daemon, unsigned short port,
                                        const Settled& settled) {
  hold_through_step(daemon, port, settled, "+1h", 1h);
  hold_through_step(daemon, port, settled, "+0", 0h);
  hold_through_step(daemon, port, settled, "-1h", -1h);
}

}  // namespace

TEST_CASE(
    "a wall clock stepped an hour forward, back and before the start changes no healthy verdict, "
    "generation or escalation",
    "[e2e][clock]") {
  OracleHarness oracle;  // fakes and config only; the daemon is the real binary
  FakeHttpServer hook;
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  oracle.append_config("escalation:\n  webhook: { url: \"" + hook.url("127.0.0.1", "/hook") +
                       "\" }\n");
  SteppedDaemon daemon(oracle.config_path(), oracle.data_dir(), "daemon");
  const auto port = oracle.api_port();

  // Settled: healthy, fresh, every domain up, nothing open.
  const auto start = wait_for_reading(port, daemon, [](const Reading& r) {
    return r.verdict == "healthy" && r.fresh && r.gate == 200 && wall_times_wrong(r).empty();
  });
  REQUIRE(start.verdict == "healthy");
  REQUIRE(start.gate == 200);
  REQUIRE(start.gate_stable == 423);
  CHECK(start.escalations.empty());
  const auto settled = settled_from(start);

  step_forward_back_and_before_start(daemon, port, settled);
  // No episode opened or closed behind the API's back either: a sink saw nothing.
  CHECK(hook.request_count() == 0);
}

TEST_CASE(
    "a dispute's escalation stays the same open episode while the wall clock steps an hour each "
    "way",
    "[e2e][clock]") {
  OracleHarness oracle;
  FakeHttpServer hook;
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  oracle.append_config("escalation:\n  webhook: { url: \"" + hook.url("127.0.0.1", "/hook") +
                       "\" }\n");
  SteppedDaemon daemon(oracle.config_path(), oracle.data_dir(), "daemon");
  const auto port = oracle.api_port();
  REQUIRE(wait_for_reading(port, daemon, [](const Reading& r) {
            return r.verdict == "healthy";
          }).verdict == "healthy");

  oracle.lie(oracle.alpha);
  // Disputed, held healthy, one escalation open and delivered once.
  const auto disputed = wait_for_reading(port, daemon, [&](const Reading& r) {
    return r.verdict == "disputed" && r.held == "healthy" && r.escalations.size() == 1 &&
           hook.request_count() == 1 && wall_times_wrong(r).empty();
  });
  REQUIRE(disputed.verdict == "disputed");
  REQUIRE(disputed.held == "healthy");
  REQUIRE(disputed.escalations.size() == 1);
  REQUIRE(hook.request_count() == 1);
  CHECK(disputed.gate == 423);
  const auto settled = settled_from(disputed);

  step_forward_back_and_before_start(daemon, port, settled);
  // The episode was neither resolved nor reopened: the sink saw its one firing.
  CHECK(hook.request_count() == 1);
}

namespace {

constexpr auto k_peer_stale_after = 2s;
constexpr auto k_peer_dispute_grace = 1s;
constexpr const char* k_skew_refusal = "timestamp outside the allowed clock skew";

// Two peered nodes judging one HTTP service: node-a on the real clock with
// vantages in domains alpha and beta, node-b (wall clock stepped by the
// test) with one vantage in domain gamma. Each node counts three domains,
// so node-a stays healthy on its own two whatever node-b's domain says.
// GET /v1/verdicts/web on the node at `port` ({} while it does not answer).
json::object verdict_at(unsigned short port) {
  return get_object(port, "/v1/verdicts/web").value_or(json::object{});
}

using Vantages = std::vector<std::pair<std::string, FakeDnsServer*>>;
class SteppedPeers {
 public:
  explicit SteppedPeers(bool node_a_has_beta = true) {
    web.set("/health", FakeResponse::with_status(200, "ready"));
    std::ofstream(dir.path() / "peer-key") << "shared-peer-secret\n";
    for (auto* resolver : {&alpha, &beta, &gamma}) {
      resolver->set("web.test", FakeDnsBehaviour::answer({FakeRecord{"A", "127.0.0.1", 60, ""}}));
    }
    port_a = free_port("127.0.0.1");
    port_b = free_port("127.0.0.1");
    node_a = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            CROSSCHECK_BINARY, "run", "--config",
            write_config("node-a", port_a,
                         node_a_has_beta ? Vantages{{"alpha", &alpha}, {"beta", &beta}}
                                         : Vantages{{"alpha", &alpha}},
                         "node-b", port_b)
                .string()},
        dir.path() / "node-a.log");
    node_b = std::make_unique<SteppedDaemon>(
        write_config("node-b", port_b, {{"gamma", &gamma}}, "node-a", port_a), dir.path(),
        "node-b");
  }

  std::string logs() const {
    return "node-a verdict: " + json::serialize(verdict_at(port_a)) +
           "\nnode-b verdict: " + json::serialize(verdict_at(port_b)) + "\nnode-a:\n" +
           node_a->log() + "node-b:\n" + node_b->log();
  }

  TempDir dir;
  FakeHttpServer web;
  FakeDnsServer alpha{"127.0.0.131"};
  FakeDnsServer beta{"127.0.0.132"};
  FakeDnsServer gamma{"127.0.0.133"};
  unsigned short port_a = 0;
  unsigned short port_b = 0;
  std::unique_ptr<ChildProcess> node_a;
  std::unique_ptr<SteppedDaemon> node_b;

 private:
  fs::path write_config(const std::string& node, unsigned short port,
                        const std::vector<std::pair<std::string, FakeDnsServer*>>& vantages,
                        const std::string& peer, unsigned short peer_port) const {
    const auto data = dir.path() / node;
    fs::create_directories(data);
    std::ostringstream yaml;
    yaml << "node: { name: " << node << ", data_dir: " << data.string() << " }\n"
         << "api: { listen: 127.0.0.1:" << port << " }\n"
         << "defaults: { interval: 300ms, timeout: 250ms, rise: 1, fall: 1, stale_after: "
         << k_peer_stale_after.count() << "s }\n"
         << "quorum: { dispute_grace: " << k_peer_dispute_grace.count() << "s }\n"
         << "vantages:\n";
    for (const auto& [name, resolver] : vantages) {
      yaml << "  - { name: " << name << ", domain: " << name << ", resolver: \""
           << resolver->endpoint().to_string() << "\" }\n";
    }
    yaml << "targets:\n"
         << "  - name: web\n"
         << "    dns: { name: web.test }\n"
         << "    http: { url: \"" << web.url("web.test", "/health")
         << "\", expect_status: [200] }\n"
         << "peers:\n"
         << "  - { name: " << peer << ", url: \"http://127.0.0.1:" << peer_port
         << "\", key_file: " << (dir.path() / "peer-key").string() << ", unreachable_after: 2s }\n";
    auto config = dir.path() / (node + ".yaml");
    std::ofstream(config) << yaml.str();
    return config;
  }
};

}  // namespace

TEST_CASE(
    "a peer whose wall clock steps an hour past the signature window is refused as a peer and its "
    "votes never count",
    "[e2e][clock][peers]") {
  SteppedPeers peers;
  const bool agreed = wait_until(
      [&] {
        const auto a = verdict_at(peers.port_a);
        const auto b = verdict_at(peers.port_b);
        return text(a, "verdict") == "healthy" && vote_of(a, "node-b/gamma") == "up" &&
               text(b, "verdict") == "healthy" && vote_of(b, "node-a/alpha") == "up";
      },
      k_settle);
  INFO(peers.logs());
  REQUIRE(agreed);
  const auto generation = verdict_at(peers.port_a).at("generation").to_number<std::int64_t>();

  // node-a's judgement must not move at any point while node-b is an hour off.
  std::string moved;
  const auto a_unmoved = [&] {
    const auto a = verdict_at(peers.port_a);
    const auto* down =
        a.if_contains("votes") != nullptr ? a.at("votes").as_object().if_contains("down") : nullptr;
    if (text(a, "verdict") != "healthy" ||
        a.at("generation").to_number<std::int64_t>() != generation || down == nullptr ||
        down->to_number<std::int64_t>() != 0 || vote_of(a, "node-b/gamma") == "down") {
      moved = moved.empty() ? json::serialize(a) : moved;
      return false;
    }
    return true;
  };

  peers.node_b->step("+1h", 1h);
  // Both pullers are refused for skew (each signs with its own clock), so
  // node-b's vote ages out on node-a: unknown, not counted.
  const bool refused = wait_until(
      [&] {
        a_unmoved();
        return vote_of(verdict_at(peers.port_a), "node-b/gamma") == "unknown" &&
               peers.node_a->log().find(k_skew_refusal) != std::string::npos &&
               peers.node_b->log().find(k_skew_refusal) != std::string::npos;
      },
      k_settle);
  INFO(peers.logs());
  CHECK(refused);

  // node-b now sees the service down (its resolver answers empty); had its
  // votes counted, node-a would go disputed within dispute_grace.
  peers.gamma.set("web.test", FakeDnsBehaviour::empty());
  CHECK(wait_until([&] { return vote_of(verdict_at(peers.port_b), "gamma") == "down"; }, k_settle));
  const auto until =
      std::chrono::steady_clock::now() + k_peer_stale_after + k_peer_dispute_grace + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    a_unmoved();
    std::this_thread::sleep_for(k_poll);
  }
  INFO("node-a moved: " << moved);
  CHECK(moved.empty());
  CHECK(vote_of(verdict_at(peers.port_a), "node-b/gamma") == "unknown");

  // Clocks agree again: node-b authenticates and its down vote counts.
  // node-a backed off while node-b's pulls were refused (full jitter, up to
  // the cap), so the next pull may be that far away: wait that long too
  // (it failed under load with only k_settle).
  peers.node_b->step("+0", 0s);
  CHECK(wait_until(
      [&] {
        const auto a = verdict_at(peers.port_a);
        return vote_of(a, "node-b/gamma") == "down" && text(a, "verdict") == "disputed";
      },
      crosscheck::peers::k_peer_backoff_cap + k_settle));
}

TEST_CASE(
    "a peer's wall clock stepped two minutes, inside the signature window, moves no vote or "
    "verdict on the other node",
    "[e2e][clock][peers]") {
  // node-a has one domain of its own: were node-b's vote to turn unknown for
  // one evaluation, node-a's verdict would go unknown (its generation moves).
  SteppedPeers peers(false);
  const bool agreed = wait_until(
      [&] {
        const auto a = verdict_at(peers.port_a);
        return text(a, "verdict") == "healthy" && vote_of(a, "node-b/gamma") == "up";
      },
      k_settle);
  INFO(peers.logs());
  REQUIRE(agreed);
  const auto generation = verdict_at(peers.port_a).at("generation").to_number<std::int64_t>();
  std::string moved;
  // Forward two minutes, then back: both directions, each watched past stale_after.
  for (const auto& [offset, value] :
       std::vector<std::pair<std::string, std::chrono::seconds>>{{"+120", 120s}, {"+0", 0s}}) {
    peers.node_b->step(offset, value);
    const auto until = std::chrono::steady_clock::now() + k_peer_stale_after + 1500ms;
    while (moved.empty() && std::chrono::steady_clock::now() < until) {
      const auto a = verdict_at(peers.port_a);
      if (text(a, "verdict") != "healthy" || vote_of(a, "node-b/gamma") != "up" ||
          a.at("generation").to_number<std::int64_t>() != generation) {
        moved = "node-b at real time " + offset + ": " + json::serialize(a);
      }
      std::this_thread::sleep_for(k_poll);
    }
  }
  INFO("node-a moved: " << moved);
  CHECK(moved.empty());
  // Inside the window both sides still authenticate each other.
  CHECK(peers.node_a->log().find(k_skew_refusal) == std::string::npos);
  CHECK(peers.node_b->log().find(k_skew_refusal) == std::string::npos);
}
