// What expires is watched alike (docs/checks.md "Certificates" and
// "DNSSEC"): a certificate under tls.min_days opens cert_expiring, DNSSEC
// signatures over the answer under dns.rrsig_min_remaining open
// rrsig_expiring. Every case runs for both watches; neither ever moves a
// vote, and neither opens the other.
#include "consensus/hysteresis.hpp"
#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace crosscheck::testing;
using cs::EventKind;
using cs::Outcome;

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

struct Watch {
  std::string name;
  EventKind opens;
  EventKind resolves;
  std::optional<cs::Duration> cs::TargetPolicy::*threshold;
  std::optional<cs::WallTime> cs::Observation::*seen;
  std::optional<cs::WallTime> cs::Verdict::*earliest;
  std::string setting;
};

const Watch k_cert{"certificate",
                   EventKind::CertExpiring,
                   EventKind::CertExpiringResolved,
                   &cs::TargetPolicy::cert_min_remaining,
                   &cs::Observation::cert_not_after,
                   &cs::Verdict::cert_not_after,
                   "tls.min_days"};
const Watch k_rrsig{"signatures",
                    EventKind::RrsigExpiring,
                    EventKind::RrsigExpiringResolved,
                    &cs::TargetPolicy::rrsig_min_remaining,
                    &cs::Observation::rrsig_expires,
                    &cs::Verdict::rrsig_expires,
                    "dns.rrsig_min_remaining"};

const Watch& other(const Watch& watch) {
  return watch.opens == k_cert.opens ? k_rrsig : k_cert;
}

cs::Policy policy_for(const Watch& watch, std::optional<cs::Duration> threshold) {
  auto policy = make_policy(k_domains, {"zone"});
  policy.targets.front().*watch.threshold = threshold;
  policy.peers = {"oracle-b"};
  return policy;
}

void see(World& world, const Watch& watch, const std::string& vantage,
         std::optional<cs::WallTime> expiry, Outcome outcome = Outcome::Up) {
  cs::Observation observation;
  observation.target = "zone";
  observation.vantage = vantage;
  observation.at = world.now();
  observation.outcome = outcome;
  observation.layer = outcome == Outcome::Down ? cs::Layer::Dns : cs::Layer::None;
  observation.*watch.seen = expiry;
  REQUIRE(world.engine().observe(observation) == cs::ObserveStatus::Accepted);
}

// Every vantage sees `expiry`, the engine evaluates, 10 s pass.
void round(World& world, const Watch& watch, std::optional<cs::WallTime> expiry) {
  for (const auto& vantage : k_domains) {
    see(world, watch, vantage, expiry);
  }
  world.evaluate();
  world.clock().advance(10s);
}

}  // namespace

TEST_CASE("what expires under its threshold opens its own escalation and never a vote",
          "[engine][expiry]") {
  const auto& watch = GENERATE(std::cref(k_cert), std::cref(k_rrsig)).get();
  INFO(watch.name);
  World world(policy_for(watch, std::chrono::days{2}));
  const auto soon = world.now().wall + 20h;
  for (int i = 0; i < 3; ++i) {
    round(world, watch, soon);
  }
  const auto& verdict = world.verdict("zone");
  CHECK(verdict.kind == cs::VerdictKind::Healthy);
  CHECK(verdict.*watch.earliest == soon);
  CHECK_FALSE(verdict.*other(watch).earliest);
  REQUIRE(world.count_events(watch.opens, "zone") == 1);
  CHECK(world.count_events(other(watch).opens) == 0);
  const auto* opened = world.last_event(watch.opens);
  CHECK(cs::Event{*opened}.is_escalation());
  CHECK_THAT(opened->reason, Catch::Contains("seen by cloudflare") &&
                                 Catch::EndsWith("; " + watch.setting + " is 2" +
                                                 (watch.opens == k_cert.opens ? "" : "d")));
  if (watch.opens == k_rrsig.opens) {
    CHECK(opened->reason ==
          "the DNSSEC signatures (RRSIG) over the answer expire in 20 hours (expiration " +
              cs::format_rfc3339(soon) + ", seen by cloudflare); dns.rrsig_min_remaining is 2d");
  }
}

TEST_CASE("what expires resolves only after an hour in which every vantage shows it renewed",
          "[engine][expiry]") {
  const auto& watch = GENERATE(std::cref(k_cert), std::cref(k_rrsig)).get();
  INFO(watch.name);
  World world(policy_for(watch, std::chrono::days{1}));
  const auto old_one = world.now().wall + 10h;
  const auto renewed = world.now().wall + std::chrono::days{14};
  // One resolver's cache (or address) keeps the old one for a while.
  for (int i = 0; i < 30; ++i) {
    see(world, watch, "cloudflare", renewed);
    see(world, watch, "quad9", i < 20 ? old_one : renewed);
    see(world, watch, "google", renewed);
    world.evaluate();
    world.clock().advance(10s);
  }
  CHECK(world.count_events(watch.opens) == 1);
  CHECK(world.count_events(watch.resolves) == 0);
  // 20 rounds with the old one, then 10 renewed; 350 more is 3600 s.
  for (int i = 0; i < 350; ++i) {
    round(world, watch, renewed);
  }
  CHECK(world.count_events(watch.resolves) == 0);
  round(world, watch, renewed);
  REQUIRE(world.count_events(watch.resolves) == 1);
  CHECK(world.last_event(watch.resolves)->key == world.last_event(watch.opens)->key);
  CHECK(world.count_events(watch.opens) == 1);
  CHECK(world.count_events(other(watch).opens) == 0);
}

TEST_CASE("a peer's vote carries no expiry into the escalation", "[engine][expiry]") {
  const auto& watch = GENERATE(std::cref(k_cert), std::cref(k_rrsig)).get();
  INFO(watch.name);
  World world(policy_for(watch, std::chrono::days{7}));
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/c", "oracle-b", "c"}));
  cs::Observation last;
  last.target = "zone";
  last.vantage = "oracle-b/c";
  last.at = world.now();
  last.outcome = Outcome::Up;
  last.*watch.seen = world.now().wall + 1h;  // a lying or confused peer
  REQUIRE(world.engine().observe_remote(cs::RemoteVote{"zone", "oracle-b/c", cs::Vote::Up, last.at,
                                                       last}) == cs::ObserveStatus::Accepted);
  world.evaluate();
  CHECK_FALSE(world.verdict("zone").*watch.earliest);
  CHECK(world.count_events(watch.opens) == 0);
}

TEST_CASE(
    "a restored expiry escalation stays open through a restart and resolves without its "
    "threshold",
    "[engine][expiry]") {
  const auto& watch = GENERATE(std::cref(k_cert), std::cref(k_rrsig)).get();
  const bool configured = GENERATE(true, false);
  INFO(watch.name << (configured ? " with" : " without") << " its threshold");
  World world(policy_for(
      watch, configured ? std::optional<cs::Duration>{std::chrono::days{1}} : std::nullopt));
  const std::string key = std::string(cs::to_string(watch.opens)) + "/zone/1";
  REQUIRE(world.engine().restore_episode(
      cs::RestoredEpisode{watch.opens, key, "zone", "", "expires in 3 hours"}));
  for (int i = 0; i < 4; ++i) {
    round(world, watch, world.now().wall + std::chrono::days{10});
  }
  CHECK(world.count_events(watch.opens) == 0);  // never opened twice
  if (configured) {
    CHECK(world.count_events(watch.resolves) == 0);  // an hour of renewed ones first
    return;
  }
  REQUIRE(world.count_events(watch.resolves) == 1);
  CHECK(world.last_event(watch.resolves)->key == key);
  CHECK(world.last_event(watch.resolves)->reason == watch.setting + " no longer applies");
}

TEST_CASE("answers that come without signatures any more end rrsig_expiring after an hour",
          "[engine][expiry]") {
  World world(policy_for(k_rrsig, std::chrono::days{1}));
  round(world, k_rrsig, world.now().wall + 5h);
  REQUIRE(world.count_events(EventKind::RrsigExpiring) == 1);
  // The zone went unsigned (or the resolvers drop RRSIGs): answers go on,
  // without signatures. Nothing is left to expire: renewed, after the hold.
  for (int i = 0; i < 360; ++i) {
    round(world, k_rrsig, std::nullopt);
  }
  CHECK_FALSE(world.verdict("zone").rrsig_expires);
  CHECK(world.count_events(EventKind::RrsigExpiringResolved) == 0);
  round(world, k_rrsig, std::nullopt);
  REQUIRE(world.count_events(EventKind::RrsigExpiringResolved) == 1);
  CHECK(world.last_event(EventKind::RrsigExpiringResolved)->reason ==
        "the answers come without DNSSEC signatures");
}

TEST_CASE("signature expiry in words: hours under two days, then days", "[expiry]") {
  const auto now = *cs::parse_rfc3339("2026-12-05T12:00:00Z");
  CHECK(cs::signature_expiry_words(now + 20h + 59min, now) == "expire in 20 hours");
  CHECK(cs::signature_expiry_words(now + 1h, now) == "expire in 1 hour");
  CHECK(cs::signature_expiry_words(now + 47h, now) == "expire in 47 hours");
  CHECK(cs::signature_expiry_words(now + 49h, now) == "expire in 2 days");
  CHECK(cs::signature_expiry_words(now + 24h * 9 + 1h, now) == "expire in 9 days");
  CHECK(cs::signature_expiry_words(now - 3h - 1min, now) == "expired 3 hours ago");
  CHECK(cs::signature_expiry_words(now - 24h * 5, now) == "expired 5 days ago");
}
