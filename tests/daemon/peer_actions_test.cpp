// The action ledger on the peer wire: an export carries the entries still
// in cooldown (bounded), they decode back as they were, and a malformed
// list refuses the whole export (a broken peer's reply moves nothing).
#include "peers/protocol.hpp"

#include "consensus/time_format.hpp"
#include "snapshot/action_json.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

namespace cs = crosscheck::consensus;
namespace json = boost::json;
using crosscheck::peers::decode_export;
using crosscheck::peers::export_votes;
using crosscheck::peers::k_peer_max_actions;
using crosscheck::snapshot::Snapshot;
using namespace std::chrono_literals;

const cs::WallTime k_wall = *cs::parse_rfc3339("2026-12-04T10:00:00Z");
const cs::Instant k_now{cs::MonoTime{k_wall.time_since_epoch()}, k_wall};

cs::RecordedAction action(std::string id, cs::WallTime until) {
  cs::RecordedAction out;
  out.node = id.substr(0, id.rfind('-'));
  out.id = std::move(id);
  out.target = "db";
  out.by = "bot";
  out.what = "promote db-2";
  out.at = until - 1h;
  out.cooldown_until = until;
  return out;
}

Snapshot with_actions(std::vector<cs::RecordedAction> actions) {
  Snapshot snapshot;
  snapshot.node = "oracle-b";
  snapshot.actions = std::make_shared<const std::vector<cs::RecordedAction>>(std::move(actions));
  return snapshot;
}

std::string export_with_actions(const json::value& actions) {
  json::object body{{"node", "oracle-b"}, {"version", 1}, {"votes", json::array{}}};
  body["actions"] = actions;
  return json::serialize(body);
}

}  // namespace

TEST_CASE("an export carries the ledger's live entries, and they decode back as they were",
          "[peers][actions]") {
  auto acked = action("oracle-c-4", k_wall + 10min);  // relayed from a third node
  acked.ack = cs::ActionAck{"alice", "fine", k_wall - 1min, "oracle-c"};
  const auto live = action("oracle-b-7", k_wall + 50min);
  const auto over = action("oracle-b-6", k_wall - 1s);  // its cooldown ended: not sent
  const auto body = export_votes(with_actions({live, acked, over}), k_now);
  std::string why;
  const auto decoded = decode_export(body, "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  REQUIRE(decoded->actions.size() == 2);
  CHECK(decoded->actions[0] == live);
  CHECK(decoded->actions[1] == acked);
  // An older peer sends no "actions": its votes still count.
  const auto old = decode_export(R"({"node":"oracle-b","version":1,"votes":[]})", "oracle-b", why);
  REQUIRE(old);
  CHECK(old->actions.empty());
}

TEST_CASE("an export carries at most the newest live entries it may", "[peers][actions]") {
  std::vector<cs::RecordedAction> many;
  for (std::size_t i = 0; i < k_peer_max_actions + 20; ++i) {
    many.push_back(action("oracle-b-" + std::to_string(i + 1), k_wall + 1h));
  }
  const auto parsed = json::parse(export_votes(with_actions(many), k_now)).as_object();
  CHECK(parsed.at("actions").as_array().size() == k_peer_max_actions);
}

TEST_CASE("an export carries this node's own entries first, whatever a peer flooded it with",
          "[peers][actions]") {
  std::vector<cs::RecordedAction> flood;
  for (std::size_t i = 0; i < k_peer_max_actions + 20; ++i) {
    auto entry = action("oracle-x-" + std::to_string(i + 1), k_wall + 2h);
    entry.at = k_wall + 59s;  // "newer" than anything of ours
    flood.push_back(entry);
  }
  flood.push_back(action("oracle-b-3", k_wall + 30min));  // ours, oldest of all
  const auto parsed = json::parse(export_votes(with_actions(flood), k_now)).as_object();
  const auto& sent = parsed.at("actions").as_array();
  REQUIRE(sent.size() == k_peer_max_actions);
  CHECK(sent[0].at("id") == "oracle-b-3");
}

TEST_CASE("a malformed ledger entry is left out alone but a malformed list refuses the export",
          "[peers][actions]") {
  const auto good = crosscheck::snapshot::action_json(action("oracle-b-1", k_wall + 1h));
  auto bad_time = good;
  bad_time["at"] = "yesterday";
  auto bad_node = good;
  bad_node["node"] = "oracle b";
  auto bad_ack = good;
  bad_ack["ack"] = "alice";
  auto no_for = good;
  no_for.erase("for");
  const auto other = crosscheck::snapshot::action_json(action("oracle-b-2", k_wall + 1h));
  // The list itself: the envelope is off, nothing of it is read.
  std::string why;
  CHECK_FALSE(decode_export(export_with_actions(json::value("x")), "oracle-b", why));
  CHECK_THAT(why, Catch::Contains("actions") && Catch::Contains("array"));
  // One entry: it alone is left out, between two good ones.
  const auto [label, entry, mentions] = GENERATE_COPY(table<std::string, json::value, std::string>({
      {"a bad time", json::value(bad_time), "'at'"},
      {"a bad node name", json::value(bad_node), "names"},
      {"a bad ack", json::value(bad_ack), "'ack'"},
      {"no for", json::value(no_for), "'for'"},
      {"not an object", json::value(7), "object"},
  }));
  INFO(label);
  const auto decoded =
      decode_export(export_with_actions(json::array{good, entry, other}), "oracle-b", why);
  INFO(why);
  REQUIRE(decoded);
  REQUIRE(decoded->actions.size() == 2);
  CHECK(decoded->actions[0].id == "oracle-b-1");
  CHECK(decoded->actions[1].id == "oracle-b-2");
  CHECK(decoded->malformed == 1);
  CHECK_THAT(decoded->first_malformed,
             Catch::StartsWith("actions[1]: ") && Catch::Contains(mentions));
}
