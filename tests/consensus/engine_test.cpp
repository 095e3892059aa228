#include "consensus/engine.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using crosscheck::testing::make_policy;
using crosscheck::testing::World;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

std::vector<std::pair<std::string, Outcome>> all(Outcome outcome) {
  return {{"cloudflare", outcome}, {"quad9", outcome}, {"google", outcome}};
}

// Brings `target` to a confirmed healthy verdict (rise 2).
void settle_healthy(World& world, const std::string& target = "db") {
  world.round(target, all(Outcome::Up));
  world.round(target, all(Outcome::Up));
  REQUIRE(world.verdict(target).kind == VerdictKind::Healthy);
}

}  // namespace

TEST_CASE("start-up is unknown with nothing held, then healthy after rise", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  world.evaluate();
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  CHECK_FALSE(world.verdict("db").held);
  CHECK(world.verdict("db").generation == 0);
  world.round("db", all(Outcome::Up));
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  world.round("db", all(Outcome::Up));
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Healthy);
  CHECK(verdict.generation == 1);
  CHECK(verdict.reason == "3 of 3 domains up; quorum 2");
  CHECK(verdict.votes.up == 3);
  CHECK(verdict.votes.up_quorum == 2);
}

TEST_CASE("a real outage goes healthy to unhealthy without a dispute", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  // quad9 reaches `fall` one round (10s) before the others; grace is 10s.
  world.round("db",
              {{"quad9", Outcome::Down}, {"cloudflare", Outcome::Up}, {"google", Outcome::Up}}, 4s);
  world.round("db", {{"quad9", Outcome::Down}}, 3s);
  world.round("db",
              {{"quad9", Outcome::Down}, {"cloudflare", Outcome::Down}, {"google", Outcome::Down}},
              3s);
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);  // quad9 down, within grace
  world.round("db", all(Outcome::Down));
  world.round("db", all(Outcome::Down));
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);
  CHECK(verdict.generation == 2);
  CHECK(world.count_events(EventKind::DisputeOpened) == 0);
  CHECK(verdict.reason == "3 of 3 domains down (cloudflare, quad9, google); quorum 2");
}

TEST_CASE("one lying domain holds the verdict and escalates once", "[engine]") {
  World world(make_policy(k_domains, {"dynamodb"}));
  settle_healthy(world, "dynamodb");
  const std::vector<std::pair<std::string, Outcome>> lying{
      {"cloudflare", Outcome::Up}, {"quad9", Outcome::Down}, {"google", Outcome::Up}};
  for (int i = 0; i < 30; ++i) {
    world.round("dynamodb", lying);
    CHECK(world.verdict("dynamodb").kind != VerdictKind::Unhealthy);
  }
  const auto& verdict = world.verdict("dynamodb");
  CHECK(verdict.kind == VerdictKind::Disputed);
  CHECK(verdict.held == VerdictKind::Healthy);
  CHECK(verdict.reason_code == ReasonCode::Dispute);
  CHECK(verdict.reason == "1 of 3 domains down (quad9), 2 up; down quorum 2");
  CHECK(world.count_events(EventKind::DisputeOpened) == 1);
  CHECK(world.count_events(EventKind::DisputeResolved) == 0);

  world.round("dynamodb", all(Outcome::Up));
  world.round("dynamodb", all(Outcome::Up));
  CHECK(world.verdict("dynamodb").kind == VerdictKind::Healthy);
  REQUIRE(world.count_events(EventKind::DisputeResolved) == 1);
  // The opening and the resolution share a key, so sinks can pair them.
  std::string opened;
  std::string resolved;
  for (const auto& event : world.events()) {
    if (event.kind == EventKind::DisputeOpened) {
      opened = event.key;
    }
    if (event.kind == EventKind::DisputeResolved) {
      resolved = event.key;
    }
  }
  CHECK(opened == "dispute/dynamodb/2");
  CHECK(resolved == opened);
}

TEST_CASE("a disagreement counts only once it lasts dispute_grace", "[engine]") {
  const auto [waited, expected] = GENERATE(table<long long, VerdictKind>(
      {{9'999, VerdictKind::Healthy}, {10'000, VerdictKind::Disputed}}));
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  // fall 3: quad9's vote turns down on the third down.
  world.see("db", "quad9", Outcome::Down);
  world.clock().advance(1s);
  world.see("db", "quad9", Outcome::Down);
  world.clock().advance(1s);
  world.see("db", "quad9", Outcome::Down);
  world.see("db", "cloudflare", Outcome::Up);
  world.see("db", "google", Outcome::Up);
  world.evaluate();
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  world.clock().advance(Duration{waited});
  world.evaluate();
  CHECK(world.verdict("db").kind == expected);
}

TEST_CASE("unhealthy needs exactly the down quorum of domains", "[engine]") {
  // Five domains: down quorum 3. quorum - 1 is a dispute, quorum is unhealthy.
  const std::vector<std::string> five{"a", "b", "c", "d", "e"};
  const auto [down, expected] =
      GENERATE(table<int, VerdictKind>({{2, VerdictKind::Disputed}, {3, VerdictKind::Unhealthy}}));
  World world(make_policy(five, {"db"}));
  for (int round = 0; round < 2; ++round) {
    for (const auto& v : five) {
      world.see("db", v, Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  REQUIRE(world.verdict("db").kind == VerdictKind::Healthy);
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 5; ++i) {
      world.see("db", five[static_cast<std::size_t>(i)], i < down ? Outcome::Down : Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.verdict("db").kind == expected);
  CHECK(world.verdict("db").votes.down_quorum == 3);
}

TEST_CASE("silent vantages make the verdict unknown, never unhealthy", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  // Nobody observes for a while: votes go stale just after stale_after (30s).
  world.clock().advance(20s);  // last observation was 30s ago after settle
  world.evaluate();
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  world.clock().advance(1ms);
  world.evaluate();
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unknown);
  CHECK(verdict.held == VerdictKind::Healthy);
  CHECK(verdict.votes.unknown == 3);
  for (const auto& item : verdict.evidence) {
    CHECK(item.stale);
  }
}

TEST_CASE("observer errors never count as down", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  for (int i = 0; i < 10; ++i) {
    world.round(
        "db",
        {{"quad9", Outcome::ObserverError}, {"cloudflare", Outcome::Up}, {"google", Outcome::Up}});
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Healthy);
  CHECK(verdict.votes.down == 0);
  CHECK(verdict.votes.unknown == 1);  // quad9's vote went stale
}

TEST_CASE("a vantage alone seeing most targets down turns suspect and its votes stop counting",
          "[engine]") {
  World world(make_policy(k_domains, {"a", "b", "c"}));
  for (int i = 0; i < 2; ++i) {
    for (const auto* t : {"a", "b", "c"}) {
      world.see_all(t, k_domains, Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  // The congested vantage (Dec 2021) sees everything time out.
  for (int i = 0; i < 6; ++i) {
    for (const auto* t : {"a", "b", "c"}) {
      world.see(t, "quad9", Outcome::Down, Layer::Connect);
      world.see(t, "cloudflare", Outcome::Up);
      world.see(t, "google", Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
    for (const auto* t : {"a", "b", "c"}) {
      CHECK(world.verdict(t).kind == VerdictKind::Healthy);
    }
  }
  CHECK(world.engine().suspects().contains("quad9"));
  CHECK(world.count_events(EventKind::VantageSuspect) == 1);
  CHECK(world.count_events(EventKind::DisputeOpened) == 0);
  const auto& evidence = world.verdict("a").evidence;
  const auto quad9 = std::find_if(evidence.begin(), evidence.end(),
                                  [](const Evidence& e) { return e.vantage == "quad9"; });
  REQUIRE(quad9 != evidence.end());
  CHECK(quad9->suspect);
  CHECK(quad9->raw_vote == Vote::Down);
  CHECK(quad9->vote == Vote::Unknown);

  // The vantage recovers: suspicion clears with the same key.
  for (int i = 0; i < 2; ++i) {
    for (const auto* t : {"a", "b", "c"}) {
      world.see_all(t, k_domains, Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.engine().suspects().empty());
  CHECK(world.count_events(EventKind::VantageCleared) == 1);
}

TEST_CASE("a vantage failing a canary is suspect", "[engine]") {
  auto policy = make_policy(k_domains, {"db", "root-zone"});
  policy.targets[1].canary = true;
  World world(policy);
  // fall (3) probes to vote down, then suspicion_grace (10s) before suspect.
  for (int i = 0; i < 4; ++i) {
    world.see_all("db", k_domains, Outcome::Up);
    world.see("root-zone", "google", Outcome::Down);
    world.see("root-zone", "cloudflare", Outcome::Up);
    world.see("root-zone", "quad9", Outcome::Up);
    world.evaluate();
    world.clock().advance(10s);
  }
  REQUIRE(world.engine().suspects().contains("google"));
  CHECK(world.engine().suspects().at("google") == "canary 'root-zone' is down from this vantage");
  CHECK(world.verdict("db").votes.up == 2);
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
}

TEST_CASE("flapping holds the last verdict as disputed with reason flapping", "[engine]") {
  auto policy = make_policy(k_domains, {"db"});
  policy.targets[0].rise = 1;
  policy.targets[0].fall = 1;
  policy.flap_limit = 3;
  policy.flap_window = 10min;
  World world(policy);
  world.round("db", all(Outcome::Up));    // unknown -> healthy: change 1
  world.round("db", all(Outcome::Down));  // change 2
  world.round("db", all(Outcome::Up));    // change 3
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  world.round("db", all(Outcome::Down));  // change 4 > 3: flapping
  auto verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Disputed);
  CHECK(verdict.reason_code == ReasonCode::Flapping);
  CHECK(verdict.held == VerdictKind::Healthy);
  CHECK(world.count_events(EventKind::FlappingStarted) == 1);
  // Steady evidence: once the window holds at most flap_limit changes again,
  // the verdict follows the evidence.
  for (int i = 0; i < 70; ++i) {
    world.round("db", all(Outcome::Down));
  }
  verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);
  CHECK(world.count_events(EventKind::FlappingStopped) == 1);
}

TEST_CASE("an operator override wins while it lasts and then expires", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  Override value;
  value.verdict = VerdictKind::Unhealthy;
  value.reason = "draining for maintenance";
  value.by = "alice";
  value.set_at = world.now().wall;
  value.expires_at = world.now().wall + 5min;
  REQUIRE(world.engine().set_override("db", value));
  world.round("db", all(Outcome::Up));
  auto verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);
  CHECK(verdict.reason_code == ReasonCode::Override);
  REQUIRE(verdict.override_in_force);
  CHECK(verdict.override_in_force->by == "alice");
  const auto generation = verdict.generation;
  for (int i = 0; i < 30; ++i) {
    world.round("db", all(Outcome::Up));
  }
  verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Healthy);
  CHECK_FALSE(verdict.override_in_force);
  CHECK(verdict.generation == generation + 1);
  CHECK(world.count_events(EventKind::OverrideExpired) == 1);
}

TEST_CASE("an override lasts its ttl on the monotonic clock, whatever the wall clock does",
          "[engine]") {
  const auto step = GENERATE(Duration{1h}, Duration{-1h});
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  Override value;
  value.verdict = VerdictKind::Unhealthy;
  value.reason = "drill";
  value.set_at = world.now().wall;
  value.expires_at = world.now().wall + 10min;
  REQUIRE(world.engine().set_override("db", value));
  world.round("db", all(Outcome::Up));
  REQUIRE(world.verdict("db").kind == VerdictKind::Unhealthy);
  const auto generation = world.verdict("db").generation;
  world.clock().step_wall(step);
  for (int i = 0; i < 50; ++i) {  // 500 s of the 600 s ttl: still in force
    world.round("db", all(Outcome::Up));
  }
  CHECK(world.verdict("db").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("db").generation == generation);
  CHECK(world.count_events(EventKind::OverrideExpired) == 0);
  for (int i = 0; i < 12; ++i) {  // past the ttl
    world.round("db", all(Outcome::Up));
  }
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);
  CHECK(world.count_events(EventKind::OverrideExpired) == 1);
}

TEST_CASE("overrides accept only healthy or unhealthy for known targets", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  Override value;
  value.verdict = VerdictKind::Disputed;
  CHECK_FALSE(world.engine().set_override("db", value));
  value.verdict = VerdictKind::Healthy;
  CHECK_FALSE(world.engine().set_override("nope", value));
  CHECK(world.engine().set_override("db", value));
  CHECK(world.engine().clear_override("db"));
  CHECK_FALSE(world.engine().clear_override("db"));
}

TEST_CASE("the blast-radius guard holds targets beyond max_unhealthy_fraction", "[engine]") {
  World world(make_policy(k_domains, {"t1", "t2", "t3", "t4"}));
  const std::vector<std::string> targets{"t1", "t2", "t3", "t4"};
  for (int i = 0; i < 2; ++i) {
    for (const auto& t : targets) {
      world.see_all(t, k_domains, Outcome::Up);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  for (int i = 0; i < 4; ++i) {
    for (const auto& t : targets) {
      world.see_all(t, k_domains, Outcome::Down);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  // 4 targets, fraction 0.5: two may be unhealthy, the others are held.
  CHECK(world.verdict("t1").kind == VerdictKind::Unhealthy);
  CHECK(world.verdict("t2").kind == VerdictKind::Unhealthy);
  for (const auto* t : {"t3", "t4"}) {
    const auto& verdict = world.verdict(t);
    CHECK(verdict.kind == VerdictKind::Disputed);
    CHECK(verdict.reason_code == ReasonCode::BlastRadius);
    CHECK(verdict.held == VerdictKind::Healthy);
  }
  CHECK(world.count_events(EventKind::BlastRadiusHeld) == 2);
  CHECK(world.verdict("t3").reason.starts_with(
      "blast radius: confirming would make 3 of 4 targets unhealthy at once"));
}

TEST_CASE("the blast-radius guard stays off below blast_radius_min_targets", "[engine]") {
  World world(make_policy(k_domains, {"t1", "t2", "t3"}));
  for (int i = 0; i < 6; ++i) {
    for (const auto* t : {"t1", "t2", "t3"}) {
      world.see_all(t, k_domains, i < 2 ? Outcome::Up : Outcome::Down);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  for (const auto* t : {"t1", "t2", "t3"}) {
    CHECK(world.verdict(t).kind == VerdictKind::Unhealthy);
  }
}

TEST_CASE("generation moves on every verdict change and only then", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  std::uint64_t revision = world.engine().revision();
  settle_healthy(world);
  CHECK(world.verdict("db").generation == 1);
  CHECK(world.engine().revision() == revision + 1);
  for (int i = 0; i < 5; ++i) {
    world.round("db", all(Outcome::Up));
  }
  CHECK(world.verdict("db").generation == 1);
  revision = world.engine().revision();
  for (int i = 0; i < 3; ++i) {
    world.round("db", all(Outcome::Down));
  }
  CHECK(world.verdict("db").generation == 2);
  CHECK(world.engine().revision() == revision + 1);
}

TEST_CASE("every verdict is valid until evaluation time plus stale_after", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  world.evaluate();
  const auto& verdict = world.verdict("db");
  CHECK(verdict.evaluated_at == world.now().wall);
  CHECK(verdict.valid_until == world.now().wall + 30s);
}

TEST_CASE("a DNS failure with reachable last-known-good addresses says fix DNS", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  settle_healthy(world);
  for (int i = 0; i < 4; ++i) {
    for (const auto& v : k_domains) {
      world.see("db", v, Outcome::Down, Layer::Dns, LastKnownGood::Reachable);
    }
    world.evaluate();
    world.clock().advance(10s);
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);
  CHECK(verdict.failing_layer == Layer::Dns);
  CHECK(verdict.last_known_good == LastKnownGood::Reachable);
  CHECK_THAT(verdict.reason,
             Catch::EndsWith("the service still answers at its last-known-good addresses"));
}

TEST_CASE("the failing layer is the one most down votes report", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  for (int i = 0; i < 3; ++i) {
    world.see("db", "cloudflare", Outcome::Down, Layer::Http);
    world.see("db", "quad9", Outcome::Down, Layer::Connect);
    world.see("db", "google", Outcome::Down, Layer::Connect);
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.verdict("db").failing_layer == Layer::Connect);
  CHECK(world.verdict("db").last_known_good == LastKnownGood::NotTried);
}

TEST_CASE("a restored verdict is served as not fresh until evidence confirms it", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Healthy;
  restored.generation = 41;
  restored.since = world.now().wall - 1h;
  REQUIRE(world.engine().restore(restored));
  world.evaluate();
  auto verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Healthy);
  CHECK_FALSE(verdict.fresh);
  CHECK(verdict.generation == 41);
  CHECK(verdict.reason_code == ReasonCode::Restored);
  world.round("db", all(Outcome::Up));
  world.round("db", all(Outcome::Up));
  verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Healthy);
  CHECK(verdict.fresh);
  CHECK(verdict.generation == 41);  // confirmed: no change, no new generation
  CHECK(verdict.since == restored.since);
  CHECK(world.count_events(EventKind::VerdictChanged) == 0);
}

TEST_CASE("contrary evidence replaces a restored verdict with the next generation", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Healthy;
  restored.generation = 7;
  REQUIRE(world.engine().restore(restored));
  // Unhealthy by quorum from the third round (20s), but the restored verdict
  // stands, never fresh, through restore_hold (32s by default).
  for (int i = 0; i < 4; ++i) {
    world.round("db", all(Outcome::Down));
    CHECK(world.verdict("db").kind == VerdictKind::Healthy);
    CHECK_FALSE(world.verdict("db").fresh);
  }
  world.round("db", all(Outcome::Down));  // 40s: past the hold, the votes decide
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Unhealthy);
  CHECK(verdict.fresh);
  CHECK(verdict.generation == 8);
}

TEST_CASE("a restored verdict without evidence turns unknown after restore_hold", "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Unhealthy;
  restored.generation = 3;
  REQUIRE(world.engine().restore(restored));
  world.evaluate();
  world.clock().advance(31s);
  world.evaluate();
  CHECK(world.verdict("db").kind == VerdictKind::Unhealthy);
  CHECK_FALSE(world.verdict("db").fresh);
  world.clock().advance(1s);  // restore_hold: fall x interval + timeout = 32s
  world.evaluate();
  CHECK(world.verdict("db").kind == VerdictKind::Unknown);
  CHECK(world.verdict("db").held == VerdictKind::Unhealthy);
  CHECK(world.verdict("db").generation == 4);
}

TEST_CASE("a peer never reached counts as one failure domain", "[engine]") {
  auto policy = make_policy({"cloudflare", "quad9"}, {"db"});
  policy.peers = {"oracle-b"};
  World world(policy);
  CHECK(world.engine().known_domains() ==
        std::vector<std::string>{"cloudflare", "quad9", "oracle-b"});
  world.round("db", {{"cloudflare", Outcome::Up}, {"quad9", Outcome::Up}});
  world.round("db", {{"cloudflare", Outcome::Up}, {"quad9", Outcome::Up}});
  CHECK(world.verdict("db").kind == VerdictKind::Healthy);  // 2 of 3, quorum 2
  CHECK(world.verdict("db").votes.unknown == 1);
}

TEST_CASE("a peer's vantages vote under the domains the peer may speak for", "[engine]") {
  auto policy = make_policy({"cloudflare"}, {"db"});
  policy.peers = {"oracle-b"};
  policy.peer_domains["oracle-b"] = {"hetzner", "ovh"};
  World world(policy);
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/hetzner", "oracle-b", "hetzner"}));
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/ovh", "oracle-b", "ovh"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"no-slash", "oracle-b", "x"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"oracle-c/v", "oracle-b", "x"}));
  CHECK(world.engine().known_domains() == std::vector<std::string>{"cloudflare", "hetzner", "ovh"});
  for (int i = 0; i < 3; ++i) {
    world.round("db", {{"cloudflare", Outcome::Up},
                       {"oracle-b/hetzner", Outcome::Down},
                       {"oracle-b/ovh", Outcome::Down}});
  }
  CHECK(world.verdict("db").kind == VerdictKind::Unhealthy);
  const auto& evidence = world.verdict("db").evidence;
  REQUIRE(evidence.size() == 3);
  CHECK(evidence[1].node == "oracle-b");
  CHECK(evidence[1].domain == "hetzner");
}

TEST_CASE(
    "a peer with declared domains: a vote claiming another domain is dropped, not re-labelled",
    "[engine][peers]") {
  // oracle-b may speak for hetzner only. Its vantages claiming "x" and the
  // local "cloudflare" would, re-labelled as "oracle-b", still vote under
  // its name: they are refused instead, and their votes never count.
  auto policy = make_policy({"cloudflare", "quad9"}, {"db"});
  policy.peers = {"oracle-b"};
  policy.peer_domains["oracle-b"] = {"hetzner"};
  World world(policy);
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/h", "oracle-b", "hetzner"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"oracle-b/x", "oracle-b", "x"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"oracle-b/c", "oracle-b", "cloudflare"}));
  CHECK_FALSE(world.engine().add_remote_vantage({"oracle-b/o", "oracle-b", "oracle-b"}));
  CHECK(world.engine().vantages().size() == 3);
  CHECK(world.engine().known_domains() ==
        std::vector<std::string>{"cloudflare", "quad9", "hetzner"});
  RemoteVote dropped;
  dropped.target = "db";
  dropped.vantage = "oracle-b/x";
  dropped.vote = Vote::Down;
  dropped.observed_at = world.now();
  CHECK(world.engine().observe_remote(dropped) == ObserveStatus::UnknownVantage);
}

TEST_CASE("a declared peer domain equal to a local one merges with it into one vote",
          "[engine][peers]") {
  // DESIGN.md: oracle-b may speak for quad9, a local domain. Its vantage
  // there and the local quad9 vantage are one domain: when they disagree,
  // that domain is split (counted in neither D nor U), never two votes.
  auto policy = make_policy({"cloudflare", "quad9", "google"}, {"db"});
  policy.peers = {"oracle-b"};
  policy.peer_domains["oracle-b"] = {"quad9"};
  World world(policy);
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/q", "oracle-b", "quad9"}));
  CHECK(world.engine().known_domains() ==
        std::vector<std::string>{"cloudflare", "quad9", "google"});
  for (int i = 0; i < 3; ++i) {
    world.round("db", {{"cloudflare", Outcome::Up},
                       {"quad9", Outcome::Up},
                       {"google", Outcome::Up},
                       {"oracle-b/q", Outcome::Down}});
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.votes.up == 2);
  CHECK(verdict.votes.down == 0);
  CHECK(verdict.votes.split == 1);
  CHECK(verdict.kind == VerdictKind::Healthy);  // cloudflare and google: 2 of 3
}

TEST_CASE("a peer that may speak for no listed domain counts as one domain, never a local one",
          "[engine]") {
  // One peer naming three invented domains made a quorum of its own (a
  // false unhealthy); naming every local domain split them all (a false
  // healthy). Its votes count as one domain, named after the peer.
  auto policy = make_policy({"cloudflare", "quad9"}, {"db"});
  policy.peers = {"oracle-b"};
  World world(policy);
  for (const auto* domain : {"x", "y", "cloudflare"}) {
    REQUIRE(
        world.engine().add_remote_vantage({std::string("oracle-b/") + domain, "oracle-b", domain}));
  }
  CHECK(world.engine().known_domains() ==
        std::vector<std::string>{"cloudflare", "quad9", "oracle-b"});
  for (int i = 0; i < 3; ++i) {
    world.round("db", {{"cloudflare", Outcome::Up},
                       {"quad9", Outcome::Up},
                       {"oracle-b/x", Outcome::Down},
                       {"oracle-b/y", Outcome::Down},
                       {"oracle-b/cloudflare", Outcome::Down}});
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.votes.down == 1);
  CHECK(verdict.votes.up == 2);
  CHECK(verdict.votes.split == 0);
  CHECK(verdict.kind != VerdictKind::Unhealthy);
}

TEST_CASE("observations for unknown targets, unknown vantages or the past are refused",
          "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  CHECK(world.see("nope", "quad9", Outcome::Up) == ObserveStatus::UnknownTarget);
  CHECK(world.see("db", "nope", Outcome::Up) == ObserveStatus::UnknownVantage);
  world.clock().advance(10s);
  CHECK(world.see("db", "quad9", Outcome::Up) == ObserveStatus::Accepted);
  Observation old;
  old.target = "db";
  old.vantage = "quad9";
  old.at = world.now() + Duration{-5'000};
  CHECK(world.engine().observe(old) == ObserveStatus::OutOfOrder);
}

TEST_CASE("a copy of an observation is a duplicate, another result at the same time a conflict",
          "[engine]") {
  World world(make_policy(k_domains, {"db"}));
  CHECK(world.see("db", "quad9", Outcome::Up) == ObserveStatus::Accepted);
  CHECK(world.see("db", "quad9", Outcome::Up) == ObserveStatus::Duplicate);
  CHECK(world.see("db", "quad9", Outcome::Down) == ObserveStatus::Conflict);
  CHECK(world.see("db", "quad9", Outcome::Up, Layer::Connect) == ObserveStatus::Conflict);
  // The first result stays: two ups across two rounds make the vote up.
  world.clock().advance(10s);
  CHECK(world.see("db", "quad9", Outcome::Up) == ObserveStatus::Accepted);
  world.evaluate();
  const auto& quad9 = world.verdict("db").evidence;
  const auto found = std::find_if(quad9.begin(), quad9.end(),
                                  [](const Evidence& e) { return e.vantage == "quad9"; });
  REQUIRE(found != quad9.end());
  CHECK(found->vote == Vote::Up);
}

TEST_CASE("an explicit quorum above the known domains escalates once and says so", "[engine]") {
  // check-config refuses such a count when it knows the domains; the engine
  // still says so when the domains at runtime are fewer than the count.
  auto policy = make_policy(k_domains, {"db"});
  policy.targets[0].down_quorum.count = 4;
  World world(policy);
  for (int i = 0; i < 5; ++i) {
    world.round("db", all(Outcome::Down));
  }
  const auto& verdict = world.verdict("db");
  CHECK(verdict.kind == VerdictKind::Disputed);
  CHECK_THAT(verdict.reason, Catch::Contains("quorum unreachable: down quorum 4, up quorum 2 but "
                                             "only 3 domains known"));
  CHECK(world.count_events(EventKind::QuorumUnreachable) == 1);
  CHECK(world.count_events(EventKind::QuorumReachable) == 0);
}

TEST_CASE("a restored flapping hold is not closed by a plain dispute after a restart", "[engine]") {
  // Found by a hostile review: any disputed candidate "confirmed" a
  // restored flapping hold, so every restart ended it (flapping_stopped,
  // then a new dispute). The same reason must confirm it, or the hold ends.
  World world(make_policy(k_domains, {"db"}));
  RestoredVerdict restored;
  restored.target = "db";
  restored.kind = VerdictKind::Disputed;
  restored.held = VerdictKind::Healthy;
  restored.generation = 9;
  restored.reason_code = ReasonCode::Flapping;
  restored.open_escalation_key = "flapping/db/9";
  REQUIRE(world.engine().restore(restored));
  const std::vector<std::pair<std::string, Outcome>> lying{
      {"cloudflare", Outcome::Up}, {"quad9", Outcome::Down}, {"google", Outcome::Up}};
  for (int i = 0; i < 3; ++i) {  // 0s, 10s, 20s: inside restore_hold (32s)
    world.round("db", lying);
    // Still held as flapping: a restart starts its flap window over full.
    CHECK(world.verdict("db").kind == VerdictKind::Disputed);
    CHECK(world.verdict("db").reason_code == ReasonCode::Flapping);
  }
  CHECK(world.count_events(EventKind::FlappingStopped) == 0);
  CHECK(world.count_events(EventKind::DisputeOpened) == 0);
}

TEST_CASE("a restart never lifts a flapping hold before a flap window has passed", "[engine]") {
  // Found by a hostile review: the flap count lived in memory only, so a
  // restart (or a crash loop) published the evidence's verdict at once.
  auto policy = make_policy(k_domains, {"db"});
  policy.flap_window = 10min;
  for (const bool by_episode : {false, true}) {
    World world(policy);
    RestoredVerdict restored;
    restored.target = "db";
    restored.kind = VerdictKind::Disputed;
    restored.held = VerdictKind::Healthy;
    restored.generation = 9;
    // Flapping began while the verdict stayed disputed: only the open
    // episode says so.
    restored.reason_code = by_episode ? ReasonCode::Dispute : ReasonCode::Flapping;
    restored.open_escalation_key = "flapping/db/9";
    restored.open_escalation_kind = EventKind::FlappingStarted;
    REQUIRE(world.engine().restore(restored));
    const auto started = world.now().mono;
    // Steady evidence from every domain, past the restore hold: still held.
    while (world.now().mono - started < 9min) {
      world.round("db", all(Outcome::Down));
      const auto& verdict = world.verdict("db");
      CHECK(verdict.kind == VerdictKind::Disputed);
      CHECK(verdict.kind != VerdictKind::Unhealthy);
    }
    CHECK(world.verdict("db").reason_code == ReasonCode::Flapping);
    CHECK(world.count_events(EventKind::FlappingStopped) == 0);
    CHECK(world.count_events(EventKind::FlappingStarted) == 0);  // the restored one goes on
    // Once a whole flap window has passed without a change, the evidence decides.
    while (world.now().mono - started < 11min) {
      world.round("db", all(Outcome::Down));
    }
    CHECK(world.verdict("db").kind == VerdictKind::Unhealthy);
    CHECK(world.count_events(EventKind::FlappingStopped) == 1);
  }
}
