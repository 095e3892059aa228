// The action ledger: ids, cooldowns, acks that never come undone, and what
// a peer's entries may and may not do. Pure; times are passed in.
#include "consensus/action_ledger.hpp"
#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

const WallTime k_now = *parse_rfc3339("2026-12-04T10:00:00Z");

ActionRequest promote(std::string target = "db") {
  return ActionRequest{std::move(target), VerdictKind::Unhealthy, GateFor::Service, 4,
                       "failover-bot",    "promote db-2",         "bot-token"};
}

RecordedAction peer_entry(std::string id, std::string node, WallTime at, Duration cooldown) {
  RecordedAction entry;
  entry.id = std::move(id);
  entry.node = std::move(node);
  entry.target = "db";
  entry.by = "peer-bot";
  entry.what = "promote db-3";
  entry.at = at;
  entry.cooldown_until = at + cooldown;
  return entry;
}

}  // namespace

TEST_CASE("a recorded action gets a node-qualified id and holds its target's cooldown",
          "[ledger]") {
  ActionLedger ledger("oracle-a");
  const auto& first = ledger.record(promote(), k_now, 1h);
  CHECK(first.id == "oracle-a-1");
  CHECK(first.node == "oracle-a");
  CHECK(first.cooldown_until == k_now + 1h);
  CHECK(ledger.record(promote("web"), k_now + 1s, 1h).id == "oracle-a-2");
  const auto cooldown = ledger.cooldown_of("db", k_now + 10min);
  REQUIRE(cooldown);
  CHECK(cooldown->action_id == "oracle-a-1");
  CHECK(cooldown->what == "promote db-2");
  CHECK_FALSE(ledger.cooldown_of("db", k_now + 1h));  // ends at until
  CHECK_FALSE(ledger.cooldown_of("other", k_now));
  // 0s records it without a cooldown.
  CHECK(ledger.record(promote("cache"), k_now, 0s).cooldown_until == k_now);
  CHECK_FALSE(ledger.cooldown_of("cache", k_now));
  CHECK(ledger.list(10).front().id == "oracle-a-2");  // newest by time
  CHECK(ledger.list(10, "db").size() == 1);
}

TEST_CASE("an ack ends a cooldown once, and the latest unacked action holds what remains",
          "[ledger]") {
  ActionLedger ledger("oracle-a");
  ledger.record(promote(), k_now, 1h);
  ledger.record(promote(), k_now + 5min, 1h);
  CHECK(ledger.cooldown_of("db", k_now + 6min)->action_id == "oracle-a-2");
  CHECK(ledger.ack("oracle-a-2", ActionAck{"alice", "checked", k_now + 7min, "oracle-a"}) ==
        AckOutcome::Acked);
  CHECK(ledger.ack("oracle-a-2", ActionAck{"bob", "", k_now + 8min, "oracle-a"}) ==
        AckOutcome::AlreadyAcked);
  CHECK(ledger.find("oracle-a-2")->ack->by == "alice");
  CHECK(ledger.cooldown_of("db", k_now + 8min)->action_id == "oracle-a-1");
  CHECK(ledger.ack("oracle-a-1", ActionAck{"alice", "", k_now + 9min, "oracle-a"}) ==
        AckOutcome::Acked);
  CHECK_FALSE(ledger.cooldown_of("db", k_now + 9min));
  CHECK(ledger.ack("oracle-a-9", ActionAck{}) == AckOutcome::Unknown);
}

TEST_CASE("a peer's entry adds an action or an ack, and never takes an ack back", "[ledger]") {
  ActionLedger ledger("oracle-a");
  auto entry = peer_entry("oracle-b-7", "oracle-b", k_now, 1h);
  CHECK(ledger.merge(entry, k_now, 30 * 24h).changed);
  CHECK_FALSE(ledger.merge(entry, k_now, 30 * 24h).changed);  // the same again
  CHECK(ledger.cooldown_of("db", k_now)->action_id == "oracle-b-7");
  auto acked = entry;
  acked.ack = ActionAck{"carol", "", k_now + 1min, "oracle-b"};
  CHECK(
      ledger.merge(acked, k_now + 2min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b").changed);
  CHECK_FALSE(ledger.cooldown_of("db", k_now + 2min));
  // The unacked copy from a slower peer changes nothing.
  CHECK_FALSE(ledger.merge(entry, k_now + 3min, 30 * 24h).changed);
  CHECK(ledger.find("oracle-b-7")->ack->by == "carol");
  // Our own ids coming back move the next sequence past them (a restart).
  CHECK(ledger.merge(peer_entry("oracle-a-41", "oracle-a", k_now, 1h), k_now, 30 * 24h).changed);
  CHECK(ledger.record(promote(), k_now, 1h).id == "oracle-a-42");
}

TEST_CASE("a peer's entry that lies about its origin, time or size is refused", "[ledger]") {
  ActionLedger ledger("oracle-a");
  auto [label, entry] = GENERATE(table<std::string, RecordedAction>({
      {"no sequence", peer_entry("oracle-b", "oracle-b", k_now, 1h)},
      {"sequence zero", peer_entry("oracle-b-0", "oracle-b", k_now, 1h)},
      {"sequence not a number", peer_entry("oracle-b-x1", "oracle-b", k_now, 1h)},
      {"someone else's id", peer_entry("oracle-c-1", "oracle-b", k_now, 1h)},
      {"in the future", peer_entry("oracle-b-1", "oracle-b", k_now + 2min, 1h)},
      {"cooldown over the bound", peer_entry("oracle-b-1", "oracle-b", k_now, 31 * 24h)},
      {"cooldown negative", peer_entry("oracle-b-1", "oracle-b", k_now, -1s)},
      {"huge text", [] {
         auto out = peer_entry("oracle-b-1", "oracle-b", k_now, 1h);
         out.what = std::string(300, 'x');
         return out;
       }()},
      {"ack in the future", [] {
         auto out = peer_entry("oracle-b-1", "oracle-b", k_now, 1h);
         out.ack = ActionAck{"x", "", k_now + 1h, "oracle-b"};
         return out;
       }()},
  }));
  INFO(label);
  const auto merged = ledger.merge(entry, k_now, 30 * 24h);
  CHECK_FALSE(merged.changed);
  CHECK(merged.refused);
  CHECK(ledger.size() == 0);
  CHECK_FALSE(ledger.cooldown_of("db", k_now));
}

TEST_CASE("the ledger keeps a bounded number of entries, the newest", "[ledger]") {
  ActionLedger ledger("oracle-a");
  for (std::size_t i = 0; i < ActionLedger::k_max_entries + 5; ++i) {
    ledger.record(promote(), k_now + std::chrono::seconds(i), 1h);
  }
  CHECK(ledger.size() == ActionLedger::k_max_entries);
  CHECK(ledger.find("oracle-a-1") == nullptr);
  CHECK(ledger.find("oracle-a-10005") != nullptr);
  CHECK(ledger.live(k_now + 10'000s, 3).size() == 3);
  CHECK(ledger.live(k_now + 10'000s, 3).front().id == "oracle-a-10005");
}

TEST_CASE("an entry in this node's name with a sequence it cannot have reached is refused",
          "[ledger]") {
  // A lying peer sends "oracle-a-18446744073709551615": taking it would move
  // the next sequence past the end of uint64 and back to 0, and the ids
  // recorded afterwards would repeat ones already given out.
  ActionLedger ledger("oracle-a");
  const auto& first = ledger.record(promote(), k_now, 1h);
  CHECK(first.id == "oracle-a-1");
  const auto merged = ledger.merge(
      peer_entry("oracle-a-18446744073709551615", "oracle-a", k_now, 1h), k_now, 30 * 24h);
  CHECK(merged.refused);
  CHECK_FALSE(merged.changed);
  const auto& next = ledger.record(promote("web"), k_now + 1s, 1h);
  CHECK(next.id == "oracle-a-2");
  CHECK(next.target == "web");
  // Another node's huge sequence is its own business.
  CHECK(ledger
            .merge(peer_entry("oracle-b-18446744073709551615", "oracle-b", k_now, 1h), k_now,
                   30 * 24h)
            .changed);
}

TEST_CASE("a peer cannot move this node's next id to where its own storage refuses it",
          "[ledger]") {
  // "oracle-a-281474976710655" (2^48 - 1) from a peer would make the next
  // id 2^48, and a restart would refuse that entry from storage and lift
  // its cooldown. From a peer, ours stop at 2^47; from storage at 2^48.
  constexpr std::uint64_t k_half = std::uint64_t{1} << 47;
  ActionLedger ledger("oracle-a");
  const auto at_bound = peer_entry("oracle-a-" + std::to_string(k_half), "oracle-a", k_now, 1h);
  CHECK(ledger.merge(at_bound, k_now, 30 * 24h).refused);
  CHECK_FALSE(ledger.merge(at_bound, k_now, 30 * 24h, ActionLedger::Origin::Storage).refused);
  ActionLedger told("oracle-a");
  const auto below = peer_entry("oracle-a-" + std::to_string(k_half - 1), "oracle-a", k_now, 1h);
  CHECK(told.merge(below, k_now, 30 * 24h).changed);
  const auto& next = told.record(promote(), k_now, 1h);
  CHECK(parse_action_id(next.id)->second == k_half);
  ActionLedger restarted("oracle-a");
  const auto back = restarted.merge(next, k_now, 30 * 24h, ActionLedger::Origin::Storage);
  CHECK_FALSE(back.refused);
  CHECK(restarted.cooldown_of("db", k_now));
}

TEST_CASE("a flood of entries pushes out finished ones before a cooldown still in force",
          "[ledger]") {
  ActionLedger ledger("oracle-a");
  ledger.record(promote(), k_now, 24h);  // the one that must keep holding "db"
  // A peer's flood: newer, on other targets, and already over.
  for (std::size_t i = 0; i < ActionLedger::k_max_entries; ++i) {
    auto entry = peer_entry("oracle-b-" + std::to_string(i + 1), "oracle-b",
                            k_now + std::chrono::milliseconds(i), 1s);
    entry.target = "web";
    REQUIRE(ledger.merge(entry, k_now + 30s, 30 * 24h).changed);
  }
  CHECK(ledger.size() == ActionLedger::k_max_entries);
  REQUIRE(ledger.cooldown_of("db", k_now + 30s));
  CHECK(ledger.cooldown_of("db", k_now + 30s)->action_id == "oracle-a-1");
  CHECK(ledger.find("oracle-a-1") != nullptr);
}

TEST_CASE("recording into a ledger full of newer entries keeps what was just recorded",
          "[ledger]") {
  // A peer's entries may be up to a minute "ahead"; with the ledger full of
  // them, the action recorded now is the oldest, and it must still be kept
  // (record() hands it back, and its cooldown must hold).
  ActionLedger ledger("oracle-a");
  for (std::size_t i = 0; i < ActionLedger::k_max_entries; ++i) {
    auto entry = peer_entry("oracle-b-" + std::to_string(i + 1), "oracle-b", k_now + 59s, 1h);
    entry.target = "web";
    REQUIRE(ledger.merge(entry, k_now, 30 * 24h).changed);
  }
  const auto& held = ledger.record(promote(), k_now, 1h);
  CHECK(held.id == "oracle-a-1");
  CHECK(held.target == "db");
  REQUIRE(ledger.cooldown_of("db", k_now + 1s));
  CHECK(ledger.cooldown_of("db", k_now + 1s)->action_id == "oracle-a-1");
  const auto& instant = ledger.record(promote("cache"), k_now, 0s);  // 0s: finished at once
  CHECK(instant.id == "oracle-a-2");
  CHECK(instant.target == "cache");
  CHECK(ledger.size() == ActionLedger::k_max_entries);
}

TEST_CASE("an entry a full ledger pushes straight out again is not reported as a change",
          "[ledger]") {
  // The daemon looks the merged entry up when merge() says it changed.
  ActionLedger ledger("oracle-a");
  for (std::size_t i = 0; i < ActionLedger::k_max_entries; ++i) {
    REQUIRE(ledger
                .merge(peer_entry("oracle-b-" + std::to_string(i + 1), "oracle-b", k_now, 1h),
                       k_now, 30 * 24h)
                .changed);
  }
  const auto over = peer_entry("oracle-c-1", "oracle-c", k_now - 2h, 1h);  // finished
  const auto merged = ledger.merge(over, k_now, 30 * 24h);
  CHECK_FALSE(merged.changed);
  CHECK_FALSE(merged.refused);
  CHECK(ledger.find("oracle-c-1") == nullptr);
  CHECK(ledger.size() == ActionLedger::k_max_entries);
}

TEST_CASE("this node's own stored entries come back after the clock stepped back", "[ledger]") {
  // Recorded at k_now with an hour's cooldown; the daemon restarts after the
  // clock was set back two minutes. Refusing the entry as "from the future"
  // would lift the cooldown a script was told is in force.
  ActionLedger before("oracle-a");
  const auto stored = before.record(promote(), k_now, 1h);
  ActionLedger after("oracle-a");
  const auto stepped_back = k_now - 2min;
  const auto merged = after.merge(stored, stepped_back, 30 * 24h, ActionLedger::Origin::Storage);
  CHECK_FALSE(merged.refused);
  CHECK(merged.changed);
  REQUIRE(after.cooldown_of("db", stepped_back));
  CHECK(after.cooldown_of("db", stepped_back)->action_id == "oracle-a-1");
  CHECK(after.record(promote(), stepped_back, 1h).id == "oracle-a-2");
  // The same entry from a peer, at that clock, is still a lie.
  ActionLedger peer("oracle-b");
  CHECK(peer.merge(stored, stepped_back, 30 * 24h).refused);
}

TEST_CASE("a peer's ack counts only when that peer made it or owns the entry", "[ledger]") {
  // A, B and C are peered. An ack lifts a cooldown (and lets the next
  // failover through), so it is taken only from the node that made it or
  // from the entry's own node; a third node's ack relayed by a peer is
  // dropped and the rest of the entry (its cooldown) still merged.
  const auto ack_on = [](std::string node) {
    return ActionAck{"alice", "checked", k_now + 1min, std::move(node)};
  };
  SECTION("a peer relaying an ack made on a third node: cooldown kept") {
    ActionLedger ledger("oracle-a");
    auto entry = peer_entry("oracle-c-7", "oracle-c", k_now, 1h);
    entry.ack = ack_on("oracle-c");  // B claims C acked C's entry
    const auto merged =
        ledger.merge(entry, k_now + 2min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b");
    CHECK(merged.changed);  // the entry itself is taken...
    CHECK(merged.ack_ignored);
    CHECK_FALSE(merged.refused);
    REQUIRE(ledger.find("oracle-c-7") != nullptr);
    CHECK_FALSE(ledger.find("oracle-c-7")->ack);  // ...without the ack
    REQUIRE(ledger.cooldown_of("db", k_now + 2min));
    CHECK(ledger.cooldown_of("db", k_now + 2min)->action_id == "oracle-c-7");
    // Again, now that the entry is known: still not taken, still said.
    const auto again =
        ledger.merge(entry, k_now + 3min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b");
    CHECK_FALSE(again.changed);
    CHECK(again.ack_ignored);
    CHECK(ledger.cooldown_of("db", k_now + 3min));
    // The same ack from C itself, which made it (and owns the entry): taken.
    const auto direct =
        ledger.merge(entry, k_now + 3min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-c");
    CHECK(direct.changed);
    CHECK_FALSE(direct.ack_ignored);
    CHECK_FALSE(ledger.cooldown_of("db", k_now + 3min));
  }
  SECTION("a lying peer acking our own entry in a third node's name: cooldown kept") {
    ActionLedger ledger("oracle-a");
    const auto& ours = ledger.record(promote(), k_now, 1h);
    auto relayed = ours;
    relayed.ack = ack_on("oracle-c");
    const auto merged =
        ledger.merge(relayed, k_now + 2min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b");
    CHECK_FALSE(merged.changed);
    CHECK(merged.ack_ignored);
    CHECK(ledger.cooldown_of("db", k_now + 2min));
  }
  SECTION("a peer acking its own entry: taken") {
    ActionLedger ledger("oracle-a");
    auto entry = peer_entry("oracle-b-3", "oracle-b", k_now, 1h);
    REQUIRE(ledger.merge(entry, k_now, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b").changed);
    entry.ack = ack_on("oracle-c");  // made anywhere: B owns the entry
    const auto merged =
        ledger.merge(entry, k_now + 2min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-b");
    CHECK(merged.changed);
    CHECK_FALSE(merged.ack_ignored);
    CHECK_FALSE(ledger.cooldown_of("db", k_now + 2min));
  }
  SECTION("an ack a peer made itself of another node's entry: taken") {
    ActionLedger ledger("oracle-a");
    const auto& ours = ledger.record(promote(), k_now, 1h);
    auto acked_on_c = ours;
    acked_on_c.ack = ack_on("oracle-c");
    const auto merged =
        ledger.merge(acked_on_c, k_now + 2min, 30 * 24h, ActionLedger::Origin::Peer, "oracle-c");
    CHECK(merged.changed);
    CHECK_FALSE(merged.ack_ignored);
    REQUIRE(ledger.find("oracle-a-1")->ack);
    CHECK(ledger.find("oracle-a-1")->ack->node == "oracle-c");
    CHECK_FALSE(ledger.cooldown_of("db", k_now + 2min));
  }
  SECTION("no peer named vouches for nothing; this node's storage for everything") {
    auto entry = peer_entry("oracle-c-7", "oracle-c", k_now, 1h);
    entry.ack = ack_on("oracle-c");
    ActionLedger unnamed("oracle-a");
    CHECK(unnamed.merge(entry, k_now + 2min, 30 * 24h).ack_ignored);
    CHECK(unnamed.cooldown_of("db", k_now + 2min));
    ActionLedger restored("oracle-a");
    const auto merged =
        restored.merge(entry, k_now + 2min, 30 * 24h, ActionLedger::Origin::Storage);
    CHECK_FALSE(merged.ack_ignored);
    CHECK_FALSE(restored.cooldown_of("db", k_now + 2min));
  }
}

TEST_CASE("a restart with nothing restored continues above the stored high-water mark",
          "[ledger]") {
  // A quiet week: every entry trimmed or not loaded, only the mark is left.
  // With a clock far back (a reset RTC), the mark alone keeps ids unique.
  const WallTime early{std::chrono::milliseconds(10)};
  ActionLedger ledger("oracle-a");
  ledger.continue_after(41, early);
  CHECK(ledger.record(promote(), early, 1h).id == "oracle-a-42");
  // Never back: a lower mark or an earlier clock changes nothing.
  ledger.continue_after(7, WallTime{});
  CHECK(ledger.record(promote(), early, 1h).id == "oracle-a-43");
  // A mark at the limit (no honest run writes one) keeps ids below it.
  ActionLedger odd("oracle-a");
  odd.continue_after(std::numeric_limits<std::uint64_t>::max(), early);
  const auto id = odd.record(promote(), early, 1h).id;
  const auto parsed = parse_action_id(id);
  REQUIRE(parsed);
  CHECK(parsed->second < (std::uint64_t{1} << 48));
  // ...and the entry comes back from storage (not refused as out of range).
  ActionLedger reloaded("oracle-a");
  CHECK_FALSE(
      reloaded.merge(*odd.find(id), early, 30 * 24h, ActionLedger::Origin::Storage).refused);
}

TEST_CASE("a node with an empty database starts above any id an earlier run gave out", "[ledger]") {
  // The earlier run started at k_now with its database deleted too, and
  // recorded 10,000 actions (one per second would be a storm); the new run
  // starts after it stopped with no mark and nothing restored.
  ActionLedger earlier("oracle-a");
  earlier.continue_after(0, k_now);
  std::uint64_t highest = 0;
  for (int i = 0; i < 10'000; ++i) {
    highest =
        parse_action_id(earlier.record(promote(), k_now + std::chrono::seconds(i), 1h).id)->second;
  }
  const auto restart = GENERATE(10'000s, 10'001s, 24h * 8);
  ActionLedger fresh("oracle-a");
  fresh.continue_after(0, k_now + restart);
  const auto first = parse_action_id(fresh.record(promote(), k_now + restart, 1h).id);
  REQUIRE(first);
  CHECK(first->second > highest);
  CHECK(first->second < (std::uint64_t{1} << 48));
  // Above the small ids a run before this floor gave out ("oracle-a-1"...):
  // the clock in ms, not 1 (only a ledger nobody continued starts at 1).
  CHECK(first->second > 1'000'000'000'000);
}
