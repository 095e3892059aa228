// The action ledger: ids, cooldowns, acks that never come undone, and what
// a peer's entries may and may not do. Pure; times are passed in.
#include "consensus/action_ledger.hpp"
#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

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
  CHECK(ledger.merge(acked, k_now + 2min, 30 * 24h).changed);
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
