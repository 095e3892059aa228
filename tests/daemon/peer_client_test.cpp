// The puller's decisions: backoff, reachability episodes, and turning a
// peer's export into engine input dated by age plus transfer time.
#include "peers/client.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace crosscheck::testing;
using crosscheck::daemon::backoff_delay;
using crosscheck::daemon::PeerExport;
using crosscheck::daemon::PeerHealth;
using crosscheck::daemon::PeerPull;
using crosscheck::daemon::PeerVote;
using std::chrono::milliseconds;

PeerPull pull_from_b(cs::Vote vote, std::optional<milliseconds> age, milliseconds transfer) {
  PeerVote item;
  item.target = "web";
  item.vantage = "hetzner";
  item.domain = "hetzner";
  item.vote = vote;
  item.age = age;
  item.detail = "http: 200";
  return PeerPull{PeerExport{"oracle-b", {item}}, transfer};
}

const cs::Evidence* evidence_of(const cs::Verdict& verdict, const std::string& vantage) {
  for (const auto& item : verdict.evidence) {
    if (item.vantage == vantage) {
      return &item;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("backoff grows by doubling under full jitter up to the cap", "[peers]") {
  const auto [failures, unit, expected] = GENERATE(table<int, double, milliseconds>({
      {1, 0.999, milliseconds(599)},
      {1, 0.0, milliseconds(0)},
      {2, 0.5, milliseconds(600)},
      {8, 1.0, milliseconds(60'000)},    // 300ms * 256 = 76.8 s, capped
      {500, 1.0, milliseconds(60'000)},  // no overflow
  }));
  CAPTURE(failures, unit);
  CHECK(backoff_delay(failures, milliseconds(300), milliseconds(60'000), unit) == expected);
}

TEST_CASE("a peer silent past unreachable_after is escalated once, and resolved once", "[peers]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  PeerHealth health("oracle-b", 120s, clock.now());
  CHECK_FALSE(health.record(true, clock.now(), ""));
  clock.advance(120s);
  CHECK_FALSE(health.record(false, clock.now(), "refused"));  // exactly the limit: not yet
  clock.advance(1ms);
  const auto down = health.record(false, clock.now(), "refused");
  REQUIRE(down);
  CHECK_FALSE(down->reachable);
  CHECK_THAT(down->reason,
             Catch::Contains("since 2025-10-20T06:00:00") && Catch::Contains("refused"));
  clock.advance(10s);
  CHECK_FALSE(health.record(false, clock.now(), "refused"));  // once per outage
  const auto up = health.record(true, clock.now(), "");
  REQUIRE(up);
  CHECK(up->reachable);
  // Both ends share the episode key.
  CHECK(crosscheck::daemon::reachability_event(*down, clock.now()).key ==
        crosscheck::daemon::reachability_event(*up, clock.now()).key);
  CHECK(crosscheck::daemon::reachability_event(*down, clock.now()).kind ==
        cs::EventKind::PeerUnreachable);
}

TEST_CASE("an imported vote is dated by its age plus half the round trip", "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  World world(std::move(policy));
  // stale_after is 30 s: 29.5 s old at the origin plus 400 ms in transit is
  // still fresh; 29.7 s plus 400 ms is not.
  const auto [age, fresh] = GENERATE(
      table<milliseconds, bool>({{milliseconds(29'600), true}, {milliseconds(29'700), false}}));
  const auto set = crosscheck::daemon::import_pull(
      world.engine(), pull_from_b(cs::Vote::Down, age, milliseconds(400)), world.now());
  CHECK(set == std::vector<std::string>{"oracle-b/hetzner"});
  world.evaluate();
  const auto* item = evidence_of(world.verdict("web"), "oracle-b/hetzner");
  REQUIRE(item != nullptr);
  CHECK(item->node == "oracle-b");
  CHECK(item->domain == "oracle-b");  // no `domains:` for the peer: one domain, its own
  CHECK(item->vote == (fresh ? cs::Vote::Down : cs::Vote::Unknown));
  CHECK(item->last->detail == "http: 200");
}

TEST_CASE("a vote the peer never observed imports as unknown", "[peers]") {
  auto policy = make_policy({"a"}, {"web"});
  policy.peers = {"oracle-b"};
  World world(std::move(policy));
  crosscheck::daemon::import_pull(
      world.engine(), pull_from_b(cs::Vote::Up, std::nullopt, milliseconds(1)), world.now());
  world.evaluate();
  CHECK(evidence_of(world.verdict("web"), "oracle-b/hetzner")->vote == cs::Vote::Unknown);
}
