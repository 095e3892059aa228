// Certificate expiry (docs/checks.md "Certificates"): the notAfter a vantage
// saw, kept through failed checks, the cert_expiring escalation it opens
// under tls.min_days, and that it never moves a vote or a verdict.
#include "consensus/hysteresis.hpp"
#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace {

using namespace crosscheck::testing;
using cs::EventKind;
using cs::Outcome;

const std::vector<std::string> k_domains{"cloudflare", "quad9", "google"};

cs::Policy cert_policy(std::optional<cs::Duration> min_remaining = std::chrono::days{14}) {
  auto policy = make_policy(k_domains, {"shop"});
  policy.targets.front().cert_min_remaining = min_remaining;
  policy.peers = {"oracle-b"};
  return policy;
}

// The world's clock starts at 2025-10-20T06:00:00Z.
cs::WallTime in_days(const World& world, int days) {
  return world.now().wall + std::chrono::duration_cast<cs::Duration>(std::chrono::days{days});
}

void see_cert(World& world, const std::string& vantage, std::optional<cs::WallTime> not_after,
              Outcome outcome = Outcome::Up) {
  cs::Observation observation;
  observation.target = "shop";
  observation.vantage = vantage;
  observation.at = world.now();
  observation.outcome = outcome;
  observation.layer = outcome == Outcome::Down ? cs::Layer::Connect : cs::Layer::None;
  observation.cert_not_after = not_after;
  REQUIRE(world.engine().observe(observation) == cs::ObserveStatus::Accepted);
}

// Every vantage sees `not_after`, then the engine evaluates and 10s pass.
void round(World& world, std::optional<cs::WallTime> not_after, Outcome outcome = Outcome::Up) {
  for (const auto& vantage : k_domains) {
    see_cert(world, vantage, not_after, outcome);
  }
  world.evaluate();
  world.clock().advance(10s);
}

}  // namespace

TEST_CASE("a certificate closer to its end than tls.min_days opens cert_expiring, not a vote",
          "[engine][cert]") {
  World world(cert_policy());
  const auto soon = in_days(world, 9) + 1h;
  for (int i = 0; i < 3; ++i) {
    round(world, soon);
  }
  const auto& verdict = world.verdict("shop");
  CHECK(verdict.kind == cs::VerdictKind::Healthy);
  REQUIRE(verdict.cert_not_after);
  CHECK(*verdict.cert_not_after == soon);
  for (const auto& item : verdict.evidence) {
    CHECK(item.cert_not_after == (item.node.empty() ? std::optional{soon} : std::nullopt));
  }
  REQUIRE(world.count_events(EventKind::CertExpiring, "shop") == 1);
  const auto* opened = world.last_event(EventKind::CertExpiring);
  CHECK(opened->reason == "the TLS certificate expires in 9 days (notAfter " +
                              cs::format_rfc3339(soon) +
                              ", seen by cloudflare); tls.min_days is 14");
  CHECK(cs::Event{*opened}.is_escalation());
  CHECK_FALSE(opened->key.empty());
}

TEST_CASE("a certificate valid past tls.min_days, or a target without it, opens nothing",
          "[engine][cert]") {
  World valid(cert_policy());
  World without(cert_policy(std::nullopt));
  const auto far = in_days(valid, 60);
  const auto soon = in_days(without, 2);
  for (int i = 0; i < 3; ++i) {
    round(valid, far);
    round(without, soon);
  }
  CHECK(valid.count_events(EventKind::CertExpiring) == 0);
  CHECK(without.count_events(EventKind::CertExpiring) == 0);
  // The notAfter is shown all the same.
  CHECK(without.verdict("shop").cert_not_after == soon);
}

TEST_CASE("the earliest certificate any local vantage saw decides, and one expiring keeps it open",
          "[engine][cert]") {
  World world(cert_policy());
  const auto soon = in_days(world, 3);
  const auto renewed = in_days(world, 90);
  see_cert(world, "cloudflare", renewed);
  see_cert(world, "quad9", soon);  // one address still serves the old certificate
  see_cert(world, "google", renewed);
  world.evaluate();
  CHECK(world.verdict("shop").cert_not_after == soon);
  REQUIRE(world.count_events(EventKind::CertExpiring, "shop") == 1);
  CHECK_THAT(world.last_event(EventKind::CertExpiring)->reason, Catch::Contains("seen by quad9"));
  world.clock().advance(10s);
  see_cert(world, "cloudflare", renewed);
  see_cert(world, "google", renewed);
  world.evaluate();
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  // quad9 now sees the renewed one, but an hour must pass without the old
  // one (round-robin DNS may show it again): still open.
  world.clock().advance(10s);
  see_cert(world, "quad9", renewed);
  world.evaluate();
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  CHECK(world.verdict("shop").cert_not_after == renewed);
  // An hour on, every vantage still sees only the renewed one: resolved.
  world.clock().advance(cs::TargetPolicy::k_renewal_hold);
  round(world, renewed);
  REQUIRE(world.count_events(EventKind::CertExpiringResolved, "shop") == 1);
  const auto* renewal = world.last_event(EventKind::CertExpiringResolved);
  CHECK(renewal->key == world.last_event(EventKind::CertExpiring)->key);
  CHECK(cs::Event{*renewal}.is_resolution());
  CHECK_THAT(renewal->reason, Catch::Contains("expires in 89 days"));  // an hour later
}

TEST_CASE("failed checks and stale votes neither renew nor reopen cert_expiring",
          "[engine][cert]") {
  World world(cert_policy());
  const auto soon = in_days(world, 5);
  round(world, soon);
  REQUIRE(world.count_events(EventKind::CertExpiring) == 1);
  // The service goes down (no handshake, no certificate), then nobody
  // observes it for minutes: the last certificate seen still stands.
  for (int i = 0; i < 5; ++i) {
    round(world, std::nullopt, Outcome::Down);
  }
  world.clock().advance(5min);
  world.evaluate();
  CHECK(world.verdict("shop").cert_not_after == soon);
  for (int i = 0; i < 3; ++i) {
    round(world, soon);
  }
  CHECK(world.count_events(EventKind::CertExpiring) == 1);
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
}

TEST_CASE("round-robin between an old and a renewed certificate keeps cert_expiring open, once",
          "[engine][cert]") {
  World world(cert_policy());
  const auto old_cert = in_days(world, 3);
  const auto new_cert = in_days(world, 90);
  // One check in three lands on the address not renewed, for two hours
  // (rounds 10s apart), the last one too.
  for (int i = 0; i < 720; ++i) {
    round(world, i % 3 == 0 || i == 719 ? old_cert : new_cert);
  }
  CHECK(world.count_events(EventKind::CertExpiring) == 1);
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  // The old address renewed: the renewed certificate alone for 359 rounds
  // (3590s) leaves it open; the round an hour after the first resolves it.
  for (int i = 0; i < 360; ++i) {
    round(world, new_cert);
  }
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  round(world, new_cert);
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 1);
  CHECK(world.count_events(EventKind::CertExpiring) == 1);
}

TEST_CASE("an observer error carrying a certificate still records it", "[engine][cert]") {
  World world(cert_policy());
  const auto soon = in_days(world, 1);
  see_cert(world, "cloudflare", soon, Outcome::ObserverError);
  world.evaluate();
  CHECK(world.verdict("shop").cert_not_after == soon);
}

TEST_CASE("an expired certificate says so in the escalation", "[engine][cert]") {
  World world(cert_policy());
  const auto expired = world.now().wall - 36h;
  round(world, expired);
  REQUIRE(world.count_events(EventKind::CertExpiring) == 1);
  CHECK_THAT(world.last_event(EventKind::CertExpiring)->reason,
             Catch::Contains("the TLS certificate expired 1 day ago"));
}

TEST_CASE("a peer's vote carries no certificate into the escalation", "[engine][cert]") {
  World world(cert_policy());
  REQUIRE(world.engine().add_remote_vantage({"oracle-b/c", "oracle-b", "c"}));
  cs::Observation last;
  last.target = "shop";
  last.vantage = "oracle-b/c";
  last.at = world.now();
  last.outcome = Outcome::Up;
  last.cert_not_after = in_days(world, 1);  // a lying or confused peer
  REQUIRE(world.engine().observe_remote(cs::RemoteVote{"shop", "oracle-b/c", cs::Vote::Up, last.at,
                                                       last}) == cs::ObserveStatus::Accepted);
  world.evaluate();
  CHECK_FALSE(world.verdict("shop").cert_not_after);
  CHECK(world.count_events(EventKind::CertExpiring) == 0);
}

TEST_CASE("a restored cert_expiring stays open until a certificate is seen again",
          "[engine][cert]") {
  World world(cert_policy());
  REQUIRE(world.engine().restore_episode(cs::RestoredEpisode{
      EventKind::CertExpiring, "cert_expiring/shop/1", "shop", "", "expires in 3 days"}));
  // Fresh evidence without a certificate (the service is down): still open.
  for (int i = 0; i < 4; ++i) {
    round(world, std::nullopt, Outcome::Down);
  }
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  CHECK(world.count_events(EventKind::CertExpiring) == 0);  // not opened twice
  // Renewed certificates from now on: not resolved before an hour of them
  // (a restart has no memory of what the addresses served).
  const auto renewed = in_days(world, 80);
  for (int i = 0; i < 3; ++i) {
    round(world, renewed);
  }
  CHECK(world.count_events(EventKind::CertExpiringResolved) == 0);
  world.clock().advance(cs::TargetPolicy::k_renewal_hold);
  round(world, renewed);
  REQUIRE(world.count_events(EventKind::CertExpiringResolved) == 1);
  CHECK(world.last_event(EventKind::CertExpiringResolved)->key == "cert_expiring/shop/1");
}

TEST_CASE("a restored cert_expiring of a target that no longer has tls.min_days resolves",
          "[engine][cert]") {
  World world(cert_policy(std::nullopt));
  REQUIRE(world.engine().restore_episode(cs::RestoredEpisode{
      EventKind::CertExpiring, "cert_expiring/shop/1", "shop", "", "expires in 3 days"}));
  for (int i = 0; i < 4; ++i) {
    round(world, std::nullopt);
  }
  REQUIRE(world.count_events(EventKind::CertExpiringResolved) == 1);
  CHECK(world.last_event(EventKind::CertExpiringResolved)->reason ==
        "tls.min_days no longer applies");
}

TEST_CASE("certificate expiry in words, rounded toward the past", "[cert]") {
  const auto now = *cs::parse_rfc3339("2026-12-05T12:00:00Z");
  CHECK(cs::cert_expiry_words(now + 24h * 9 + 1h, now) == "expires in 9 days");
  CHECK(cs::cert_expiry_words(now + 24h + 1s, now) == "expires in 1 day");
  CHECK(cs::cert_expiry_words(now + 23h, now) == "expires in 0 days");
  CHECK(cs::cert_expiry_words(now - 1h, now) == "expired 0 days ago");
  CHECK(cs::cert_expiry_words(now - 25h, now) == "expired 1 day ago");
  CHECK(cs::cert_expiry_words(now - 24h * 3 - 1h, now) == "expired 3 days ago");
}

namespace {

void see_dnssec(World& world, const std::string& vantage, bool dnssec_failure) {
  cs::Observation observation;
  observation.target = "shop";
  observation.vantage = vantage;
  observation.at = world.now();
  observation.outcome = Outcome::Down;
  observation.layer = cs::Layer::Dns;
  observation.detail = "dns: SERVFAIL";
  observation.dnssec_failure = dnssec_failure;
  REQUIRE(world.engine().observe(observation) == cs::ObserveStatus::Accepted);
}

}  // namespace

TEST_CASE("validating resolvers refusing a bogus answer: the reason says DNSSEC",
          "[engine][dnssec]") {
  const auto [bogus_votes, expected] = GENERATE(table<int, cs::VerdictKind>(
      {{2, cs::VerdictKind::Unhealthy}, {1, cs::VerdictKind::Disputed}}));
  World world(make_policy(k_domains, {"shop"}));
  for (int i = 0; i < 2; ++i) {
    round(world, std::nullopt);  // healthy first
  }
  for (int i = 0; i < 6; ++i) {  // 60s: past fall and dispute_grace
    see_dnssec(world, "cloudflare", true);
    if (bogus_votes == 2) {
      see_dnssec(world, "quad9", true);
    } else {
      see_cert(world, "quad9", std::nullopt);  // a non-validating resolver answers
    }
    see_cert(world, "google", std::nullopt);
    world.evaluate();
    world.clock().advance(10s);
  }
  const auto& verdict = world.verdict("shop");
  INFO(verdict.reason);
  CHECK(verdict.kind == expected);
  CHECK(verdict.failing_layer == cs::Layer::Dns);
  CHECK_THAT(verdict.reason, Catch::Contains("DNSSEC: validating resolvers refuse the answer"));
}

TEST_CASE("a SERVFAIL that is not DNSSEC's says nothing of DNSSEC", "[engine][dnssec]") {
  World world(make_policy(k_domains, {"shop"}));
  for (int i = 0; i < 4; ++i) {
    see_dnssec(world, "cloudflare", false);
    see_dnssec(world, "quad9", false);
    see_dnssec(world, "google", false);
    world.evaluate();
    world.clock().advance(10s);
  }
  const auto& verdict = world.verdict("shop");
  CHECK(verdict.kind == cs::VerdictKind::Unhealthy);
  CHECK(verdict.reason.find("DNSSEC") == std::string::npos);
}
