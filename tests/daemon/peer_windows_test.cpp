// The maintenance windows in the peer export: what a node sends (its own,
// live and cleared, only to a puller that asks), what the decoder refuses,
// and that replies of either age keep working both ways.
#include "peers/protocol.hpp"
#include "peers/window_codec.hpp"

#include "api/router.hpp"
#include "consensus/time_format.hpp"
#include "peers/auth.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

namespace cs = crosscheck::consensus;
namespace json = boost::json;
using crosscheck::peers::decode_export;
using crosscheck::peers::export_votes;
using crosscheck::snapshot::Snapshot;
using namespace std::chrono_literals;

const cs::WallTime k_wall = *cs::parse_rfc3339("2026-12-04T10:00:00Z");
const cs::Instant k_now{cs::MonoTime{k_wall.time_since_epoch()}, k_wall};

cs::SharedWindow window(std::string target, cs::WallTime set_at, cs::Duration ttl,
                        std::optional<cs::WallTime> cleared_at = std::nullopt) {
  return cs::SharedWindow{
      std::move(target),
      cs::AdHocMaintenance{"kernel upgrade", "alice", set_at, set_at + ttl, "oracle-a"},
      cleared_at};
}

Snapshot snapshot_with_windows(std::vector<cs::SharedWindow> windows) {
  Snapshot snapshot;
  snapshot.node = "oracle-a";
  snapshot.windows = std::make_shared<const std::vector<cs::SharedWindow>>(std::move(windows));
  return snapshot;
}

// oracle-a's export with one window whose `field` is `value` (JSON text).
std::string export_with_window(std::string_view field, std::string_view value) {
  json::object item{{"target", "db"},
                    {"node", "oracle-a"},
                    {"set_at", "2026-12-04T09:59:00Z"},
                    {"expires_at", "2026-12-04T10:44:00Z"},
                    {"reason", "kernel upgrade"},
                    {"by", "alice"},
                    {"cleared_at", nullptr}};
  if (!field.empty()) {
    item[field] = json::parse(value);
  }
  json::object body{{"node", "oracle-a"},
                    {"version", 1},
                    {"votes", json::array{}},
                    {"windows", json::array{item}}};
  return json::serialize(body);
}

}  // namespace

TEST_CASE("an export carries this node's windows, live and cleared, to a puller that asks",
          "[peers][windows]") {
  const auto snapshot = snapshot_with_windows(
      {window("db", k_wall - 1min, 45min), window("group:web", k_wall - 10min, 1h, k_wall - 2min),
       window("old", k_wall - 2h, 1h)});
  const auto parsed = json::parse(export_votes(snapshot, k_now, true)).as_object();
  const auto& windows = parsed.at("windows").as_array();
  REQUIRE(windows.size() == 2);  // "old" ended an hour ago: nothing to say about it
  const auto& live = windows[0].as_object();
  CHECK(live.at("target") == "db");
  CHECK(live.at("node") == "oracle-a");
  CHECK(live.at("set_at") == "2026-12-04T09:59:00Z");
  CHECK(live.at("expires_at") == "2026-12-04T10:44:00Z");
  CHECK(live.at("reason") == "kernel upgrade");
  CHECK(live.at("by") == "alice");
  CHECK(live.at("cleared_at").is_null());
  CHECK(windows[1].as_object().at("cleared_at") == "2026-12-04T09:58:00Z");

  std::string why;
  const auto decoded = decode_export(export_votes(snapshot, k_now, true), "oracle-a", why);
  REQUIRE(decoded);
  REQUIRE(decoded->windows.size() == 2);
  CHECK(decoded->windows[0] == snapshot.windows->at(0));
  CHECK(decoded->windows[1] == snapshot.windows->at(1));
}

TEST_CASE("a puller that does not ask gets no windows key, which an older decoder refuses",
          "[peers][windows]") {
  const auto snapshot = snapshot_with_windows({window("db", k_wall - 1min, 45min)});
  const auto parsed = json::parse(export_votes(snapshot, k_now)).as_object();
  CHECK_FALSE(parsed.contains("windows"));
  CHECK(crosscheck::peers::asks_for_windows(crosscheck::peers::k_peer_votes_request));
  CHECK(crosscheck::peers::asks_for_windows("/base/v1/peer/votes?x=1&windows=1"));
  CHECK_FALSE(crosscheck::peers::asks_for_windows("/v1/peer/votes"));
  CHECK_FALSE(crosscheck::peers::asks_for_windows("/v1/peer/votes?windows=10"));
}

TEST_CASE("a reply without windows (an older peer) decodes as no windows", "[peers][windows]") {
  std::string why;
  const auto decoded =
      decode_export(R"({"node":"oracle-a","version":1,"votes":[],"actions":[]})", "oracle-a", why);
  REQUIRE(decoded);
  CHECK(decoded->windows.empty());
  const auto empty = decode_export(export_with_window("", ""), "oracle-a", why);
  REQUIRE(empty);
  CHECK(empty->windows.size() == 1);
}

TEST_CASE("the peer route sends the windows only when the pull asks for them", "[peers][windows]") {
  using crosscheck::api::ApiResponse;
  const auto snapshot = snapshot_with_windows({window("db", k_wall - 1min, 45min)});
  crosscheck::peers::PeerAuth verified;
  verified.status = crosscheck::peers::PeerAuthStatus::Ok;
  verified.node = "oracle-b";
  verified.key = "secret";
  verified.timestamp = "1760940000";
  verified.nonce = "00112233445566778899aabbccddeeff";
  crosscheck::api::ApiRequest request;
  request.method = "GET";
  request.peer = &verified;
  request.target = std::string(crosscheck::peers::k_peer_votes_request);
  const auto asked =
      std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now));
  CHECK(asked.status == 200);
  CHECK_THAT(asked.body, Catch::Contains(R"("windows":[{"target":"db")"));
  request.target = "/v1/peer/votes";
  const auto older =
      std::get<ApiResponse>(crosscheck::api::handle_request(request, snapshot, k_now));
  CHECK(older.status == 200);
  CHECK_THAT(older.body, !Catch::Contains("windows"));
}

TEST_CASE("a malformed window is left out alone and counted and says what", "[peers][windows]") {
  const auto [field, value, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"target", R"("db/../x")", "target must be"},
      {"target", R"("group:")", "target must be"},
      {"node", R"("")", "node must be a name"},
      {"node", "1", "node must be a name"},
      {"set_at", R"("yesterday")", "set_at must be an RFC 3339 time"},
      {"expires_at", "null", "expires_at must be an RFC 3339 time"},
      {"reason", R"("")", "reason must be a string of 1 to 1024"},
      {"reason", R"("line\nbreak")", "without control characters"},
      {"by", "\"" + std::string(257, 'b') + "\"", "by must be a string of 1 to 256"},
      {"cleared_at", R"("soon")", "cleared_at must be null or an RFC 3339 time"},
      {"extra", "1", "unknown field 'extra'"},
  }));
  CAPTURE(field, value);
  // The bad window between two good ones, beside a vote: all else is kept.
  auto body = json::parse(export_with_window("", "")).as_object();
  const auto good = body.at("windows").at(0);
  auto other = good;
  other.as_object()["target"] = "web";
  body["windows"] =
      json::array{good, json::parse(export_with_window(field, value)).at("windows").at(0), other};
  body["votes"] = json::array{json::object{{"target", "web"},
                                           {"vantage", "quad9"},
                                           {"domain", "quad9"},
                                           {"vote", "up"},
                                           {"age_ms", 1200},
                                           {"layer", "none"},
                                           {"detail", ""},
                                           {"answers", json::array{}},
                                           {"latency_ms", 2.5}}};
  std::string why;
  const auto decoded = decode_export(json::serialize(body), "oracle-a", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->votes.size() == 1);
  REQUIRE(decoded->windows.size() == 2);
  CHECK(decoded->windows[0].target == "db");
  CHECK(decoded->windows[1].target == "web");
  CHECK(decoded->malformed == 1);
  CHECK_THAT(decoded->first_malformed,
             Catch::StartsWith("windows[1]: ") && Catch::Contains(expected));
}

TEST_CASE("the decoder keeps the first 500 windows of an export and counts the rest left out",
          "[peers][windows]") {
  json::array windows;
  const auto one = json::parse(export_with_window("", "")).as_object().at("windows").at(0);
  for (std::size_t i = 0; i < crosscheck::peers::k_peer_max_windows + 2; ++i) {
    windows.emplace_back(one);
  }
  json::object body{
      {"node", "oracle-a"}, {"version", 1}, {"votes", json::array{}}, {"windows", windows}};
  std::string why;
  auto decoded = decode_export(json::serialize(body), "oracle-a", why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->windows.size() == 500);
  CHECK(decoded->malformed == 2);
  CHECK(decoded->first_malformed == "windows[500] on: 2 entries past the first 500 left out");
  windows.pop_back();
  windows.pop_back();
  body["windows"] = windows;
  decoded = decode_export(json::serialize(body), "oracle-a", why);
  REQUIRE(decoded);
  CHECK(decoded->windows.size() == 500);
  CHECK(decoded->malformed == 0);
  CHECK_FALSE(
      decode_export(R"({"node":"oracle-a","version":1,"votes":[],"windows":{}})", "oracle-a", why));
}

TEST_CASE("an export carries at most 500 windows", "[peers][windows]") {
  std::vector<cs::SharedWindow> many;
  for (int i = 0; i < 600; ++i) {
    many.push_back(window("t" + std::to_string(i), k_wall - 1min, 1h));
  }
  const auto parsed =
      json::parse(export_votes(snapshot_with_windows(std::move(many)), k_now, true)).as_object();
  CHECK(parsed.at("windows").as_array().size() == 500);
}
