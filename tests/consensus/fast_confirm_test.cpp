// Fast confirmation's round trigger and episode, on the manual clock: one
// round per episode, never from a suspect vantage, and, driven with the real
// engine, a real outage confirmed in about a second per `fall` while a
// single lying domain still never makes the verdict unhealthy.
#include "consensus/fast_confirm.hpp"

#include "support/engine_world.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <set>

namespace {

using namespace crosscheck::testing;

const std::vector<std::string> k_domains{"a", "b", "c"};

cs::Observation seen(const cs::Instant& at, const std::string& vantage, cs::Outcome outcome) {
  cs::Observation observation;
  observation.target = "web";
  observation.vantage = vantage;
  observation.at = at;
  observation.outcome = outcome;
  return observation;
}

cs::Verdict verdict(cs::VerdictKind kind, int down) {
  cs::Verdict out;
  out.kind = kind;
  out.votes.down = down;
  return out;
}

// Three domains probing "web" every 10 s (phases 0, 3.3, 6.6 s), fall 3,
// through the real engine; a round brings each vantage's next probe to
// 1 s after its last while it wants a turn. `down` says what each vantage
// sees from t = 0 on. Returns the seconds to the first fresh unhealthy (or
// nullopt within 120 s) and counts the probes.
struct Run {
  std::optional<double> confirmed_after;
  int probes = 0;
  std::uint64_t rounds = 0;
};

Run simulate(bool fast, const std::set<std::string>& down) {
  World world(make_policy(k_domains, {"web"}));
  cs::FastConfirm confirm(fast);
  const auto start = world.now().mono;
  std::map<std::string, cs::MonoTime> next{
      {"a", start}, {"b", start + 3'300ms}, {"c", start + 6'600ms}};
  Run run;
  for (int step = 0; step < 1200; ++step) {  // 100 ms steps, 120 s
    const auto now = world.now();
    for (auto& [vantage, due] : next) {
      if (due > now.mono) {
        continue;
      }
      ++run.probes;
      const auto outcome = down.contains(vantage) ? cs::Outcome::Down : cs::Outcome::Up;
      const auto observation = seen(now, vantage, outcome);
      static_cast<void>(world.engine().observe(observation));
      due = now.mono + 10s;
      if (confirm.observe(observation, false, 3, k_domains)) {
        for (auto& [other, other_due] : next) {
          if (confirm.wants_turn("web", other)) {
            other_due = std::min(other_due, now.mono + 1s);
          }
        }
      } else if (confirm.wants_turn("web", vantage)) {
        due = now.mono + 1s;  // the round's next turn, brought forward
      }
    }
    world.evaluate();
    const auto& published = world.verdict("web");
    if (const auto took = confirm.published("web", published, now.mono, 10s);
        took && !run.confirmed_after) {
      run.confirmed_after = std::chrono::duration<double>(*took).count();
    }
    world.clock().advance(100ms);
  }
  run.rounds = confirm.rounds_started();
  return run;
}

}  // namespace

TEST_CASE("the first down from a non-suspect vantage opens one round per episode", "[fast]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  cs::FastConfirm confirm;
  // A suspect vantage's downs open nothing, not even the episode.
  CHECK_FALSE(confirm.observe(seen(clock.now(), "a", cs::Outcome::Down), true, 3, k_domains));
  CHECK(confirm.open_episodes() == 0);
  CHECK_FALSE(confirm.observe(seen(clock.now(), "b", cs::Outcome::Up), false, 3, k_domains));
  CHECK(confirm.observe(seen(clock.now(), "b", cs::Outcome::Down), false, 3, k_domains));
  // b lacks two more downs, c three; a (suspect) had one already, so two.
  CHECK(confirm.wants_turn("web", "a"));
  CHECK(confirm.wants_turn("web", "c"));
  clock.advance(1s);
  CHECK_FALSE(confirm.observe(seen(clock.now(), "c", cs::Outcome::Down), false, 3, k_domains));
  CHECK_FALSE(confirm.observe(seen(clock.now(), "b", cs::Outcome::Down), false, 3, k_domains));
  CHECK(confirm.wants_turn("web", "b"));
  CHECK_FALSE(confirm.observe(seen(clock.now(), "b", cs::Outcome::Down), false, 3, k_domains));
  CHECK_FALSE(confirm.wants_turn("web", "b"));  // three in a row: its vote is down
  CHECK_FALSE(confirm.observe(seen(clock.now(), "c", cs::Outcome::Up), false, 3, k_domains));
  CHECK_FALSE(confirm.wants_turn("web", "c"));  // an up: nothing to confirm from it
  CHECK(confirm.rounds_started() == 1);

  // Healthy without a down vote ends the episode only after a quiet interval.
  CHECK_FALSE(
      confirm.published("web", verdict(cs::VerdictKind::Healthy, 0), clock.now().mono, 10s));
  CHECK(confirm.open_episodes() == 1);
  CHECK_FALSE(confirm.observe(seen(clock.now(), "b", cs::Outcome::Down), false, 3, k_domains));
  clock.advance(10s);
  confirm.published("web", verdict(cs::VerdictKind::Healthy, 0), clock.now().mono, 10s);
  CHECK(confirm.open_episodes() == 0);
  // The next episode gets its own round.
  CHECK(confirm.observe(seen(clock.now(), "a", cs::Outcome::Down), false, 3, k_domains));
  CHECK(confirm.rounds_started() == 2);
}

TEST_CASE("time to confirm runs from the episode's first down to its first fresh unhealthy",
          "[fast]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  cs::FastConfirm confirm(GENERATE(true, false));  // timed whether or not rounds run
  confirm.observe(seen(clock.now(), "a", cs::Outcome::Down), false, 3, k_domains);
  clock.advance(4s);
  auto unhealthy = verdict(cs::VerdictKind::Unhealthy, 3);
  unhealthy.fresh = false;  // a restored verdict confirms nothing
  CHECK_FALSE(confirm.published("web", unhealthy, clock.now().mono, 10s));
  unhealthy.fresh = true;
  CHECK(confirm.published("web", unhealthy, clock.now().mono, 10s) == cs::Duration{4'000});
  CHECK_FALSE(confirm.published("web", unhealthy, clock.now().mono, 10s));  // once per episode
}

TEST_CASE("a disabled fast confirmation starts no round", "[fast]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  cs::FastConfirm confirm(false);
  CHECK_FALSE(confirm.observe(seen(clock.now(), "a", cs::Outcome::Down), false, 3, k_domains));
  CHECK_FALSE(confirm.wants_turn("web", "b"));
  CHECK(confirm.open_episodes() == 1);
}

TEST_CASE("with the engine: a real outage confirms within 15 s, a single liar never", "[fast]") {
  const auto outage_fast = simulate(true, {"a", "b", "c"});
  const auto outage_slow = simulate(false, {"a", "b", "c"});
  REQUIRE(outage_fast.confirmed_after);
  REQUIRE(outage_slow.confirmed_after);
  CHECK(*outage_fast.confirmed_after <= 15.0);
  CHECK(*outage_slow.confirmed_after > 15.0);  // fall x interval without it
  CHECK(outage_fast.rounds == 1);

  const bool fast = GENERATE(true, false);
  const auto lie = simulate(fast, {"b"});
  CHECK_FALSE(lie.confirmed_after);
  CHECK(lie.rounds == (fast ? 1U : 0U));  // one round for the whole lie, never another
  // The round brings probes forward once: a handful more than without it.
  const auto quiet = simulate(fast, {});
  CHECK(lie.probes <= quiet.probes + 3 * 3);
}
