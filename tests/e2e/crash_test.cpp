// Crash safety end to end: the real binary, under heavy writes (200 targets
// x 3 domains every 200 ms, with one domain lying about a rotating subset so
// verdicts, generations, history and escalations keep changing), is killed
// with SIGKILL at random moments, 20 times on the same data_dir. After every
// kill the database passes PRAGMA integrity_check, nothing the API showed is
// missing from it (generations, escalation ids), and every acknowledged
// escalation is still acknowledged; every restart serves generations at
// least as high as any seen before.
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/fake_dns_server.hpp"
#include "support/http_client.hpp"

#include <sqlite3.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

namespace {

using namespace crosscheck::testing;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_targets = 200;
constexpr int k_rounds = 20;
constexpr const char* k_token = "crash-secret-token";
// One domain lies about every k_lie_stride-th target (offset by the phase),
// and the phase moves every k_lie_phase: 20% of targets disputed at a time,
// below suspect_fraction, so the liar stays a voter and disputes escalate.
constexpr int k_lie_stride = 5;
constexpr auto k_lie_phase = 1500ms;
// Generous for a loaded 2-core machine and an ASan build; all waits poll.
constexpr auto k_ready_deadline = 20s;
constexpr auto k_reap_deadline = 5s;
constexpr auto k_http_timeout = 2000ms;
constexpr auto k_read_deadline = 8s;
constexpr auto k_escalation_wait = 1500ms;

std::string target_name(int index) {
  std::ostringstream name;
  name << 't' << (index < 100 ? "0" : "") << (index < 10 ? "0" : "") << index;
  return name.str();
}

FakeDnsBehaviour honest() {
  return FakeDnsBehaviour::answer({FakeRecord{"A", "127.0.0.1", 60, ""}});
}

std::string tail(const std::string& text) {
  constexpr std::size_t k_tail = 3000;
  return text.size() <= k_tail ? text : text.substr(text.size() - k_tail);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// A read is retried until k_read_deadline: a sanitizer build under load may
// miss one k_http_timeout, and what is tested is durability, not latency.
std::optional<json::object> get_object(unsigned short port, const std::string& target) {
  const auto deadline = Clock::now() + k_read_deadline;
  auto answer = http_request("127.0.0.1", port, "GET", target, {}, {}, k_http_timeout);
  while (answer.status != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    answer = http_request("127.0.0.1", port, "GET", target, {}, {}, k_http_timeout);
  }
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

// target -> generation, from GET /v1/verdicts.
std::optional<std::map<std::string, std::int64_t>> rest_generations(unsigned short port) {
  const auto body = get_object(port, "/v1/verdicts");
  if (!body) {
    return std::nullopt;
  }
  std::map<std::string, std::int64_t> out;
  for (const auto& item : body->at("verdicts").as_array()) {
    const auto& verdict = item.as_object();
    out[std::string(verdict.at("target").as_string())] =
        verdict.at("generation").to_number<std::int64_t>();
  }
  return out;
}

struct EscalationSeen {
  std::int64_t id = 0;
  std::string key;
  bool acked = false;
};

std::optional<std::vector<EscalationSeen>> rest_escalations(unsigned short port) {
  const auto body = get_object(port, "/v1/escalations");
  if (!body) {
    return std::nullopt;
  }
  std::vector<EscalationSeen> out;
  for (const auto& item : body->at("escalations").as_array()) {
    const auto& escalation = item.as_object();
    out.push_back(EscalationSeen{escalation.at("id").to_number<std::int64_t>(),
                                 std::string(escalation.at("key").as_string()),
                                 !escalation.at("acked_at").is_null()});
  }
  return out;
}

// The database as the next start will find it, read without changing it.
struct DatabaseState {
  std::string integrity;
  std::map<std::string, std::int64_t> generations;
  std::map<std::int64_t, std::pair<std::string, bool>> escalations;  // id -> (key, acked)
  std::int64_t transitions = 0;
  std::int64_t observations = 0;
  std::string error;
};

DatabaseState read_database(const std::filesystem::path& file) {
  DatabaseState state;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    state.error = "open: " + std::string(raw != nullptr ? sqlite3_errmsg(raw) : "no memory");
    return state;
  }
  sqlite3_busy_timeout(db.get(), 2000);
  const auto each_row = [&](const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &statement, nullptr) != SQLITE_OK) {
      state.error += std::string(sql) + ": " + sqlite3_errmsg(db.get()) + "; ";
      return;
    }
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      row(statement);
    }
    if (step != SQLITE_DONE) {
      state.error += std::string(sql) + ": " + sqlite3_errmsg(db.get()) + "; ";
    }
    sqlite3_finalize(statement);
  };
  const auto text = [](sqlite3_stmt* statement, int column) {
    const auto* value = sqlite3_column_text(statement, column);
    return value != nullptr ? std::string(reinterpret_cast<const char*>(value)) : std::string();
  };
  each_row("PRAGMA integrity_check", [&](sqlite3_stmt* statement) {
    state.integrity += (state.integrity.empty() ? "" : "\n") + text(statement, 0);
  });
  each_row("SELECT target, generation FROM verdicts", [&](sqlite3_stmt* statement) {
    state.generations[text(statement, 0)] = sqlite3_column_int64(statement, 1);
  });
  each_row("SELECT id, key, acked_at IS NOT NULL FROM escalations", [&](sqlite3_stmt* statement) {
    state.escalations[sqlite3_column_int64(statement, 0)] = {text(statement, 1),
                                                             sqlite3_column_int(statement, 2) != 0};
  });
  each_row("SELECT count(*) FROM verdict_log", [&](sqlite3_stmt* statement) {
    state.transitions = sqlite3_column_int64(statement, 0);
  });
  each_row("SELECT count(*) FROM observations", [&](sqlite3_stmt* statement) {
    state.observations = sqlite3_column_int64(statement, 0);
  });
  return state;
}

// Three honest resolvers, except that `gamma` answers empty for every
// k_lie_stride-th target (offset by a phase that moves every k_lie_phase)
// until stop(): disputes open and resolve all the time.
class RotatingLiar {
 public:
  RotatingLiar() {
    for (auto* server : {&alpha, &beta, &gamma}) {
      server->set_default(honest());
    }
    thread_ = std::thread([this] { run(); });
  }
  RotatingLiar(const RotatingLiar&) = delete;
  RotatingLiar& operator=(const RotatingLiar&) = delete;
  RotatingLiar(RotatingLiar&&) = delete;
  RotatingLiar& operator=(RotatingLiar&&) = delete;
  ~RotatingLiar() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  FakeDnsServer alpha{"127.0.0.91"};
  FakeDnsServer beta{"127.0.0.92"};
  FakeDnsServer gamma{"127.0.0.93"};

 private:
  void run() {
    for (int phase = 0; !stopping_; ++phase) {
      for (int i = 0; i < k_targets; ++i) {
        gamma.set(target_name(i) + ".test",
                  i % k_lie_stride == phase % k_lie_stride ? FakeDnsBehaviour::empty() : honest());
      }
      const auto until = Clock::now() + k_lie_phase;
      while (!stopping_ && Clock::now() < until) {
        std::this_thread::sleep_for(20ms);
      }
    }
  }

  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::string write_config(const std::filesystem::path& dir, unsigned short port,
                         const RotatingLiar& world) {
  std::ostringstream yaml;
  yaml << "node: { name: crash, data_dir: " << (dir / "data").string() << " }\n"
       << "api: { listen: 127.0.0.1:" << port << ", token_file: " << (dir / "api-token").string()
       << " }\n"
       << "defaults: { interval: 200ms, timeout: 150ms, rise: 1, fall: 1, stale_after: 3s }\n"
       // Flapping would freeze verdicts (and generations) as disputed: allow it.
       << "quorum: { dispute_grace: 200ms, flap_limit: 1000000 }\n"
       << "probing: { max_in_flight: 1024, max_per_second: 5000 }\n"
       << "vantages:\n"
       << "  - { name: alpha, domain: alpha, resolver: \"" << world.alpha.endpoint().to_string()
       << "\" }\n"
       << "  - { name: beta, domain: beta, resolver: \"" << world.beta.endpoint().to_string()
       << "\" }\n"
       << "  - { name: gamma, domain: gamma, resolver: \"" << world.gamma.endpoint().to_string()
       << "\" }\n"
       << "targets:\n";
  for (int i = 0; i < k_targets; ++i) {
    yaml << "  - { name: " << target_name(i) << ", dns: { name: " << target_name(i)
         << ".test } }\n";
  }
  const auto path = dir / "crosscheck.yaml";
  std::ofstream(path) << yaml.str();
  return path.string();
}

std::int64_t sum_of(const std::map<std::string, std::int64_t>& generations) {
  std::int64_t sum = 0;
  for (const auto& [target, generation] : generations) {
    sum += generation;
  }
  return sum;
}

}  // namespace

TEST_CASE(
    "kill -9 at random moments during heavy writes, 20 times: the database stays intact, "
    "generations never go back and no acknowledged escalation is lost",
    "[e2e][crash]") {
  const auto started = Clock::now();
  // CROSSCHECK_CRASH_SEED replays the kill moments of a failed run.
  const char* given = std::getenv("CROSSCHECK_CRASH_SEED");
  const auto seed = given != nullptr ? static_cast<std::uint32_t>(std::strtoul(given, nullptr, 10))
                                     : std::random_device{}();
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(50, 700);
  // Printed (not INFO) so that a failure in any round can be replayed.
  WARN("crash test seed " << seed);

  TempDir dir;
  std::ofstream(dir.path() / "api-token") << k_token << "\n";
  const auto database = dir.path() / "data" / "crosscheck.db";
  RotatingLiar world;

  std::map<std::string, std::int64_t> floor;      // highest generation seen so far
  std::map<std::int64_t, std::string> acked;      // acknowledged id -> key
  std::map<std::int64_t, std::string> ids_shown;  // every escalation id the API showed -> key
  std::optional<std::map<std::string, std::int64_t>> first_generations;
  std::map<std::string, std::int64_t> last_generations;
  std::int64_t first_transitions = -1;
  DatabaseState last_db;
  int rounds_with_ack = 0;
  // Where the time goes (printed at the end): start to ready, waiting for an
  // escalation to ack, running before the kill, reading the file.
  std::chrono::milliseconds starting{0}, awaiting{0}, posting{0}, running{0}, checking{0};
  const auto since = [](Clock::time_point from) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - from);
  };

  for (int round = 0; round < k_rounds; ++round) {
    const auto port = free_port("127.0.0.1");
    const auto config = write_config(dir.path(), port, world);
    const auto log = dir.path() / ("daemon-" + std::to_string(round) + ".log");
    ChildProcess daemon({CROSSCHECK_BINARY, "run", "--config", config}, log);
    INFO("round " << round << " (seed " << seed << ")");
    const auto round_started = Clock::now();
    // A failure inside a round shows how the daemon saw it.
    const auto require = [&](bool holds, const char* what) {
      if (!holds) {
        FAIL(what << "\ndaemon log (end):\n" << tail(daemon.log()));
      }
    };

    const bool ready = wait_until(
        [&] {
          return http_request("127.0.0.1", port, "GET", "/readyz", {}, {}, k_http_timeout).status ==
                 200;
        },
        k_ready_deadline);
    require(ready, "the daemon is not ready");
    starting += since(round_started);

    // The restart serves every target at a generation at least as high as
    // any seen before the kill (through the API or in the file).
    const auto generations = rest_generations(port);
    require(generations.has_value(), "GET /v1/verdicts after the start failed");
    REQUIRE(generations->size() == static_cast<std::size_t>(k_targets));
    for (const auto& [target, generation] : *generations) {
      INFO("target " << target);
      CHECK(generation >= floor[target]);
      floor[target] = std::max(floor[target], generation);
    }
    if (!first_generations) {
      first_generations = *generations;
    }

    // Every escalation acknowledged before is still acknowledged, and an id
    // the API handed out never names another escalation.
    const auto escalations = rest_escalations(port);
    require(escalations.has_value(), "GET /v1/escalations after the start failed");
    for (const auto& seen : *escalations) {
      INFO("escalation " << seen.id << " " << seen.key);
      if (const auto found = ids_shown.find(seen.id); found != ids_shown.end()) {
        CHECK(found->second == seen.key);
      }
      if (acked.contains(seen.id)) {
        CHECK(seen.acked);
      }
      ids_shown.emplace(seen.id, seen.key);
    }

    // The kill comes at a random moment after readiness, while the daemon
    // writes; before it, up to two open escalations are acknowledged. A
    // restart re-raises open disputes about one evaluation after readiness:
    // every other round waits for one (bounded; the kill then comes right
    // after the ack), the others ack only what opened before the kill.
    // 200 means kept.
    const auto kill_at = Clock::now() + std::chrono::milliseconds(delay_ms(random));
    const auto await_started = Clock::now();
    auto open = *escalations;
    const auto unacked = [&] {
      return std::any_of(open.begin(), open.end(), [](const auto& seen) { return !seen.acked; });
    };
    wait_until(
        [&] {
          if (auto now = rest_escalations(port)) {
            open = std::move(*now);
          }
          return unacked();
        },
        round % 2 == 0
            ? k_escalation_wait
            : std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - Clock::now()));
    awaiting += since(await_started);
    const auto post_started = Clock::now();
    int acked_now = 0;
    for (const auto& seen : open) {
      if (seen.acked || acked_now == 2) {
        continue;
      }
      const auto answer = http_request(
          "127.0.0.1", port, "POST", "/v1/escalations/" + std::to_string(seen.id) + "/ack",
          R"({"by": "crash-test"})", {{"Authorization", std::string("Bearer ") + k_token}},
          k_http_timeout);
      if (answer.status == 200) {
        acked.emplace(seen.id, seen.key);
        ++acked_now;
      }
    }
    rounds_with_ack += acked_now > 0 ? 1 : 0;
    posting += since(post_started);

    // What the API shows right before the kill is what must survive it.
    const auto running_started = Clock::now();
    std::this_thread::sleep_until(kill_at);
    running += since(running_started);
    const auto before_kill = rest_generations(port);
    const auto escalations_before_kill = rest_escalations(port);
    REQUIRE(::kill(daemon.pid(), SIGKILL) == 0);
    const int status = daemon.wait(k_reap_deadline);
    CHECK(WIFSIGNALED(status));
    require(before_kill.has_value(), "GET /v1/verdicts before the kill failed");
    require(escalations_before_kill.has_value(), "GET /v1/escalations before the kill failed");
    for (const auto& [target, generation] : *before_kill) {
      floor[target] = std::max(floor[target], generation);
    }
    last_generations = *before_kill;
    for (const auto& seen : *escalations_before_kill) {
      ids_shown.emplace(seen.id, seen.key);
    }

    const auto check_started = Clock::now();
    const auto db = read_database(database);
    checking += since(check_started);
    INFO(db.error);
    REQUIRE(db.error.empty());
    REQUIRE(db.integrity == "ok");
    // A target without a row starts at generation 0 (unknown), which is
    // all the API can have shown for one not yet judged when the kill came
    // (slow builds get there: a sanitizer build under load).
    for (const auto& [target, generation] : *before_kill) {
      INFO("target " << target << ": the API showed generation " << generation);
      const auto found = db.generations.find(target);
      CHECK((found != db.generations.end() ? found->second : 0) >= generation);
    }
    for (const auto& [id, key] : acked) {
      INFO("acknowledged escalation " << id << " " << key);
      const auto found = db.escalations.find(id);
      REQUIRE(found != db.escalations.end());
      CHECK(found->second.first == key);
      CHECK(found->second.second);
    }
    for (const auto& [id, key] : ids_shown) {
      INFO("escalation " << id << " " << key << " was shown by the API");
      const auto found = db.escalations.find(id);
      CHECK((found != db.escalations.end() ? found->second.first : "(missing)") == key);
    }
    for (const auto& [target, generation] : db.generations) {
      floor[target] = std::max(floor[target], generation);
    }
    if (first_transitions < 0) {
      first_transitions = db.transitions;
    }
    last_db = db;
  }
  world.stop();

  // Not vacuous: the daemon kept judging and writing across the kills, and
  // acknowledgements were really put to the test.
  CHECK(sum_of(last_generations) > sum_of(*first_generations) + k_targets / k_lie_stride);
  CHECK(last_db.transitions > first_transitions);
  CHECK(last_db.observations > 0);
  CHECK(rounds_with_ack >= k_rounds / 4);
  CHECK(acked.size() >= static_cast<std::size_t>(k_rounds / 4));
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  WARN("crash test: " << k_rounds << " kills in " << elapsed.count() << " ms, " << acked.size()
                      << " escalations acknowledged in " << rounds_with_ack << " rounds, "
                      << last_db.transitions << " transitions, " << last_db.observations
                      << " observations; ms starting " << starting.count()
                      << ", awaiting an escalation " << awaiting.count() << ", acking "
                      << posting.count() << ", running " << running.count() << ", reading the file "
                      << checking.count());
}

// What the API shows, it has committed: right after a 200 or a new
// generation, the file (read by another connection) already holds it.
TEST_CASE("an acknowledgement answered 200 is already committed to the database", "[e2e][crash]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  oracle.lie(oracle.gamma);
  REQUIRE(oracle.wait_for_verdict("disputed"));
  const auto open = rest_escalations(oracle.api_port());
  REQUIRE(open);
  REQUIRE_FALSE(open->empty());
  const auto id = open->front().id;
  const auto answer =
      oracle.send("POST", "/v1/escalations/" + std::to_string(id) + "/ack", R"({"by": "carol"})");
  REQUIRE(answer.status == 200);
  const auto db = read_database(oracle.data_dir() / "crosscheck.db");
  INFO(db.error);
  REQUIRE(db.escalations.contains(id));
  CHECK(db.escalations.at(id).first == open->front().key);
  CHECK(db.escalations.at(id).second);
}

TEST_CASE("a generation the API shows is already committed to the database", "[e2e][crash]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto before = oracle.verdict().at("generation").to_number<std::int64_t>();
  for (auto* server : {&oracle.alpha, &oracle.beta, &oracle.gamma}) {
    oracle.lie(*server);
  }
  // Polled without a pause, so the file is read the moment the API moves.
  std::int64_t shown = before;
  const auto deadline = Clock::now() + 8s;
  while (shown == before && Clock::now() < deadline) {
    if (const auto generations = rest_generations(oracle.api_port())) {
      shown = generations->at("web");
    }
  }
  REQUIRE(shown > before);
  const auto db = read_database(oracle.data_dir() / "crosscheck.db");
  INFO(db.error);
  REQUIRE(db.generations.contains("web"));
  CHECK(db.generations.at("web") >= shown);
}
