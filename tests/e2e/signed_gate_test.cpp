// Signed verdicts end to end: an oracle with api.signing_key, asked by
// `crosscheck gate --pubkey` directly and through a relay that serves its
// recorded answer changed or for another question.
#include "cli/gate_command.hpp"
#include "net/verdict_signature.hpp"
#include "oracle_harness.hpp"
#include "support/child_process.hpp"
#include "support/openssl_keys.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

using namespace crosscheck;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::make_ed25519_keys;
using crosscheck::testing::OracleHarness;

namespace {

struct GateRun {
  int status = -1;
  std::string out;
};

GateRun gate(const std::string& url, const std::string& pubkey, const std::string& target = "web") {
  std::vector<std::string> args{target,     "--expect", "healthy",   "--oracle", url,
                                "--pubkey", pubkey,     "--timeout", "2s"};
  std::ostringstream out;
  std::ostringstream err;
  GateRun run;
  run.status = cli::run_gate_command(args, out, err);
  run.out = out.str() + err.str();
  return run;
}

// A fake oracle on loopback that answers the gate path of `target` with a
// recorded answer: its status, its signature header and `body`.
std::unique_ptr<FakeHttpServer> relay(const std::string& target,
                                      const crosscheck::testing::HttpAnswer& recorded,
                                      const std::string& body) {
  auto server = std::make_unique<FakeHttpServer>();
  auto response = FakeResponse::with_status(recorded.status, body);
  const std::string header(net::k_verdict_signature_header);
  response.headers.emplace_back(header, recorded.header(header));
  server->set("/v1/verdicts/" + target, response);
  return server;
}

// A proxy in front of `oracle`: each gate request is asked of the oracle as
// received (nonce included), and its answer passed back through `edit`.
std::unique_ptr<FakeHttpServer> proxy(const OracleHarness& oracle,
                                      std::function<std::string(std::string)> edit) {
  auto server = std::make_unique<FakeHttpServer>();
  server->respond_with("/v1/verdicts/web", [&oracle, edit = std::move(edit)](
                                               const crosscheck::testing::RecordedRequest& asked) {
    const auto answer = oracle.get(asked.target);
    auto response = FakeResponse::with_status(answer.status, edit(answer.body));
    const std::string header(net::k_verdict_signature_header);
    response.headers.emplace_back(header, answer.header(header));
    return response;
  });
  return server;
}

}  // namespace

TEST_CASE("gate --pubkey trusts a signing oracle end to end and nothing changed on the way",
          "[e2e][signed]") {
  testing::TempDir keys;
  const auto key = make_ed25519_keys(keys.path(), "oracle");
  const auto other = make_ed25519_keys(keys.path(), "other");
  OracleHarness oracle;
  oracle.add_api_setting("signing_key", key.private_pem.string());
  oracle.start();
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  REQUIRE(OracleHarness::wait_for(
      [&] { return gate(oracle.oracle_url(), key.public_pem.string()).status == 0; }));

  SECTION("the oracle's own key proceeds; another key is no oracle") {
    const auto run = gate(oracle.oracle_url(), key.public_pem.string());
    CHECK(run.status == 0);
    CHECK_THAT(run.out, Catch::Contains("[signed by e2e, key "));
    const auto wrong = gate(oracle.oracle_url(), other.public_pem.string());
    CHECK(wrong.status == 4);
    CHECK_THAT(wrong.out, Catch::Contains(": unverified: signed by key "));
  }
  SECTION("an answer changed by one byte, or recorded and replayed, exits 4") {
    // Through a faithful proxy it proceeds.
    const auto faithful = proxy(oracle, [](std::string body) { return body; });
    CHECK(gate(faithful->url("127.0.0.1", ""), key.public_pem.string()).status == 0);
    const auto tampering = proxy(oracle, [](std::string body) {
      const auto at = body.find("\"fresh\":true");
      return at == std::string::npos ? body : body.replace(at, 12, "\"fresh\":fals");
    });
    const auto run = gate(tampering->url("127.0.0.1", ""), key.public_pem.string());
    CHECK(run.status == 4);
    CHECK_THAT(run.out, Catch::Contains("unverified: the signature does not match the answer"));
    // An answer recorded a moment ago, to this very question but for
    // another request (no nonce, or another run's): a replay.
    const auto recorded = oracle.get("/v1/verdicts/web?expect=healthy");
    REQUIRE(recorded.status == 200);
    REQUIRE_FALSE(recorded.header(std::string(net::k_verdict_signature_header)).empty());
    const auto replay = relay("web", recorded, recorded.body);
    const auto replayed_run = gate(replay->url("127.0.0.1", ""), key.public_pem.string());
    CHECK(replayed_run.status == 4);
    CHECK_THAT(replayed_run.out,
               Catch::Contains("unverified: the signature does not match the answer"));
    // The same bytes as the answer about another target ("web" renamed in
    // the body would break the signature; here the body is untouched).
    const auto replayed = relay("api", recorded, recorded.body);
    CHECK(gate(replayed->url("127.0.0.1", ""), key.public_pem.string(), "api").status == 4);
    // And for another expectation.
    const auto unhealthy_run = [&] {
      std::vector<std::string> args{"web",
                                    "--expect",
                                    "unhealthy",
                                    "--oracle",
                                    replay->url("127.0.0.1", ""),
                                    "--pubkey",
                                    key.public_pem.string()};
      std::ostringstream out;
      std::ostringstream err;
      return cli::run_gate_command(args, out, err);
    };
    CHECK(unhealthy_run() == 4);
  }
}

TEST_CASE("gate --pubkey: an oracle without api.signing_key is no oracle", "[e2e][signed]") {
  testing::TempDir keys;
  const auto key = make_ed25519_keys(keys.path(), "oracle");
  OracleHarness oracle;
  oracle.start();
  oracle.all_honest();
  REQUIRE(oracle.wait_for_verdict("healthy"));
  const auto run = gate(oracle.oracle_url(), key.public_pem.string());
  CHECK(run.status == 4);
  CHECK_THAT(run.out, Catch::Contains("unverified: no X-Crosscheck-Verdict-Signature header"));
}

TEST_CASE(
    "crosscheck run re-reads api.signing_key on SIGHUP: a rotated key signs, a bad one is "
    "refused and the old key keeps signing",
    "[e2e][signed]") {
  testing::TempDir keys;
  const auto first = make_ed25519_keys(keys.path(), "first");
  const auto second = make_ed25519_keys(keys.path(), "second");
  const auto live = keys.path() / "signing.pem";
  std::filesystem::copy_file(first.private_pem, live);
  OracleHarness oracle;
  oracle.add_api_setting("signing_key", live.string());
  testing::TempDir dir;
  testing::ChildProcess daemon(
      {CROSSCHECK_BINARY, "run", "--config", oracle.config_path().string()},
      dir.path() / "daemon.log");
  REQUIRE(oracle.wait_for_verdict("healthy"));
  REQUIRE(OracleHarness::wait_for(
      [&] { return gate(oracle.oracle_url(), first.public_pem.string()).status == 0; }));

  // A garbled key: the reload is refused whole, the first key keeps signing.
  std::ofstream(live, std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\ngarbage\n";
  ::kill(daemon.pid(), SIGHUP);
  REQUIRE(OracleHarness::wait_for([&] {
    return daemon.log().find("does not hold an Ed25519 private key") != std::string::npos;
  }));
  CHECK(daemon.log().find("crosscheck.yaml:2:") != std::string::npos);  // file:line:column
  CHECK(gate(oracle.oracle_url(), first.public_pem.string()).status == 0);

  // A rotated key: answers are signed with it from the reload on.
  std::filesystem::copy_file(second.private_pem, live,
                             std::filesystem::copy_options::overwrite_existing);
  ::kill(daemon.pid(), SIGHUP);
  REQUIRE(OracleHarness::wait_for(
      [&] { return gate(oracle.oracle_url(), second.public_pem.string()).status == 0; }));
  CHECK(gate(oracle.oracle_url(), first.public_pem.string()).status == 4);
}
