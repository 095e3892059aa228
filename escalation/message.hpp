// What the escalation sinks send: the webhook's JSON body and signature, the
// Alertmanager v2 alert and the exec sink's environment, all built from one
// Alert. Pure: no I/O, no clock reads (times come in the Alert).
#pragma once

#include "consensus/types.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::escalation {

enum class AlertStatus : std::uint8_t { Firing, Resolved };
std::string_view to_string(AlertStatus status);

// The target's verdict when the escalation was raised or resolved.
struct VerdictSummary {
  consensus::VerdictKind verdict = consensus::VerdictKind::Unknown;
  std::optional<consensus::VerdictKind> held;
  std::uint64_t generation = 0;
  int votes_up = 0;
  int votes_down = 0;
  int votes_unknown = 0;
  std::vector<std::string> down_domains;
  int votes_split = 0;  // domains whose own vantages disagree
  std::vector<std::string> split_domains;
  friend bool operator==(const VerdictSummary&, const VerdictSummary&) = default;
};

// One escalation episode as a sink sees it; `key` is the episode's identity.
struct Alert {
  std::string key;
  std::string kind;  // the opening event's kind: "dispute", "vantage_suspect", ...
  AlertStatus status = AlertStatus::Firing;
  std::string node;
  std::string target;   // empty for vantage and config escalations
  std::string vantage;  // set for vantage escalations
  std::string reason;
  consensus::WallTime opened_at;
  std::optional<consensus::WallTime> resolved_at;
  std::optional<VerdictSummary> verdict;
  std::string api_url;  // this node's API root, for links ("http://127.0.0.1:9470")
  friend bool operator==(const Alert&, const Alert&) = default;
};

// An escalation event (opening or resolving) as an Alert; `current` is the
// target's verdict now, or null. A resolution carries its own kind here; the
// dispatcher keeps the opening kind and time of the episode it closes.
Alert make_alert(const consensus::Event& event, const consensus::Verdict* current, std::string node,
                 std::string api_url);

// The link a human follows: the target's verdict, else the open escalations.
std::string alert_link(const Alert& alert);

// The webhook body (docs/escalations.md): also the form the delivery state
// file keeps, so parse_alert(alert_json(a)) == a.
boost::json::object alert_json(const Alert& alert);
std::optional<Alert> parse_alert(const boost::json::value& value);
std::string webhook_body(const Alert& alert);

// "sha256=<lower-case hex HMAC-SHA256 of body keyed with key>".
std::string webhook_signature(std::string_view body, std::string_view key);
constexpr std::string_view k_signature_header = "X-Crosscheck-Signature";

// "dispute" -> "CrosscheckDispute", "vantage_suspect" -> "CrosscheckVantageSuspect".
std::string alert_name(std::string_view kind);
// "critical" when the observer itself is in doubt at scale, else "warning".
std::string_view alert_severity(std::string_view kind);
// The body of POST /api/v2/alerts: an array with this one alert; endsAt only
// once resolved (while firing, re-sending keeps it alive).
std::string alertmanager_body(const Alert& alert);

// "NAME=value" entries the exec sink adds to its child's environment.
std::vector<std::string> exec_environment(const Alert& alert);

}  // namespace crosscheck::escalation
