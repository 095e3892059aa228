// Builds the sinks' messages. Field names are a documented contract (docs/escalations.md,
// "Escalations: webhook, Alertmanager, exec"): add fields, never rename.
#include "escalation/message.hpp"

#include "consensus/time_format.hpp"
#include "json/strings.hpp"
#include "json/write.hpp"
#include "net/hmac.hpp"
#include "net/http_target.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <cctype>

namespace crosscheck::escalation {
namespace {

namespace cs = consensus;
namespace json = boost::json;

json::value optional_time(const std::optional<cs::WallTime>& at) {
  return at ? json::value(cs::format_rfc3339(*at)) : json::value(nullptr);
}

json::object verdict_json(const std::optional<VerdictSummary>& summary) {
  json::object evidence;
  if (!summary) {
    return evidence;
  }
  evidence["votes"] = json::object{{"up", summary->votes_up},
                                   {"down", summary->votes_down},
                                   {"unknown", summary->votes_unknown},
                                   {"split", summary->votes_split}};
  evidence["down_domains"] = json_text::string_array(summary->down_domains);
  evidence["split_domains"] = json_text::string_array(summary->split_domains);
  return evidence;
}

std::string text_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

std::optional<cs::WallTime> time_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? cs::parse_rfc3339(value->get_string())
                                                : std::nullopt;
}

int count_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_int64() ? static_cast<int>(value->get_int64()) : 0;
}

// The verdict part of a parsed body: present when "verdict" is a known kind.
std::optional<VerdictSummary> parse_summary(const json::object& body) {
  const auto kind = cs::parse_verdict_kind(text_of(body, "verdict"));
  if (!kind) {
    return std::nullopt;
  }
  VerdictSummary summary;
  summary.verdict = *kind;
  summary.held = cs::parse_verdict_kind(text_of(body, "held"));
  if (const auto* generation = body.if_contains("generation");
      generation != nullptr && generation->is_int64()) {
    summary.generation = static_cast<std::uint64_t>(generation->get_int64());
  }
  const auto* evidence = body.if_contains("evidence");
  if (evidence == nullptr || !evidence->is_object()) {
    return summary;
  }
  if (const auto* votes = evidence->as_object().if_contains("votes");
      votes != nullptr && votes->is_object()) {
    summary.votes_up = count_of(votes->as_object(), "up");
    summary.votes_down = count_of(votes->as_object(), "down");
    summary.votes_unknown = count_of(votes->as_object(), "unknown");
    summary.votes_split = count_of(votes->as_object(), "split");
  }
  summary.down_domains = json_text::strings_at(evidence->as_object(), "down_domains");
  summary.split_domains = json_text::strings_at(evidence->as_object(), "split_domains");
  return summary;
}

}  // namespace

std::string_view to_string(AlertStatus status) {
  return status == AlertStatus::Firing ? "firing" : "resolved";
}

Alert make_alert(const cs::Event& event, const cs::Verdict* current, std::string node,
                 std::string api_url) {
  Alert alert;
  alert.key = event.key;
  alert.kind = std::string(cs::to_string(event.kind));
  alert.status = event.is_resolution() ? AlertStatus::Resolved : AlertStatus::Firing;
  alert.node = std::move(node);
  alert.target = event.target;
  alert.vantage = event.vantage;
  alert.reason = event.reason;
  alert.opened_at = event.at.wall;
  if (alert.status == AlertStatus::Resolved) {
    alert.resolved_at = event.at.wall;
  }
  if (current != nullptr) {
    const auto& votes = current->votes;
    alert.verdict = VerdictSummary{current->kind,      current->held, current->generation,
                                   votes.up,           votes.down,    votes.unknown,
                                   votes.down_domains, votes.split,   votes.split_domains};
  }
  alert.api_url = std::move(api_url);
  return alert;
}

std::string alert_link(const Alert& alert) {
  return alert.target.empty() ? alert.api_url + "/v1/escalations"
                              : alert.api_url + "/v1/verdicts/" + net::percent_encode(alert.target);
}

json::object alert_json(const Alert& alert) {
  const auto& summary = alert.verdict;
  return json::object{
      {"key", alert.key},
      {"kind", alert.kind},
      {"status", to_string(alert.status)},
      {"node", alert.node},
      {"target", alert.target},
      {"vantage", alert.vantage},
      {"reason", alert.reason},
      {"verdict", summary ? json::value(cs::to_string(summary->verdict)) : json::value(nullptr)},
      {"held", summary && summary->held ? json::value(cs::to_string(*summary->held))
                                        : json::value(nullptr)},
      {"generation", summary ? json::value(summary->generation) : json::value(nullptr)},
      {"opened_at", cs::format_rfc3339(alert.opened_at)},
      {"resolved_at", optional_time(alert.resolved_at)},
      {"evidence", verdict_json(summary)},
      {"api_url", alert.api_url},
      {"link", alert_link(alert)},
  };
}

std::optional<Alert> parse_alert(const json::value& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  const auto& body = value.as_object();
  Alert alert;
  alert.key = text_of(body, "key");
  alert.kind = text_of(body, "kind");
  const auto opened = time_of(body, "opened_at");
  const auto status = text_of(body, "status");
  if (alert.key.empty() || alert.kind.empty() || !opened ||
      (status != "firing" && status != "resolved")) {
    return std::nullopt;
  }
  alert.status = status == "firing" ? AlertStatus::Firing : AlertStatus::Resolved;
  alert.node = text_of(body, "node");
  alert.target = text_of(body, "target");
  alert.vantage = text_of(body, "vantage");
  alert.reason = text_of(body, "reason");
  alert.opened_at = *opened;
  alert.resolved_at = time_of(body, "resolved_at");
  alert.verdict = parse_summary(body);
  alert.api_url = text_of(body, "api_url");
  return alert;
}

std::string webhook_body(const Alert& alert) {
  return json_text::write(alert_json(alert));
}

std::string webhook_signature(std::string_view body, std::string_view key) {
  return "sha256=" + net::to_hex(net::hmac_sha256(key, body));
}

std::string alert_name(std::string_view kind) {
  std::string name = "Crosscheck";
  bool upper = true;
  for (const char c : kind) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return name;
}

std::string_view alert_severity(std::string_view kind) {
  // Why: a blast-radius hold or a lost peer means the oracle's own view of the
  // world is in doubt for many targets at once; one dispute is about one.
  return kind == "blast_radius" || kind == "peer_unreachable" || kind == "peer_unauthenticated"
             ? "critical"
             : "warning";
}

std::string alertmanager_body(const Alert& alert) {
  json::object labels{{"alertname", alert_name(alert.kind)},
                      {"kind", alert.kind},
                      {"severity", alert_severity(alert.kind)},
                      {"node", alert.node},
                      {"key", alert.key}};
  if (!alert.target.empty()) {
    labels["target"] = alert.target;
  }
  if (!alert.vantage.empty()) {
    labels["vantage"] = alert.vantage;
  }
  const std::string subject = !alert.target.empty() ? alert.target : alert.vantage;
  json::object annotations{
      {"summary", "crosscheck " + alert.kind + (subject.empty() ? "" : " on " + subject)},
      {"description", alert.reason},
      {"verdict", alert_link(alert)}};
  json::object item{{"labels", std::move(labels)},
                    {"annotations", std::move(annotations)},
                    {"startsAt", cs::format_rfc3339(alert.opened_at)},
                    {"generatorURL", alert_link(alert)}};
  if (alert.status == AlertStatus::Resolved && alert.resolved_at) {
    item["endsAt"] = cs::format_rfc3339(*alert.resolved_at);
  }
  return json_text::write(json::array{std::move(item)});
}

std::vector<std::string> exec_environment(const Alert& alert) {
  const auto& summary = alert.verdict;
  return {
      "CROSSCHECK_KEY=" + alert.key,
      "CROSSCHECK_KIND=" + alert.kind,
      "CROSSCHECK_STATUS=" + std::string(to_string(alert.status)),
      "CROSSCHECK_NODE=" + alert.node,
      "CROSSCHECK_TARGET=" + alert.target,
      "CROSSCHECK_VANTAGE=" + alert.vantage,
      "CROSSCHECK_REASON=" + alert.reason,
      "CROSSCHECK_VERDICT=" + std::string(summary ? cs::to_string(summary->verdict) : ""),
      "CROSSCHECK_HELD=" +
          std::string(summary && summary->held ? cs::to_string(*summary->held) : ""),
      "CROSSCHECK_GENERATION=" + (summary ? std::to_string(summary->generation) : ""),
      "CROSSCHECK_OPENED_AT=" + cs::format_rfc3339(alert.opened_at),
      "CROSSCHECK_RESOLVED_AT=" +
          (alert.resolved_at ? cs::format_rfc3339(*alert.resolved_at) : std::string()),
      "CROSSCHECK_LINK=" + alert_link(alert),
  };
}

}  // namespace crosscheck::escalation
