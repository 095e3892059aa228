// POST /v1/peer/recheck through the pure router: refused without a verified
// signature (and counted), validated, and answered with the target's votes
// only, signed for the request it answers.
#include "api/router.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

namespace {

namespace cs = crosscheck::consensus;
using crosscheck::api::ActionResult;
using crosscheck::api::ApiRequest;
using crosscheck::api::ApiResponse;
using crosscheck::api::AuthRefusal;
using crosscheck::api::WriteRequest;
using crosscheck::peers::PeerAuth;
using crosscheck::peers::PeerAuthStatus;
using crosscheck::snapshot::Snapshot;
using crosscheck::snapshot::TargetView;
using namespace std::chrono_literals;

const cs::WallTime k_wall = *cs::parse_rfc3339("2025-10-20T06:00:10Z");
const cs::Instant k_now{cs::MonoTime{k_wall.time_since_epoch()}, k_wall};

TargetView target(std::string name, std::string vantage) {
  cs::Evidence local;
  local.vantage = std::move(vantage);
  local.domain = "dom-" + local.vantage;
  local.raw_vote = cs::Vote::Down;
  local.vote = cs::Vote::Down;
  cs::Evidence remote = local;
  remote.vantage = "oracle-c/far";
  remote.node = "oracle-c";
  TargetView view;
  view.verdict.target = std::move(name);
  view.verdict.evidence = {local, remote};
  return view;
}

Snapshot two_targets() {
  Snapshot snapshot;
  snapshot.node = "oracle-b";
  snapshot.targets = {target("web", "quad9"), target("db", "cloudflare")};
  return snapshot;
}

PeerAuth verified() {
  PeerAuth auth;
  auth.status = PeerAuthStatus::Ok;
  auth.node = "oracle-a";
  auth.key = "secret-b";
  auth.timestamp = "1760940000";
  auth.nonce = "00112233445566778899aabbccddeeff";
  return auth;
}

ApiRequest recheck_request(std::string target, const PeerAuth* auth) {
  ApiRequest request;
  request.method = "POST";
  request.target = std::move(target);
  request.peer = auth;
  return request;
}

}  // namespace

TEST_CASE("a peer recheck target names the target and the peer's own re-probe budget", "[peers]") {
  CHECK(crosscheck::peers::peer_recheck_target("db-a", 4000ms) ==
        "/v1/peer/recheck?target=db-a&timeout=4000ms");
}

TEST_CASE("an unsigned or badly signed peer recheck is refused with 401 and counted", "[peers]") {
  const auto snapshot = two_targets();
  const auto status =
      GENERATE(PeerAuthStatus::Missing, PeerAuthStatus::UnknownNode, PeerAuthStatus::BadSignature,
               PeerAuthStatus::Stale, PeerAuthStatus::Replayed);
  PeerAuth refused;
  refused.status = status;
  const auto outcome = crosscheck::api::handle_request(
      recheck_request("/v1/peer/recheck?target=web", &refused), snapshot, k_now);
  const auto* response = std::get_if<ApiResponse>(&outcome);
  REQUIRE(response != nullptr);  // never a write: nothing is probed
  CHECK(response->status == 401);
  CHECK(response->refusal ==
        (status == PeerAuthStatus::Missing ? AuthRefusal::Missing : AuthRefusal::Invalid));
  CHECK(response->header("WWW-Authenticate") == "Crosscheck-HMAC-SHA256");
  // A node without peers refuses every one.
  const auto unpeered = crosscheck::api::handle_request(
      recheck_request("/v1/peer/recheck?target=web", nullptr), snapshot, k_now);
  CHECK(std::get<ApiResponse>(unpeered).status == 401);
}

TEST_CASE("a verified peer recheck is validated before anything is probed", "[peers]") {
  const auto snapshot = two_targets();
  const auto auth = verified();
  const auto status_of = [&](std::string target, std::string method = "POST") {
    auto request = recheck_request(std::move(target), &auth);
    request.method = std::move(method);
    const auto outcome = crosscheck::api::handle_request(request, snapshot, k_now);
    const auto* response = std::get_if<ApiResponse>(&outcome);
    return response == nullptr ? 0 : response->status;
  };
  CHECK(status_of("/v1/peer/recheck?target=web", "GET") == 405);
  CHECK(status_of("/v1/peer/recheck") == 400);
  CHECK(status_of("/v1/peer/recheck?target=web&extra=1") == 400);
  CHECK(status_of("/v1/peer/recheck?target=web&timeout=-1s") == 400);
  CHECK(status_of("/v1/peer/recheck?target=a%2Fb") == 400);
  CHECK(status_of("/v1/peer/recheck?target=nope") == 404);

  const auto outcome = crosscheck::api::handle_request(
      recheck_request("/v1/peer/recheck?target=web&timeout=60s", &auth), snapshot, k_now);
  const auto* write = std::get_if<WriteRequest>(&outcome);
  REQUIRE(write != nullptr);
  CHECK(write->kind == WriteRequest::Kind::PeerRecheck);
  CHECK(write->target == "web");
  CHECK(write->deadline == crosscheck::api::k_max_recheck_deadline);  // capped
  CHECK(write->caller.principal == "peer:oracle-a");
  CHECK(write->peer_nonce == auth.nonce);
}

TEST_CASE("a peer recheck answers that target's local votes only, signed for its request",
          "[peers]") {
  auto snapshot = std::make_shared<Snapshot>(two_targets());
  const auto auth = verified();
  const auto outcome = crosscheck::api::handle_request(
      recheck_request("/v1/peer/recheck?target=db", &auth), *snapshot, k_now);
  const auto write = std::get<WriteRequest>(outcome);
  ActionResult result;
  result.status = GENERATE(200, 504);  // a missed deadline still answers the votes it has
  result.snapshot = snapshot;
  const auto response = crosscheck::api::peer_recheck_response(write, result, k_now);
  REQUIRE(response.status == 200);
  std::string why;
  const auto decoded = crosscheck::peers::decode_export(response.body, "oracle-b", why);
  REQUIRE(decoded);
  REQUIRE(decoded->votes.size() == 1);  // not web's, not oracle-c's (never re-exported)
  CHECK(decoded->votes[0].target == "db");
  CHECK(decoded->votes[0].vantage == "cloudflare");
  CHECK(decoded->actions.empty());
  const auto signature = response.header("X-Crosscheck-Reply-Signature");
  const crosscheck::peers::PeerReplyBinding binding{"oracle-b", "oracle-a", auth.timestamp,
                                                    auth.nonce};
  CHECK(crosscheck::peers::verify_peer_reply("secret-b", binding, response.body, signature) ==
        crosscheck::peers::PeerReplyStatus::Ok);
  auto replayed = binding;
  replayed.nonce = "ffeeddccbbaa99887766554433221100";
  CHECK(crosscheck::peers::verify_peer_reply("secret-b", replayed, response.body, signature) ==
        crosscheck::peers::PeerReplyStatus::BadSignature);

  result.status = 404;
  CHECK(crosscheck::api::peer_recheck_response(write, result, k_now).status == 404);
}
