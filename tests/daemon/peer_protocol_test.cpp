// The peer wire format: what an export carries and what the decoder refuses.
#include "peers/protocol.hpp"

#include "api/router.hpp"
#include "peers/auth.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

namespace cs = crosscheck::consensus;
namespace json = boost::json;
using crosscheck::peers::decode_export;
using crosscheck::peers::export_votes;
using crosscheck::snapshot::Snapshot;
using crosscheck::snapshot::TargetView;
using namespace std::chrono_literals;

const cs::WallTime k_wall = *cs::parse_rfc3339("2025-10-20T06:00:10Z");
// Both clocks at once, as a ManualClock keeps them (they move together).
const cs::Instant k_now{cs::MonoTime{k_wall.time_since_epoch()}, k_wall};

cs::Evidence evidence(std::string vantage, std::string node, cs::Vote raw, cs::Vote counted) {
  cs::Evidence item;
  item.vantage = std::move(vantage);
  item.node = std::move(node);
  item.domain = "dom-" + item.vantage.substr(item.vantage.find('/') + 1);
  item.raw_vote = raw;
  item.vote = counted;
  return item;
}

Snapshot snapshot_with_remote_and_suspect() {
  cs::Evidence observed = evidence("quad9", "", cs::Vote::Down, cs::Vote::Unknown);
  observed.suspect = true;
  cs::Observation last;
  last.at = k_now + (-2500ms);
  last.outcome = cs::Outcome::Down;
  last.layer = cs::Layer::Dns;
  last.last_known_good = cs::LastKnownGood::Reachable;
  last.detail = "dns: NOERROR, empty answer";
  last.latency_ms = 3.5;
  observed.last_observed = last.at;
  observed.last = std::make_shared<const cs::Observation>(last);
  TargetView view;
  view.verdict.target = "web";
  view.verdict.evidence = {observed,
                           evidence("cloudflare", "", cs::Vote::Unknown, cs::Vote::Unknown),
                           evidence("oracle-b/hetzner", "oracle-b", cs::Vote::Up, cs::Vote::Up)};
  Snapshot snapshot;
  snapshot.node = "oracle-a";
  snapshot.targets = {view};
  return snapshot;
}

// A valid one-vote export with `field` replaced by `value` (JSON text): in
// the vote, or at the top level when the export has that key.
std::string export_with(std::string_view field, std::string_view value) {
  json::object vote{{"target", "web"},   {"vantage", "quad9"},
                    {"domain", "quad9"}, {"vote", "up"},
                    {"age_ms", 1200},    {"layer", "none"},
                    {"detail", ""},      {"answers", json::array{"192.0.2.1"}},
                    {"latency_ms", 2.5}};
  json::object body{{"node", "oracle-b"}, {"version", 1}, {"votes", json::array{}}};
  const bool top_level = body.contains(field);
  if (!field.empty() && !top_level && field != "actions" && field != "windows") {
    vote[field] = json::parse(value);
  }
  body["votes"].as_array().emplace_back(vote);
  if (top_level || field == "actions" || field == "windows") {
    body[field] = json::parse(value);
  }
  return json::serialize(body);
}

// Three votes (quad9, the one export_with() changes, google), version 1.
std::string three_votes_with(std::string_view field, std::string_view value) {
  auto body = json::parse(export_with("", "")).as_object();
  auto& votes = body["votes"].as_array();
  auto first = votes[0];
  auto last = votes[0];
  last.as_object()["vantage"] = "google";
  votes.clear();
  votes.emplace_back(first);
  votes.emplace_back(json::parse(export_with(field, value)).at("votes").at(0));
  votes.emplace_back(last);
  return json::serialize(body);
}

}  // namespace

TEST_CASE("an export carries local votes before suspicion, with their age", "[peers]") {
  const auto body = export_votes(snapshot_with_remote_and_suspect(), k_now);
  const auto parsed = json::parse(body).as_object();
  CHECK(parsed.at("node") == "oracle-a");
  CHECK(parsed.at("version") == 1);  // the puller asked for no version
  const auto& votes = parsed.at("votes").as_array();
  REQUIRE(votes.size() == 2);  // the remote oracle-b/hetzner is never re-exported
  const auto& first = votes[0].as_object();
  CHECK(first.at("target") == "web");
  CHECK(first.at("vantage") == "quad9");
  CHECK(first.at("domain") == "dom-quad9");
  CHECK(first.at("vote") == "down");  // raw, although this node holds it suspect
  CHECK(first.at("age_ms") == 2500);
  CHECK(first.at("layer") == "dns");
  CHECK(first.at("last_known_good") == "reachable");
  CHECK(first.at("detail") == "dns: NOERROR, empty answer");
  CHECK(votes[1].as_object().at("age_ms").is_null());
  CHECK(votes[1].as_object().at("vote") == "unknown");
}

TEST_CASE(
    "an export's age runs on the monotonic clock: a wall clock step neither ages nor renews a vote",
    "[peers]") {
  auto snapshot = snapshot_with_remote_and_suspect();
  auto& observed = snapshot.targets[0].verdict.evidence.edit()[0];
  for (const cs::Duration step :
       {cs::Duration{-1h}, cs::Duration{-2min}, cs::Duration{2min}, cs::Duration{1h}}) {
    INFO("the wall clock stepped by " << cs::format_duration(step) << " since the observation");
    // Observed 2.5 s ago on the monotonic clock, before the wall clock moved.
    observed.last_observed = cs::Instant{k_now.mono - 2500ms, k_now.wall - step - 2500ms};
    const auto parsed = json::parse(export_votes(snapshot, k_now)).as_object();
    CHECK(parsed.at("votes").as_array()[0].as_object().at("age_ms") == 2500);
  }
}

TEST_CASE("an export decodes back to the votes it carries", "[peers]") {
  auto snapshot = snapshot_with_remote_and_suspect();
  snapshot.node = "oracle-b";
  std::string why;
  const auto decoded = decode_export(export_votes(snapshot, k_now), "oracle-b", why);
  REQUIRE(decoded);
  REQUIRE(decoded->votes.size() == 2);
  CHECK(decoded->votes[0].vote == cs::Vote::Down);
  CHECK(decoded->votes[0].age == 2500ms);
  CHECK(decoded->votes[0].layer == cs::Layer::Dns);
  CHECK(decoded->votes[0].last_known_good == cs::LastKnownGood::Reachable);
  CHECK(decoded->votes[0].latency_ms == 3.5);
  CHECK_FALSE(decoded->votes[1].age);
}

TEST_CASE("the decoder accepts a well-formed export", "[peers]") {
  std::string why;
  const auto decoded = decode_export(export_with("", ""), "oracle-b", why);
  REQUIRE(decoded);
  CHECK(decoded->votes[0].answers == std::vector<std::string>{"192.0.2.1"});
  CHECK(decoded->votes[0].age == 1200ms);
  // last_known_good is optional (exports before it): not tried.
  CHECK(decoded->votes[0].last_known_good == cs::LastKnownGood::NotTried);
  const auto with =
      decode_export(export_with("last_known_good", R"("unreachable")"), "oracle-b", why);
  REQUIRE(with);
  CHECK(with->votes[0].last_known_good == cs::LastKnownGood::Unreachable);
}

TEST_CASE("a malformed vote is left out alone and counted and says what", "[peers]") {
  // One bad vote between two good ones: the good ones count, the bad one
  // costs itself (it cost the node its whole export before).
  const auto [field, value, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"vote", R"("maybe")", R"(unknown vote value "maybe")"},
      {"vote", R"("side\nways")", R"(unknown vote value "side?ways")"},
      {"vote", "1", "unknown vote value (not a string)"},
      {"target", R"("web/../x")", "target must be a name"},
      {"vantage", R"("")", "vantage must be a name"},
      {"domain", R"("")", "domain must not be empty"},
      {"age_ms", "-1", "age_ms must be null or an integer"},
      {"age_ms", R"("5")", "age_ms must be null or an integer"},
      {"layer", R"("bgp")", "unknown layer value"},
      {"last_known_good", R"("maybe")", "unknown last_known_good value"},
      {"last_known_good", "null", "unknown last_known_good value"},
      {"latency_ms", R"("fast")", "latency_ms must be a non-negative number"},
      {"answers", R"("192.0.2.1")", "answers must be an array"},
      {"answers", "[1]", "answers must hold strings"},
      {"answers", "[\"" + std::string(257, 'a') + "\"]", "answers must hold strings"},
      {"detail", R"("a\u0001b")", "detail must be a string without control characters"},
      {"extra", "1", "unknown field 'extra'"},
      // Version 1 has no degraded vote: a vote that says it is malformed.
      {"vote", R"("degraded")", "vote degraded needs protocol version 2"},
      {"layer", R"("app")", "layer app needs protocol version 2"},
  }));
  CAPTURE(field, value);
  std::string why;
  const auto decoded = decode_export(three_votes_with(field, value), "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  REQUIRE(decoded->votes.size() == 2);
  CHECK(decoded->votes[0].vantage == "quad9");
  CHECK(decoded->votes[1].vantage == "google");
  CHECK(decoded->malformed == 1);
  CHECK_THAT(decoded->first_malformed,
             Catch::StartsWith("votes[1]: ") && Catch::Contains(expected));
}

TEST_CASE("an envelope that is off refuses the whole export and says what", "[peers]") {
  const auto [field, value, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"version", "3", "version must be 1 or 2"},
      {"version", "0", "version must be 1 or 2"},
      {"version", R"("2")", "version must be 1 or 2"},
      {"node", R"("oracle-c")", "expected 'oracle-b'"},
      {"node", "1", "node must be a name"},
      {"votes", "{}", "votes must be an array"},
      {"actions", "{}", "actions must be an array"},
      {"windows", R"("none")", "windows must be an array"},
  }));
  CAPTURE(field, value);
  std::string why;
  CHECK_FALSE(decode_export(export_with(field, value), "oracle-b", why));
  CHECK_THAT(why, Catch::Contains(expected));
  // An unknown key beside the votes: a newer envelope this node cannot read.
  CHECK_FALSE(
      decode_export(R"({"node":"oracle-b","version":1,"votes":[],"x\u0001":1})", "oracle-b", why));
  CHECK(why == "unknown field 'x?'");
}

TEST_CASE("a vote that is not an object or misses a field costs that vote only", "[peers]") {
  const std::string body = R"({"node":"oracle-b","version":2,"votes":[7,{"target":"web"},)" +
                           json::serialize(json::parse(export_with("", "")).at("votes").at(0)) +
                           "]}";
  std::string why;
  const auto decoded = decode_export(body, "oracle-b", why);
  REQUIRE(decoded);
  CHECK(decoded->votes.size() == 1);
  CHECK(decoded->malformed == 2);
  CHECK(decoded->first_malformed == "votes[0]: a vote must be an object");
}

TEST_CASE("the decoder refuses non-JSON and oversized bodies without throwing", "[peers]") {
  std::string why;
  CHECK_FALSE(decode_export("{not json", "oracle-b", why));
  CHECK_THAT(why, Catch::StartsWith("not JSON"));
  CHECK_FALSE(decode_export("[]", "oracle-b", why));
  CHECK_THAT(why, Catch::Contains("must be a JSON object"));
  const std::string huge(crosscheck::peers::k_peer_body_limit + 1, ' ');
  CHECK_FALSE(decode_export(huge, "oracle-b", why));
  CHECK_THAT(why, Catch::Contains("larger than 1 MiB"));
}

// GET /v1/peer/votes through the pure router: the server filled `peer`.
TEST_CASE("the peer route answers 401 without a verified signature, and no votes", "[peers]") {
  using crosscheck::api::ApiRequest;
  using crosscheck::api::ApiResponse;
  using crosscheck::peers::PeerAuth;
  using crosscheck::peers::PeerAuthStatus;
  const auto snapshot = snapshot_with_remote_and_suspect();
  ApiRequest request;
  request.method = "GET";
  request.target = "/v1/peer/votes";
  const auto status = GENERATE(PeerAuthStatus::Missing, PeerAuthStatus::BadSignature,
                               PeerAuthStatus::Stale, PeerAuthStatus::Replayed);
  PeerAuth refused;
  refused.status = status;
  request.peer = GENERATE(0, 1) == 0 ? nullptr : &refused;
  const auto outcome = crosscheck::api::handle_request(request, snapshot, k_now);
  const auto& response = std::get<ApiResponse>(outcome);
  CHECK(response.status == 401);
  CHECK_THAT(response.body, Catch::Contains(R"("error":"unauthorized")"));
  CHECK_THAT(response.body, !Catch::Contains("quad9"));
  CHECK(response.header("WWW-Authenticate") == "Crosscheck-HMAC-SHA256");
}

TEST_CASE("the peer route answers the export to a verified peer, signed for its request",
          "[peers]") {
  using crosscheck::api::ApiRequest;
  using crosscheck::api::ApiResponse;
  using crosscheck::peers::PeerReplyStatus;
  using crosscheck::peers::verify_peer_reply;
  const auto snapshot = snapshot_with_remote_and_suspect();
  crosscheck::peers::PeerAuth verified;
  verified.status = crosscheck::peers::PeerAuthStatus::Ok;
  verified.node = "oracle-c";  // the puller; the snapshot is oracle-b's
  verified.key = "secret-b";
  verified.timestamp = "1760940000";
  verified.nonce = "00112233445566778899aabbccddeeff";
  ApiRequest request;
  request.method = "GET";
  request.target = "/v1/peer/votes";
  request.peer = &verified;
  const auto outcome = crosscheck::api::handle_request(request, snapshot, k_now);
  const auto& response = std::get<ApiResponse>(outcome);
  CHECK(response.status == 200);
  CHECK(response.body == export_votes(snapshot, k_now));
  // The puller (oracle-c) checks it against this node's name and its request.
  const auto signature = response.header("X-Crosscheck-Reply-Signature");
  const crosscheck::peers::PeerReplyBinding binding{snapshot.node, "oracle-c", verified.timestamp,
                                                    verified.nonce};
  CHECK(verify_peer_reply("secret-b", binding, response.body, signature) == PeerReplyStatus::Ok);
  auto other = binding;
  other.nonce = "ffeeddccbbaa99887766554433221100";
  CHECK(verify_peer_reply("secret-b", other, response.body, signature) ==
        PeerReplyStatus::BadSignature);
  request.method = "POST";
  CHECK(std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now)).status ==
        405);
}

// ---- Protocol versions (docs/peers.md "Protocol versions") ----------------

namespace {

Snapshot snapshot_with_degraded() {
  cs::Evidence slow = evidence("quad9", "", cs::Vote::Degraded, cs::Vote::Degraded);
  cs::Observation last;
  last.at = k_now + (-1s);
  last.outcome = cs::Outcome::Up;
  last.latency_ms = 912.5;
  slow.last_observed = last.at;
  slow.last = std::make_shared<const cs::Observation>(last);
  TargetView view;
  view.verdict.target = "web";
  view.verdict.evidence = {slow, evidence("cloudflare", "", cs::Vote::Up, cs::Vote::Up)};
  Snapshot snapshot;
  snapshot.node = "oracle-b";
  snapshot.targets = {view};
  return snapshot;
}

std::string vote_of(const std::string& body, std::size_t index) {
  const auto parsed = json::parse(body).as_object();
  return std::string(parsed.at("votes").as_array()[index].as_object().at("vote").as_string());
}

}  // namespace

TEST_CASE("a puller's version decides the export: degraded for 2, up for 1 (and for none)",
          "[peers]") {
  using crosscheck::peers::asked_version;
  CHECK(asked_version("/v1/peer/votes") == 1);
  CHECK(asked_version("/v1/peer/votes?windows=1") == 1);
  CHECK(asked_version("/v1/peer/votes?windows=1&version=2") == 2);
  CHECK(asked_version("/v1/peer/votes?version=2&windows=1") == 2);
  CHECK(asked_version("/v1/peer/votes?version=22") == 1);
  CHECK(asked_version("/v1/peer/votes?xversion=2") == 1);
  const auto snapshot = snapshot_with_degraded();
  const auto v2 = export_votes(snapshot, k_now, true, 2);
  CHECK(json::parse(v2).as_object().at("version") == 2);
  CHECK(vote_of(v2, 0) == "degraded");
  // A version 1 node knows no degraded; the check passed, slowly: "up",
  // never "down" (a false down vote) nor "unknown" (one domain fewer).
  for (const int asked : {0, 1}) {
    const auto v1 = export_votes(snapshot, k_now, true, asked);
    CHECK(json::parse(v1).as_object().at("version") == 1);
    CHECK(vote_of(v1, 0) == "up");
    CHECK(vote_of(v1, 1) == "up");
  }
  // A puller asking for more than this node speaks gets 2.
  CHECK(json::parse(export_votes(snapshot, k_now, false, 9)).as_object().at("version") == 2);
  // The recheck reply follows the same rule.
  using crosscheck::peers::export_target_votes;
  CHECK(vote_of(export_target_votes(snapshot, k_now, "web", 2), 0) == "degraded");
  CHECK(vote_of(export_target_votes(snapshot, k_now, "web"), 0) == "up");
}

TEST_CASE("a version 2 node decodes both versions: a mixed mesh during an upgrade", "[peers]") {
  std::string why;
  const auto snapshot = snapshot_with_degraded();
  const auto v2 = decode_export(export_votes(snapshot, k_now, true, 2), "oracle-b", why);
  REQUIRE(v2);
  CHECK(v2->version == 2);
  CHECK(v2->votes[0].vote == cs::Vote::Degraded);
  CHECK(v2->votes[0].latency_ms == 912.5);
  // What a version 1 node (before degraded) sends, byte for byte as it did.
  const std::string from_v1 =
      R"({"node":"oracle-b","version":1,"votes":[{"target":"web","vantage":"quad9",)"
      R"("domain":"quad9","vote":"up","age_ms":1000,"layer":"none",)"
      R"("last_known_good":"not_tried","detail":"","answers":[],"latency_ms":912.5}],)"
      R"("actions":[],"windows":[]})";
  const auto v1 = decode_export(from_v1, "oracle-b", why);
  REQUIRE(v1);
  CHECK(v1->version == 1);
  CHECK(v1->votes[0].vote == cs::Vote::Up);
  // And what a version 1 node accepts: this node's answer to a puller that
  // did not ask for version 2 has no vote outside up, down and unknown.
  const auto for_v1 = export_votes(snapshot, k_now, true);
  CHECK_THAT(for_v1, !Catch::Contains("degraded"));
  CHECK_THAT(for_v1, Catch::Contains(R"("version":1)"));
}

TEST_CASE("the peer routes answer in the version the signed request asked for", "[peers]") {
  using crosscheck::api::ApiRequest;
  using crosscheck::api::ApiResponse;
  const auto snapshot = snapshot_with_degraded();
  crosscheck::peers::PeerAuth verified;
  verified.status = crosscheck::peers::PeerAuthStatus::Ok;
  verified.node = "oracle-c";
  verified.key = "secret-b";
  verified.timestamp = "1760940000";
  verified.nonce = "00112233445566778899aabbccddeeff";
  ApiRequest request;
  request.method = "GET";
  request.peer = &verified;
  request.target = std::string(crosscheck::peers::k_peer_votes_request);
  const auto v2 = std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now));
  CHECK(v2.status == 200);
  CHECK(vote_of(v2.body, 0) == "degraded");
  request.target = "/v1/peer/votes?windows=1";  // a version 1 puller
  const auto v1 = std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now));
  CHECK(vote_of(v1.body, 0) == "up");
  // A recheck asks for version 2 only of a peer whose export was version 2.
  using crosscheck::peers::peer_recheck_target;
  CHECK(peer_recheck_target("web", 4s) == "/v1/peer/recheck?target=web&timeout=4000ms");
  CHECK(peer_recheck_target("web", 4s, 2) ==
        "/v1/peer/recheck?target=web&timeout=4000ms&version=2");
  request.method = "POST";
  for (const auto* bad : {"&version=3", "&version=", "&version=two"}) {
    request.target = peer_recheck_target("web", 4s) + bad;
    CAPTURE(request.target);
    CHECK(std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now)).status ==
          400);
  }
}

TEST_CASE("a protocol check's layer app travels in version 2 and as http in version 1", "[peers]") {
  cs::Evidence read_only = evidence("quad9", "", cs::Vote::Down, cs::Vote::Down);
  cs::Observation last;
  last.at = k_now + (-1s);
  last.outcome = cs::Outcome::Down;
  last.layer = cs::Layer::App;
  last.detail =
      "postgres: 10.0.0.7:5432 refuses writes: cannot execute INSERT in a read-only "
      "transaction";
  read_only.last_observed = last.at;
  read_only.last = std::make_shared<const cs::Observation>(last);
  TargetView view;
  view.verdict.target = "orders-db";
  view.verdict.evidence = {read_only};
  Snapshot snapshot;
  snapshot.node = "oracle-b";
  snapshot.targets = {view};
  auto layer_of = [](const std::string& body) {
    const auto parsed = json::parse(body).as_object();
    return std::string(parsed.at("votes").as_array()[0].as_object().at("layer").as_string());
  };
  std::string why;
  const auto v2_text = export_votes(snapshot, k_now, true, 2);
  CHECK(layer_of(v2_text) == "app");
  const auto v2 = decode_export(v2_text, "oracle-b", why);
  REQUIRE(v2);
  CHECK(v2->votes[0].layer == cs::Layer::App);
  CHECK(v2->votes[0].vote == cs::Vote::Down);
  // A version 1 node refuses a layer it does not know (that vote, or, in
  // older releases, the whole export): it gets "http", the layer that was the service's own answer,
  // and the down vote and its detail as they are.
  const auto v1_text = export_votes(snapshot, k_now, true, 1);
  CHECK(layer_of(v1_text) == "http");
  CHECK_THAT(v1_text, Catch::Contains("refuses writes"));
  // And a version 1 export naming layer app is not what a version 1 node sends.
  std::string forged = v1_text;
  forged.replace(forged.find(R"("layer":"http")"), 14, R"("layer":"app")");
  const auto refused = decode_export(forged, "oracle-b", why);
  REQUIRE(refused);
  CHECK(refused->votes.empty());
  CHECK(refused->malformed == 1);
  CHECK(refused->first_malformed == "votes[0]: layer app needs protocol version 2");
}

TEST_CASE("a long detail never costs a node its export: cut when sent and when read", "[peers]") {
  // Fourth hostile review: one vote's detail over the peers' bound made them
  // refuse the node's whole export, every target's votes with it.
  auto snapshot = snapshot_with_remote_and_suspect();
  snapshot.node = "oracle-b";
  auto& evidence = snapshot.targets[0].verdict.evidence.edit()[0];
  auto last = *evidence.last;
  // Multi-byte characters across the cut: never half a character.
  last.detail = "postgres: " + std::string(400, 'x');
  for (int i = 0; i < 500; ++i) {
    last.detail += "\xc3\xbc";  // ü
  }
  evidence.last = std::make_shared<const cs::Observation>(last);
  std::string why;
  const auto sent = export_votes(snapshot, k_now);
  const auto decoded = decode_export(sent, "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  const auto& detail = decoded->votes[0].detail;
  CHECK(detail.size() <= crosscheck::peers::k_peer_max_detail_bytes);
  CHECK_THAT(detail, Catch::StartsWith("postgres: xxx") && Catch::EndsWith("\xc3\xbc..."));

  // A peer from before the bound on the sending side: its vote is read, cut.
  const std::string long_detail = "\"dns: " + std::string(3000, 'y') + "\"";
  const auto old_peer = decode_export(export_with("detail", long_detail), "oracle-b", why);
  REQUIRE(old_peer);
  CHECK(old_peer->votes[0].detail.size() == crosscheck::peers::k_peer_max_detail_bytes);
  CHECK_THAT(old_peer->votes[0].detail, Catch::StartsWith("dns: yyy") && Catch::EndsWith("..."));
  // Control characters are still malformed: that vote is left out.
  const auto control = decode_export(export_with("detail", R"("a\u0001b")"), "oracle-b", why);
  REQUIRE(control);
  CHECK(control->votes.empty());
  CHECK(control->malformed == 1);
  CHECK_THAT(control->first_malformed,
             Catch::Contains("detail must be a string without control characters"));
}
