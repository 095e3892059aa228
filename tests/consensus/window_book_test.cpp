// The shared window book: which of a peer's ad-hoc maintenance windows
// apply here (one per node, the union holds, tombstones by identity only,
// no relays, bounded times) and what this node exports of its own. Pure; times are passed in.
#include "consensus/window_book.hpp"
#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

const WallTime k_now = *parse_rfc3339("2026-12-04T10:00:00Z");

SharedWindow peer_window(std::string node, WallTime set_at, Duration ttl = 45min,
                         std::string target = "db") {
  SharedWindow entry;
  entry.target = std::move(target);
  entry.window = AdHocMaintenance{"kernel upgrade", "alice", set_at, set_at + ttl, std::move(node)};
  return entry;
}

SharedWindow cleared(SharedWindow entry, WallTime at) {
  entry.cleared_at = at;
  return entry;
}

}  // namespace

TEST_CASE("a peer's window applies here, named by the node that set it", "[windows]") {
  WindowBook book("oracle-b");
  const auto merged = book.merge(peer_window("oracle-a", k_now - 1min), "oracle-a", k_now);
  CHECK(merged.changed);
  CHECK_FALSE(merged.refused);
  const auto window = book.in_force("db", k_now);
  REQUIRE(window);
  CHECK(window->node == "oracle-a");
  CHECK(window->reason == "kernel upgrade");
  CHECK(window->expires_at == k_now + 44min);
  // The same entry at the next pull changes nothing (the engine's deadline stays).
  CHECK_FALSE(book.merge(peer_window("oracle-a", k_now - 1min), "oracle-a", k_now).changed);
  // And it is not this node's to export.
  CHECK(book.own(k_now, 500).empty());
}

TEST_CASE("a peer's window never shortens or ends this node's: the hold is the union",
          "[windows]") {
  // Found by a hostile review: "the newest set_at wins" let a peer's
  // window of one second (set_at a minute ahead, inside the skew allowed)
  // replace a window of ten minutes set here, and the gates proceeded.
  WindowBook book("oracle-b");
  book.set_local("db", AdHocMaintenance{"ours", "bob", k_now - 5min, k_now + 10min});
  SECTION("a newer, shorter peer window: ours still holds, and is still exported") {
    CHECK(book.merge(peer_window("oracle-a", k_now + 1min, 1s), "oracle-a", k_now).changed);
    const auto window = book.in_force("db", k_now + 2min);
    REQUIRE(window);
    CHECK(window->node.empty());  // ours: shown as set here
    CHECK(window->reason == "ours");
    REQUIRE(book.own(k_now, 500).size() == 1);
    CHECK(book.own(k_now, 500)[0].window.node == "oracle-b");
    CHECK(book.in_force("db", k_now + 9min));
    CHECK_FALSE(book.in_force("db", k_now + 10min));
  }
  SECTION("a peer's tombstone of its own window leaves ours") {
    const auto theirs = peer_window("oracle-a", k_now - 1min);
    REQUIRE(book.merge(theirs, "oracle-a", k_now).changed);
    CHECK(book.merge(cleared(theirs, k_now), "oracle-a", k_now).changed);
    REQUIRE(book.in_force("db", k_now));
    CHECK(book.in_force("db", k_now)->reason == "ours");
  }
  SECTION("a longer peer window holds past ours, named by its node") {
    CHECK(book.merge(peer_window("oracle-a", k_now - 1min, 1h), "oracle-a", k_now).changed);
    CHECK(book.in_force("db", k_now)->node == "oracle-a");
    CHECK(book.in_force("db", k_now + 30min)->node == "oracle-a");
    CHECK(book.own(k_now, 500).size() == 1);  // ours is still ours to export
  }
  SECTION("a node's newer window replaces only that node's older one") {
    REQUIRE(book.merge(peer_window("oracle-a", k_now - 3min, 1h), "oracle-a", k_now).changed);
    CHECK(book.merge(peer_window("oracle-a", k_now - 1min, 2min), "oracle-a", k_now).changed);
    CHECK_FALSE(book.merge(peer_window("oracle-a", k_now - 3min, 1h), "oracle-a", k_now).changed);
    CHECK(book.in_force("db", k_now + 5min)->reason == "ours");  // a's is over, ours is not
    CHECK(book.size() == 2);
  }
}

TEST_CASE("a tombstone ends only the window it names", "[windows]") {
  WindowBook book("oracle-b");
  const auto first = peer_window("oracle-a", k_now - 10min);
  REQUIRE(book.merge(first, "oracle-a", k_now).changed);
  SECTION("the same node and set_at: ended") {
    CHECK(book.merge(cleared(first, k_now - 1min), "oracle-a", k_now).changed);
    CHECK_FALSE(book.in_force("db", k_now));
    // The live copy again (a stale reply) does not bring it back.
    CHECK_FALSE(book.merge(first, "oracle-a", k_now).changed);
    CHECK_FALSE(book.in_force("db", k_now));
  }
  SECTION("a late tombstone of an older window leaves the newer one") {
    const auto second = peer_window("oracle-a", k_now - 2min);
    REQUIRE(book.merge(second, "oracle-a", k_now).changed);
    CHECK_FALSE(book.merge(cleared(first, k_now - 5min), "oracle-a", k_now).changed);
    REQUIRE(book.in_force("db", k_now));
    CHECK(book.in_force("db", k_now)->set_at == k_now - 2min);
  }
  SECTION("a tombstone of another node's window with the same set_at is not it") {
    auto other = peer_window("oracle-c", k_now - 10min);
    CHECK_FALSE(book.merge(cleared(other, k_now - 1min), "oracle-c", k_now).changed);
    CHECK(book.in_force("db", k_now));
  }
  SECTION("another node's live window after a tombstone holds: it is that node's to end") {
    REQUIRE(book.merge(cleared(first, k_now - 1min), "oracle-a", k_now).changed);
    CHECK(book.merge(peer_window("oracle-c", k_now - 20min), "oracle-c", k_now).changed);
    REQUIRE(book.in_force("db", k_now));
    CHECK(book.in_force("db", k_now)->node == "oracle-c");
  }
}

TEST_CASE("a peer cannot relay or forge another node's window", "[windows]") {
  WindowBook book("oracle-b");
  const auto merged = book.merge(peer_window("oracle-c", k_now - 1min), "oracle-a", k_now);
  CHECK_FALSE(merged.changed);
  REQUIRE(merged.refused);
  CHECK_THAT(*merged.refused, Catch::Contains("oracle-c"));
  CHECK_FALSE(book.in_force("db", k_now));
  // Nor one in this node's name.
  CHECK(book.merge(peer_window("oracle-b", k_now - 1min), "oracle-a", k_now).refused);
  // Nor a tombstone of one.
  book.set_local("db", AdHocMaintenance{"ours", "bob", k_now - 5min, k_now + 1h});
  auto forged = cleared(peer_window("oracle-b", k_now - 5min, 65min), k_now);
  forged.window.reason = "ours";
  CHECK(book.merge(forged, "oracle-a", k_now).refused);
  CHECK(book.in_force("db", k_now));
}

TEST_CASE("windows from the future or longer than the API allows are refused", "[windows]") {
  WindowBook book("oracle-b");
  const auto [set_at, ttl, refused] = GENERATE(table<Duration, Duration, bool>({
      {5min, 1h, false},        // skew bound: taken
      {5min + 1ms, 1h, true},   // past it
      {-1h, 7LL * 24h, false},  // ttl bound: taken
      {-1h, 7LL * 24h + 1ms, true},
      {-1min, 0ms, true},  // ends when it starts
  }));
  CAPTURE(set_at.count(), ttl.count());
  const auto merged = book.merge(peer_window("oracle-a", k_now + set_at, ttl), "oracle-a", k_now);
  CHECK(merged.refused.has_value() == refused);
  CHECK(merged.changed == !refused);
  CHECK(book.in_force("db", k_now).has_value() == !refused);
}

TEST_CASE("a window already over is ignored, and pruned ones are gone", "[windows]") {
  WindowBook book("oracle-b");
  const auto merged = book.merge(peer_window("oracle-a", k_now - 1h, 30min), "oracle-a", k_now);
  CHECK_FALSE(merged.changed);
  CHECK_FALSE(merged.refused);
  REQUIRE(book.merge(peer_window("oracle-a", k_now - 1min, 10min), "oracle-a", k_now).changed);
  book.prune(k_now + 9min - 1ms);
  CHECK(book.size() == 1);
  book.prune(k_now + 9min);
  CHECK(book.size() == 0);
}

TEST_CASE("this node exports its live windows and its tombstones until they would end",
          "[windows]") {
  WindowBook book("oracle-a");
  book.set_local("db", AdHocMaintenance{"upgrade", "alice", k_now - 10min, k_now + 35min});
  book.set_local("web", AdHocMaintenance{"deploy", "bob", k_now - 1min, k_now + 1h});
  REQUIRE(book.clear_local("db", k_now));
  CHECK_FALSE(book.clear_local("db", k_now));  // already ended: DELETE answers 404
  const auto own = book.own(k_now, 500);
  REQUIRE(own.size() == 2);
  CHECK(own[0].target == "web");  // newest set_at first
  CHECK_FALSE(own[0].cleared_at);
  CHECK(own[1].target == "db");
  CHECK(own[1].cleared_at == k_now);
  CHECK(own[1].window.node == "oracle-a");
  CHECK(book.own(k_now, 1).size() == 1);
  // Past the window's own end the tombstone says nothing any more.
  CHECK(book.own(k_now + 35min, 500).size() == 1);
  CHECK(book.own(k_now + 35min, 500)[0].target == "web");
}

TEST_CASE("a DELETE here ends this node's window only: a peer's is that peer's to end",
          "[windows]") {
  WindowBook book("oracle-b");
  const auto window = peer_window("oracle-a", k_now - 1min);
  REQUIRE(book.merge(window, "oracle-a", k_now).changed);
  CHECK_FALSE(book.clear_local("db", k_now));  // nothing of ours to end
  REQUIRE(book.in_force("db", k_now));
  CHECK(book.in_force("db", k_now)->node == "oracle-a");
  book.set_local("db", AdHocMaintenance{"ours", "bob", k_now, k_now + 5min});
  REQUIRE(book.clear_local("db", k_now + 1min));
  CHECK(book.in_force("db", k_now + 1min)->node == "oracle-a");  // theirs still holds
  REQUIRE(book.own(k_now + 1min, 500).size() == 1);
  CHECK(book.own(k_now + 1min, 500)[0].cleared_at == k_now + 1min);  // our tombstone goes out
  CHECK_FALSE(book.clear_local("db", k_now + 1min));
}
