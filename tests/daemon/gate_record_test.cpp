// `crosscheck gate --record`: the gate asks with POST .../gate, which records
// the action on an oracle that proceeds; a run that does not proceed
// withdraws (acknowledges) the records it caused. Fake oracles serve the
// REST contract of docs/gate.md "Cooldown".
#include "config/signing_key.hpp"
#include "gate_test_support.hpp"
#include "net/verdict_signature.hpp"
#include "support/child_process.hpp"
#include "support/openssl_keys.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <functional>
#include <string>

using crosscheck::testing::RecordedRequest;
using crosscheck::testing::TempDir;
using namespace gate_test;  // NOLINT(google-build-using-namespace): the tests' shared vocabulary

namespace {

namespace json = boost::json;

constexpr const char* k_record_path = "/v1/verdicts/db-primary/gate";
constexpr const char* k_what = "promote db-2";

// The action an oracle's answer carries once it recorded `what` on db-primary.
std::string action_json(const std::string& id, const std::string& what = k_what,
                        const std::string& target = k_target) {
  return R"({"id": ")" + id + R"(", "node": "oracle-a", "target": ")" + target +
         R"(", "expect": "unhealthy", "for": "service", "generation": 8, "by": "failover-bot", )"
         R"("what": ")" +
         what + R"(", "principal": "failover", "at": ")" + wall_text(std::chrono::seconds(0)) +
         R"(", "cooldown_until": ")" + wall_text(std::chrono::hours(1)) + R"(", "ack": null})";
}

// `body` (a JSON object) with the field `name` added.
std::string with_field(std::string body, const std::string& name, const std::string& value) {
  body.insert(body.size() - 1, R"(, ")" + name + R"(": )" + value);
  return body;
}

// A gate answer with the recorded action added, as the POST form answers 200.
std::string with_action(const Verdict& verdict, const std::string& action) {
  return with_field(verdict.json(), "action", action);
}

// The verdict's "cooldown" while action `id` holds the target.
std::string cooldown_json(const std::string& id) {
  return R"({"action": ")" + id + R"(", "by": "failover-bot", "what": "promote db-2", "since": ")" +
         wall_text(std::chrono::seconds(-5)) + R"(", "until": ")" +
         wall_text(std::chrono::hours(1)) + R"("})";
}

std::string proceed_recording(const std::string& id) {
  return with_action(unhealthy_as_expected("service"), action_json(id));
}

Verdict disputed_unhealthy() {
  Verdict v = disputed();
  v.expect = "unhealthy";
  v.for_ = "service";
  return v;
}

// An oracle answering the recording gate with `status` and `body`, and
// the ack of action `id` with `ack_status`.
std::unique_ptr<FakeHttpServer> recording_oracle(int status, const std::string& body,
                                                 const std::string& id = "oracle-a-17",
                                                 int ack_status = 200) {
  auto server = std::make_unique<FakeHttpServer>();
  server->set(k_record_path, FakeResponse::with_status(status, body));
  server->set("/v1/actions/" + id + "/ack",
              FakeResponse::with_status(ack_status, ack_status == 200
                                                        ? R"({"action": )" + action_json(id) + "}"
                                                        : R"({"error": "forbidden", "detail": )"
                                                          R"("the token lacks scope ack"})"));
  return server;
}

std::vector<std::string> record_args(const std::vector<const FakeHttpServer*>& servers,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {k_target,   "--expect", "unhealthy", "--for", "service",
                                   "--record", k_what,     "--timeout", "2s"};
  for (const auto* server : servers) {
    args.emplace_back("--oracle");
    args.emplace_back(base(*server));
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<RecordedRequest> requests_to(const FakeHttpServer& server, const std::string& path) {
  std::vector<RecordedRequest> out;
  for (auto& request : server.requests()) {
    if (request.target.substr(0, request.target.find('?')) == path) {
      out.push_back(std::move(request));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("gate --record: a proceed records the action with a POST and prints its id",
          "[gate][record]") {
  const auto server = recording_oracle(200, proceed_recording("oracle-a-17"));
  const auto run = gate(record_args({server.get()}, {"--by", "failover-bot"}));
  CHECK(run.status == 0);
  CHECK(run.out == "oracle " + base(*server) +
                       ": proceed: unhealthy (generation 8, since 2025-10-20T06:00:00Z)\n"
                       "gate: PROCEED (1 of 1 oracle confirms unhealthy)\n"
                       "recorded as oracle-a-17 on " +
                       base(*server) + "\n");
  const auto asked = server->requests();
  REQUIRE(asked.size() == 1);  // the recording gate alone: no GET, no ack
  CHECK(asked[0].method == "POST");
  CHECK(asked[0].target == "/v1/verdicts/db-primary/gate?expect=unhealthy&for=service");
  CHECK(asked[0].header("Content-Type") == "application/json");
  CHECK(json::parse(asked[0].body) ==
        json::parse(R"({"what": "promote db-2", "by": "failover-bot"})"));

  // Without --by the body names nobody: the oracle records "api".
  CHECK(gate(record_args({server.get()})).status == 0);
  CHECK(json::parse(server->last_request()->body) == json::parse(R"({"what": "promote db-2"})"));
  // Without --record nothing changes: the GET form, no body.
  server->set(k_gate_path, FakeResponse::with_status(200, unhealthy_as_expected("service").json()));
  CHECK(gate({k_target, "--expect", "unhealthy", "--timeout", "2s", "--oracle", base(*server)})
            .status == 0);
  CHECK(server->last_request()->method == "GET");
  CHECK(server->last_request()->body.empty());
}

TEST_CASE("gate --record with --expect healthy records a fail-back", "[gate][record]") {
  Verdict back = healthy();
  const auto server =
      recording_oracle(200, with_action(back, action_json("oracle-a-18")), "oracle-a-18");
  auto args = record_args({server.get()});
  args[2] = "healthy";
  const auto run = gate(args);
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::EndsWith("recorded as oracle-a-18 on " + base(*server) + "\n"));
  CHECK(server->last_request()->target == "/v1/verdicts/db-primary/gate?expect=healthy");
}

TEST_CASE("gate --record: a hold exits 3, nothing recorded, nothing withdrawn", "[gate][record]") {
  const auto server = recording_oracle(423, disputed_unhealthy().json());
  const auto run = gate(record_args({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, !Catch::Contains("recorded as") && !Catch::Contains("withdrawn"));
  CHECK(server->requests().size() == 1);
  CHECK(requests_to(*server, "/v1/actions/oracle-a-17/ack").empty());
}

TEST_CASE("gate --record: 2 of 2 where one proceeds and one holds exits 3 and withdraws the record",
          "[gate][record]") {
  const auto proceeding = recording_oracle(200, proceed_recording("oracle-a-17"));
  const auto holding = recording_oracle(423, disputed_unhealthy().json(), "oracle-b-3");
  SECTION("the withdrawal names --by") {
    const auto run = gate(record_args({proceeding.get(), holding.get()}, {"--by", "failover-bot"}));
    CHECK(run.status == 3);
    CHECK_THAT(run.out, Catch::Contains("gate: HOLD (1 of 2 oracles confirms unhealthy"));
    CHECK_THAT(run.out, Catch::EndsWith("withdrawn oracle-a-17 on " + base(*proceeding) +
                                        " (the gate did not proceed)\n"));
    CHECK_THAT(run.out, !Catch::Contains("recorded as"));
    const auto acks = requests_to(*proceeding, "/v1/actions/oracle-a-17/ack");
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].method == "POST");
    CHECK(json::parse(acks[0].body) ==
          json::parse(R"({"by": "failover-bot", "note": "withdrawn: the gate did not proceed"})"));
    CHECK(requests_to(*holding, "/v1/actions/oracle-b-3/ack").empty());
  }
  SECTION("without --by the withdrawal is crosscheck-gate's") {
    CHECK(gate(record_args({proceeding.get(), holding.get()})).status == 3);
    const auto acks = requests_to(*proceeding, "/v1/actions/oracle-a-17/ack");
    REQUIRE(acks.size() == 1);
    CHECK(json::parse(acks[0].body).at("by") == "crosscheck-gate");
  }
  SECTION("with --require 1 the run proceeds and both oracles' outcomes stand") {
    const auto run = gate(record_args({proceeding.get(), holding.get()}, {"--require", "1"}));
    CHECK(run.status == 0);
    CHECK_THAT(run.out, Catch::EndsWith("recorded as oracle-a-17 on " + base(*proceeding) + "\n"));
    CHECK(requests_to(*proceeding, "/v1/actions/oracle-a-17/ack").empty());
  }
}

TEST_CASE("gate --record: a refused withdrawal is named for a human and the exit stays the gate's",
          "[gate][record]") {
  const auto proceeding =
      recording_oracle(200, proceed_recording("oracle-a-17"), "oracle-a-17", 403);
  const auto otherwise = recording_oracle(409, [] {
    Verdict v = healthy();
    v.expect = "unhealthy";
    v.for_ = "service";
    v.decision = "otherwise";
    return v.json();
  }());
  const auto run = gate(record_args({proceeding.get(), otherwise.get()}));
  CHECK(run.status == 3);  // they disagree: hold
  CHECK_THAT(run.out,
             Catch::Contains("NOT withdrawn oracle-a-17 on " + base(*proceeding) +
                             ": HTTP 403: forbidden: the token lacks scope ack; it holds the next "
                             "gate until a human acks it (POST /v1/actions/oracle-a-17/ack"));
  CHECK(requests_to(*proceeding, "/v1/actions/oracle-a-17/ack").size() == 1);
}

TEST_CASE("gate --record: a proceed without this run's recorded action holds", "[gate][record]") {
  // An oracle that proceeded without recording would leave no cooldown behind.
  const auto bare = recording_oracle(200, unhealthy_as_expected("service").json());
  auto run = gate(record_args({bare.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: proceed, but no action was recorded: unhealthy"));
  // Another run's action is not ours to report, nor to withdraw.
  const auto foreign = recording_oracle(
      200, with_action(unhealthy_as_expected("service"), action_json("oracle-a-9", "reboot")),
      "oracle-a-9");
  run = gate(record_args({foreign.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: proceed, but the recorded action is not this one "
                                      "('oracle-a-9')"));
  CHECK(requests_to(*foreign, "/v1/actions/oracle-a-9/ack").empty());
}

TEST_CASE("gate --record: 503 storage_unavailable holds and says a record may be in memory",
          "[gate][record]") {
  const auto server = recording_oracle(
      503, R"({"error": "storage_unavailable", "detail": "the ledger write did not commit"})");
  const auto run = gate(record_args({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: HTTP 503: storage_unavailable"));
  CHECK_THAT(run.out, Catch::Contains("may hold an unstored record of this action: a human must "
                                      "find it (GET /v1/actions?target=db-primary) and ack it"));
}

TEST_CASE("gate --record takes 1 to 256 bytes without control characters, --by needs it",
          "[gate][record]") {
  const auto server = recording_oracle(200, proceed_recording("oracle-a-17"));
  const std::string bad = GENERATE(std::string(), std::string(257, 'x'), std::string("a\nb"),
                                   std::string("tab\there"), std::string("del\x7f"));
  auto args = record_args({server.get()});
  args[6] = bad;  // the value after --record
  auto run = gate(args);
  CHECK(run.status == 2);
  CHECK_THAT(run.err,
             Catch::Contains("--record must be 1 to 256 bytes without control characters"));
  run = gate(record_args({server.get()}, {"--by", bad}));
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("--by must be 1 to 256 bytes"));
  run = gate({k_target, "--expect", "unhealthy", "--by", "bot", "--oracle", base(*server)});
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("--by names who acts: it needs --record"));
  CHECK(server->requests().empty());
  // The boundary itself is fine.
  args[6] = std::string(256, 'x');
  CHECK(gate(args).status == 3);  // asked; the fake's action is for another text
}

TEST_CASE("gate --record --pubkey: the POST answer must be signed for the recording request",
          "[gate][record][signed]") {
  const TempDir dir;
  const auto files = crosscheck::testing::make_ed25519_keys(dir.path(), "oracle-a");
  const crosscheck::net::VerdictSigner signer(
      *crosscheck::config::read_signing_key("signing_key", files.private_pem), "oracle-a");
  const std::string body = proceed_recording("oracle-a-17");
  // `sign` turns the request target the oracle received into the target signed.
  auto signed_oracle = [&](std::function<std::string(const std::string&)> sign,
                           const std::string& served = "") {
    auto server = recording_oracle(200, body);
    server->respond_with(k_record_path, [&signer, body, served,
                                         sign = std::move(sign)](const RecordedRequest& asked) {
      auto response = FakeResponse::with_status(200, served.empty() ? body : served);
      response.headers.emplace_back(std::string(crosscheck::net::k_verdict_signature_header),
                                    signer.sign(sign(asked.target), body));
      return response;
    });
    return server;
  };
  const std::string pubkey = files.public_pem.string();

  const auto honest = signed_oracle([](const std::string& received) { return received; });
  auto run = gate(record_args({honest.get()}, {"--pubkey", pubkey}));
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("[signed by oracle-a, key " + signer.key() + "]"));
  CHECK_THAT(run.out, Catch::EndsWith("recorded as oracle-a-17 on " + base(*honest) + "\n"));
  CHECK_THAT(honest->last_request()->target,
             Catch::Matches(R"(/v1/verdicts/db-primary/gate\?expect=unhealthy&for=service)"
                            R"(&nonce=[0-9a-f]{32})"));

  // Signed for the GET form (the same query without /gate): not this answer.
  const auto as_get =
      signed_oracle([](std::string received) { return received.erase(received.find("/gate"), 5); });
  // Changed on the way: another action id than the one signed.
  std::string changed = body;
  changed.replace(changed.find("oracle-a-17"), 11, "oracle-a-99");
  const auto tampered =
      signed_oracle([](const std::string& received) { return received; }, changed);
  for (const auto* server : {as_get.get(), tampered.get()}) {
    run = gate(record_args({server}, {"--pubkey", pubkey}));
    CHECK(run.status == 4);
    CHECK_THAT(run.out, Catch::Contains("unverified: the signature does not match the answer"));
    CHECK_THAT(run.out, !Catch::Contains("recorded as"));
    // An unverified answer's action id is not believed: nothing is acked.
    CHECK(requests_to(*server, "/v1/actions/oracle-a-17/ack").empty());
    CHECK(requests_to(*server, "/v1/actions/oracle-a-99/ack").empty());
  }
}

TEST_CASE("a proceed answer in another action's cooldown holds, the run's own cooldown does not",
          "[gate][record]") {
  // The GET form: an oracle that proceeded although a cooldown is in force
  // (a bug, an old build behind a proxy) is not believed.
  const auto in_cooldown = oracle(200, with_field(unhealthy_as_expected("service").json(),
                                                  "cooldown", cooldown_json("oracle-a-5")));
  auto run =
      gate({k_target, "--expect", "unhealthy", "--timeout", "2s", "--oracle", base(*in_cooldown)});
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: unhealthy but the target is in cooldown after action "
                                      "'oracle-a-5'"));
  // The recording form answers after recording: the cooldown is its own.
  const auto own = recording_oracle(
      200, with_field(proceed_recording("oracle-a-17"), "cooldown", cooldown_json("oracle-a-17")));
  CHECK(gate(record_args({own.get()})).status == 0);
  const auto other = recording_oracle(
      200, with_field(proceed_recording("oracle-a-17"), "cooldown", cooldown_json("oracle-a-5")));
  run = gate(record_args({other.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("in cooldown after action 'oracle-a-5'"));
  // ... and the record it made anyway is withdrawn.
  CHECK(requests_to(*other, "/v1/actions/oracle-a-17/ack").size() == 1);
}

TEST_CASE("gate --help lists --record and --by", "[gate][record]") {
  const auto run = gate({"--help"});
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("--record arg") && Catch::Contains("--by arg") &&
                          Catch::Contains("[--record WHAT [--by NAME]]"));
}
