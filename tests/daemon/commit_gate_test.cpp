#include "snapshot/commit_gate.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace crosscheck;
using daemon::CommitGate;
using daemon::Undurable;
using namespace std::chrono_literals;

namespace {

const consensus::MonoTime k_t0{consensus::Duration{1'000'000}};

daemon::SnapshotPtr snapshot(std::uint64_t revision) {
  auto built = std::make_shared<daemon::Snapshot>();
  built->revision = revision;
  return built;
}

daemon::Alert alert(const std::string& key) {
  daemon::Alert made;
  made.key = key;
  return made;
}

std::vector<std::string> keys(const CommitGate::Release& release) {
  std::vector<std::string> out;
  for (const auto& sent : release.alerts) {
    out.push_back(sent.key);
  }
  return out;
}

// Records what each answer was told: "ack:durable", "ack:undurable" or "ack:refused".
struct Answers {
  std::vector<std::string> told;
  CommitGate::Answer named(std::string name) {
    return [this, name](Undurable why) {
      told.push_back(name + (why == Undurable::No        ? ":durable"
                             : why == Undurable::Refused ? ":refused"
                                                         : ":undurable"));
    };
  }
  void run(CommitGate::Release& release) {
    for (auto& [answer, why] : release.answers) {
      answer(why);
    }
  }
};

}  // namespace

TEST_CASE("a snapshot waits for the commit of what it shows, then goes out durable",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  auto held = gate.hold(snapshot(1), 7, k_t0, {answers.named("ack")});
  CHECK(held.empty());
  CHECK(gate.committed(6).empty());  // one record short
  auto out = gate.committed(7);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot->revision == 1);
  CHECK(out.snapshot_undurable == Undurable::No);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:durable"});
}

TEST_CASE("a snapshot with nothing uncommitted goes out at once", "[commit_gate]") {
  CommitGate gate;
  CHECK(gate.committed(3).empty());
  const auto out = gate.hold(snapshot(1), 3, k_t0);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::No);
}

TEST_CASE("snapshots go out in the order they were built, the newest committed one wins",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  CHECK(gate.hold(snapshot(1), 5, k_t0, {answers.named("first")}).empty());
  CHECK(gate.hold(snapshot(2), 8, k_t0 + 100ms, {answers.named("second")}).empty());
  CHECK(gate.hold(snapshot(3), 9, k_t0 + 200ms, {answers.named("third")}).empty());
  auto out = gate.committed(8);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot->revision == 2);  // never 3: seq 9 is not committed
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"first:durable", "second:durable"});
  CHECK(gate.pending_snapshots() == 1);
}

TEST_CASE("a snapshot whose commit does not come within the patience goes out undurable",
          "[commit_gate]") {
  const auto wait = GENERATE(999ms, 1000ms);
  CommitGate gate(daemon::CommitPatience{1000ms, 5000ms});
  Answers answers;
  CHECK(gate.hold(snapshot(1), 4, k_t0, {answers.named("ack")}).empty());
  auto out = gate.tick(k_t0 + wait, false);
  if (wait < 1000ms) {
    CHECK(out.empty());
    return;
  }
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Overdue);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:undurable"});
  // What it showed is shown: a later snapshot showing nothing newer need not
  // wait again, and still says it is not durable.
  const auto later = gate.hold(snapshot(2), 4, k_t0 + 1500ms);
  REQUIRE(later.snapshot);
  CHECK(later.snapshot_undurable == Undurable::Overdue);
  // One with a newer record waits for it again.
  CHECK(gate.hold(snapshot(3), 5, k_t0 + 1600ms).empty());
  CHECK(gate.committed(5).snapshot->revision == 3);
}

TEST_CASE("while storage is degraded everything goes out at once, undurable", "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  CHECK(gate.hold(snapshot(1), 2, k_t0, {answers.named("ack")}).empty());
  CHECK(gate.hold(alert("dispute/web/1"), 2, k_t0).empty());
  auto out = gate.tick(k_t0 + 1ms, true);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Degraded);
  CHECK(keys(out) == std::vector<std::string>{"dispute/web/1"});
  CHECK(out.alerts_undurable == Undurable::Degraded);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:undurable"});
}

TEST_CASE("escalation messages reach the sinks once committed, in order", "[commit_gate]") {
  CommitGate gate;
  CHECK(gate.hold(alert("a"), 3, k_t0).empty());
  CHECK(gate.hold(alert("b"), 6, k_t0).empty());
  CHECK(gate.hold(alert("c"), 6, k_t0).empty());
  const auto first = gate.committed(5);
  CHECK(keys(first) == std::vector<std::string>{"a"});
  CHECK(first.alerts_undurable == Undurable::No);
  CHECK(gate.pending_alerts() == 2);
  const auto rest = gate.committed(9);
  CHECK(keys(rest) == std::vector<std::string>{"b", "c"});
  CHECK(gate.pending_alerts() == 0);
}

TEST_CASE("escalation messages whose commit never comes are sent after the alert patience",
          "[commit_gate]") {
  CommitGate gate(daemon::CommitPatience{1000ms, 5000ms});
  CHECK(gate.hold(alert("a"), 3, k_t0).empty());
  CHECK(gate.hold(alert("b"), 4, k_t0 + 2s).empty());
  CHECK(gate.tick(k_t0 + 4999ms, false).alerts.empty());
  const auto overdue = gate.tick(k_t0 + 5s, false);
  CHECK(keys(overdue) == std::vector<std::string>{"a"});
  CHECK(overdue.alerts_undurable == Undurable::Overdue);
  CHECK(keys(gate.tick(k_t0 + 7s, false)) == std::vector<std::string>{"b"});
}

TEST_CASE("start-up and stop publish what is held, and keep uncommitted messages back",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  CHECK(gate.hold(snapshot(1), 2, k_t0, {answers.named("recheck")}).empty());
  CHECK(gate.hold(alert("a"), 2, k_t0).empty());
  auto out = gate.release_snapshots();
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Forced);
  CHECK(out.alerts.empty());
  CHECK(gate.pending_alerts() == 1);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"recheck:undurable"});
}

TEST_CASE("an answer whose record storage refused is not durable, though the commit covers it",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  // Record 4 is an ack, 5 an override; storage refused the ack (a
  // constraint) and wrote the rest: "committed up to 5" covers both.
  CHECK(gate.hold(snapshot(1), 5, k_t0, {{answers.named("ack"), 4}, {answers.named("override"), 5}})
            .empty());
  auto out = gate.committed(5, {4});
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Refused);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:refused", "override:durable"});
}

TEST_CASE("a snapshot showing a record storage refused goes out marked refused, once",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  // The next snapshot, built before the report arrived, waits on record 3;
  // storage refuses record 2 (a verdict change it shows) and commits 3.
  CHECK(gate.hold(snapshot(1), 3, k_t0, {{answers.named("ack"), 3}}).empty());
  auto out = gate.committed(3, {2});
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Refused);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:durable"});
  // What was shown is not reported again.
  const auto later = gate.hold(snapshot(2), 3, k_t0 + 1s);
  REQUIRE(later.snapshot);
  CHECK(later.snapshot_undurable == Undurable::No);
}

TEST_CASE("an escalation message whose event storage refused is sent, marked refused",
          "[commit_gate]") {
  CommitGate gate;
  CHECK(gate.hold(alert("a"), 3, k_t0).empty());
  CHECK(gate.hold(alert("b"), 4, k_t0).empty());
  const auto out = gate.committed(4, {3});
  CHECK(keys(out) == std::vector<std::string>{"a", "b"});
  CHECK(out.alerts_undurable == Undurable::Refused);
}
