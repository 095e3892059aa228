#include "snapshot/commit_gate.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <string>
#include <vector>

using namespace crosscheck;
using snapshot::CommitGate;
using snapshot::Undurable;
using namespace std::chrono_literals;

namespace {

const consensus::MonoTime k_t0{consensus::Duration{1'000'000}};

snapshot::SnapshotPtr snapshot_at(std::uint64_t revision) {
  auto built = std::make_shared<snapshot::Snapshot>();
  built->revision = revision;
  return built;
}

escalation::Alert alert(const std::string& key) {
  escalation::Alert made;
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
  auto held = gate.hold(snapshot_at(1), 7, k_t0, {answers.named("ack")});
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
  const auto out = gate.hold(snapshot_at(1), 3, k_t0);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::No);
}

TEST_CASE("snapshots go out in the order they were built, the newest committed one wins",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  CHECK(gate.hold(snapshot_at(1), 5, k_t0, {answers.named("first")}).empty());
  CHECK(gate.hold(snapshot_at(2), 8, k_t0 + 100ms, {answers.named("second")}).empty());
  CHECK(gate.hold(snapshot_at(3), 9, k_t0 + 200ms, {answers.named("third")}).empty());
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
  CommitGate gate(snapshot::CommitPatience{1000ms, 5000ms});
  Answers answers;
  CHECK(gate.hold(snapshot_at(1), 4, k_t0, {answers.named("ack")}).empty());
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
  const auto later = gate.hold(snapshot_at(2), 4, k_t0 + 1500ms);
  REQUIRE(later.snapshot);
  CHECK(later.snapshot_undurable == Undurable::Overdue);
  // One with a newer record waits for it again.
  CHECK(gate.hold(snapshot_at(3), 5, k_t0 + 1600ms).empty());
  CHECK(gate.committed(5).snapshot->revision == 3);
}

TEST_CASE("while storage is degraded everything goes out at once, undurable", "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  CHECK(gate.hold(snapshot_at(1), 2, k_t0, {answers.named("ack")}).empty());
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
  CommitGate gate(snapshot::CommitPatience{1000ms, 5000ms});
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
  CHECK(gate.hold(snapshot_at(1), 2, k_t0, {answers.named("recheck")}).empty());
  CHECK(gate.hold(alert("a"), 2, k_t0).empty());
  auto out = gate.release_snapshots();
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Forced);
  CHECK(out.alerts.empty());
  CHECK(gate.pending_alerts() == 1);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"recheck:undurable"});
}

namespace {

// A snapshot showing targets "a" and "b" at the given generations; each
// target's history holds one transition per generation, newest first.
snapshot::SnapshotPtr showing(std::uint64_t revision, std::uint64_t a, std::uint64_t b) {
  auto built = std::make_shared<snapshot::Snapshot>();
  built->revision = revision;
  for (const auto& [name, generation] : {std::pair{"a", a}, std::pair{"b", b}}) {
    snapshot::TargetView view;
    view.verdict.target = name;
    view.verdict.generation = generation;
    view.verdict.kind = generation == 0       ? consensus::VerdictKind::Unknown
                        : generation % 2 == 0 ? consensus::VerdictKind::Healthy
                                              : consensus::VerdictKind::Unhealthy;
    view.verdict.fresh = true;
    view.verdict.reason = "generation " + std::to_string(generation);
    auto history = std::make_shared<std::vector<snapshot::TransitionView>>();
    for (auto g = generation; g > 0; --g) {
      snapshot::TransitionView transition;
      transition.generation = g;
      history->push_back(transition);
    }
    view.history = std::move(history);
    built->targets.push_back(std::move(view));
  }
  return built;
}

std::uint64_t generation_of(const snapshot::Snapshot& shown, const std::string& target) {
  const auto* view = shown.find(target);
  REQUIRE(view != nullptr);
  return view->verdict.generation;
}

}  // namespace

TEST_CASE("a snapshot out before its commit shows each moved target's last durable verdict",
          "[commit_gate]") {
  CommitGate gate(snapshot::CommitPatience{1000ms, 5000ms});
  CHECK(gate.hold(showing(10, 2, 4), 3, k_t0).empty());
  CHECK(gate.committed(3).snapshot);
  // "a" moves to generation 3 (record 4); the disk hangs.
  CHECK(gate.hold(showing(11, 3, 4), 4, k_t0 + 100ms).empty());
  const auto out = gate.tick(k_t0 + 1100ms, false);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Overdue);
  const auto* a = out.snapshot->find("a");
  REQUIRE(a != nullptr);
  CHECK(a->verdict.generation == 2);
  CHECK(a->verdict.kind == consensus::VerdictKind::Healthy);
  CHECK_FALSE(a->verdict.fresh);
  CHECK(a->verdict.reason.find("a change to unhealthy is not shown until it is on disk") !=
        std::string::npos);
  CHECK(a->transitions().size() == 2);
  CHECK(a->transitions().front().generation == 2);
  // "b" did not move: shown as built.
  CHECK(generation_of(*out.snapshot, "b") == 4);
  CHECK(out.snapshot->find("b")->verdict.fresh);
  // The revision is the durable one: a watcher wakes when the real one goes out.
  CHECK(out.snapshot->revision == 10);
  // The commit comes: the real snapshot goes out, without a new one built.
  const auto late = gate.committed(4);
  REQUIRE(late.snapshot);
  CHECK(late.snapshot_undurable == Undurable::No);
  CHECK(late.snapshot->revision == 11);
  CHECK(generation_of(*late.snapshot, "a") == 3);
}

TEST_CASE(
    "a held-back change keeps the durable verdict's history though aging left only the newest",
    "[commit_gate]") {
  // storage.history_retention: the newer snapshot's history of "a" holds
  // only its newest change (generation 6, not on disk); the durable one's
  // holds 5 and before. The masked view must show 5 first, never nothing.
  CommitGate gate;
  gate.restored(showing(1, 5, 2));
  auto aged = std::make_shared<snapshot::Snapshot>(*showing(2, 6, 2));
  auto& a = aged->targets.front();
  a.history = std::make_shared<const std::vector<snapshot::TransitionView>>(
      std::vector{a.transitions().front()});
  CHECK(gate.hold(aged, 9, k_t0).empty());
  const auto out = gate.tick(k_t0 + 1ms, true);
  REQUIRE(out.snapshot);
  const auto* shown = out.snapshot->find("a");
  REQUIRE(shown != nullptr);
  CHECK(shown->verdict.generation == 5);
  REQUIRE_FALSE(shown->transitions().empty());
  CHECK(shown->transitions().front().generation == 5);
  CHECK(shown->transitions().size() == 5);
}

TEST_CASE("while storage is degraded no new generation is shown, the restored one is",
          "[commit_gate]") {
  CommitGate gate;
  gate.restored(showing(1, 6, 0));
  CHECK(gate.hold(showing(2, 7, 1), 9, k_t0).empty());
  const auto out = gate.tick(k_t0 + 1ms, true);
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Degraded);
  CHECK(generation_of(*out.snapshot, "a") == 6);
  // "b" was restored at generation 0 (never confirmed): it stays there.
  CHECK(generation_of(*out.snapshot, "b") == 0);
  CHECK(out.snapshot->find("b")->verdict.kind == consensus::VerdictKind::Unknown);
  CHECK(out.snapshot->find("b")->transitions().empty());
}

TEST_CASE("a target no durable snapshot has shows unknown at generation 0 until committed",
          "[commit_gate]") {
  CommitGate gate;
  CHECK(gate.hold(showing(5, 3, 0), 2, k_t0).empty());
  const auto out = gate.release_snapshots();
  REQUIRE(out.snapshot);
  const auto* a = out.snapshot->find("a");
  REQUIRE(a != nullptr);
  CHECK(a->verdict.generation == 0);
  CHECK(a->verdict.kind == consensus::VerdictKind::Unknown);
  CHECK_FALSE(a->verdict.held.has_value());
  CHECK_FALSE(a->verdict.fresh);
  CHECK(out.snapshot->revision == 0);
}

// The invariant, over randomized worlds: whatever the disk does (commits
// late, out of patience, degraded, a stop), no published snapshot shows a
// generation storage has not committed, and no target's generation or the
// revision ever goes back.
TEST_CASE("no published snapshot shows an uncommitted generation (randomized)",
          "[commit_gate][invariant]") {
  std::mt19937 random(20261203);
  for (int world = 0; world < 300; ++world) {
    CommitGate gate(snapshot::CommitPatience{1000ms, 5000ms});
    std::uint64_t seq = 0;
    std::uint64_t committed = 0;
    std::uint64_t revision = 0;
    std::array<std::uint64_t, 2> generation{0, 0};
    // first_seq[t][g]: the record that made generation g of target t.
    std::array<std::vector<std::uint64_t>, 2> first_seq{std::vector<std::uint64_t>{0},
                                                        std::vector<std::uint64_t>{0}};
    std::array<std::uint64_t, 2> last_shown{0, 0};
    std::uint64_t last_revision = 0;
    auto now = k_t0;
    gate.restored(showing(0, 0, 0));
    const auto check = [&](const CommitGate::Release& out) {
      if (!out.snapshot) {
        return;
      }
      INFO("world " << world << " seq " << seq << " committed " << committed);
      CHECK(out.snapshot->revision >= last_revision);
      last_revision = out.snapshot->revision;
      for (std::size_t t = 0; t < 2; ++t) {
        const auto shown = generation_of(*out.snapshot, t == 0 ? "a" : "b");
        REQUIRE(shown < first_seq[t].size());
        CHECK(first_seq[t][shown] <= committed);
        CHECK(shown >= last_shown[t]);
        last_shown[t] = shown;
      }
    };
    for (int step = 0; step < 120; ++step) {
      switch (random() % 6) {
        case 0: {  // a verdict change: a new generation, a new record
          const auto t = random() % 2;
          first_seq[t].push_back(++seq);
          ++generation[t];
          ++revision;
          break;
        }
        case 1:  // another record (an observation change, an escalation)
          ++seq;
          break;
        case 2:
          check(gate.hold(showing(revision, generation[0], generation[1]), seq, now));
          break;
        case 3:
          committed = std::max(committed, committed + random() % (seq - committed + 1));
          check(gate.committed(committed));
          break;
        case 4:
          now += std::chrono::milliseconds(random() % 1500);
          check(gate.tick(now, random() % 8 == 0));
          break;
        default:
          if (random() % 10 == 0) {
            check(gate.release_snapshots());
          }
          break;
      }
    }
  }
}

TEST_CASE("an answer whose record storage refused is not durable, though the commit covers it",
          "[commit_gate]") {
  CommitGate gate;
  Answers answers;
  // Record 4 is an ack, 5 an override; storage refused the ack (a
  // constraint) and wrote the rest: "committed up to 5" covers both.
  CHECK(gate.hold(snapshot_at(1), 5, k_t0,
                  {{answers.named("ack"), 4}, {answers.named("override"), 5}})
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
  CHECK(gate.hold(snapshot_at(1), 3, k_t0, {{answers.named("ack"), 3}}).empty());
  auto out = gate.committed(3, {2});
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Refused);
  answers.run(out);
  CHECK(answers.told == std::vector<std::string>{"ack:durable"});
  // What was shown is not reported again.
  const auto later = gate.hold(snapshot_at(2), 3, k_t0 + 1s);
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

namespace {

snapshot::EscalationView escalation_view(std::int64_t id, std::string key) {
  snapshot::EscalationView view;
  view.id = id;
  view.key = std::move(key);
  return view;
}

}  // namespace

TEST_CASE("a snapshot out before its commit shows only the escalations storage committed",
          "[commit_gate]") {
  CommitGate gate;
  auto durable = std::const_pointer_cast<snapshot::Snapshot>(showing(1, 2, 0));
  durable->escalations.push_back(escalation_view(3, "dispute/a/2"));
  gate.restored(durable);
  auto shown = std::const_pointer_cast<snapshot::Snapshot>(showing(2, 2, 0));
  shown->escalations = durable->escalations;
  // Not on disk: a crash could hand id 4 and its key to another episode.
  shown->escalations.push_back(escalation_view(4, "flapping/b/3"));
  CHECK(gate.hold(shown, 7, k_t0).empty());
  const auto out = gate.tick(k_t0 + 1ms, true);
  REQUIRE(out.snapshot);
  REQUIRE(out.snapshot->escalations.size() == 1);
  CHECK(out.snapshot->escalations.front().id == 3);
  // Once committed, all of them.
  const auto later = gate.committed(7);
  REQUIRE(later.snapshot);
  CHECK(later.snapshot->escalations.size() == 2);
}

TEST_CASE("once storage is lost at start-up nothing is durable, whatever is reported",
          "[commit_gate]") {
  CommitGate gate;
  gate.restored(showing(0, 0, 0));
  gate.storage_lost();
  Answers answers;
  CHECK(gate.committed(10).empty());
  const auto out = gate.hold(showing(1, 1, 0), 3, k_t0, {answers.named("ack")});
  REQUIRE(out.snapshot);
  CHECK(out.snapshot_undurable == Undurable::Degraded);
  CHECK(generation_of(*out.snapshot, "a") == 0);
  auto released = out;
  answers.run(released);
  CHECK(answers.told == std::vector<std::string>{"ack:undurable"});
  CHECK_FALSE(gate.committed(20).snapshot);
}
