#include "escalation/message.hpp"

#include "consensus/time_format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

namespace {

using namespace crosscheck::escalation;
namespace cs = crosscheck::consensus;
namespace json = boost::json;

cs::WallTime at(std::string_view text) {
  return cs::parse_rfc3339(text).value_or(cs::WallTime{});
}

cs::Event dispute_opened() {
  cs::Event event;
  event.kind = cs::EventKind::DisputeOpened;
  event.key = "dispute/web/3";
  event.at = cs::Instant{cs::MonoTime{}, at("2026-01-02T03:04:05Z")};
  event.target = "web";
  event.reason = "1 of 3 domains says down (beta)";
  return event;
}

cs::Verdict disputed_verdict() {
  cs::Verdict verdict;
  verdict.target = "web";
  verdict.kind = cs::VerdictKind::Disputed;
  verdict.held = cs::VerdictKind::Healthy;
  verdict.generation = 3;
  verdict.votes.up = 2;
  verdict.votes.down = 1;
  verdict.votes.down_domains = {"beta"};
  return verdict;
}

Alert firing() {
  const auto verdict = disputed_verdict();
  return make_alert(dispute_opened(), &verdict, "oracle-a", "http://127.0.0.1:9470");
}

json::object parsed(const std::string& text) {
  return json::parse(text).as_object();
}

}  // namespace

TEST_CASE("the webhook body carries the documented fields of a firing dispute",
          "[escalation][message]") {
  const auto body = parsed(webhook_body(firing()));
  CHECK(body.at("key") == "dispute/web/3");
  CHECK(body.at("kind") == "dispute");
  CHECK(body.at("status") == "firing");
  CHECK(body.at("node") == "oracle-a");
  CHECK(body.at("target") == "web");
  CHECK(body.at("reason") == "1 of 3 domains says down (beta)");
  CHECK(body.at("verdict") == "disputed");
  CHECK(body.at("held") == "healthy");
  CHECK(body.at("generation") == 3);
  CHECK(body.at("opened_at") == "2026-01-02T03:04:05Z");
  CHECK(body.at("resolved_at").is_null());
  CHECK(json::serialize(body.at("evidence")) ==
        R"({"votes":{"up":2,"down":1,"unknown":0,"split":0},"down_domains":["beta"],)"
        R"("split_domains":[]})");
  CHECK(body.at("link") == "http://127.0.0.1:9470/v1/verdicts/web");
}

TEST_CASE("a resolution is a resolved message with its time", "[escalation][message]") {
  auto event = dispute_opened();
  event.kind = cs::EventKind::DisputeResolved;
  event.at.wall = at("2026-01-02T03:10:00Z");
  const auto alert = make_alert(event, nullptr, "oracle-a", "http://h:1");
  const auto body = parsed(webhook_body(alert));
  CHECK(body.at("status") == "resolved");
  CHECK(body.at("resolved_at") == "2026-01-02T03:10:00Z");
  CHECK(body.at("verdict").is_null());
}

TEST_CASE("a vantage escalation links to the open escalations", "[escalation][message]") {
  cs::Event event;
  event.kind = cs::EventKind::VantageSuspect;
  event.key = "suspect/beta/x";
  event.vantage = "beta";
  const auto alert = make_alert(event, nullptr, "n", "http://h:1");
  CHECK(alert_link(alert) == "http://h:1/v1/escalations");
  CHECK(parsed(webhook_body(alert)).at("vantage") == "beta");
}

TEST_CASE("the body parses back to the same alert (the state file relies on it)",
          "[escalation][message]") {
  const auto alert = firing();
  CHECK(parse_alert(json::parse(webhook_body(alert))) == alert);
  auto resolved = alert;
  resolved.status = AlertStatus::Resolved;
  resolved.resolved_at = at("2026-01-02T04:00:00Z");
  resolved.verdict.reset();
  CHECK(parse_alert(json::parse(webhook_body(resolved))) == resolved);
  CHECK_FALSE(parse_alert(json::parse(R"({"key":"k"})")));
}

TEST_CASE("a split escalation names the split domains and parses back with them",
          "[escalation][message]") {
  cs::Event event;
  event.kind = cs::EventKind::SplitOpened;
  event.key = "split/web/3";
  event.at = cs::Instant{cs::MonoTime{}, at("2026-01-02T03:04:05Z")};
  event.target = "web";
  event.reason = "failure domains split, their own vantages disagree: 2 of 3 domains up";
  cs::Verdict verdict;
  verdict.target = "web";
  verdict.kind = cs::VerdictKind::Healthy;
  verdict.generation = 3;
  verdict.votes.up = 2;
  verdict.votes.split = 1;
  verdict.votes.split_domains = {"beta"};
  const auto alert = make_alert(event, &verdict, "oracle-a", "http://h:1");
  const auto body = parsed(webhook_body(alert));
  CHECK(body.at("kind") == "split");
  CHECK(json::serialize(body.at("evidence")) ==
        R"({"votes":{"up":2,"down":0,"unknown":0,"split":1},"down_domains":[],)"
        R"("split_domains":["beta"]})");
  CHECK(parse_alert(json::parse(webhook_body(alert))) == alert);
}

TEST_CASE("the signature is the HMAC-SHA256 of the body with the shared key",
          "[escalation][message]") {
  // RFC 4231, test case 2.
  CHECK(webhook_signature("what do ya want for nothing?", "Jefe") ==
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const auto body = webhook_body(firing());
  CHECK(webhook_signature(body, "key-1") != webhook_signature(body, "key-2"));
  CHECK(webhook_signature(body + " ", "key-1") != webhook_signature(body, "key-1"));
}

TEST_CASE("alert names and severities follow the escalation kind", "[escalation][message]") {
  CHECK(alert_name("dispute") == "CrosscheckDispute");
  CHECK(alert_name("vantage_suspect") == "CrosscheckVantageSuspect");
  CHECK(alert_name("config_rejected") == "CrosscheckConfigRejected");
  CHECK(alert_name("split") == "CrosscheckSplit");
  CHECK(alert_name("quorum_unreachable") == "CrosscheckQuorumUnreachable");
  CHECK(alert_name("canary_down") == "CrosscheckCanaryDown");
  CHECK(alert_severity("split") == "warning");
  CHECK(alert_severity("quorum_unreachable") == "warning");
  CHECK(alert_severity("canary_down") == "warning");
  CHECK(alert_severity("dispute") == "warning");
  CHECK(alert_severity("vantage_suspect") == "warning");
  CHECK(alert_severity("blast_radius") == "critical");
  CHECK(alert_severity("peer_unreachable") == "critical");
}

TEST_CASE("the Alertmanager alert has labels, annotations and endsAt only once resolved",
          "[escalation][message]") {
  auto alert = firing();
  const auto array = json::parse(alertmanager_body(alert)).as_array();
  REQUIRE(array.size() == 1);
  const auto& item = array[0].as_object();
  const auto& labels = item.at("labels").as_object();
  CHECK(labels.at("alertname") == "CrosscheckDispute");
  CHECK(labels.at("target") == "web");
  CHECK(labels.at("kind") == "dispute");
  CHECK(labels.at("severity") == "warning");
  CHECK(labels.at("node") == "oracle-a");
  const auto& annotations = item.at("annotations").as_object();
  CHECK(annotations.at("description") == "1 of 3 domains says down (beta)");
  CHECK(annotations.at("verdict") == "http://127.0.0.1:9470/v1/verdicts/web");
  CHECK(item.at("startsAt") == "2026-01-02T03:04:05Z");
  CHECK(item.at("generatorURL") == "http://127.0.0.1:9470/v1/verdicts/web");
  CHECK_FALSE(item.contains("endsAt"));

  alert.status = AlertStatus::Resolved;
  alert.resolved_at = at("2026-01-02T03:10:00Z");
  const auto resolved = json::parse(alertmanager_body(alert)).as_array();
  CHECK(resolved[0].as_object().at("endsAt") == "2026-01-02T03:10:00Z");
}

TEST_CASE("the exec environment names every field", "[escalation][message]") {
  const auto environment = exec_environment(firing());
  const auto has = [&](const std::string& entry) {
    return std::find(environment.begin(), environment.end(), entry) != environment.end();
  };
  CHECK(has("CROSSCHECK_KEY=dispute/web/3"));
  CHECK(has("CROSSCHECK_KIND=dispute"));
  CHECK(has("CROSSCHECK_STATUS=firing"));
  CHECK(has("CROSSCHECK_TARGET=web"));
  CHECK(has("CROSSCHECK_REASON=1 of 3 domains says down (beta)"));
  CHECK(has("CROSSCHECK_VERDICT=disputed"));
  CHECK(has("CROSSCHECK_HELD=healthy"));
  CHECK(has("CROSSCHECK_GENERATION=3"));
  CHECK(has("CROSSCHECK_NODE=oracle-a"));
  CHECK(has("CROSSCHECK_LINK=http://127.0.0.1:9470/v1/verdicts/web"));
}
