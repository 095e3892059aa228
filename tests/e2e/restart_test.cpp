// A restart continues what was open (DESIGN.md "Verdict semantics"): the
// real binary, three failure domains, one resolver lying so a dispute opens
// and is acknowledged, then a SIGTERM or a SIGKILL and a new start on the
// same data_dir. After it: the same escalation id and key with its ack, no
// resolved/firing pair at the webhook, the restored verdict not fresh until
// new evidence confirms it, and never unhealthy on one domain's evidence.
// Also: no sink sees an escalation before its row is committed, and open
// escalations from storage are continued by the engine or resolved, never
// left open forever.
#include "net/system_clock.hpp"
#include "oracle_harness.hpp"
#include "storage/store.hpp"

#include <sqlite3.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace {

using namespace crosscheck::testing;
namespace cs = crosscheck::consensus;
namespace json = boost::json;
namespace storage = crosscheck::storage;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto k_reap_deadline = 10s;
// Bounded waits; generous for a loaded machine and an ASan build.
constexpr auto k_step_deadline = 10s;
// After the restore hold has passed, how long nothing more may happen.
constexpr auto k_quiet_window = 2500ms;

// The restart tests' config: interval 300ms, timeout 200ms, rise 1 and
// `fall` (so restore_hold = fall x 300ms + 200ms), the harness's fake
// resolvers and web server, and the API on the harness's port (so its
// get/send/verdict reach this daemon).
std::string write_config(const OracleHarness& oracle, int fall, const std::string& extra = {}) {
  std::ostringstream yaml;
  yaml << "node: { name: restart, data_dir: " << (oracle.data_dir() / "data").string() << " }\n"
       << "api: { listen: 127.0.0.1:" << oracle.api_port()
       << ", token_file: " << oracle.token_file().string() << " }\n"
       << "defaults: { interval: 300ms, timeout: 200ms, rise: 1, fall: " << fall
       << ", stale_after: 2s }\n"
       << "quorum: { dispute_grace: 400ms }\n"
       << "vantages:\n";
  const std::vector<std::pair<std::string, const FakeDnsServer*>> vantages{
      {"alpha", &oracle.alpha}, {"beta", &oracle.beta}, {"gamma", &oracle.gamma}};
  for (const auto& [name, server] : vantages) {
    yaml << "  - { name: " << name << ", domain: " << name << ", resolver: \""
         << server->endpoint().to_string() << "\" }\n";
  }
  yaml << "targets:\n"
       << "  - name: web\n"
       << "    dns: { name: web.test }\n"
       << "    http: { url: \"" << oracle.web.url("web.test", "/health")
       << "\", expect_status: [200] }\n"
       << extra;
  const auto path = oracle.data_dir() / "restart.yaml";
  std::ofstream(path) << yaml.str();
  return path.string();
}

std::string webhook_yaml(const FakeHttpServer& hook) {
  return "escalation:\n  webhook: { url: \"" + hook.url("127.0.0.1", "/hook") + "\" }\n";
}

std::unique_ptr<ChildProcess> start_daemon(const OracleHarness& oracle, const std::string& config,
                                           const std::string& log_name) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{CROSSCHECK_BINARY, "run", "--config", config},
      oracle.data_dir() / log_name);
}

// Asks the daemon to stop (SIGTERM) and waits for it; the wait status.
int terminate(ChildProcess& daemon) {
  ::kill(daemon.pid(), SIGTERM);
  return daemon.wait(k_reap_deadline);
}

bool exited_cleanly(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The end of a daemon's log, shown when a step fails.
std::string tail(const ChildProcess& daemon) {
  constexpr std::size_t k_tail = 4000;
  const auto log = daemon.log();
  return log.size() <= k_tail ? log : log.substr(log.size() - k_tail);
}

// REQUIRE(ok), with the daemon's log when it fails.
void require(bool ok, const ChildProcess& daemon) {
  INFO("daemon log (end):\n" << tail(daemon));
  REQUIRE(ok);
}

std::optional<json::object> get_object(const OracleHarness& oracle, const std::string& target) {
  const auto answer = oracle.get(target);
  boost::system::error_code ec;
  auto value = json::parse(answer.body, ec);
  if (answer.status != 200 || ec || !value.is_object()) {
    return std::nullopt;
  }
  return std::move(value.as_object());
}

std::string text(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

// True once the API says a change of web's verdict to `verdict` is judged
// but waits for the disk (a masked snapshot: docs/api.md).
bool waits_for_disk(const OracleHarness& oracle, const std::string& verdict) {
  const auto body = get_object(oracle, "/v1/verdicts/web");
  return body && text(*body, "reason")
                         .find("a change to " + verdict + " is not shown until it is on disk") !=
                     std::string::npos;
}

struct Escalation {
  std::int64_t id = 0;
  std::string key;
  std::string kind;
  std::string acked_by;
};

std::optional<std::vector<Escalation>> escalations(const OracleHarness& oracle) {
  const auto body = get_object(oracle, "/v1/escalations");
  if (!body) {
    return std::nullopt;
  }
  std::vector<Escalation> out;
  for (const auto& item : body->at("escalations").as_array()) {
    const auto& object = item.as_object();
    out.push_back(Escalation{object.at("id").to_number<std::int64_t>(), text(object, "key"),
                             text(object, "kind"), text(object, "acked_by")});
  }
  return out;
}

std::set<std::string> keys_of(const std::vector<Escalation>& list) {
  std::set<std::string> keys;
  for (const auto& item : list) {
    keys.insert(item.key);
  }
  return keys;
}

// What the webhook receiver accepted: key -> firing / resolved messages.
struct Delivered {
  std::map<std::string, int> firing;
  std::map<std::string, int> resolved;
};

Delivered accepted(const FakeHttpServer& hook) {
  Delivered out;
  for (const auto& request : hook.requests()) {
    if (request.method != "POST" || request.status != 200) {
      continue;
    }
    const auto body = json::parse(request.body).as_object();
    ++(body.at("status") == "firing" ? out.firing : out.resolved)[text(body, "key")];
  }
  return out;
}

// Polls web's verdict through every wait, remembering what must never be
// seen: unhealthy (one lying domain can never make it so).
class VerdictWatch {
 public:
  explicit VerdictWatch(const OracleHarness& oracle) : oracle_(oracle) {}

  // Polls until `condition` holds for the verdict (true) or `timeout` passes.
  bool until(const std::function<bool(const json::object&)>& condition,
             std::chrono::milliseconds timeout = k_step_deadline) {
    return OracleHarness::wait_for([&] { return poll() && condition(last_); }, timeout);
  }
  // Keeps polling for `window` (an observation window, not a sleep: every
  // verdict in it is checked).
  void watch_for(std::chrono::milliseconds window) {
    OracleHarness::wait_for(
        [&] {
          poll();
          return false;
        },
        window);
  }

  const json::object& last() const { return last_; }
  bool saw_unhealthy() const { return unhealthy_; }
  const std::set<std::int64_t>& generations() const { return generations_; }
  void forget_generations() { generations_.clear(); }

 private:
  bool poll() {
    auto body = get_object(oracle_, "/v1/verdicts/web");
    if (!body) {
      return false;
    }
    last_ = std::move(*body);
    unhealthy_ = unhealthy_ || text(last_, "verdict") == "unhealthy";
    generations_.insert(last_.at("generation").to_number<std::int64_t>());
    return true;
  }

  const OracleHarness& oracle_;
  json::object last_;
  bool unhealthy_ = false;
  std::set<std::int64_t> generations_;
};

bool verdict_is(const json::object& verdict, const std::string& kind) {
  return text(verdict, "verdict") == kind;
}

// Runs `sql` on the daemon's database from the test's own connection.
std::string query_text(const std::filesystem::path& database, const std::string& sql) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(database.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return "(cannot open)";
  }
  sqlite3_busy_timeout(db.get(), 2000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    return std::string("(") + sqlite3_errmsg(db.get()) + ")";
  }
  std::string out = "(no row)";
  if (sqlite3_step(statement) == SQLITE_ROW) {
    const auto* value = sqlite3_column_text(statement, 0);
    out = value != nullptr ? reinterpret_cast<const char*>(value) : "(null)";
  }
  sqlite3_finalize(statement);
  return out;
}

// Holds the database's write lock, as a slow disk would: nothing commits
// until release(). Must be released well within the daemon's busy timeout
// (5 s), or its writer gives up and storage turns degraded.
class WriteLock {
 public:
  explicit WriteLock(const std::filesystem::path& database) {
    sqlite3* raw = nullptr;
    if (sqlite3_open(database.c_str(), &raw) == SQLITE_OK) {
      db_.reset(raw);
      sqlite3_busy_timeout(raw, 2000);
      held_ = sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    } else {
      sqlite3_close(raw);
    }
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  WriteLock(WriteLock&&) = delete;
  WriteLock& operator=(WriteLock&&) = delete;
  ~WriteLock() { release(); }

  bool held() const { return held_; }
  void release() {
    if (held_) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      held_ = false;
    }
    db_.reset();
  }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
  bool held_ = false;
};

// Runs `sql` on the daemon's database from another connection, as an
// operator (or a damaged schema) could.
void exec_on(const std::filesystem::path& database, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(database.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_busy_timeout(db.get(), 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

// Opens a dispute (gamma lies), waits for its one firing message and acks
// it over the API. Returns the escalation.
Escalation open_and_acknowledge(OracleHarness& oracle, VerdictWatch& watch,
                                const FakeHttpServer& hook, const ChildProcess& daemon) {
  require(watch.until([](const auto& v) { return verdict_is(v, "healthy"); }), daemon);
  oracle.lie(oracle.gamma);
  require(watch.until([](const auto& v) { return verdict_is(v, "disputed"); }), daemon);
  std::vector<Escalation> open;
  require(OracleHarness::wait_for([&] {
            auto now = escalations(oracle);
            open = now.value_or(open);
            return open.size() == 1;
          }),
          daemon);
  const auto opened = open.front();
  CHECK(opened.kind == "dispute");
  require(OracleHarness::wait_for([&] { return accepted(hook).firing.contains(opened.key); }),
          daemon);
  const auto ack = oracle.send("POST", "/v1/escalations/" + std::to_string(opened.id) + "/ack",
                               R"({"by": "restart-test"})");
  REQUIRE(ack.status == 200);
  return opened;
}

// Scheduled probes that started at least `le` seconds late (a bucket bound
// of crosscheck_probe_start_lateness_seconds), from /metrics.
std::optional<std::int64_t> probes_started_late(const OracleHarness& oracle,
                                                const std::string& le) {
  const std::string name = "crosscheck_probe_start_lateness_seconds";
  const auto body = oracle.get("/metrics").body;
  const auto value = [&](const std::string& series) -> std::optional<std::int64_t> {
    const auto at = body.find("\n" + series + " ");
    if (at == std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(body.substr(at + series.size() + 2));
  };
  const auto count = value(name + "_count");
  const auto within = value(name + "_bucket{le=\"" + le + "\"}");
  if (!count || !within) {
    return std::nullopt;
  }
  return *count - *within;
}

// The one open escalation; nullopt while there is none (or several).
std::optional<Escalation> only_open(const OracleHarness& oracle) {
  const auto open = escalations(oracle);
  return open && open->size() == 1 ? std::optional<Escalation>(open->front()) : std::nullopt;
}

// A daemon (fall 1) with a webhook sink, on the harness's world, once healthy.
struct HookedDaemon {
  HookedDaemon() {
    hook.set("/hook", FakeResponse::with_status(200, "ok"));
    daemon = start_daemon(oracle, write_config(oracle, 1, webhook_yaml(hook)), "daemon.log");
    require(watch.until([](const auto& v) { return verdict_is(v, "healthy"); }), *daemon);
  }

  OracleHarness oracle;
  FakeHttpServer hook;
  std::unique_ptr<ChildProcess> daemon;
  std::filesystem::path database = oracle.data_dir() / "data" / "crosscheck.db";
  VerdictWatch watch{oracle};
};

}  // namespace

TEST_CASE(
    "a restart in the middle of an acknowledged dispute continues it: same id, key and ack, "
    "nothing sent to sinks, not fresh until confirmed, never unhealthy",
    "[e2e][restart]") {
  const int signal = GENERATE(SIGTERM, SIGKILL);
  INFO((signal == SIGTERM ? "SIGTERM" : "SIGKILL"));
  OracleHarness oracle;
  FakeHttpServer hook;
  hook.set("/hook", FakeResponse::with_status(200, "ok"));
  // fall 3: restore_hold 1.1 s; after the restart the honest domains vote up
  // after one probe, the liar down only after three.
  const auto config = write_config(oracle, 3, webhook_yaml(hook));
  auto daemon = start_daemon(oracle, config, "daemon-1.log");
  VerdictWatch watch(oracle);
  const auto opened = open_and_acknowledge(oracle, watch, hook, *daemon);
  const auto generation = watch.last().at("generation").to_number<std::int64_t>();

  REQUIRE(::kill(daemon->pid(), signal) == 0);
  const int status = daemon->wait(k_reap_deadline);
  CHECK((signal == SIGTERM ? exited_cleanly(status) : WIFSIGNALED(status)));
  auto restarted = start_daemon(oracle, config, "daemon-2.log");
  watch.forget_generations();

  // Right after the restart: the restored dispute, served as not fresh.
  require(watch.until([](const auto&) { return true; }), *restarted);
  const auto first = watch.last();
  CHECK(verdict_is(first, "disputed"));
  CHECK(text(first, "held") == "healthy");
  CHECK_FALSE(first.at("fresh").as_bool());
  CHECK(text(first, "reason_code") == "restored");

  // New evidence (the liar's third empty answer) confirms it within the
  // restore hold; before that, every answer was the restored dispute.
  int unconfirmed = 0;
  bool other_than_restored = false;
  require(watch.until([&](const auto& v) {
    if (v.at("fresh").as_bool()) {
      return true;
    }
    ++unconfirmed;
    other_than_restored =
        other_than_restored || !verdict_is(v, "disputed") || text(v, "reason_code") != "restored";
    return false;
  }),
          *restarted);
  CHECK(unconfirmed > 0);
  CHECK_FALSE(other_than_restored);
  CHECK(verdict_is(watch.last(), "disputed"));
  CHECK(text(watch.last(), "reason_code") == "dispute");

  // The same escalation, id and key, still acknowledged.
  const auto after = escalations(oracle);
  REQUIRE(after);
  REQUIRE(after->size() == 1);
  CHECK(after->front().id == opened.id);
  CHECK(after->front().key == opened.key);
  CHECK(after->front().acked_by == "restart-test");

  // Well past the restore hold: nothing more reached the webhook, the
  // verdict never changed (one generation) and was never unhealthy.
  watch.watch_for(k_quiet_window);
  const auto seen = accepted(hook);
  CHECK(seen.firing == std::map<std::string, int>{{opened.key, 1}});
  CHECK(seen.resolved.empty());
  CHECK(watch.generations() == std::set<std::int64_t>{generation});
  CHECK_FALSE(watch.saw_unhealthy());
  const auto still = escalations(oracle);
  REQUIRE(still);
  CHECK(keys_of(*still) == std::set<std::string>{opened.key});

  // The episode still ends normally afterwards, under its key.
  oracle.all_honest();
  require(watch.until([](const auto& v) { return verdict_is(v, "healthy"); }), *restarted);
  require(OracleHarness::wait_for([&] { return accepted(hook).resolved.contains(opened.key); }),
          *restarted);
  CHECK(accepted(hook).resolved == std::map<std::string, int>{{opened.key, 1}});
  CHECK_FALSE(watch.saw_unhealthy());
  CHECK(exited_cleanly(terminate(*restarted)));
}

TEST_CASE("no sink sees an escalation before its row is committed to the database",
          "[e2e][restart]") {
  HookedDaemon running;
  // Named references, not a structured binding: clang 14 cannot capture
  // those in a lambda.
  auto& oracle = running.oracle;
  auto& hook = running.hook;
  auto& daemon = running.daemon;
  const auto& database = running.database;
  REQUIRE(hook.request_count() == 0);

  // The dispute opens while nothing can commit. The API says the change
  // waits for the disk (so it happened), and shows no escalation: its id is
  // not on disk, and a crash could hand it to another episode.
  std::string key;
  {
    WriteLock lock(database);
    REQUIRE(lock.held());
    oracle.lie(oracle.gamma);
    const bool judged =
        OracleHarness::wait_for([&] { return waits_for_disk(oracle, "disputed"); }, 3s);
    const bool hidden = !only_open(oracle).has_value();
    const auto sent_while_uncommitted = hook.request_count();
    lock.release();
    require(judged, *daemon);
    CHECK(hidden);
    CHECK(sent_while_uncommitted == 0);
  }
  require(OracleHarness::wait_for([&] {
            const auto open = only_open(oracle);
            key = open ? open->key : "";
            return !key.empty() && accepted(hook).firing.contains(key);
          }),
          *daemon);
  CHECK(query_text(database, "SELECT kind FROM escalations WHERE key = '" + key + "'") ==
        "dispute");

  // Its resolution too.
  {
    WriteLock lock(database);
    REQUIRE(lock.held());
    oracle.all_honest();
    const bool resolved =
        OracleHarness::wait_for([&] { return waits_for_disk(oracle, "healthy"); }, 3s);
    const auto resolved_while_uncommitted = accepted(hook).resolved.size();
    lock.release();
    require(resolved, *daemon);
    CHECK(resolved_while_uncommitted == 0);
  }
  require(OracleHarness::wait_for([&] { return accepted(hook).resolved.contains(key); }), *daemon);
  CHECK(query_text(database, "SELECT resolved_at IS NOT NULL FROM escalations WHERE key = '" + key +
                                 "'") == "1");
  CHECK(accepted(hook).firing == std::map<std::string, int>{{key, 1}});
  CHECK(exited_cleanly(terminate(*daemon)));
}

TEST_CASE(
    "a disk that does not commit never delays probing, and the API, an ack and the sinks follow "
    "the commit",
    "[e2e][restart]") {
  HookedDaemon running;
  // Named references, not a structured binding: clang 14 cannot capture
  // those in a lambda.
  auto& oracle = running.oracle;
  auto& hook = running.hook;
  auto& daemon = running.daemon;
  const auto& database = running.database;

  std::optional<Escalation> opened;
  {
    WriteLock lock(database);
    REQUIRE(lock.held());
    oracle.lie(oracle.gamma);
    // Past the patience the API goes on (the change shown as waiting for
    // the disk), but neither it nor a sink shows an escalation not on disk.
    const bool judged =
        OracleHarness::wait_for([&] { return waits_for_disk(oracle, "disputed"); }, 4s);
    const bool hidden = !only_open(oracle).has_value();
    const auto sent_while_uncommitted = hook.request_count();
    lock.release();
    require(judged, *daemon);
    CHECK(hidden);
    CHECK(sent_while_uncommitted == 0);
  }
  // The commit comes: the API shows it and the sink gets its message.
  require(OracleHarness::wait_for([&] {
            opened = only_open(oracle);
            return opened && accepted(hook).firing.contains(opened->key);
          }),
          *daemon);
  // An ack promises durability: with nothing committing it answers 503,
  // and once storage commits, 200.
  {
    WriteLock lock(database);
    REQUIRE(lock.held());
    const auto uncommitted =
        oracle.send("POST", "/v1/escalations/" + std::to_string(opened->id) + "/ack",
                    R"({"by": "slow-disk-test"})");
    lock.release();
    CHECK(uncommitted.status == 503);
    CHECK_THAT(uncommitted.body, Catch::Contains("storage_unavailable"));
  }
  const auto ack = oracle.send("POST", "/v1/escalations/" + std::to_string(opened->id) + "/ack",
                               R"({"by": "slow-disk-test"})");
  CHECK(ack.status == 200);
  CHECK(query_text(database, "SELECT acked_by FROM escalations WHERE id = " +
                                 std::to_string(opened->id)) == "slow-disk-test");
  // An override promises the same (found by a hostile review: it answered
  // 200 before the commit, and a kill -9 then took it back).
  const std::string override_body =
      R"({"verdict": "healthy", "reason": "slow-disk-test", "ttl": "10m"})";
  {
    WriteLock lock(database);
    REQUIRE(lock.held());
    const auto uncommitted = oracle.send("PUT", "/v1/overrides/web", override_body);
    lock.release();
    CHECK(uncommitted.status == 503);
    CHECK_THAT(uncommitted.body, Catch::Contains("storage_unavailable"));
  }
  CHECK(oracle.send("PUT", "/v1/overrides/web", override_body).status == 200);
  CHECK(query_text(database, "SELECT reason FROM overrides WHERE target = 'web'") ==
        "slow-disk-test");
  CHECK(oracle.send("DELETE", "/v1/overrides/web", "").status == 200);
  CHECK(query_text(database, "SELECT COUNT(*) FROM overrides WHERE target = 'web'") == "0");
  // Probing kept its pace while nothing committed (probes every 300 ms;
  // a loop waiting on the disk started them up to a second late).
  const auto late = probes_started_late(oracle, "0.5");
  REQUIRE(late);
  CHECK(*late == 0);
  CHECK(exited_cleanly(terminate(*daemon)));
}

TEST_CASE("an ack storage refuses to write answers 503, not 200, and a later one lands",
          "[e2e][restart]") {
  HookedDaemon running;
  auto& oracle = running.oracle;
  auto& hook = running.hook;
  auto& daemon = running.daemon;
  const auto& database = running.database;
  oracle.lie(oracle.gamma);
  std::optional<Escalation> opened;
  require(OracleHarness::wait_for([&] {
            opened = only_open(oracle);
            return opened.has_value();
          }),
          *daemon);
  require(OracleHarness::wait_for([&] { return accepted(hook).firing.contains(opened->key); }),
          *daemon);
  // A constraint, not the disk: storage drops the record and goes on, and
  // "committed up to N" covers it (found by a hostile review: it answered 200).
  exec_on(database,
          "CREATE TRIGGER refuse_ack BEFORE UPDATE OF acked_by ON escalations "
          "WHEN NEW.acked_by = 'refused-ack-test' BEGIN SELECT RAISE(ABORT, 'refused ack'); END;");
  const auto path = "/v1/escalations/" + std::to_string(opened->id) + "/ack";
  const auto refused = oracle.send("POST", path, R"({"by": "refused-ack-test"})");
  CHECK(refused.status == 503);
  CHECK_THAT(refused.body, Catch::Contains("storage_unavailable"));
  CHECK_THAT(refused.body, Catch::Contains("refused"));
  CHECK(query_text(database, "SELECT acked_at IS NULL FROM escalations WHERE id = " +
                                 std::to_string(opened->id)) == "1");
  const auto written = oracle.send("POST", path, R"({"by": "carol"})");
  CHECK(written.status == 200);
  CHECK(query_text(database, "SELECT acked_by FROM escalations WHERE id = " +
                                 std::to_string(opened->id)) == "carol");
  CHECK(exited_cleanly(terminate(*daemon)));
}

TEST_CASE(
    "open escalations from storage are continued by the engine or resolved, and only an unknown "
    "kind stays open",
    "[e2e][restart]") {
  OracleHarness oracle;
  // fall 5: restore_hold 1.7 s, so the continued episodes are still open
  // when the API first answers.
  const auto config = write_config(oracle, 5);
  const auto data = oracle.data_dir() / "data";
  const auto database = data / "crosscheck.db";
  const crosscheck::net::SystemClock clock;
  const auto now = clock.now();
  {
    storage::Options options;
    options.data_dir = data;
    storage::Store store(options, clock);
    cs::Verdict healthy;
    healthy.target = "web";
    healthy.kind = cs::VerdictKind::Healthy;
    healthy.generation = 4;
    healthy.since = now.wall - 1h;
    healthy.evaluated_at = now.wall - 1min;
    healthy.valid_until = now.wall - 1min + 2s;
    healthy.reason_code = cs::ReasonCode::Quorum;
    store.record_verdict(healthy, true);
    const auto event = [&](cs::EventKind kind, std::string key, std::string target,
                           std::string vantage) {
      cs::Event out;
      out.kind = kind;
      out.key = std::move(key);
      out.at = now + -30min;
      out.target = std::move(target);
      out.vantage = std::move(vantage);
      out.reason = "before the restart";
      return out;
    };
    // A split of web (the engine continues it), a suspect vantage (too),
    // a dispute of a target no longer configured and an unreachable peer no
    // longer configured (both end now).
    store.record_event(event(cs::EventKind::SplitOpened, "split/web/4", "web", ""), 5);
    store.acknowledge(5, "alice", now.wall - 20min);
    store.record_event(event(cs::EventKind::VantageSuspect, "suspect/beta/x", "", "beta"), 6);
    store.record_event(event(cs::EventKind::DisputeOpened, "dispute/gone/2", "gone", ""), 7);
    store.record_event(event(cs::EventKind::PeerUnreachable, "peer/oracle-z/x", "", "oracle-z"), 8);
    REQUIRE(store.flush(5s));
  }
  {
    // A row of a kind this build never opens: kept for a human.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(database.c_str(), &raw) == SQLITE_OK);
    const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    REQUIRE(sqlite3_exec(raw,
                         "INSERT INTO escalations (id, key, kind, target, vantage, reason, "
                         "opened_at) VALUES (9, 'odd/web/1', 'verdict_changed', 'web', '', "
                         "'from elsewhere', 0)",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
  }

  auto daemon = start_daemon(oracle, config, "daemon.log");
  // The API's first answer already shows what was restored.
  std::optional<std::vector<Escalation>> first;
  require(OracleHarness::wait_for([&] {
            first = escalations(oracle);
            return first.has_value();
          }),
          *daemon);
  CHECK(keys_of(*first) == std::set<std::string>{"split/web/4", "suspect/beta/x", "odd/web/1"});
  for (const auto& item : *first) {
    if (item.key == "split/web/4") {
      CHECK(item.id == 5);
      CHECK(item.acked_by == "alice");
    }
  }
  // The restored suspect counts as suspect through the restore hold.
  const auto vantages = get_object(oracle, "/v1/vantages");
  REQUIRE(vantages);
  bool beta_suspect = false;
  for (const auto& item : vantages->at("vantages").as_array()) {
    beta_suspect = beta_suspect || (text(item.as_object(), "name") == "beta" &&
                                    item.as_object().at("suspect").as_bool());
  }
  CHECK(beta_suspect);

  // Once the hold is over and the votes show neither, the engine closes
  // them; the unknown kind stays.
  require(OracleHarness::wait_for([&] {
            const auto open = escalations(oracle);
            return open && keys_of(*open) == std::set<std::string>{"odd/web/1"};
          }),
          *daemon);
  CHECK(exited_cleanly(terminate(*daemon)));
  for (const auto* key : {"split/web/4", "suspect/beta/x", "dispute/gone/2", "peer/oracle-z/x"}) {
    INFO(key);
    CHECK(query_text(database, std::string("SELECT resolved_at IS NOT NULL FROM escalations WHERE "
                                           "key = '") +
                                   key + "'") == "1");
  }
  CHECK(query_text(database, "SELECT resolved_at IS NULL FROM escalations WHERE id = 9") == "1");
  CHECK(query_text(database, "SELECT key FROM escalations WHERE id = 5") == "split/web/4");
}
