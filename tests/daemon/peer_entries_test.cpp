// One bad entry costs itself (docs/peers.md): randomized. Random exports
// with random entries corrupted in random ways decode every well-formed
// entry exactly as sent and count exactly the corrupted ones; and what this
// node exports, whatever its details, answers and ages hold, decodes with
// nothing left out.
#include "peers/protocol.hpp"

#include "base/text.hpp"
#include "consensus/time_format.hpp"
#include "snapshot/action_json.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

namespace cs = crosscheck::consensus;
namespace json = boost::json;
namespace peers = crosscheck::peers;
using crosscheck::snapshot::Snapshot;
using crosscheck::snapshot::TargetView;
using namespace std::chrono_literals;

// Fixed: a failure replays. Printed once, with the iteration that failed.
constexpr std::uint32_t k_seed = 20261206;
constexpr int k_iterations = 500;

const cs::WallTime k_wall = *cs::parse_rfc3339("2026-12-06T01:00:00Z");
const cs::Instant k_now{cs::MonoTime{k_wall.time_since_epoch()}, k_wall};

class Random {
 public:
  explicit Random(std::uint32_t seed) : engine_(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(engine_); }
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(engine_);
  }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }
  // A name: 1..128 of [A-Za-z0-9._-], mostly short.
  std::string name() {
    static constexpr std::string_view k_chars =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    const auto length = chance(0.1) ? 1 + below(128) : 1 + below(12);
    std::string out;
    for (std::size_t i = 0; i < length; ++i) {
      out += k_chars[below(k_chars.size())];
    }
    return out;
  }
  // Printable text of at most `limit` bytes, with multi-byte characters.
  std::string words(std::size_t limit) {
    static const std::vector<std::string> k_pieces{
        "a",  "Z",  " ",        "dns: ", "\xc3\xbc", "\xe2\x82\xac", "\xf0\x9d\x84\x9e",
        "\"", "\\", "192.0.2.1"};
    std::string out;
    const auto target = below(limit + 1);
    while (true) {
      const auto& piece = pick(k_pieces);
      if (out.size() + piece.size() > target) {
        return out;
      }
      out += piece;
    }
  }
  // Any bytes at all: control characters, broken UTF-8, long.
  std::string bytes(std::size_t limit) {
    std::string out(below(limit + 1), '\0');
    for (auto& c : out) {
      c = static_cast<char>(chance(0.5) ? between('a', 'z') : between(0, 255));
    }
    return out;
  }

 private:
  std::mt19937 engine_;
};

// ---- Random well-formed entries, as sent and as they must decode ---------

struct SentVote {
  json::value sent;
  peers::PeerVote expected;
};

SentVote random_vote(Random& random, int version) {
  peers::PeerVote vote;
  vote.target = random.name();
  vote.vantage = random.name();
  vote.domain = random.chance(0.8) ? random.name() : "dom " + random.words(100) + "x";
  std::vector<cs::Vote> votes{cs::Vote::Up, cs::Vote::Down, cs::Vote::Unknown};
  std::vector<cs::Layer> layers{cs::Layer::None, cs::Layer::Dns, cs::Layer::Connect, cs::Layer::Tls,
                                cs::Layer::Http};
  if (version == peers::k_peer_protocol_version) {
    votes.push_back(cs::Vote::Degraded);
    layers.push_back(cs::Layer::App);
  }
  vote.vote = random.pick(votes);
  vote.layer = random.pick(layers);
  if (random.chance(0.8)) {
    vote.age = std::chrono::milliseconds(random.between(0, peers::k_peer_max_age.count()));
  }
  vote.last_known_good = random.pick(std::vector{
      cs::LastKnownGood::NotTried, cs::LastKnownGood::Reachable, cs::LastKnownGood::Unreachable});
  vote.detail = random.words(peers::k_peer_max_detail_bytes);
  const auto answers =
      random.chance(0.1) ? random.below(peers::k_peer_max_answers + 1) : random.below(4);
  for (std::size_t i = 0; i < answers; ++i) {
    vote.answers.push_back(random.words(peers::k_peer_max_answer_bytes));
  }
  // Quarters: exact in binary, so the JSON text round-trips them exactly.
  vote.latency_ms = static_cast<double>(random.between(0, 400'000)) / 4;

  json::object sent{{"target", vote.target}, {"vantage", vote.vantage},
                    {"domain", vote.domain}, {"vote", cs::to_string(vote.vote)},
                    {"age_ms", nullptr},     {"layer", cs::to_string(vote.layer)},
                    {"detail", vote.detail}, {"latency_ms", vote.latency_ms}};
  if (vote.age) {
    sent["age_ms"] = vote.age->count();
  }
  // Optional on the wire (exports before it): not tried.
  if (vote.last_known_good != cs::LastKnownGood::NotTried || random.chance(0.5)) {
    sent["last_known_good"] = cs::to_string(vote.last_known_good);
  }
  json::array answers_json;
  for (const auto& answer : vote.answers) {
    answers_json.emplace_back(answer);
  }
  sent["answers"] = std::move(answers_json);
  return {json::value(std::move(sent)), std::move(vote)};
}

// The vote `sent` made malformed one random way (the version's own rules too).
json::value corrupt_vote(Random& random, json::value sent, int version) {
  auto& vote = sent.as_object();
  const std::string long_name(peers::k_peer_max_name_bytes + 1, 'n');
  switch (random.below(18)) {
    case 0:
      vote["vote"] = random.pick(std::vector<std::string>{"sideways", "UP", "", "up "});
      break;
    case 1:
      vote["target"] = random.pick(std::vector<std::string>{"web/../x", "", "a b", long_name});
      break;
    case 2:
      vote["vantage"] = random.pick(std::vector<std::string>{"v\n", "", "x:y", long_name});
      break;
    case 3:
      vote["domain"] = random.pick(std::vector<std::string>{"", "d\x01", long_name});
      break;
    case 4:
      vote["age_ms"] = random.pick(
          std::vector<json::value>{json::value(-1), json::value(peers::k_peer_max_age.count() + 1),
                                   json::value("5"), json::value(1.5)});
      break;
    case 5:
      vote["layer"] = random.pick(std::vector<std::string>{"bgp", "DNS", ""});
      break;
    case 6:
      vote["last_known_good"] =
          random.pick(std::vector<json::value>{json::value("maybe"), json::value(nullptr)});
      break;
    case 7:
      vote["detail"] =
          random.pick(std::vector<json::value>{json::value("a\x01z"), json::value("two\nlines"),
                                               json::value("del\x7f"), json::value(3)});
      break;
    case 8: {
      json::array many;
      for (std::size_t i = 0; i <= peers::k_peer_max_answers; ++i) {
        many.emplace_back("192.0.2.1");
      }
      vote["answers"] = random.pick(std::vector<json::value>{
          json::value(many), json::value(json::array{json::value(1)}),
          json::value(
              json::array{json::value(std::string(peers::k_peer_max_answer_bytes + 1, 'a'))}),
          json::value("192.0.2.1")});
      break;
    }
    case 9:
      vote["latency_ms"] =
          random.pick(std::vector<json::value>{json::value(-1), json::value("fast")});
      break;
    case 10:
      vote["extra"] = 1;
      break;
    case 11:
      vote.erase(
          random.pick(std::vector<std::string>{"target", "vantage", "domain", "vote", "age_ms",
                                               "layer", "detail", "answers", "latency_ms"}));
      break;
    case 12:
      return random.pick(std::vector<json::value>{
          json::value(7), json::value("vote"), json::value(nullptr), json::value(json::array{})});
    default:
      // What version 1 has not: the vote "degraded", the layer "app"; in
      // version 2, another way to be wrong.
      if (version == peers::k_peer_protocol_version_1 && random.chance(0.5)) {
        vote["vote"] = "degraded";
      } else if (version == peers::k_peer_protocol_version_1) {
        vote["layer"] = "app";
      } else {
        vote["vote"] = "down-ish";
      }
      break;
  }
  return sent;
}

cs::RecordedAction random_action(Random& random, std::size_t i) {
  cs::RecordedAction action;
  action.node = random.name();
  action.id = action.node + "-" + std::to_string(i + 1);
  action.target = random.name();
  action.expect = random.chance(0.5) ? cs::VerdictKind::Healthy : cs::VerdictKind::Unhealthy;
  action.for_ = random.pick(std::vector{cs::GateFor::Service, cs::GateFor::Dns, cs::GateFor::Any});
  action.generation = static_cast<std::uint64_t>(random.between(0, 1'000'000));
  action.by = random.words(40) + "x";
  action.what = random.words(200) + "y";
  action.principal = random.name();
  action.at = k_wall - std::chrono::seconds(random.between(0, 3600));
  action.cooldown_until = action.at + std::chrono::seconds(random.between(1, 7200));
  if (random.chance(0.3)) {
    action.ack = cs::ActionAck{random.name(), random.words(60), action.at + 5s, random.name()};
  }
  return action;
}

json::value corrupt_action(Random& random, json::value sent) {
  auto& action = sent.as_object();
  switch (random.below(6)) {
    case 0:
      action["at"] = "yesterday";
      break;
    case 1:
      action["node"] = random.pick(std::vector<std::string>{"a b", "", "x/y"});
      break;
    case 2:
      action["ack"] = "alice";
      break;
    case 3:
      action.erase(random.pick(std::vector<std::string>{"for", "id", "cooldown_until", "ack"}));
      break;
    case 4:
      action["generation"] = -1;
      break;
    default:
      return json::value(random.chance(0.5) ? json::value(1) : json::value("entry"));
  }
  return sent;
}

cs::SharedWindow random_window(Random& random) {
  cs::SharedWindow window;
  window.target = (random.chance(0.3) ? std::string(cs::k_group_prefix) : "") + random.name();
  window.window.node = random.name();
  window.window.reason = random.words(300) + "r";
  window.window.by = random.words(60) + "b";
  window.window.set_at = k_wall - std::chrono::seconds(random.between(0, 3600));
  window.window.expires_at = window.window.set_at + std::chrono::seconds(random.between(1, 7200));
  if (random.chance(0.3)) {
    window.cleared_at = window.window.set_at + 1s;
  }
  return window;
}

json::value window_json(const cs::SharedWindow& window) {
  return json::object{
      {"target", window.target},
      {"node", window.window.node},
      {"set_at", cs::format_rfc3339(window.window.set_at)},
      {"expires_at", cs::format_rfc3339(window.window.expires_at)},
      {"reason", window.window.reason},
      {"by", window.window.by},
      {"cleared_at", window.cleared_at ? json::value(cs::format_rfc3339(*window.cleared_at))
                                       : json::value(nullptr)}};
}

json::value corrupt_window(Random& random, json::value sent) {
  auto& window = sent.as_object();
  switch (random.below(8)) {
    case 0:
      window["target"] = random.pick(std::vector<std::string>{"group:", "db/../x", ""});
      break;
    case 1:
      window["node"] = random.pick(std::vector<json::value>{json::value(""), json::value(1)});
      break;
    case 2:
      window["set_at"] = "yesterday";
      break;
    case 3:
      window["reason"] = random.pick(std::vector<std::string>{"", "line\nbreak"});
      break;
    case 4:
      window["by"] = std::string(257, 'b');
      break;
    case 5:
      window["cleared_at"] = "soon";
      break;
    case 6:
      window["extra"] = true;
      break;
    default:
      return json::value(json::array{});
  }
  return sent;
}

// Field by field (PeerVote has no ==): what a failure shows.
void check_same(const peers::PeerVote& got, const peers::PeerVote& want) {
  CHECK(got.target == want.target);
  CHECK(got.vantage == want.vantage);
  CHECK(got.domain == want.domain);
  CHECK(got.vote == want.vote);
  CHECK(got.age == want.age);
  CHECK(got.layer == want.layer);
  CHECK(got.last_known_good == want.last_known_good);
  CHECK(got.detail == want.detail);
  CHECK(got.answers == want.answers);
  CHECK(got.latency_ms == want.latency_ms);
}

}  // namespace

TEST_CASE("random exports with random entries corrupted keep every good entry exactly as sent",
          "[peers][invariant]") {
  std::cout << "peer entries: seed " << k_seed << ", " << k_iterations << " exports\n";
  Random random(k_seed);
  for (int iteration = 0; iteration < k_iterations; ++iteration) {
    CAPTURE(k_seed, iteration);
    const int version =
        random.chance(0.5) ? peers::k_peer_protocol_version : peers::k_peer_protocol_version_1;
    std::vector<peers::PeerVote> votes;
    std::vector<cs::RecordedAction> actions;
    std::vector<cs::SharedWindow> windows;
    json::array votes_json;
    json::array actions_json;
    json::array windows_json;
    std::size_t corrupted = 0;
    const double bad = random.pick(std::vector{0.0, 0.1, 0.5, 1.0});
    for (std::size_t i = 0, n = random.below(30); i < n; ++i) {
      auto [sent, expected] = random_vote(random, version);
      if (random.chance(bad)) {
        votes_json.push_back(corrupt_vote(random, std::move(sent), version));
        ++corrupted;
      } else {
        votes_json.push_back(std::move(sent));
        votes.push_back(std::move(expected));
      }
    }
    for (std::size_t i = 0, n = random.below(10); i < n; ++i) {
      auto action = random_action(random, i);
      if (random.chance(bad)) {
        actions_json.push_back(corrupt_action(random, crosscheck::snapshot::action_json(action)));
        ++corrupted;
      } else {
        actions_json.push_back(crosscheck::snapshot::action_json(action));
        actions.push_back(std::move(action));
      }
    }
    for (std::size_t i = 0, n = random.below(10); i < n; ++i) {
      auto window = random_window(random);
      if (random.chance(bad)) {
        windows_json.push_back(corrupt_window(random, window_json(window)));
        ++corrupted;
      } else {
        windows_json.push_back(window_json(window));
        windows.push_back(std::move(window));
      }
    }
    json::object body{{"node", "oracle-b"}, {"version", version}, {"votes", votes_json}};
    if (!actions_json.empty() || random.chance(0.5)) {
      body["actions"] = actions_json;
    }
    if (!windows_json.empty() || random.chance(0.5)) {
      body["windows"] = windows_json;
    }
    const auto text = json::serialize(body);
    CAPTURE(text);
    std::string why;
    const auto decoded = peers::decode_export(text, "oracle-b", why);
    INFO(why);
    REQUIRE(decoded);
    CHECK(decoded->version == version);
    CHECK(decoded->malformed == corrupted);
    CHECK(decoded->first_malformed.empty() == (corrupted == 0));
    CHECK(decoded->first_malformed.size() <= peers::k_peer_max_malformed_bytes);
    REQUIRE(decoded->votes.size() == votes.size());
    for (std::size_t i = 0; i < votes.size(); ++i) {
      check_same(decoded->votes[i], votes[i]);
    }
    CHECK(decoded->actions == actions);
    CHECK(decoded->windows == windows);
  }
}

TEST_CASE("whatever its details and answers and ages hold this node's export decodes whole",
          "[peers][invariant]") {
  std::cout << "peer exports: seed " << k_seed << ", " << k_iterations << " snapshots\n";
  Random random(k_seed + 1);
  for (int iteration = 0; iteration < k_iterations; ++iteration) {
    CAPTURE(k_seed + 1, iteration);
    Snapshot snapshot;
    snapshot.node = "oracle-b";
    std::size_t local = 0;
    // Each local vote's detail when it must arrive as it was (printable,
    // within the bound), in export order.
    std::vector<std::optional<std::string>> kept_details;
    for (std::size_t t = 0, targets = 1 + random.below(4); t < targets; ++t) {
      TargetView view;
      view.verdict.target = random.name();
      for (std::size_t e = 0, n = random.below(6); e < n; ++e) {
        cs::Evidence evidence;
        evidence.vantage = random.name();
        evidence.domain = random.name();
        evidence.raw_vote = random.pick(
            std::vector{cs::Vote::Up, cs::Vote::Down, cs::Vote::Unknown, cs::Vote::Degraded});
        const bool remote = random.chance(0.2);
        if (remote) {
          evidence.node = "oracle-c";  // a peer's: never re-exported
        } else {
          ++local;
        }
        std::optional<std::string> kept;
        if (random.chance(0.8)) {
          cs::Observation last;
          // From a minute in the future (a stepped clock) to three days ago.
          last.at = k_now + std::chrono::milliseconds(random.between(-3LL * 86'400'000, 60'000));
          last.layer = random.pick(
              std::vector{cs::Layer::None, cs::Layer::Dns, cs::Layer::Http, cs::Layer::App});
          last.detail = random.chance(0.5) ? random.bytes(3000) : random.words(2000);
          if (last.detail.size() <= peers::k_peer_max_detail_bytes &&
              crosscheck::text::printable_line(last.detail) == last.detail) {
            kept = last.detail;
          }
          for (std::size_t a = 0, answers = random.below(100); a < answers; ++a) {
            last.answers.push_back(random.chance(0.5) ? random.bytes(400) : random.words(300));
          }
          last.latency_ms =
              random.pick(std::vector{0.0, 12.25, -3.0, std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(), 1e300});
          evidence.last_observed = last.at;
          evidence.last = std::make_shared<const cs::Observation>(last);
        }
        if (!remote) {
          kept_details.push_back(kept);
        }
        view.verdict.evidence.push_back(std::move(evidence));
      }
      snapshot.targets.push_back(std::move(view));
    }
    const int asked = random.chance(0.5) ? 2 : 1;
    const auto text = peers::export_votes(snapshot, k_now, random.chance(0.5), asked);
    std::string why;
    const auto decoded = peers::decode_export(text, "oracle-b", why);
    INFO(why);
    REQUIRE(decoded);
    CHECK(decoded->malformed == 0);
    INFO(decoded->first_malformed);
    REQUIRE(decoded->votes.size() == local);
    // What was within the bounds arrives as it was.
    std::size_t i = 0;
    for (const auto& view : snapshot.targets) {
      for (const auto& evidence : view.verdict.evidence) {
        if (!evidence.node.empty()) {
          continue;
        }
        const auto& kept = kept_details[i];
        const auto& got = decoded->votes[i++];
        CHECK(got.target == view.verdict.target);
        CHECK(got.vantage == evidence.vantage);
        if (!evidence.last_observed) {
          CHECK_FALSE(got.age);
          continue;
        }
        const auto age = std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                           k_now.mono - evidence.last_observed->mono));
        CHECK(got.age == (age <= peers::k_peer_max_age
                              ? std::optional<std::chrono::milliseconds>(age)
                              : std::nullopt));
        CHECK(got.answers.size() ==
              std::min(evidence.last->answers.size(), peers::k_peer_max_answers));
        if (kept) {
          CHECK(got.detail == *kept);
        }
        CHECK(got.detail.size() <= peers::k_peer_max_detail_bytes);
      }
    }
  }
}

TEST_CASE("an export of half a million malformed votes holds no memory for them",
          "[peers][entries]") {
  // Found by a hostile review: the decoder reserved room for every array
  // element before looking at any, 100 MB per pull of this 1 MiB body.
  std::string body = R"({"node":"oracle-b","version":2,"votes":[)";
  while (body.size() + 4 < peers::k_peer_body_limit) {
    body += "0,";
  }
  body += "0]}";
  REQUIRE(body.size() <= peers::k_peer_body_limit);
  std::string why;
  const auto decoded = peers::decode_export(body, "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->votes.empty());
  CHECK(decoded->malformed > 500'000);
  CHECK(decoded->votes.capacity() * sizeof(peers::PeerVote) <= 4 * peers::k_peer_body_limit);
}
