// `status` and `explain` output, checked against golden files in
// tests/daemon/golden/. The inputs are not hand-written: each scenario runs
// the real quorum engine on a manual clock and renders its verdict with the
// API's own verdict_json, so the fixtures (also kept there, as readable
// JSON) cannot drift from what the API serves.
//
// After an intended output change, rewrite the goldens and review the diff:
//   CROSSCHECK_UPDATE_GOLDEN=1 ./daemon_tests '[golden]'
#include "cli/status_format.hpp"
#include "cli/explain_audit.hpp"

#include "cli/explain_format.hpp"
#include "json/write.hpp"
#include "snapshot/divergence.hpp"
#include "snapshot/json_views.hpp"
#include "snapshot/verdict_reader.hpp"
#include "support/engine_world.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

using namespace crosscheck;
using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;
namespace json = boost::json;

namespace {

const std::filesystem::path k_golden_dir =
    std::filesystem::path(CROSSCHECK_SOURCE_DIR) / "tests" / "daemon" / "golden";
const std::string k_node = "oracle-a";
// Every scenario's last evaluation happens at k_end (the stale one earlier).
const cs::WallTime k_end = *cs::parse_rfc3339("2025-10-20T06:05:00Z");
const cs::WallTime k_now = k_end + 1s;  // when the output is "printed"

// ---- Golden files -------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// A line diff (longest common subsequence): " " kept, "-" expected, "+" actual.
std::string line_diff(const std::string& expected, const std::string& actual) {
  const auto a = lines_of(expected);
  const auto b = lines_of(actual);
  std::vector<std::vector<std::size_t>> common(a.size() + 1,
                                               std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      common[i][j] =
          a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  std::string out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (j < b.size() && (i == a.size() || common[i][j + 1] >= common[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

void check_golden(const std::string& name, const std::string& actual) {
  const auto path = k_golden_dir / name;
  const char* update = std::getenv("CROSSCHECK_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(k_golden_dir);
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream expected;
  expected << file.rdbuf();
  INFO("golden " << path.string() << " (- expected, + actual); "
                 << "CROSSCHECK_UPDATE_GOLDEN=1 rewrites it\n"
                 << line_diff(expected.str(), actual));
  const bool matches_golden = expected.str() == actual;  // the diff above says how not
  CHECK(matches_golden);
}

// Indented JSON, so fixtures are readable and diffable.
void pretty(const json::value& value, std::string& out, const std::string& indent) {
  if (value.is_object() && !value.get_object().empty()) {
    out += "{\n";
    std::size_t i = 0;
    for (const auto& item : value.get_object()) {
      out += indent + "  " + json::serialize(json::value(item.key())) + ": ";
      pretty(item.value(), out, indent + "  ");
      out += ++i < value.get_object().size() ? ",\n" : "\n";
    }
    out += indent + "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    out += "[\n";
    for (std::size_t i = 0; i < value.get_array().size(); ++i) {
      out += indent + "  ";
      pretty(value.get_array()[i], out, indent + "  ");
      out += i + 1 < value.get_array().size() ? ",\n" : "\n";
    }
    out += indent + "]";
  } else {
    out += crosscheck::json_text::write(value);  // as the API writes numbers
  }
}

std::string pretty(const json::value& value) {
  std::string out;
  pretty(value, out, "");
  return out + "\n";
}

// ---- Scenarios on the real engine ---------------------------------------------

// What one vantage saw in one round.
struct Look {
  cs::Outcome outcome = cs::Outcome::Up;
  cs::Layer layer = cs::Layer::None;
  std::string detail;
  std::vector<std::string> answers;
  double latency_ms = 0;
  cs::LastKnownGood lkg = cs::LastKnownGood::NotTried;
  std::optional<cs::WallTime> cert{};  // the certificate's notAfter, if a handshake showed one
};

using Round = std::map<std::string, Look>;  // by vantage

Look up(double latency) {
  return {cs::Outcome::Up, cs::Layer::None, "http: 200 OK", {"192.0.2.10"}, latency};
}
Look empty_answer(cs::LastKnownGood lkg) {
  return {cs::Outcome::Down, cs::Layer::Dns, "dns: NOERROR, empty answer", {}, 3.5, lkg};
}
Look refused() {
  return {
      cs::Outcome::Down, cs::Layer::Connect, "connect: connection refused", {"192.0.2.10"}, 1.25};
}

// `first` twice (healthy with rise 2), then `round` `times` times over.
std::vector<Round> rounds(const Round& first, const Round& round, std::size_t times) {
  std::vector<Round> out{first, first};
  out.insert(out.end(), times, round);
  return out;
}

Round all_up(const std::vector<std::string>& vantages) {
  Round round;
  double latency = 12.5;
  for (const auto& vantage : vantages) {
    round[vantage] = up(latency);
    latency += 7.25;
  }
  return round;
}

const std::vector<std::string> k_vantages{"cloudflare", "google", "quad9"};

// Plays `rounds` 10s apart so the last evaluation falls on `end`, and
// returns the target as GET /v1/verdicts/shop renders it. The world has
// vantages cloudflare, google, quad9 (one domain each) and the target
// `shop`; with `peer`, quad9 is peer oracle-b's, which also has a google.
json::value play(const std::vector<Round>& rounds, cs::WallTime end = k_end, bool peer = false,
                 const std::function<void(testing::World&)>& before_last = {},
                 std::optional<cs::LatencyObjective> latency = std::nullopt) {
  auto policy = testing::make_policy(
      peer ? std::vector<std::string>{"cloudflare", "google"} : k_vantages, {"shop"});
  policy.targets.front().latency = latency;
  policy.targets.front().cert_min_remaining = std::chrono::days{14};
  if (peer) {
    policy.peers = {"oracle-b"};
    policy.peer_domains["oracle-b"] = {"quad9", "google"};  // it may speak for both
  }
  testing::World world(policy);
  if (peer) {
    world.engine().add_remote_vantage({"oracle-b/quad9", "oracle-b", "quad9"});
    world.engine().add_remote_vantage({"oracle-b/google", "oracle-b", "google"});
  }
  world.clock().advance_to(end - 10s * static_cast<int>(rounds.size() - 1));
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    for (const auto& [vantage, look] : rounds[i]) {
      cs::Observation observation{"shop",   vantage,         world.now(), look.outcome, look.layer,
                                  look.lkg, look.latency_ms, look.detail, look.answers, look.cert};
      REQUIRE(world.engine().observe(observation) == cs::ObserveStatus::Accepted);
    }
    if (i + 1 == rounds.size() && before_last) {
      before_last(world);
    }
    world.evaluate();
    if (i + 1 < rounds.size()) {
      world.clock().advance(10s);
    }
  }
  snapshot::TargetView view;
  view.verdict = world.verdict("shop");
  view.divergence = snapshot::find_divergence(view.verdict.evidence);
  return snapshot::verdict_json(view, k_node);
}

json::value healthy() {
  return play(rounds(all_up(k_vantages), all_up(k_vantages), 25));
}

json::value unhealthy() {
  const Round down{{"cloudflare", refused()}, {"google", refused()}, {"quad9", refused()}};
  return play(rounds(all_up(k_vantages), down, 9));
}

// quad9 publishes an empty answer; its last-known-good address still answers.
json::value disputed() {
  Round lying = all_up(k_vantages);
  lying["quad9"] = empty_answer(cs::LastKnownGood::Reachable);
  return play(rounds(all_up(k_vantages), lying, 16));
}

json::value unknown() {
  return play(std::vector<Round>(4));
}

// Nobody has observed for 60s, and the oracle stopped evaluating 60s ago.
json::value stale() {
  const Round idle;
  return play(rounds(all_up(k_vantages), idle, 6), k_end - 60s);
}

json::value overridden() {
  return play(
      rounds(all_up(k_vantages), all_up(k_vantages), 6), k_end, false, [](testing::World& w) {
        const auto at = w.now().wall;
        REQUIRE(w.engine().set_override(
            "shop",
            cs::Override{cs::VerdictKind::Unhealthy, "failover drill", "alice", at, at + 30min}));
      });
}

// Peer oracle-b's quad9 gets SERVFAIL and cannot reach the old address;
// its google agrees with the local google (one domain, one vote).
json::value remote() {
  Round round = all_up({"cloudflare", "google", "oracle-b/google"});
  round["oracle-b/quad9"] = {
      cs::Outcome::Down, cs::Layer::Dns, "dns: SERVFAIL", {}, 48.0, cs::LastKnownGood::Unreachable};
  Round first = all_up({"cloudflare", "google", "oracle-b/google", "oracle-b/quad9"});
  return play(rounds(first, round, 8), k_end, true);
}

// Peer oracle-b's google cannot connect while the local google can: domain
// google is split, counted neither up nor down; cloudflare and oracle-b's
// quad9 are up, so the target stays healthy.
json::value split() {
  Round round = all_up({"cloudflare", "google", "oracle-b/quad9"});
  round["oracle-b/google"] = refused();
  Round first = all_up({"cloudflare", "google", "oracle-b/google", "oracle-b/quad9"});
  return play(rounds(first, round, 8), k_end, true);
}

// quad9's third empty answer in a row turns its vote down at the last
// evaluation: inside dispute_grace healthy stays published, but not fresh.
json::value grace() {
  Round lying = all_up(k_vantages);
  lying["quad9"] = empty_answer(cs::LastKnownGood::Reachable);
  auto list = rounds(all_up(k_vantages), all_up(k_vantages), 6);
  list.insert(list.end(), 3, lying);
  return play(list);
}

// cloudflare and google answer, but slower than the objective (p90 300ms
// over a minute): 2 of 3 domains degraded, none down.
json::value degraded() {
  Round slow = all_up(k_vantages);
  slow["cloudflare"] = up(912.5);
  slow["google"] = up(1040.25);
  return play(rounds(all_up(k_vantages), slow, 8), k_end, false, {},
              cs::LatencyObjective{0.9, std::chrono::milliseconds(300), std::chrono::minutes(1)});
}

// Healthy, and cloudflare's address serves a certificate 9 days from its
// end (tls.min_days 14): the others see a renewed one.
json::value cert_expiring() {
  Round round = all_up(k_vantages);
  for (auto& [vantage, look] : round) {
    look.cert = k_end + 24h * 80;
  }
  round["cloudflare"].cert = k_end + 24h * 9 + 1h;
  return play(rounds(round, round, 3));
}

const std::vector<std::pair<std::string, json::value (*)()>> k_scenarios{
    {"healthy", healthy},
    {"unhealthy", unhealthy},
    {"disputed", disputed},
    {"unknown", unknown},
    {"stale", stale},
    {"override", overridden},
    {"remote", remote},
    {"split", split},
    {"grace", grace},
    {"degraded", degraded},
    {"cert-expiring", cert_expiring}};

snapshot::TargetView read(const json::value& value) {
  auto view = snapshot::read_verdict(value);
  INFO((view ? std::string() : view.error()));
  REQUIRE(view);
  return *view;
}

// GET /v1/verdicts as `status` sees it after filling in each full verdict.
snapshot::VerdictList every_kind() {
  json::array items;
  for (const auto& [name, scenario] : k_scenarios) {
    auto item = scenario();
    item.as_object()["target"] = "shop-" + name;
    items.push_back(std::move(item));
  }
  json::object body{{"revision", 42}, {"node", k_node}, {"verdicts", std::move(items)}};
  auto list = snapshot::read_verdict_list(json::value(body));
  REQUIRE(list);
  return *list;
}

}  // namespace

TEST_CASE("explain spells out every verdict kind, vote by vote", "[golden]") {
  for (const auto& [name, scenario] : k_scenarios) {
    SECTION(name) {
      const auto value = scenario();
      check_golden("verdict-" + name + ".json", pretty(value));
      check_golden("explain-" + name + ".txt", cli::format_explain(read(value), k_now, {}));
    }
  }
}

TEST_CASE("explain with colour paints verdicts and votes", "[golden]") {
  check_golden("explain-disputed.colour.txt",
               cli::format_explain(read(disputed()), k_now, {true, false, 0}));
}

TEST_CASE("status prints one row per target, plain when piped", "[golden]") {
  const auto list = every_kind();
  check_golden("status.txt", cli::format_status(list, k_now, {}));
  check_golden("status-wide.txt", cli::format_status(list, k_now, {false, true, 0}));
}

TEST_CASE("status on a terminal adds colour and symbols and fits the width", "[golden]") {
  const auto text = cli::format_status(every_kind(), k_now, {true, false, 100});
  check_golden("status.colour.txt", text);
  for (const auto& line : lines_of(text)) {
    CHECK(cli::display_width(line) <= 100);
  }
}

TEST_CASE("the disputed explanation names the down vantage, the held verdict and divergence") {
  const auto text = cli::format_explain(read(disputed()), k_now, {});
  CHECK_THAT(text, Catch::StartsWith("shop is DISPUTED, holding its last confirmed verdict "
                                     "HEALTHY, since"));
  CHECK_THAT(text, Catch::Contains("1 of 3 failure domains down (quad9), 2 needed"));
  CHECK_THAT(text, Catch::Contains("quad9 (domain quad9) resolved an EMPTY answer while "
                                   "cloudflare and google resolved 192.0.2.10"));
  CHECK_THAT(text, Catch::Contains("DNS is broken, the service is not"));
  CHECK_THAT(text, Catch::Contains("--expect healthy                 would HOLD (exit 3)"));
  CHECK_THAT(text, Catch::Contains("scope none: no layer is confirmed failing"));
}

TEST_CASE("a peer's vantage in a domain already counted counts once") {
  const auto text = cli::format_explain(read(remote()), k_now, {});
  CHECK_THAT(text, Catch::Contains("oracle-b/google (peer oracle-b, domain google)"));
  CHECK_THAT(text, Catch::Contains("counts once with google: same failure domain google"));
}

TEST_CASE("watch prints one line per verdict change, with the held verdict and reason") {
  const auto before = snapshot::read_verdict_list(
      json::value(json::object{{"revision", 3}, {"verdicts", json::array{healthy()}}}));
  const auto after = snapshot::read_verdict_list(
      json::value(json::object{{"revision", 4}, {"verdicts", json::array{disputed()}}}));
  REQUIRE(before);
  REQUIRE(after);
  CHECK(cli::format_changes(*before, *before, {}).empty());
  const auto lines = cli::format_changes(*before, *after, {});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "2025-10-20T06:03:00Z shop  healthy -> disputed (held healthy)  gen 2  1 of 3 domains "
        "down (quad9), 2 up; down quorum 2; DNS is failing but the service still answers at its "
        "last-known-good addresses: fix DNS, do not fail over");
  const auto gone = snapshot::read_verdict_list(
      json::value(json::object{{"revision", 5}, {"verdicts", json::array{}}}));
  REQUIRE(gone);
  CHECK(cli::format_changes(*after, *gone, {}) ==
        std::vector<std::string>{"2025-10-20T06:05:00Z shop  disputed -> (removed)"});
}

TEST_CASE("ages read at a glance at each unit boundary") {
  const auto [age, text] = GENERATE(table<cs::Duration, std::string>({
      {0ms, "0s"},
      {59'999ms, "59s"},
      {60s, "1m00s"},
      {252s, "4m12s"},
      {3599s, "59m59s"},
      {3600s, "1h00m"},
      {86399s, "23h59m"},
      {86400s + 3 * 3600s, "1d03h"},
  }));
  CHECK(cli::format_age(age) == text);
}

TEST_CASE("relative times say ago, in, or just now") {
  CHECK(cli::relative_time(k_end - 252s, k_end) == "4m12s ago");
  CHECK(cli::relative_time(k_end + 30s, k_end) == "in 30s");
  CHECK(cli::relative_time(k_end - 999ms, k_end) == "just now");
}

TEST_CASE("a verdict without a target or a known verdict is refused") {
  CHECK_FALSE(snapshot::read_verdict(json::value(json::object{{"verdict", "healthy"}})));
  CHECK_FALSE(
      snapshot::read_verdict(json::value(json::object{{"target", "x"}, {"verdict", "fine"}})));
  const auto list = snapshot::read_verdict_list(json::value(json::object{{"revision", 1}}));
  REQUIRE_FALSE(list);
  CHECK(list.error() == "the answer has no \"verdicts\" list");
  const auto text = snapshot::read_verdict_list(std::string_view("{"));
  REQUIRE_FALSE(text);
  CHECK(text.error().starts_with("malformed JSON ("));
}

TEST_CASE("explain prints who set and cleared the override, from where, newest first",
          "[cli][audit]") {
  const std::string body =
      R"({"audit":[)"
      R"({"at":"2025-10-20T06:10:00Z","action":"override_cleared","principal":"oncall","client":"127.0.0.1:50320","target":"web","detail":"","outcome":"done","why":""},)"
      R"({"at":"2025-10-20T06:05:00Z","action":"recheck","principal":"failover-script","client":"[::1]:4000","target":"web","detail":"deadline=5s","outcome":"done","why":""},)"
      R"({"at":"2025-10-20T06:00:00Z","action":"override_set","principal":"oncall","client":"127.0.0.1:50312","target":"web","detail":"verdict=unhealthy ttl=30m by=\"alice\" reason=\"drill\"","outcome":"done","why":""}]})";
  CHECK(crosscheck::cli::format_override_audit(body) ==
        "override audit (newest first):\n"
        "  2025-10-20T06:10:00Z override_cleared by oncall from 127.0.0.1:50320 (done)\n"
        "  2025-10-20T06:00:00Z override_set by oncall from 127.0.0.1:50312: verdict=unhealthy "
        "ttl=30m by=\"alice\" reason=\"drill\" (done)\n");
  CHECK(crosscheck::cli::format_override_audit(R"({"audit":[]})").empty());
  // Only override lines: a target's rechecks cannot push them out of the 20 asked for.
  CHECK(crosscheck::cli::override_audit_target("db primary") ==
        "/v1/audit?limit=20&action=override_set,override_cleared&target=db%20primary");
  CHECK(crosscheck::cli::format_override_audit("not json").empty());
  CHECK(crosscheck::cli::format_override_audit(R"({"error":"unauthorized"})").empty());
}

TEST_CASE("an unreachable verdict is explained as a hold behind its parent") {
  auto value = unhealthy();
  auto& object = value.as_object();
  object["verdict"] = "unreachable";
  object["held"] = "healthy";
  object["reason_code"] = "dependency";
  object["scope"] = "none";
  object["reason"] = "parent lb-eu is unhealthy; " + std::string(object["reason"].as_string());
  const auto view = read(value);
  CHECK(view.verdict.reason_code == cs::ReasonCode::Dependency);
  const auto text = cli::format_explain(view, k_now, {});
  CHECK_THAT(text, Catch::StartsWith("shop is UNREACHABLE, holding its last confirmed verdict "
                                     "HEALTHY, since"));
  CHECK_THAT(text, Catch::Contains("reason: parent lb-eu is unhealthy; "));
  CHECK_THAT(text, Catch::Contains("would HOLD (exit 3): verdict is unreachable: parent lb-eu is "
                                   "unhealthy; the failover belongs to the parent"));
  CHECK_THAT(text, Catch::Contains("(parent lb-eu is unhealthy). No failover of this target is "
                                   "supported; act on the parent."));
  CHECK_THAT(text, !Catch::Contains("would PROCEED"));
  snapshot::VerdictList list;
  list.targets.push_back(view);
  list.has_votes.push_back(true);
  CHECK_THAT(cli::format_status(list, k_now, {}), Catch::Contains("unreachable  healthy"));
}
