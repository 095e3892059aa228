// Tests storage/reader.cpp and the write paths of storage/batch_writer.cpp
// through the Store: what a restart restores, the verdict log, observations.
#include "storage_test_support.hpp"

#include "consensus/group_definition.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string_view>

using namespace crosscheck;
using namespace crosscheck::storage;
using namespace crosscheck::storage::testing;
using consensus::EventKind;
using consensus::VerdictKind;

namespace {

const consensus::RestoredVerdict* find_verdict(const RestoredState& state,
                                               const std::string& target) {
  const auto found = std::find_if(state.verdicts.begin(), state.verdicts.end(),
                                  [&](const auto& item) { return item.target == target; });
  return found == state.verdicts.end() ? nullptr : &*found;
}

consensus::Override override_until(consensus::WallTime expires_at) {
  consensus::Override value;
  value.verdict = VerdictKind::Healthy;
  value.reason = "maintenance, cloudflare resolver is lying";
  value.by = "alice";
  value.set_at = k_start - 1min;
  value.expires_at = expires_at;
  return value;
}

}  // namespace

TEST_CASE("verdicts and generations survive a restart with their open escalation and override",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Healthy, 1, k_start - 10min), true);
    store.record_verdict(verdict("db", VerdictKind::Disputed, 2, k_start - 5min), true);
    store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 5min));
    store.record_verdict(verdict("web", VerdictKind::Unhealthy, 7, k_start - 3min), true);
    store.set_override("web", override_until(k_start + 1h));
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 2);

  const auto* db = find_verdict(*state, "db");
  REQUIRE(db != nullptr);
  CHECK(db->kind == VerdictKind::Disputed);
  CHECK(db->held == VerdictKind::Healthy);
  CHECK(db->generation == 2);
  CHECK(db->since == k_start - 5min);
  CHECK(db->reason_code == consensus::ReasonCode::Dispute);
  CHECK(db->open_escalation_key == "dispute/db/2");
  CHECK_FALSE(db->override_in_force.has_value());

  const auto* web = find_verdict(*state, "web");
  REQUIRE(web != nullptr);
  CHECK(web->kind == VerdictKind::Unhealthy);
  CHECK(web->generation == 7);
  CHECK(web->open_escalation_key.empty());
  REQUIRE(web->override_in_force.has_value());
  CHECK(web->override_in_force->verdict == VerdictKind::Healthy);
  CHECK(web->override_in_force->by == "alice");
  CHECK(web->override_in_force->expires_at == k_start + 1h);

  REQUIRE(state->overrides.size() == 1);
  CHECK(state->overrides[0].first == "web");
  CHECK(state->overrides[0].second.reason == "maintenance, cloudflare resolver is lying");
}

TEST_CASE("an escalation opened before its target's first verdict row is still restored",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_event(escalation(EventKind::FlappingStarted, "flapping/db/3", "db", k_start));
    store.record_verdict(verdict("db", VerdictKind::Disputed, 3, k_start), true);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].open_escalation_key == "flapping/db/3");
}

TEST_CASE("a cleared override stays cleared and an expired one is not restored", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Healthy, 4, k_start), true);
    store.record_verdict(verdict("web", VerdictKind::Healthy, 1, k_start), true);
    store.set_override("db", override_until(k_start + 1h));
    store.clear_override("db");
    store.set_override("web", override_until(k_start + 10min));
    REQUIRE(store.flush(5s));
  }
  clock.advance(10min);  // web's override expires exactly now
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->overrides.empty());
  for (const auto& restored : state->verdicts) {
    INFO(restored.target);
    CHECK_FALSE(restored.override_in_force.has_value());
  }
}

TEST_CASE("open escalations are restored and resolved ones are not", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Disputed, 2, k_start - 2h), true);
    store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/2", "db", k_start - 2h));
    store.record_event(escalation(EventKind::DisputeResolved, "dispute/db/2", "db", k_start - 1h));
    store.record_verdict(verdict("db", VerdictKind::Healthy, 3, k_start - 1h), true);
    store.record_event(
        escalation(EventKind::BlastRadiusHeld, "blast_radius/web/5", "web", k_start - 30min));
    auto suspect = escalation(EventKind::VantageSuspect, "suspect/quad9/x", "", k_start - 20min);
    suspect.vantage = "quad9";
    store.record_event(suspect);
    // Verdict changes and expiries are not escalations: no row.
    store.record_event(escalation(EventKind::VerdictChanged, "verdict/db/3", "db", k_start));
    REQUIRE(store.flush(5s));
    const auto open = store.open_escalations();
    REQUIRE(open.size() == 2);
    store.acknowledge(open[0].id, "bob", k_start - 10min);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->open_escalations.size() == 2);
  const auto& blast = state->open_escalations[0];
  CHECK(blast.key == "blast_radius/web/5");
  CHECK(blast.kind == EventKind::BlastRadiusHeld);
  CHECK(blast.target == "web");
  CHECK(blast.opened_at == k_start - 30min);
  CHECK_FALSE(blast.resolved_at.has_value());
  CHECK(blast.acked_at == k_start - 10min);
  CHECK(blast.acked_by == "bob");
  const auto& suspect = state->open_escalations[1];
  CHECK(suspect.kind == EventKind::VantageSuspect);
  CHECK(suspect.vantage == "quad9");
  CHECK(suspect.target.empty());
  CHECK_FALSE(suspect.acked_at.has_value());
  // db's dispute was resolved: its verdict carries no open escalation key.
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].open_escalation_key.empty());
  CHECK(state->verdicts[0].generation == 3);
}

TEST_CASE("history lists transitions newest first with generation, reason and votes", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  store.record_verdict(verdict("db", VerdictKind::Healthy, 1, k_start - 3min), true);
  store.record_verdict(verdict("db", VerdictKind::Healthy, 1, k_start - 2min), false);
  store.record_verdict(verdict("db", VerdictKind::Disputed, 2, k_start - 1min), true);
  store.record_verdict(verdict("db", VerdictKind::Unhealthy, 3, k_start), true);
  store.record_verdict(verdict("other", VerdictKind::Healthy, 1, k_start), true);
  REQUIRE(store.flush(5s));

  const auto history = store.history("db", 10);
  REQUIRE(history.size() == 3);  // the unchanged re-publication is not a transition
  CHECK(history[0].generation == 3);
  CHECK(history[0].kind == VerdictKind::Unhealthy);
  CHECK(history[0].at == k_start);
  CHECK(history[0].reason == "unhealthy by quorum");
  CHECK(history[0].votes.down == 1);
  CHECK(history[0].votes.up_quorum == 2);
  CHECK(history[0].votes.known_domains == 3);
  CHECK(history[0].votes.down_domains == std::vector<std::string>{"cloudflare"});
  CHECK(history[1].generation == 2);
  CHECK(history[1].kind == VerdictKind::Disputed);
  CHECK(history[1].held == VerdictKind::Healthy);
  CHECK(history[1].reason_code == consensus::ReasonCode::Dispute);
  CHECK(history[2].generation == 1);
  CHECK_FALSE(history[2].held.has_value());
  CHECK(store.history("db", 1).size() == 1);
  CHECK(store.history("nobody", 10).empty());
}

TEST_CASE("observations read back newest first with their outcome, detail and answers",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  store.record_observation(observation("db", "quad9", k_start - 20s));
  auto down = observation("db", "cloudflare", k_start - 10s, consensus::Outcome::Down);
  down.last_known_good = consensus::LastKnownGood::Reachable;
  down.answers.clear();
  store.record_observation(down);
  store.record_observation(observation("web", "quad9", k_start));
  REQUIRE(store.flush(5s));

  const auto seen = store.observations("db", 10);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].vantage == "cloudflare");
  CHECK(seen[0].at.wall == k_start - 10s);
  CHECK(seen[0].outcome == consensus::Outcome::Down);
  CHECK(seen[0].layer == consensus::Layer::Dns);
  CHECK(seen[0].last_known_good == consensus::LastKnownGood::Reachable);
  CHECK(seen[0].detail == "dns: SERVFAIL");
  CHECK(seen[0].answers.empty());
  CHECK(seen[1].vantage == "quad9");
  CHECK(seen[1].latency_ms == Approx(12.5));
  CHECK(seen[1].answers == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
}

TEST_CASE("a generation never moves backwards in the file", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Unhealthy, 57, k_start - 1h), true);
    // An engine that was not restored would start again at 1.
    store.record_verdict(verdict("db", VerdictKind::Healthy, 1, k_start), true);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].generation == 57);
  CHECK(state->verdicts[0].kind == VerdictKind::Healthy);
}

TEST_CASE("a restored verdict published again keeps the reason code of its open episode",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    auto flapping = verdict("db", VerdictKind::Disputed, 4, k_start - 1h);
    flapping.reason_code = consensus::ReasonCode::Flapping;
    store.record_verdict(flapping, true);
    store.record_event(escalation(EventKind::FlappingStarted, "flapping/db/4", "db", k_start - 1h));
    REQUIRE(store.flush(5s));
  }
  {
    // After a restart the engine publishes it with reason "restored".
    Store store(test_options(dir.path()), clock);
    auto restored = verdict("db", VerdictKind::Disputed, 4, k_start - 1h);
    restored.reason_code = consensus::ReasonCode::Restored;
    restored.fresh = false;
    store.record_verdict(restored, false);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].reason_code == consensus::ReasonCode::Flapping);
  CHECK(state->verdicts[0].open_escalation_key == "flapping/db/4");
  CHECK(query_integer(dir.database(), "SELECT fresh FROM verdicts") == 0);
}

TEST_CASE("the open episode is restored with its own kind, not the kind of the last change",
          "[storage]") {
  // Found by the invariant test once its restart read what storage holds:
  // a dispute (reason quorum) turned into flapping while the verdict stayed
  // disputed, so no new verdict row was written. Taken from reason_code,
  // the flapping key came back as a dispute, and the engine resolved it as
  // "dispute_resolved" and opened a new flapping episode: a page for nothing.
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    auto disputed = verdict("db", VerdictKind::Disputed, 3, k_start - 1h);
    disputed.reason_code = consensus::ReasonCode::Quorum;
    store.record_verdict(disputed, true);
    store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/3", "db", k_start - 1h));
    store.record_event(
        escalation(EventKind::DisputeResolved, "dispute/db/3", "db", k_start - 50min));
    store.record_event(
        escalation(EventKind::FlappingStarted, "flapping/db/3", "db", k_start - 50min));
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].reason_code == consensus::ReasonCode::Quorum);
  CHECK(state->verdicts[0].open_escalation_key == "flapping/db/3");
  CHECK(state->verdicts[0].open_escalation_kind == EventKind::FlappingStarted);
}

TEST_CASE("restoring an empty database gives an empty state, not a failure", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->verdicts.empty());
  CHECK(state->open_escalations.empty());
  CHECK(state->overrides.empty());
}

TEST_CASE("the keys a target used in its current generation come back with its verdict",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("db", VerdictKind::Disputed, 6, k_start - 2h), true);
    store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/6", "db", k_start - 2h));
    store.record_event(escalation(EventKind::DisputeResolved, "dispute/db/6", "db", k_start - 1h));
    // Generation 7: a dispute, flapping, then a dispute again (".2"), and a split.
    store.record_verdict(verdict("db", VerdictKind::Disputed, 7, k_start - 1h), true);
    store.record_event(escalation(EventKind::DisputeOpened, "dispute/db/7", "db", k_start - 1h));
    store.record_event(
        escalation(EventKind::DisputeResolved, "dispute/db/7", "db", k_start - 50min));
    store.record_event(
        escalation(EventKind::FlappingStarted, "flapping/db/7", "db", k_start - 50min));
    store.record_event(
        escalation(EventKind::FlappingStopped, "flapping/db/7", "db", k_start - 40min));
    store.record_event(
        escalation(EventKind::DisputeOpened, "dispute/db/7.2", "db", k_start - 40min));
    store.record_event(escalation(EventKind::SplitOpened, "split/db/7", "db", k_start - 30min));
    // Another target's keys, and one whose target name extends db's.
    store.record_verdict(verdict("db/7", VerdictKind::Disputed, 1, k_start - 1h), true);
    store.record_event(
        escalation(EventKind::DisputeOpened, "dispute/db/7/1", "db/7", k_start - 1h));
    auto suspect = escalation(EventKind::VantageSuspect, "suspect/quad9/x", "", k_start - 20min);
    suspect.vantage = "quad9";
    store.record_event(suspect);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  const auto* db = find_verdict(*state, "db");
  REQUIRE(db != nullptr);
  CHECK(db->generation == 7);
  CHECK(db->used_keys ==
        std::vector<std::string>{"dispute/db/7", "flapping/db/7", "dispute/db/7.2", "split/db/7"});
  // The split opened last, but the verdict's own episode is the dispute.
  CHECK(db->open_escalation_key == "dispute/db/7.2");
  const auto* other = find_verdict(*state, "db/7");
  REQUIRE(other != nullptr);
  CHECK(other->used_keys == std::vector<std::string>{"dispute/db/7/1"});
}

TEST_CASE("a split, an unreachable quorum or a broken canary is never a verdict's open episode",
          "[storage]") {
  const auto kind =
      GENERATE(EventKind::SplitOpened, EventKind::QuorumUnreachable, EventKind::CanaryDown);
  const std::string key = std::string(consensus::to_string(kind)) + "/db/3";
  INFO(key);
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    // Opened before the target's first verdict row, and after it.
    store.record_event(escalation(kind, key, "db", k_start - 1h));
    store.record_verdict(verdict("db", VerdictKind::Healthy, 3, k_start - 1h), true);
    store.record_event(escalation(kind, key + ".2", "db", k_start - 30min));
    REQUIRE(store.flush(5s));
  }
  CHECK(query_text(dir.database(), "SELECT open_escalation_key FROM verdicts").empty());
  // A file written before only verdict episodes were linked.
  exec_sql(dir.database(), "UPDATE verdicts SET open_escalation_key = '" + key + "'");
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  REQUIRE(state->verdicts.size() == 1);
  CHECK(state->verdicts[0].open_escalation_key.empty());
  CHECK(state->verdicts[0].used_keys == std::vector<std::string>{key, key + ".2"});
  REQUIRE(state->open_escalations.size() == 2);
  CHECK(state->open_escalations[0].kind == kind);
}

TEST_CASE("split domains in the verdict log read back", "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  auto healthy = verdict("db", VerdictKind::Healthy, 2, k_start);
  healthy.votes.up = 2;
  healthy.votes.split = 1;
  healthy.votes.split_domains = {"aws"};
  store.record_verdict(healthy, true);
  REQUIRE(store.flush(5s));
  const auto history = store.history("db", 1);
  REQUIRE(history.size() == 1);
  CHECK(history[0].votes.split == 1);
  CHECK(history[0].votes.split_domains == std::vector<std::string>{"aws"});
  // A row written before split domains were counted reads as none.
  exec_sql(dir.database(), R"(UPDATE verdict_log SET votes = '{"up":2,"down":0}')");
  const auto old = store.history("db", 1);
  REQUIRE(old.size() == 1);
  CHECK(old[0].votes.up == 2);
  CHECK(old[0].votes.split == 0);
  CHECK(old[0].votes.split_domains.empty());
}

TEST_CASE("an ack by id lands on the episode the id names when its key was opened before",
          "[storage]") {
  // A rejected config opens config/<time>; after a wall clock stepped back,
  // the next rejection can get the same key and a new id (found by a
  // hostile review: the row kept the old id, and the ack updated nothing).
  TempDir dir;
  consensus::ManualClock clock(k_start);
  Store store(test_options(dir.path()), clock);
  const std::string key = "config/2025-10-20T06:48:00Z";
  store.record_event(escalation(EventKind::ConfigRejected, key, "", k_start), 3);
  store.record_event(escalation(EventKind::ConfigAccepted, key, "", k_start + 1min), 0);
  store.record_event(escalation(EventKind::ConfigRejected, key, "", k_start), 9);
  store.acknowledge(9, "carol", k_start + 2min);
  REQUIRE(store.flush(5s));
  const auto open = store.open_escalations();
  REQUIRE(open.size() == 1);
  CHECK(open[0].id == 9);
  CHECK(open[0].key == key);
  CHECK(open[0].acked_by == "carol");
  CHECK(open[0].acked_at == k_start + 2min);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  CHECK(state->max_escalation_id == 9);
}

TEST_CASE("an unreachable verdict survives a restart with its held verdict and reason code",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(verdict("app", VerdictKind::Healthy, 1, k_start - 10min), true);
    auto unreachable = verdict("app", VerdictKind::Unreachable, 2, k_start - 5min);
    unreachable.reason_code = consensus::ReasonCode::Dependency;
    unreachable.reason = "parent lb-eu is unhealthy; 3 of 3 domains down";
    store.record_verdict(unreachable, true);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  const auto* app = find_verdict(*state, "app");
  REQUIRE(app != nullptr);
  CHECK(app->kind == VerdictKind::Unreachable);
  CHECK(app->held == VerdictKind::Healthy);
  CHECK(app->generation == 2);
  CHECK(app->reason_code == consensus::ReasonCode::Dependency);
  const auto history = store.history("app", 1);
  REQUIRE(history.size() == 1);
  CHECK(history[0].kind == VerdictKind::Unreachable);
  CHECK(history[0].reason == "parent lb-eu is unhealthy; 3 of 3 domains down");
}

TEST_CASE("a group's definition is stored with its verdict and kept by a row without one",
          "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  auto group = verdict("group:db", VerdictKind::Healthy, 3, k_start - 10min);
  group.group = consensus::GroupView{2, {{"db-1"}, {"db-2"}, {"db-3"}}};
  const auto definition = consensus::group_definition(2, {"db-1", "db-2", "db-3"});
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(group, true);
    // Published again before its first evaluation (restored: no members yet).
    auto restored = group;
    restored.group.reset();
    store.record_verdict(restored, false);
    store.record_verdict(verdict("db-1", VerdictKind::Healthy, 1, k_start - 10min), true);
    REQUIRE(store.flush(5s));
  }
  Store store(test_options(dir.path()), clock);
  const auto state = store.restore();
  REQUIRE(state.has_value());
  const auto* db = find_verdict(*state, "group:db");
  REQUIRE(db != nullptr);
  CHECK(db->definition == definition);
  CHECK(definition.starts_with("2/3/"));
  CHECK(definition != consensus::group_definition(2, {"db-1", "db-2"}));
  CHECK(definition != consensus::group_definition(1, {"db-1", "db-2", "db-3"}));
  // The order in the file judges nothing: the same cluster.
  CHECK(definition == consensus::group_definition(2, {"db-3", "db-1", "db-2"}));
  const auto* member = find_verdict(*state, "db-1");
  REQUIRE(member != nullptr);
  CHECK(member->definition.empty());
}

TEST_CASE(
    "a verdict's window and the end of its last one survive a restart, and a bad one reads "
    "as none",
    "[storage]") {
  TempDir dir;
  consensus::ManualClock clock(k_start);
  consensus::MaintenanceView window;
  window.source = consensus::MaintenanceSource::Api;
  window.window = "api";
  window.since = k_start - 5min;
  window.until = k_start + 40min;
  window.reason = "kernel \"upgrade\"";
  window.by = "alice";
  window.node = "oracle-b";
  auto in_window = verdict("db", VerdictKind::Unhealthy, 4, k_start - 10min);
  in_window.maintenance = window;
  auto after_window = verdict("web", VerdictKind::Healthy, 2, k_start - 1h);
  after_window.stable_from = k_start - 30s;
  {
    Store store(test_options(dir.path()), clock);
    store.record_verdict(in_window, false);
    store.record_verdict(after_window, false);
    store.record_verdict(verdict("dns", VerdictKind::Healthy, 1, k_start - 1h), true);
    REQUIRE(store.flush(5s));
  }
  {
    Store store(test_options(dir.path()), clock);
    const auto state = store.restore();
    REQUIRE(state.has_value());
    const auto* db = find_verdict(*state, "db");
    REQUIRE(db != nullptr);
    CHECK(db->window == window);
    CHECK_FALSE(db->stable_from);
    const auto* web = find_verdict(*state, "web");
    REQUIRE(web != nullptr);
    CHECK_FALSE(web->window);
    CHECK(web->stable_from == k_start - 30s);
    const auto* dns = find_verdict(*state, "dns");
    REQUIRE(dns != nullptr);
    CHECK_FALSE(dns->window);
    CHECK_FALSE(dns->stable_from);
  }
  // A row that no longer reads (a hand edit, a damaged file) loses its
  // window, not the verdict.
  for (const auto* text : {"not json", "[1,2]", "{\"source\": 7}"}) {
    INFO(text);
    exec_sql(dir.database(),
             std::string("UPDATE verdicts SET maintenance = '") + text + "' WHERE target = 'db'");
    Store store(test_options(dir.path()), clock);
    const auto state = store.restore();
    REQUIRE(state.has_value());
    const auto* db = find_verdict(*state, "db");
    REQUIRE(db != nullptr);
    CHECK(db->generation == 4);
    if (std::string_view(text).starts_with("{")) {
      REQUIRE(db->window);
      CHECK(db->window->window.empty());
    } else {
      CHECK_FALSE(db->window);
    }
  }
}
