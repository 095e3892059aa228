// daemon/refused_rechecks.cpp: refused rechecks become one audit line per
// (principal, target, error) per window, carrying how many were refused.
#include "daemon/refused_rechecks.hpp"

#include <catch2/catch.hpp>

using crosscheck::consensus::MonoTime;
using crosscheck::daemon::RefusedRechecks;
using crosscheck::storage::AuditAction;
using crosscheck::storage::AuditEntry;
using crosscheck::storage::AuditOutcome;
using namespace std::chrono_literals;

namespace {

AuditEntry refused(const std::string& principal, const std::string& target,
                   const std::string& why) {
  AuditEntry line;
  line.action = AuditAction::Recheck;
  line.principal = principal;
  line.client = "127.0.0.1:40000";
  line.target = target;
  line.detail = "deadline=5s";
  line.why = why;
  return line;
}

}  // namespace

TEST_CASE("a flood of refused rechecks is one audit line per window with its count",
          "[refused_rechecks]") {
  RefusedRechecks tally(10s);
  const MonoTime start{};
  for (int i = 0; i < 1873; ++i) {
    tally.refuse(refused("failover-script", "web", "retry in " + std::to_string(5 - i % 5) + "s"),
                 "rate_limited", start + std::chrono::milliseconds(i * 5));
  }
  CHECK(tally.due(start + 9'999ms).empty());  // the window is still open
  const auto lines = tally.due(start + 10s);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].action == AuditAction::Recheck);
  CHECK(lines[0].outcome == AuditOutcome::Refused);
  CHECK(lines[0].principal == "failover-script");
  CHECK(lines[0].client == "127.0.0.1:40000");
  CHECK(lines[0].target == "web");
  CHECK(lines[0].detail == "refused 1873 times in 10s: rate_limited");
  CHECK(lines[0].why == "retry in 3s");  // the newest refusal's reason
  CHECK(tally.due(start + 1h).empty());  // written once
}

TEST_CASE("refused rechecks are tallied apart per principal, target and error",
          "[refused_rechecks]") {
  RefusedRechecks tally(10s);
  const MonoTime start{};
  tally.refuse(refused("a", "web", "x"), "rate_limited", start);
  tally.refuse(refused("b", "web", "x"), "rate_limited", start + 1s);
  tally.refuse(refused("a", "db", "x"), "rate_limited", start + 2s);
  tally.refuse(refused("a", "web", "gone"), "unknown_target", start + 3s);
  tally.refuse(refused("a", "web", "x"), "rate_limited", start + 4s);
  const auto first = tally.due(start + 11s);  // the windows opened at 0 s and 1 s
  REQUIRE(first.size() == 2);
  CHECK(first[0].principal == "a");
  CHECK(first[0].detail == "refused 2 times in 10s: rate_limited");
  CHECK(first[1].principal == "b");
  CHECK(first[1].detail == "refused 1 time in 10s: rate_limited");
  // A refusal after its window closed opens the next one.
  tally.refuse(refused("a", "web", "x"), "rate_limited", start + 12s);
  const auto rest = tally.drain();
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].target == "db");
  CHECK(rest[1].detail == "refused 1 time in 10s: rate_limited");
  CHECK(rest[2].detail == "refused 1 time in 10s: unknown_target");
  CHECK(tally.drain().empty());
}
