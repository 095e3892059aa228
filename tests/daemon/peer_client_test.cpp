// The puller's decisions: backoff, reachability episodes, and turning a
// peer's export into engine input dated by age plus transfer time.
#include "peers/client.hpp"

#include "support/engine_world.hpp"
#include "support/fake_http_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <thread>

namespace {

using namespace crosscheck::testing;
using crosscheck::peers::backoff_delay;
using crosscheck::peers::PeerExport;
using crosscheck::peers::PeerHealth;
using crosscheck::peers::PeerPull;
using crosscheck::peers::PeerVote;
using std::chrono::milliseconds;

PeerPull pull_from_b(cs::Vote vote, std::optional<milliseconds> age, milliseconds transfer) {
  PeerVote item;
  item.target = "web";
  item.vantage = "hetzner";
  item.domain = "hetzner";
  item.vote = vote;
  item.age = age;
  item.detail = "http: 200";
  return PeerPull{PeerExport{"oracle-b", {item}, {}}, transfer};
}

const cs::Evidence* evidence_of(const cs::Verdict& verdict, const std::string& vantage) {
  for (const auto& item : verdict.evidence) {
    if (item.vantage == vantage) {
      return &item;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("backoff grows by doubling under full jitter up to the cap", "[peers]") {
  const auto [failures, unit, expected] = GENERATE(table<int, double, milliseconds>({
      {1, 0.999, milliseconds(599)},
      {1, 0.0, milliseconds(0)},
      {2, 0.5, milliseconds(600)},
      {8, 1.0, milliseconds(60'000)},    // 300ms * 256 = 76.8 s, capped
      {500, 1.0, milliseconds(60'000)},  // no overflow
  }));
  CAPTURE(failures, unit);
  CHECK(backoff_delay(failures, milliseconds(300), milliseconds(60'000), unit) == expected);
}

TEST_CASE("a peer silent past unreachable_after is escalated once, and resolved once", "[peers]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  PeerHealth health("oracle-b", 120s, clock.now());
  CHECK_FALSE(health.record(true, clock.now(), ""));
  clock.advance(120s);
  CHECK_FALSE(health.record(false, clock.now(), "refused"));  // exactly the limit: not yet
  clock.advance(1ms);
  const auto down = health.record(false, clock.now(), "refused");
  REQUIRE(down);
  CHECK_FALSE(down->reachable);
  CHECK_THAT(down->reason,
             Catch::Contains("since 2025-10-20T06:00:00") && Catch::Contains("refused"));
  clock.advance(10s);
  CHECK_FALSE(health.record(false, clock.now(), "refused"));  // once per outage
  const auto up = health.record(true, clock.now(), "");
  REQUIRE(up);
  CHECK(up->reachable);
  // Both ends share the episode key.
  CHECK(crosscheck::peers::reachability_event(*down, clock.now()).key ==
        crosscheck::peers::reachability_event(*up, clock.now()).key);
  CHECK(crosscheck::peers::reachability_event(*down, clock.now()).kind ==
        cs::EventKind::PeerUnreachable);
}

TEST_CASE("a reload's new puller continues its peer's unreachable clock when its url is unchanged",
          "[peers]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  crosscheck::config::PeerConfig peer;
  peer.name = "oracle-b";
  peer.url = *crosscheck::config::Url::parse("http://10.0.0.2:9470", nullptr);
  peer.unreachable_after = 120s;
  PeerHealth first = crosscheck::peers::resume_health(peer, {}, clock.now());
  // Down from the start; config management reloads every 60 s, under
  // unreachable_after: each reload's puller must not count afresh.
  crosscheck::peers::PeerHealthStates carried;
  std::optional<crosscheck::peers::PeerReachability> down;
  PeerHealth health = first;
  for (int reload = 0; reload < 3 && !down; ++reload) {
    clock.advance(59s);
    CHECK_FALSE(health.record(false, clock.now(), "refused"));
    carried = {{peer.name, health.state(peer.url)}};
    clock.advance(1s);
    health = crosscheck::peers::resume_health(peer, carried, clock.now());
    clock.advance(1s);
    down = health.record(false, clock.now(), "refused");
  }
  REQUIRE(down);  // at the first failed pull past 120 s since start-up
  CHECK_FALSE(down->reachable);
  CHECK(down->since == *cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  // Still down across the next reload: the crossing is not reported again.
  health =
      crosscheck::peers::resume_health(peer, {{peer.name, health.state(peer.url)}}, clock.now());
  clock.advance(1s);
  CHECK_FALSE(health.record(false, clock.now(), "refused"));
  const auto up = health.record(true, clock.now(), "");
  REQUIRE(up);
  CHECK(crosscheck::peers::reachability_event(*up, clock.now()).key ==
        crosscheck::peers::reachability_event(*down, clock.now()).key);
}

TEST_CASE("a reload that changes a peer's url starts its unreachable clock afresh", "[peers]") {
  cs::ManualClock clock(*cs::parse_rfc3339("2025-10-20T06:00:00Z"));
  crosscheck::config::PeerConfig peer;
  peer.name = "oracle-b";
  peer.url = *crosscheck::config::Url::parse("http://10.0.0.2:9470", nullptr);
  peer.unreachable_after = 120s;
  const PeerHealth old = crosscheck::peers::resume_health(peer, {}, clock.now());
  const auto carried = crosscheck::peers::PeerHealthStates{{peer.name, old.state(peer.url)}};
  clock.advance(119s);
  peer.url = *crosscheck::config::Url::parse("http://10.0.0.3:9470", nullptr);
  PeerHealth moved = crosscheck::peers::resume_health(peer, carried, clock.now());
  clock.advance(2s);  // 121 s since the old url's start, 2 s since the new one's
  CHECK_FALSE(moved.record(false, clock.now(), "refused"));
  peer.name = "oracle-c";  // another name, the same url: its own clock too
  peer.url = *crosscheck::config::Url::parse("http://10.0.0.2:9470", nullptr);
  PeerHealth renamed = crosscheck::peers::resume_health(peer, carried, clock.now());
  clock.advance(1s);
  CHECK_FALSE(renamed.record(false, clock.now(), "refused"));
}

TEST_CASE("an imported vote is dated by its age plus half the round trip", "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  World world(std::move(policy));
  // stale_after is 30 s: 29.5 s old at the origin plus 400 ms in transit is
  // still fresh; 29.7 s plus 400 ms is not.
  const auto [age, fresh] = GENERATE(
      table<milliseconds, bool>({{milliseconds(29'600), true}, {milliseconds(29'700), false}}));
  const auto set = crosscheck::peers::import_pull(
      world.engine(), pull_from_b(cs::Vote::Down, age, milliseconds(400)), world.now());
  CHECK(set.vantages == std::vector<std::string>{"oracle-b/hetzner"});
  CHECK(set.dropped == 0);
  world.evaluate();
  const auto* item = evidence_of(world.verdict("web"), "oracle-b/hetzner");
  REQUIRE(item != nullptr);
  CHECK(item->node == "oracle-b");
  CHECK(item->domain == "oracle-b");  // no `domains:` for the peer: one domain, its own
  CHECK(item->vote == (fresh ? cs::Vote::Down : cs::Vote::Unknown));
  CHECK(item->last->detail == "http: 200");
}

TEST_CASE("an imported vote for a domain the peer did not declare is dropped and reported",
          "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  policy.peer_domains["oracle-b"] = {"hetzner"};
  World world(std::move(policy));
  auto pull = pull_from_b(cs::Vote::Down, milliseconds(0), milliseconds(1));
  for (const auto* domain : {"ovh", "a", "ovh"}) {
    auto claim = pull.votes.votes.front();
    claim.vantage = std::string("claims-") + domain + std::to_string(pull.votes.votes.size());
    claim.domain = domain;
    pull.votes.votes.push_back(claim);
  }
  const auto imported = crosscheck::peers::import_pull(world.engine(), pull, world.now());
  CHECK(imported.vantages == std::vector<std::string>{"oracle-b/hetzner"});
  CHECK(imported.dropped == 3);
  CHECK(imported.undeclared == std::vector<std::string>{"a", "ovh"});
  world.evaluate();
  const auto& verdict = world.verdict("web");
  CHECK(verdict.votes.down == 1);  // hetzner alone
  CHECK(evidence_of(verdict, "oracle-b/claims-a2") == nullptr);
}

TEST_CASE(
    "an imported vote of a vantage the peer's vantages: does not list is dropped and reported",
    "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  policy.peer_vantages["oracle-b"] = {"hetzner"};
  World world(std::move(policy));
  auto pull = pull_from_b(cs::Vote::Down, milliseconds(0), milliseconds(1));
  for (const auto* vantage : {"impostor", "other", "impostor"}) {
    auto claim = pull.votes.votes.front();
    claim.vantage = vantage;
    claim.domain = std::string("dom-") + vantage;
    pull.votes.votes.push_back(claim);
  }
  const auto imported = crosscheck::peers::import_pull(world.engine(), pull, world.now());
  CHECK(imported.vantages == std::vector<std::string>{"oracle-b/hetzner"});
  CHECK(imported.dropped == 3);
  CHECK(imported.unlisted == std::vector<std::string>{"impostor", "other"});
  CHECK(imported.undeclared.empty());
  world.evaluate();
  CHECK(evidence_of(world.verdict("web"), "oracle-b/impostor") == nullptr);
  // The engine refuses it too, whoever asks.
  CHECK_FALSE(world.engine().add_remote_vantage({"oracle-b/impostor", "oracle-b", "oracle-b"}));
  CHECK(world.engine().add_remote_vantage({"oracle-b/hetzner", "oracle-b", "oracle-b"}));
}

TEST_CASE("a vote the peer never observed imports as unknown", "[peers]") {
  auto policy = make_policy({"a"}, {"web"});
  policy.peers = {"oracle-b"};
  World world(std::move(policy));
  crosscheck::peers::import_pull(
      world.engine(), pull_from_b(cs::Vote::Up, std::nullopt, milliseconds(1)), world.now());
  world.evaluate();
  CHECK(evidence_of(world.verdict("web"), "oracle-b/hetzner")->vote == cs::Vote::Unknown);
}

TEST_CASE("every peer is pulled, signed, from one thread, stop() ends a stalled pull at once",
          "[peers]") {
  using crosscheck::peers::PeerClient;
  using crosscheck::peers::PeerClientOptions;
  crosscheck::testing::FakeHttpServer answering;
  crosscheck::testing::FakeHttpServer stalled;
  answering.set("/v1/peer/votes", crosscheck::testing::FakeResponse::with_status(401, "{}"));
  stalled.set("/v1/peer/votes", crosscheck::testing::FakeResponse::stall());
  PeerClientOptions options;
  options.node = "oracle-a";
  options.interval = milliseconds{50};
  options.timeout = milliseconds{10'000};  // the stalled pull would outlast the test
  std::string why;
  for (const auto* server : {&answering, &stalled}) {
    crosscheck::config::PeerConfig peer;
    peer.name = server == &answering ? "answering" : "stalled";
    peer.url = *crosscheck::config::Url::parse(server->url("127.0.0.1", ""), &why);
    options.peers.push_back(peer);
    options.keys.push_back({peer.name, "secret"});
  }
  std::mutex mutex;
  std::vector<std::string> errors;
  options.on_pull = [](const PeerPull&) {};
  options.on_reachability = [](const crosscheck::peers::PeerReachability&) {};
  options.on_error = [&](const crosscheck::peers::PullFailure& failure) {
    const std::lock_guard lock(mutex);
    errors.push_back(failure.peer + ": " + failure.why);
  };
  PeerClient client(std::move(options));
  client.start();
  // Polls the servers, bounded at 5 s.
  for (int step = 0; step < 500 && (answering.request_count() < 2 || stalled.request_count() < 1);
       ++step) {
    std::this_thread::sleep_for(milliseconds{10});
  }
  CHECK(answering.request_count() >= 2);  // retried after its failure, with backoff
  REQUIRE(stalled.request_count() == 1);
  const auto seen = answering.last_request();
  REQUIRE(seen);
  CHECK(seen->header("X-Crosscheck-Node") == "oracle-a");
  CHECK_FALSE(seen->header("X-Crosscheck-Signature").empty());
  const auto stopping = std::chrono::steady_clock::now();
  client.stop();
  CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds{5});
  const std::lock_guard lock(mutex);
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.front().rfind("answering: answered 401: {}", 0) == 0);
  for (const auto& error : errors) {
    CHECK(error.rfind("stalled", 0) != 0);  // a cancelled pull is not a failure
  }
}

namespace {

using crosscheck::peers::PeerRefusal;
using crosscheck::peers::PeerReplyCheck;
using crosscheck::peers::PeerReplyStatus;

// oracle-a's pull of oracle-b (key "secret"), and oracle-b's 200 answer
// with an export claiming every vote down.
struct SignedPull {
  PeerReplyCheck check{
      "secret", "oracle-a",
      crosscheck::peers::sign_peer_request("oracle-a", "secret", "GET", "/v1/peer/votes",
                                           *cs::parse_rfc3339("2025-10-20T06:00:00Z"))};
  crosscheck::config::PeerConfig peer;
  crosscheck::net::HttpResult result;

  SignedPull() {
    peer.name = "oracle-b";
    result.status = 200;
    result.body = R"({"node":"oracle-b","version":1,"votes":[{"target":"web","vantage":"v",)"
                  R"("domain":"x","vote":"down","age_ms":0,"layer":"http","detail":"",)"
                  R"("answers":[],"latency_ms":1}]})";
  }
  void sign(std::string_view key, std::string_view nonce) {
    result.headers.emplace_back(
        "X-Crosscheck-Reply-Signature",
        crosscheck::peers::sign_peer_reply(
            key, {"oracle-b", "oracle-a", check.request.timestamp, nonce}, result.body));
  }
  crosscheck::peers::PullAnswer read() const {
    return crosscheck::peers::read_pull(result, peer, check, milliseconds{1'000});
  }
};

}  // namespace

TEST_CASE("a pull's reply is decoded only when signed for that pull", "[peers]") {
  SignedPull pull;
  SECTION("signed with the key, for this nonce: decoded") {
    pull.sign("secret", pull.check.request.nonce);
    const auto answer = pull.read();
    REQUIRE(std::holds_alternative<PeerPull>(answer));
    CHECK(std::get<PeerPull>(answer).votes.votes.size() == 1);
  }
  SECTION("unsigned, signed for another pull, or with another key: refused unread") {
    const auto [key, nonce, expected] = GENERATE(table<std::string, std::string, PeerReplyStatus>({
        {"", "", PeerReplyStatus::Missing},
        {"secret", "00000000000000000000000000000000", PeerReplyStatus::BadSignature},
        {"other", "", PeerReplyStatus::BadSignature},
    }));
    if (!key.empty()) {
      pull.sign(key, nonce.empty() ? pull.check.request.nonce : nonce);
    }
    const auto answer = pull.read();
    REQUIRE(std::holds_alternative<PeerRefusal>(answer));
    const auto& refusal = std::get<PeerRefusal>(answer);
    CHECK(refusal.peer == "oracle-b");
    CHECK(refusal.status == expected);
    CHECK_THAT(describe(refusal), Catch::Contains("none of its votes count"));
  }
  SECTION("a refused status is a failure before any signature check") {
    pull.result.status = 401;
    const auto answer = pull.read();
    REQUIRE(std::holds_alternative<crosscheck::Error>(answer));
    CHECK_THAT(std::get<crosscheck::Error>(answer).message, Catch::StartsWith("answered 401"));
  }
}

TEST_CASE("an unsigned 200 from a peer's URL is refused and reported, never pulled", "[peers]") {
  using crosscheck::peers::PeerClient;
  using crosscheck::peers::PeerClientOptions;
  crosscheck::testing::FakeHttpServer forger;
  SignedPull recorded;  // a well-formed export, no signature
  forger.set("/v1/peer/votes",
             crosscheck::testing::FakeResponse::with_status(200, recorded.result.body));
  PeerClientOptions options;
  options.node = "oracle-a";
  options.interval = milliseconds{50};
  options.timeout = milliseconds{2'000};
  std::string why;
  crosscheck::config::PeerConfig peer;
  peer.name = "oracle-b";
  peer.url = *crosscheck::config::Url::parse(forger.url("127.0.0.1", ""), &why);
  options.peers.push_back(peer);
  options.keys.push_back({peer.name, "secret"});
  std::mutex mutex;
  std::vector<PeerRefusal> refused;
  int pulls = 0;
  options.on_pull = [&](const PeerPull&) {
    const std::lock_guard lock(mutex);
    ++pulls;
  };
  options.on_reachability = [](const crosscheck::peers::PeerReachability&) {};
  options.on_error = [](const crosscheck::peers::PullFailure&) {};
  options.on_refused = [&](PeerRefusal refusal) {
    const std::lock_guard lock(mutex);
    refused.push_back(std::move(refusal));
  };
  PeerClient client(std::move(options));
  client.start();
  // Polls the fake, bounded at 5 s.
  for (int step = 0; step < 500 && forger.request_count() < 2; ++step) {
    std::this_thread::sleep_for(milliseconds{10});
  }
  client.stop();
  REQUIRE(forger.request_count() >= 2);
  const std::lock_guard lock(mutex);
  CHECK(pulls == 0);
  REQUIRE(refused.size() >= 1);
  CHECK(refused.front().peer == "oracle-b");
  CHECK(refused.front().status == PeerReplyStatus::Missing);
}

TEST_CASE("a peer's error answer is quoted printable: it cannot forge a log line", "[peers]") {
  SignedPull pull;
  pull.result.status = 500;
  pull.result.body =
      "oops\r\n2025-10-20 NOTICE escalation resolved \x1b[0m" + std::string(300, 'x');
  const auto answer = pull.read();
  REQUIRE(std::holds_alternative<crosscheck::Error>(answer));
  const auto& message = std::get<crosscheck::Error>(answer).message;
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find('\r') == std::string::npos);
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK(message.rfind("answered 500: oops??2025-10-20 NOTICE", 0) == 0);
  CHECK(message.size() <= std::string("answered 500: ").size() + 200);
}

// The undeclared domains of one pull go into one log line: 4,000 votes
// each claiming a 100-byte domain of its own made it 423 KB. The first 10
// (sorted) are listed, the rest counted.
TEST_CASE("a pull lists at most 10 undeclared domains and counts the rest", "[peers]") {
  auto policy = make_policy({"a", "b"}, {"web"});
  policy.peers = {"oracle-b"};
  policy.peer_domains["oracle-b"] = {"hetzner"};
  World world(std::move(policy));
  PeerExport votes;
  votes.node = "oracle-b";
  for (int i = 0; i < 4000; ++i) {
    PeerVote vote;
    vote.target = "web";
    vote.vantage = "v";
    vote.domain = std::string(100, 'x') + std::to_string(i);
    vote.vote = cs::Vote::Down;
    vote.age = milliseconds(0);
    votes.votes.push_back(vote);
  }
  const auto imported =
      crosscheck::peers::import_pull(world.engine(), PeerPull{votes, milliseconds(1)}, world.now());
  CHECK(imported.dropped == 4000);
  REQUIRE(imported.undeclared.size() == crosscheck::peers::k_peer_names_listed);
  CHECK(imported.undeclared_more == 4000 - crosscheck::peers::k_peer_names_listed);
  CHECK(std::is_sorted(imported.undeclared.begin(), imported.undeclared.end()));
  CHECK(imported.undeclared.front() == std::string(100, 'x') + "0");
  CHECK(imported.undeclared.back() == std::string(100, 'x') + "1005");
}
