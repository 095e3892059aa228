// Tests retention (storage/batch_writer.cpp, driven by storage/store.cpp):
// old observations (outcome changes) and summaries go, in small
// transactions, and clean-up never deletes the record in force (the Oct
// 2025 lesson): the newest observation of every (target, vantage) pair, and
// the first retention window of an open escalation. The series here flip their outcome at
// every probe, so that storage keeps each observation as a change.
#include "storage_test_support.hpp"

#include "consensus/episode_key.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::EventKind;

namespace {

using Pair = std::pair<std::string, std::string>;

std::int64_t count_observations(const TempDir& dir, const std::string& where = "1") {
  return query_integer(dir.database(), "SELECT count(*) FROM observations WHERE " + where);
}

// The newest observation's time of (target, vantage), or -1 when none is left.
std::int64_t newest_of(const TempDir& dir, const Pair& pair) {
  return query_integer(dir.database(),
                       "SELECT coalesce(max(t_wall), -1) FROM observations "
                       "WHERE target = '" +
                           pair.first + "' AND vantage = '" + pair.second + "'");
}

// A change of every pair at each of `steps` + 1 times `step` apart, the
// newest at k_start: the series the escalation cases below keep or delete.
void record_changes(Store& store, const std::vector<Pair>& pairs, int steps,
                    consensus::Duration step) {
  for (int i = steps; i >= 0; --i) {
    for (const auto& [target, vantage] : pairs) {
      store.record_observation(flipping(target, vantage, k_start - i * step, i));
    }
  }
}

// A vantage escalation (target ''), opened at `at`.
consensus::Event suspect_escalation(const std::string& vantage, consensus::WallTime at) {
  auto suspect = escalation(EventKind::VantageSuspect, "suspect/" + vantage + "/t", "", at);
  suspect.vantage = vantage;
  return suspect;
}

}  // namespace

TEST_CASE(
    "retention deletes old observations and keeps the newest of every pair whatever the "
    "setting",
    "[storage]") {
  const auto retention =
      GENERATE(consensus::Duration{1}, consensus::Duration{1'000}, consensus::Duration{3'600'000},
               consensus::Duration{86'400'000}, consensus::Duration{7 * 86'400'000});
  INFO("retention " << retention.count() << "ms");
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = retention;
  Store store(options, clock);

  // Three pairs with a probe every 10 minutes for the last 30 hours, and one
  // pair whose vantage went away 30 days ago: its last observation is old
  // under every setting and is still what its verdict was judged on.
  const std::vector<Pair> live{{"db", "quad9"}, {"db", "cloudflare"}, {"web", "quad9"}};
  const Pair gone{"web", "retired"};
  for (const auto& [target, vantage] : live) {
    for (int i = 180; i >= 0; --i) {
      store.record_observation(flipping(target, vantage, k_start - i * 10min - 5s, i));
    }
  }
  for (int i = 5; i >= 0; --i) {
    store.record_observation(flipping(gone.first, gone.second, k_start - 30 * 24h - i * 1h, i));
  }
  REQUIRE(store.flush(10s));
  const auto before = count_observations(dir);
  const auto cutoff = (k_start - retention).time_since_epoch().count();
  const auto expected_deleted = count_observations(dir, "t_wall < " + std::to_string(cutoff)) -
                                // the newest of each pair stays even when old
                                count_observations(dir, "t_wall < " + std::to_string(cutoff) +
                                                            " AND id IN (SELECT max(id) FROM "
                                                            "observations GROUP BY target, "
                                                            "vantage)");

  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(static_cast<std::int64_t>(report.deleted) == expected_deleted);
  CHECK(count_observations(dir) == before - expected_deleted);
  CHECK(count_observations(dir, "t_wall < " + std::to_string(cutoff) +
                                    " AND id NOT IN (SELECT max(id) FROM observations GROUP BY "
                                    "target, vantage)") == 0);
  for (const auto& pair : live) {
    INFO(pair.first << "/" << pair.second);
    CHECK(newest_of(dir, pair) == (k_start - 5s).time_since_epoch().count());
  }
  CHECK(newest_of(dir, gone) == (k_start - 30 * 24h).time_since_epoch().count());
  CHECK(store.observations("web", 1000).size() >= 2);
  CHECK(store.health().retention_deleted == report.deleted + report.summaries_deleted);
}

TEST_CASE("observations of a target with an open escalation survive for a window from its opening",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"web", "quad9"}}, 10, 1h);
  // db has been disputed for 5 hours; nobody has resolved it.
  store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 5h));
  REQUIRE(store.flush(5s));

  auto report = store.run_retention_now();
  CHECK(report.completed);
  const auto opened = (k_start - 5h).time_since_epoch().count();
  // The opening (-5h) within its first hour, and the last hour (-1h, 0):
  // not -4h to -2h, which only repeat the episode.
  CHECK(count_observations(dir, "target = 'db' AND t_wall = " + std::to_string(opened)) == 1);
  CHECK(count_observations(dir, "target = 'db' AND t_wall >= " + std::to_string(opened)) == 3);
  CHECK(count_observations(dir, "target = 'db' AND t_wall < " + std::to_string(opened)) == 0);
  CHECK(count_observations(dir, "target = 'web'") == 2);  // within the last hour

  // Once resolved, the episode no longer holds them.
  store.record_event(escalation(EventKind::DisputeResolved, "dispute/db/2", "db", k_start));
  REQUIRE(store.flush(5s));
  report = store.run_retention_now();
  CHECK(report.deleted == 1);
  CHECK(count_observations(dir, "target = 'db'") == 2);
}

// The class of the soak's growth (bench row 8): an episode open for many
// windows keeps how it began and the latest window, never everything in
// between, so the database stays bounded however long nobody resolves it.
TEST_CASE("an escalation open for ten retention windows keeps its first and the latest",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"db", "google"}}, 60, 10min);  // 10 hours
  store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/7", "db", k_start - 9h));
  store.record_event(suspect_escalation("google", k_start - 9h));
  REQUIRE(store.flush(5s));

  CHECK(store.run_retention_now().completed);
  const auto at = [](auto time) { return std::to_string(time.time_since_epoch().count()); };
  for (const std::string vantage : {"quad9", "google"}) {
    INFO(vantage);
    const auto pair = "target = 'db' AND vantage = '" + vantage + "'";
    // -9h to -8h10 (the first hour), then -1h to 0: 6 + 7 of 55 since the opening.
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 9h) + " AND t_wall < " +
                                      at(k_start - 8h)) == 6);
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 8h) + " AND t_wall < " +
                                      at(k_start - 1h)) == 0);
    CHECK(count_observations(dir, pair + " AND t_wall >= " + at(k_start - 1h)) == 7);
    CHECK(count_observations(dir, pair) == 13);
  }
}

TEST_CASE("a suspect vantage's observations survive a window from its escalation's opening",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  record_changes(store, {{"db", "quad9"}, {"db", "google"}}, 10, 1h);
  store.record_event(suspect_escalation("quad9", k_start - 3h));
  REQUIRE(store.flush(5s));

  CHECK(store.run_retention_now().completed);
  CHECK(count_observations(dir, "vantage = 'quad9'") == 3);  // -3h, -1h, 0
  CHECK(count_observations(dir, "vantage = 'quad9' AND t_wall = " +
                                    std::to_string((k_start - 3h).time_since_epoch().count())) ==
        1);
  CHECK(count_observations(dir, "vantage = 'google'") == 2);
}

TEST_CASE("retention deletes thousands of rows in several small transactions", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  options.retention_batch = 500;
  Store store(options, clock);
  for (int i = 0; i < 2000; ++i) {
    store.record_observation(flipping("db", "quad9", k_start - 48h + i * 1s, i));
  }
  store.record_observation(flipping("db", "quad9", k_start - 2h, 2000));  // newest, still old
  REQUIRE(store.flush(10s));

  const auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(report.deleted == 2000);
  CHECK(report.transactions == 4);
  CHECK(count_observations(dir) == 1);
  CHECK(newest_of(dir, {"db", "quad9"}) == (k_start - 2h).time_since_epoch().count());
}

TEST_CASE("retention runs on its own once the retention interval has passed on the clock",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  options.retention_interval = 60s;
  Store store(options, clock);
  for (int i = 0; i < 10; ++i) {
    store.record_observation(flipping("db", "quad9", k_start - 10h + i * 1min, i));
  }
  REQUIRE(store.flush(5s));
  CHECK(store.health().retention_deleted == 0);

  clock.advance(61s);
  // The writer learns the time from the next call (it never reads the clock).
  store.record_observation(flipping("db", "quad9", clock.system(), 10));
  // The ten old observations, and the summaries of their periods.
  CHECK(eventually([&] { return store.health().retention_deleted >= 10; }));
  REQUIRE(store.flush(5s));
  CHECK(count_observations(dir) == 1);
}

// The pair's newest change is the last one written, whatever its time (as
// latest_observations holds it): after a wall clock stepped forward and
// back, retention picked the newest by time, kept the future-dated change
// and deleted the one the pair's current outcome began with.
TEST_CASE("retention after a clock step keeps the change the pair's current outcome began with",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1h;
  Store store(options, clock);
  store.record_observation(observation("db", "quad9", k_start - 3h));  // up
  store.record_observation(
      observation("db", "quad9", k_start + 5h, consensus::Outcome::Down));  // clock forward
  store.record_observation(observation("db", "quad9", k_start - 2h));       // clock back: up again
  REQUIRE(store.flush(5s));
  REQUIRE(query_text(dir.database(), "SELECT outcome FROM latest_observations") == "up");
  REQUIRE(store.run_retention_now().completed);
  // The first up is expired and goes; the future-dated down is not expired.
  CHECK(count_observations(
            dir, "t_wall = " + std::to_string((k_start - 3h).time_since_epoch().count())) == 0);
  CHECK(count_observations(dir, "outcome = 'down'") == 1);
  // The change that began the pair's current outcome stays, though expired.
  CHECK(count_observations(dir, "outcome = 'up' AND t_wall = " +
                                    std::to_string((k_start - 2h).time_since_epoch().count())) ==
        1);
}

namespace {

// The rows of one table as "id:time" text, in id order (time: the column
// retention judges them by, -1 when NULL).
std::string rows_of(const TempDir& dir, const std::string& table, const std::string& time) {
  return query_text(dir.database(), "SELECT coalesce(group_concat(id || ':' || coalesce(" + time +
                                        ", -1)), '') FROM (SELECT id, " + time + " FROM " + table +
                                        " ORDER BY id)");
}

struct Row {
  std::int64_t id = 0;
  std::string target;  // verdict_log only
  std::int64_t time = -1;
};

std::vector<Row> parse_rows(const std::string& text) {
  std::vector<Row> rows;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    const auto item = text.substr(at, comma - at);
    const auto colon = item.find(':');
    rows.push_back(Row{std::stoll(item.substr(0, colon)), "", std::stoll(item.substr(colon + 1))});
    at = comma + 1;
  }
  return rows;
}

std::string ids_of(const std::vector<Row>& rows) {
  std::string out;
  for (const auto& row : rows) {
    out += (out.empty() ? "" : ",") + std::to_string(row.id);
  }
  return out;
}

// Episodes as the engine opens and closes them (one kind per key).
const std::vector<std::pair<EventKind, EventKind>> k_episodes{
    {EventKind::DisputeOpened, EventKind::DisputeResolved},
    {EventKind::SplitOpened, EventKind::SplitResolved},
    {EventKind::CanaryDown, EventKind::CanaryRecovered},
    {EventKind::CertExpiring, EventKind::CertExpiringResolved},
    {EventKind::FlappingStarted, EventKind::FlappingStopped},
};

}  // namespace

// The class, not one example: random worlds of verdict changes and
// escalations (opened, some acknowledged, some resolved) over ten hours,
// each judged by a random history_retention; what must stay is computed
// here from the rows before the pass and compared with what did.
TEST_CASE("history retention deletes only old verdict changes and old resolved escalations",
          "[storage]") {
  const auto seed = GENERATE(range(1, 9));
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<consensus::Duration> windows{1ms, 10min, 1h, 3h, 9h, 30h};
  const auto window = windows[rng() % windows.size()];
  INFO("seed " << seed << ", history_retention " << window.count() << " ms");
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 10min;
  options.history_retention = window;
  options.retention_batch = 1 + rng() % 7;  // passes of several small steps
  const std::vector<std::string> targets{"db", "web", "api", "group:core"};
  std::map<std::string, std::uint64_t> generation;
  std::vector<std::string> open_keys;
  std::int64_t next_id = 1;
  std::map<std::string, std::string> target_of;
  std::map<std::string, EventKind> resolved_by;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<std::string>> used_keys;
  {
    Store store(options, clock);
    for (int step = 600; step >= 0; --step) {
      const auto at = k_start - step * 1min;
      const auto& target = targets[rng() % targets.size()];
      switch (rng() % 4) {
        case 0:
        case 1: {
          const auto kind = static_cast<consensus::VerdictKind>(rng() % 4);
          store.record_verdict(verdict(target, kind, ++generation[target], at), true);
          break;
        }
        case 2: {
          // The engine's keys ("KIND/TARGET/GENERATION", ".2"... within one
          // generation); a vantage's carry the time instead (target '').
          const auto& [opens, closes] = k_episodes[rng() % k_episodes.size()];
          auto event = escalation(opens, "", target, at);
          if (rng() % 5 == 0) {
            event = suspect_escalation("quad9", at);
            event.key += std::to_string(step);
          } else {
            event.key = consensus::unique_episode_key(used_keys[{target, generation[target]}],
                                                      opens, target, generation[target]);
          }
          const auto key = event.key;
          target_of[key] = event.target;
          resolved_by[key] =
              event.kind == EventKind::VantageSuspect ? EventKind::VantageCleared : closes;
          const auto id = next_id++;
          store.record_event(event, id);
          open_keys.push_back(key);
          if (rng() % 2 == 0) {
            store.acknowledge(id, "bob", at);
          }
          break;
        }
        default:
          if (!open_keys.empty()) {
            const auto index = rng() % open_keys.size();
            const auto key = open_keys[index];
            auto event = escalation(resolved_by[key], key, target_of[key], at);
            event.vantage = target_of[key].empty() ? "quad9" : "";
            store.record_event(event);
            open_keys.erase(open_keys.begin() + static_cast<std::ptrdiff_t>(index));
          }
      }
    }
    REQUIRE(store.flush(10s));
    const auto cutoff = (k_start - window).time_since_epoch().count();
    auto changes = parse_rows(rows_of(dir, "verdict_log", "at"));
    for (auto& row : changes) {
      row.target = query_text(
          dir.database(), "SELECT target FROM verdict_log WHERE id = " + std::to_string(row.id));
    }
    const auto escalations = parse_rows(rows_of(dir, "escalations", "resolved_at"));
    REQUIRE(!changes.empty());
    REQUIRE(!escalations.empty());
    std::map<std::string, std::int64_t> newest_change;
    for (const auto& row : changes) {
      newest_change[row.target] = std::max(newest_change[row.target], row.id);
    }
    const auto largest_id = escalations.back().id;
    std::vector<Row> changes_kept;
    std::vector<Row> escalations_kept;
    for (const auto& row : changes) {
      if (row.time >= cutoff || row.id == newest_change[row.target]) {
        changes_kept.push_back(row);
      }
    }
    std::size_t current_keys = 0;
    for (const auto& row : escalations) {
      const auto where = " FROM escalations WHERE id = " + std::to_string(row.id);
      const auto key = query_text(dir.database(), "SELECT key" + where);
      const auto target = query_text(dir.database(), "SELECT target" + where);
      const auto base = query_text(dir.database(), "SELECT kind" + where) + "/" + target + "/" +
                        std::to_string(generation[target]);
      const bool current = generation[target] > 0 && (key == base || key.starts_with(base + "."));
      current_keys += current ? 1 : 0;
      if (row.time == -1 || row.time >= cutoff || row.id == largest_id || current) {
        escalations_kept.push_back(row);
      }
    }
    const auto open_before =
        query_integer(dir.database(), "SELECT count(*) FROM escalations WHERE resolved_at IS NULL");
    const auto audit_before = query_integer(dir.database(), "SELECT count(*) FROM audit_log");

    INFO(current_keys << " resolved or open escalations hold a key of their target's current "
                         "generation");
    const auto report = store.run_retention_now();
    CHECK(report.completed);
    CHECK(ids_of(parse_rows(rows_of(dir, "verdict_log", "at"))) == ids_of(changes_kept));
    CHECK(ids_of(parse_rows(rows_of(dir, "escalations", "resolved_at"))) ==
          ids_of(escalations_kept));
    CHECK(report.history_deleted ==
          changes.size() - changes_kept.size() + escalations.size() - escalations_kept.size());
    CHECK(query_integer(dir.database(),
                        "SELECT count(*) FROM escalations WHERE resolved_at IS NULL") ==
          open_before);
    CHECK(query_integer(dir.database(), "SELECT count(*) FROM audit_log") == audit_before);
    // Every target still shows the change its current verdict came from.
    for (const auto& target : targets) {
      if (generation[target] > 0) {
        const auto history = store.history(target, 1000);
        REQUIRE_FALSE(history.empty());
        CHECK(history.front().generation == generation[target]);
      }
    }
    // A second pass at the same time finds nothing more.
    CHECK(store.run_retention_now().history_deleted == 0);
  }
  // A restart: ids continue after the largest ever handed out, and every
  // open escalation (acked or not) comes back.
  Store store(options, clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->max_escalation_id == next_id - 1);
  CHECK(state->open_escalations.size() == open_keys.size());
  for (const auto& restored : state->verdicts) {
    CHECK(restored.generation == generation[restored.target]);
    // What the key rule is for: every key the current generation used is
    // still known, so the engine never hands one out again.
    for (const auto& key : used_keys[{restored.target, restored.generation}]) {
      INFO(key);
      CHECK(std::find(restored.used_keys.begin(), restored.used_keys.end(), key) !=
            restored.used_keys.end());
    }
  }
}

TEST_CASE("without history_retention the verdict and escalation history stays whatever its age",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto options = test_options(dir.path());
  options.retention = 1ms;
  Store store(options, clock);
  for (std::uint64_t generation = 1; generation <= 20; ++generation) {
    const auto at = k_start - 400 * 24h + static_cast<int>(generation) * 1h;
    store.record_verdict(verdict("db", consensus::VerdictKind::Disputed, generation, at), true);
    const auto key = "dispute/db/" + std::to_string(generation);
    store.record_event(escalation(EventKind::DisputeOpened, key, "db", at),
                       static_cast<std::int64_t>(generation));
    store.record_event(escalation(EventKind::DisputeResolved, key, "db", at + 1min));
  }
  // A later generation: no key of the current one is among the twenty, so
  // only the largest id keeps its row below.
  store.record_verdict(verdict("db", consensus::VerdictKind::Healthy, 21, k_start - 300 * 24h),
                       true);
  REQUIRE(store.flush(10s));
  auto report = store.run_retention_now();
  CHECK(report.completed);
  CHECK(report.history_deleted == 0);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM verdict_log") == 21);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM escalations") == 20);

  // A reload that sets it applies from the next pass: all but the newest go.
  store.set_retention(1ms, 30 * 24h);
  report = store.run_retention_now();
  CHECK(report.history_deleted == 20 + 19);
  CHECK(query_integer(dir.database(), "SELECT max(generation) FROM verdict_log") == 21);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM verdict_log") == 1);
  CHECK(query_integer(dir.database(), "SELECT max(id) FROM escalations") == 20);
  CHECK(query_integer(dir.database(), "SELECT count(*) FROM escalations") == 1);
  CHECK(store.health().retention_deleted >= 39);
  store.close();
  Store reopened(options, clock);
  const auto state = reopened.restore();
  REQUIRE(state.has_value());
  CHECK(state->max_escalation_id == 20);  // the next escalation is 21, never an id seen before
}
