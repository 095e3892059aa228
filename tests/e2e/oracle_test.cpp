// The daemon judged through its REST API, end to end: real probes against
// fake resolvers in three failure domains and a fake HTTP service, the real
// engine, real SQLite storage and the real API server, all on loopback.
#include "cli/gate_command.hpp"
#include "oracle_harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace crosscheck;
using crosscheck::testing::OracleHarness;
namespace json = boost::json;

namespace {

int gate(const OracleHarness& oracle, std::vector<std::string> extra) {
  std::vector<std::string> args{"web", "--oracle", oracle.oracle_url(), "--timeout", "2s"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::ostringstream out;
  std::ostringstream err;
  return cli::run_gate_command(args, out, err);
}

std::int64_t generation_of(const json::object& verdict) {
  return verdict.contains("generation") ? verdict.at("generation").to_number<std::int64_t>() : -1;
}

}  // namespace

TEST_CASE("honest resolvers make the target healthy and the oracle ready", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  CHECK(oracle.wait_for([&] { return oracle.get("/readyz").status == 200; }));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("votes").at("up").to_number<int>() == 3);
  CHECK(verdict.at("fresh").as_bool());
  CHECK(verdict.at("evidence").as_array().size() == 3);
  CHECK(gate(oracle, {"--expect", "healthy"}) == cli::k_gate_proceed);
  CHECK(gate(oracle, {"--expect", "unhealthy"}) == cli::k_gate_otherwise);
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy").status == 200);
  CHECK(oracle.get("/v1/verdicts/web?expect=unhealthy").status == 409);
  CHECK(oracle.get("/v1/verdicts/nope").status == 404);
}

TEST_CASE("one lying domain holds healthy as disputed, escalates, and the gate holds", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  oracle.lie(oracle.gamma);
  REQUIRE(oracle.wait_for_verdict("disputed"));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("held").as_string() == "healthy");
  CHECK(verdict.at("failing_layer").as_string() == "dns");
  CHECK_FALSE(verdict.at("divergence").as_array().empty());
  const auto escalations = json::parse(oracle.get("/v1/escalations").body);
  CHECK_THAT(json::serialize(escalations), Catch::Contains("dispute/web/"));
  CHECK(oracle.get("/v1/verdicts/web?expect=healthy").status == 423);
  CHECK(gate(oracle, {"--expect", "healthy"}) == cli::k_gate_hold);
  CHECK(gate(oracle, {"--expect", "unhealthy"}) == cli::k_gate_hold);
}

TEST_CASE("two vantages of one failure domain lying are still one vote", "[e2e]") {
  OracleHarness oracle(true);
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  oracle.lie(oracle.beta);
  oracle.lie(oracle.beta2);
  REQUIRE(oracle.wait_for_verdict("disputed"));
  const auto verdict = oracle.verdict();
  CHECK(verdict.at("votes").at("down").to_number<int>() == 1);
  CHECK(verdict.at("evidence").as_array().size() == 4);
  CHECK(verdict.at("held").as_string() == "healthy");
}

TEST_CASE("every domain down makes the target unhealthy and moves the generation", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto before = generation_of(oracle.verdict());
  for (auto* server : {&oracle.alpha, &oracle.beta, &oracle.gamma}) {
    oracle.lie(*server);
  }
  REQUIRE(oracle.wait_for_verdict("unhealthy"));
  const auto after = oracle.verdict();
  CHECK(generation_of(after) > before);
  CHECK(after.at("held").is_null());
  // Every resolver publishes an empty answer while the service answers at
  // its last-known-good address: scope dns. A service failover (the
  // default) holds; a DNS failover proceeds.
  CHECK(after.at("scope").as_string() == "dns");
  CHECK(gate(oracle, {"--expect", "unhealthy"}) == cli::k_gate_hold);
  CHECK(gate(oracle, {"--expect", "unhealthy", "--for", "dns"}) == cli::k_gate_proceed);
  CHECK(gate(oracle, {"--expect", "healthy"}) == cli::k_gate_otherwise);
  CHECK(gate(oracle, {"--expect", "unhealthy", "--for", "dns", "--generation",
                      std::to_string(before)}) == cli::k_gate_hold);
  const auto history = json::parse(oracle.get("/v1/verdicts/web/history").body);
  CHECK_THAT(json::serialize(history), Catch::Contains("unhealthy"));
}

TEST_CASE("a restart keeps verdicts, generations and history", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto generation = generation_of(oracle.verdict());
  oracle.stop();
  oracle.start();
  const auto restored = oracle.verdict();
  CHECK(generation_of(restored) == generation);
  CHECK(restored.at("verdict").as_string() == "healthy");
  REQUIRE(oracle.wait_for([&] { return oracle.verdict().at("fresh").as_bool(); }));
  CHECK(generation_of(oracle.verdict()) == generation);
  CHECK_THAT(oracle.get("/v1/verdicts/web/history").body, Catch::Contains("healthy"));
}

// What storage deletes is tests/storage/retention_test.cpp's: its first
// pass comes a minute after start, later than this test runs.
TEST_CASE("a reload that sets history_retention ages the history served, and so does a restart",
          "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  for (auto* server : {&oracle.alpha, &oracle.beta, &oracle.gamma}) {
    oracle.lie(*server);
  }
  REQUIRE(oracle.wait_for_verdict("unhealthy"));
  const auto generation = generation_of(oracle.verdict());
  const auto history_size = [&] {
    return json::parse(oracle.get("/v1/verdicts/web/history").body)
        .as_object()
        .at("history")
        .as_array()
        .size();
  };
  REQUIRE(history_size() >= 2);  // healthy, then unhealthy
  // Every transition is older than a millisecond by now: only the newest,
  // the one the current verdict came from, may stay.
  oracle.append_config("storage: { history_retention: 1ms }\n");
  oracle.reload();
  CHECK(oracle.wait_for([&] { return history_size() == 1; }));
  const auto history = json::parse(oracle.get("/v1/verdicts/web/history").body).as_object();
  CHECK(history.at("history")
            .as_array()
            .at(0)
            .as_object()
            .at("generation")
            .to_number<std::int64_t>() == generation);
  CHECK(generation_of(oracle.verdict()) == generation);
  oracle.stop();
  oracle.start();
  CHECK(generation_of(oracle.verdict()) == generation);
  CHECK(oracle.wait_for([&] { return history_size() == 1; }));
}

TEST_CASE("recheck probes now and answers with the fresh verdict, within its rate limit", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto first = oracle.send("POST", "/v1/verdicts/web/recheck");
  CHECK(first.status == 200);
  CHECK_THAT(first.body, Catch::Contains("\"verdict\":\"healthy\""));
  CHECK(oracle.send("POST", "/v1/verdicts/web/recheck").status == 429);
  CHECK(oracle.send("POST", "/v1/verdicts/web/recheck", {}, false).status == 401);
  CHECK(gate(oracle, {"--expect", "healthy"}) == cli::k_gate_proceed);
}

TEST_CASE("a group's recheck rechecks every member and answers with the group's verdict", "[e2e]") {
  OracleHarness oracle;
  oracle.append_config("groups:\n  - { name: site, members: [web], healthy_at_least: 1 }\n");
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy", "group:site"));
  const auto answer = oracle.send("POST", "/v1/verdicts/group:site/recheck");
  INFO(answer.body);
  CHECK(answer.status == 200);
  const auto body = boost::json::parse(answer.body).as_object();
  CHECK(body.at("target").as_string() == "group:site");
  CHECK(body.at("verdict").as_string() == "healthy");
  CHECK(body.at("recheck").at("domains_answered").as_array().size() == 3);
  CHECK(body.at("recheck").at("domains_missing").as_array().empty());
  // The member itself was rechecked (its own spacing now refuses it) ...
  CHECK(oracle.send("POST", "/v1/verdicts/web/recheck").status == 429);
  // ... and a member rechecked moments ago is fresh enough for its group,
  // answered as that recheck was (a hostile review saw an empty report).
  const auto again = oracle.send("POST", "/v1/verdicts/group:site/recheck");
  INFO(again.body);
  CHECK(again.status == 200);
  const auto again_body = boost::json::parse(again.body).as_object();
  CHECK(again_body.at("recheck").at("domains_answered").as_array().size() == 3);
  CHECK(oracle.send("POST", "/v1/verdicts/group:nope/recheck").status == 404);
}

TEST_CASE("an operator override wins through the API and can be lifted", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto put =
      oracle.send("PUT", "/v1/overrides/web",
                  R"({"verdict": "unhealthy", "reason": "drill", "ttl": "10m", "by": "alice"})");
  CHECK(put.status == 200);
  REQUIRE(oracle.wait_for_verdict("unhealthy"));
  CHECK(oracle.verdict().at("override").at("by").as_string() == "alice");
  CHECK(oracle.send("DELETE", "/v1/overrides/web").status == 200);
  CHECK(oracle.wait_for_verdict("healthy"));
}

TEST_CASE("malformed and oversized requests get their 4xx and the oracle keeps serving", "[e2e]") {
  OracleHarness oracle;
  oracle.start();
  const auto garbage =
      testing::raw_exchange("127.0.0.1", oracle.api_port(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK_THAT(garbage, Catch::StartsWith("HTTP/1.1 400"));
  const auto huge_header = testing::raw_exchange(
      "127.0.0.1", oracle.api_port(),
      "GET /v1/verdicts HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n");
  CHECK_THAT(huge_header, Catch::StartsWith("HTTP/1.1 431"));
  const auto bad_override = oracle.send("PUT", "/v1/overrides/web", R"({"verdict": "maybe"})");
  CHECK(bad_override.status == 400);
  CHECK(oracle.get("/v1/verdicts").status == 200);
}

TEST_CASE("a full disk degrades storage but never stops probing or serving", "[e2e]") {
  // A 4 MiB tmpfs of the test's own holds the database; filling it makes
  // SQLite fail with SQLITE_FULL while the oracle runs.
  testing::TempDir mount_point;
  const auto target = mount_point.path().string();
  // Needs root (CI runs as root): a test that passes without exercising
  // anything would lie, so without a tmpfs it fails and says why.
  const bool mounted =
      std::system(("mount -t tmpfs -o size=4m tmpfs " + target + " 2>/dev/null").c_str()) == 0;
  if (!mounted) {
    FAIL("cannot mount a tmpfs on " << target
                                    << ": the full-disk test needs root (or CAP_SYS_ADMIN)");
  }
  struct Unmount {
    std::string path;
    ~Unmount() { static_cast<void>(std::system(("umount -l " + path).c_str())); }
  } unmount{target};
  OracleHarness oracle(false, mount_point.path());
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  {
    // Fill every byte left.
    std::ofstream filler(mount_point.path() / "filler", std::ios::binary);
    const std::string block(64 * 1024, 'x');
    for (int i = 0;
         i < 128 && filler.write(block.data(), static_cast<std::streamsize>(block.size())); ++i) {
    }
  }
  // Unchanged observations write nothing (storage writes changes and
  // summaries), so the full disk shows at the next change: a lying domain.
  const auto durable_generation = oracle.verdict("web").at("generation").as_int64();
  oracle.lie(oracle.gamma);
  CHECK(oracle.wait_for(
      [&] { return oracle.get("/healthz").body.find("\"degraded\"") != std::string::npos; }));
  // Still probing and judging: the lie is still seen. But a new generation
  // the disk has not taken is never shown (a restart would hand it out
  // again): the last durable verdict stays, not fresh, and says what waits.
  CHECK(oracle.wait_for([&] {
    const auto body = oracle.verdict("web");
    return body.at("reason").as_string().find(
               "a change to disputed is not shown until it is on disk: storage is degraded") !=
               std::string::npos &&
           !body.at("fresh").as_bool();
  }));
  const auto masked = oracle.verdict("web");
  CHECK(masked.at("verdict").as_string() == "healthy");
  CHECK(masked.at("generation").as_int64() == durable_generation);
  CHECK(oracle.get("/v1/verdicts").status == 200);
  // The disk recovers: writes resume, storage is ok again, and the change
  // is shown once it is on disk.
  std::filesystem::remove(mount_point.path() / "filler");
  CHECK(oracle.wait_for(
      [&] { return oracle.get("/healthz").body.find("\"degraded\"") == std::string::npos; },
      std::chrono::milliseconds(40'000)));
  CHECK(oracle.wait_for_verdict("disputed"));
  CHECK(oracle.verdict("web").at("generation").as_int64() > durable_generation);
  oracle.stop();
}

TEST_CASE("storage unreadable at start-up is never written by that run: no generation goes back",
          "[e2e]") {
  testing::TempDir live;
  testing::TempDir data;
  std::int64_t stored = 0;
  {
    OracleHarness first(false, live.path());
    first.start();
    REQUIRE(first.wait_for_verdict("healthy"));
    stored = first.verdict("web").at("generation").as_int64();
    REQUIRE(stored >= 1);
    // The database and its WAL as a kill -9 leaves them, without the
    // shared-memory index: reading them needs a file it cannot create.
    for (const auto& entry : std::filesystem::directory_iterator(live.path())) {
      if (entry.path().extension() != ".db-shm") {
        std::filesystem::copy(entry.path(), data.path() / entry.path().filename());
      }
    }
    first.stop();
  }
  // That directory read-only (a bind mount of its own): SQLite cannot read
  // the WAL, so the state cannot be restored. Needs root, as the full-disk
  // test: fails loudly.
  const auto dir = data.path().string();
  if (std::system(("mount --bind " + dir + " " + dir + " && mount -o remount,bind,ro " + dir +
                   " 2>/dev/null")
                      .c_str()) != 0) {
    FAIL("cannot bind-mount " << dir << " read-only: this test needs root (or CAP_SYS_ADMIN)");
  }
  struct Unmount {
    std::string path;
    ~Unmount() { static_cast<void>(std::system(("umount -l " + path + " 2>/dev/null").c_str())); }
  } unmount{dir};
  {
    OracleHarness second(false, data.path());
    second.start();
    CHECK(second.wait_for([&] {
      const auto body = second.get("/healthz").body;
      return body.find("\"degraded\"") != std::string::npos &&
             body.find("restart crosscheck") != std::string::npos;
    }));
    // Judged from memory, shown masked: generation 0, never fresh.
    CHECK(second.wait_for([&] {
      const auto body = second.verdict("web");
      return body.at("reason").as_string().find("a change to healthy is not shown") !=
             std::string::npos;
    }));
    // The disk comes back: this run still writes nothing and shows no
    // generation of its own (numbered from nothing, it would be 1 after 7).
    REQUIRE(std::system(("mount -o remount,bind,rw " + dir).c_str()) == 0);
    CHECK_FALSE(OracleHarness::wait_for(
        [&] {
          const auto body = second.verdict("web");
          return body.at("generation").as_int64() != 0 || body.at("fresh").as_bool();
        },
        std::chrono::milliseconds(6'000)));
    second.stop();
  }
  {
    OracleHarness third(false, data.path());
    third.start();
    CHECK(
        third.wait_for([&] { return third.verdict("web").at("generation").as_int64() == stored; }));
    third.stop();
  }
}
