// Field by field, the REST contract's JSON. One function per shape; the
// verdict with evidence is the summary plus its detail, so the two never
// disagree on a shared field.
#include "snapshot/json_views.hpp"
#include "snapshot/body_fields.hpp"

#include "config/types.hpp"
#include "consensus/time_format.hpp"
#include "json/consensus_json.hpp"
#include "json/strict.hpp"
#include "json/strings.hpp"
#include "json/write.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <initializer_list>

namespace crosscheck::snapshot {
namespace {

namespace cs = consensus;
namespace json = boost::json;

json::value text_or_null(std::string_view text) {
  if (text.empty()) {
    return nullptr;
  }
  return json::string(text);
}

json::value verdict_kind_or_null(const std::optional<cs::VerdictKind>& kind) {
  if (!kind) {
    return nullptr;
  }
  return json::string(cs::to_string(*kind));
}

json::value layer_or_null(const std::optional<cs::Layer>& layer) {
  if (!layer || *layer == cs::Layer::None) {
    return nullptr;
  }
  return json::string(cs::to_string(*layer));
}

json::object divergence_json(const Divergence& divergence) {
  json::object out;
  out["vantage"] = divergence.vantage;
  out["domain"] = divergence.domain;
  out["answers"] = json_text::string_array(divergence.answers);
  return out;
}

// One vote as the engine counted it, with the newest observation behind it
// (null fields when the vantage has not observed this target yet).
json::object evidence_json(const cs::Evidence& evidence, std::string_view local_node) {
  json::object out;
  out["vantage"] = evidence.vantage;
  out["node"] = text_or_null(evidence.node.empty() ? local_node : evidence.node);
  out["domain"] = evidence.domain;
  out["vote"] = cs::to_string(evidence.vote);
  // The vote before suspicion and staleness took it away: with `suspect`
  // and `stale`, why a vantage that sees the target down is not counted.
  out["raw_vote"] = cs::to_string(evidence.raw_vote);
  out["suspect"] = evidence.suspect;
  out["stale"] = evidence.stale;
  // The latency objective's quantile over its window (docs/degraded.md).
  out["window_latency_ms"] =
      evidence.window_latency_ms ? json::value(*evidence.window_latency_ms) : json::value(nullptr);
  out["last_observed"] =
      evidence.last_observed ? time_json(evidence.last_observed->wall) : json::value(nullptr);
  // The certificate this vantage last saw (docs/checks.md "Certificates").
  out["cert_not_after"] = time_json(evidence.cert_not_after);
  // The DNSSEC signatures over the answer it last saw (docs/checks.md "DNSSEC").
  out["rrsig_expires"] = time_json(evidence.rrsig_expires);
  if (evidence.last) {
    const cs::Observation& last = *evidence.last;
    out["outcome"] = cs::to_string(last.outcome);
    out["latency_ms"] = last.latency_ms;
    out["layer"] = layer_or_null(last.layer);
    out["detail"] = text_or_null(last.detail);
    out["answers"] = json_text::string_array(last.answers);
  } else {
    out["outcome"] = nullptr;
    out["latency_ms"] = nullptr;
    out["layer"] = nullptr;
    out["detail"] = nullptr;
    out["answers"] = nullptr;
  }
  return out;
}

json::value override_or_null(const std::optional<cs::Override>& value) {
  if (!value) {
    return nullptr;
  }
  json::object out;
  out["verdict"] = cs::to_string(value->verdict);
  out["reason"] = value->reason;
  out["by"] = text_or_null(value->by);
  out["set_at"] = cs::format_rfc3339(value->set_at);
  out["expires_at"] = cs::format_rfc3339(value->expires_at);
  return out;
}

json::value maintenance_or_null(const std::optional<cs::MaintenanceView>& value) {
  if (!value) {
    return nullptr;
  }
  return json::value_from(*value);
}

json::value cooldown_or_null(const std::optional<cs::CooldownView>& value) {
  if (!value) {
    return nullptr;
  }
  json::object out;
  out["action"] = value->action_id;
  out["by"] = value->by;
  out["what"] = value->what;
  out["since"] = cs::format_rfc3339(value->since);
  out["until"] = cs::format_rfc3339(value->until);
  return out;
}

// A group's verdict: the threshold and its members as counted.
json::value group_or_null(const std::optional<cs::GroupView>& value) {
  if (!value) {
    return nullptr;
  }
  json::array members;
  for (const auto& member : value->members) {
    json::object item;
    item["target"] = member.target;
    item["verdict"] = cs::to_string(member.kind);
    item["fresh"] = member.fresh;
    item["maintenance"] = member.maintenance;
    item["override"] = member.overridden;
    members.emplace_back(std::move(item));
  }
  json::object out;
  out["healthy_at_least"] = value->healthy_at_least;
  out["members"] = std::move(members);
  return out;
}

json::value last_known_good_or_null(cs::LastKnownGood value) {
  if (value == cs::LastKnownGood::NotTried) {
    return nullptr;
  }
  return json::string(cs::to_string(value));
}

}  // namespace

namespace detail {

// Reads `name` from a JSON object as a string; false when present but not one.
bool string_field(const json::object& body, std::string_view name,
                  std::optional<std::string>& out) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr) {
    return true;
  }
  if (!value->is_string()) {
    return false;
  }
  out = std::string(value->as_string());
  return true;
}

// Parses a write's JSON object body, allowing only `names` as keys.
Expected<json::object> parse_object(std::string_view text,
                                    std::initializer_list<std::string_view> names) {
  // Why strict: {"verdict": "healthy", "verdict": "unhealthy"} would set
  // whichever one json::parse kept, while the caller's review (or log) may
  // show the other.
  auto strict = json_text::parse_strict_json(text);
  if (!strict.duplicate.empty()) {
    return fail("field '" + strict.duplicate + "' given twice");
  }
  if (!strict.value || !strict.value->is_object()) {
    return fail("the body must be a JSON object");
  }
  auto& parsed = *strict.value;
  for (const auto& item : parsed.as_object()) {
    if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
      return fail("unknown field '" + std::string(item.key()) + "'");
    }
  }
  return std::move(parsed.as_object());
}

// True when `text` holds a control character: C0, DEL, C1 (U+0080 to
// U+009F), a line or paragraph separator (U+2028, U+2029) or a bidi
// formatting character (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066
// to U+2069). Why refused: `by` and `reason` go into log lines, the audit
// log and `crosscheck explain` on a terminal; a newline there forged a
// whole log line ("...reason=\"x\"\n<time> NOTICE reload applied ...") and
// an escape sequence rewrote the operator's terminal (found by hostile
// review); a right-to-left override shows "rm 03-db" to a reviewer for
// bytes that read otherwise (CVE-2021-42574, "Trojan Source").
bool has_control(std::string_view text) {
  const auto byte_at = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0U;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned first = byte_at(i);
    const unsigned second = byte_at(i + 1);
    const unsigned third = byte_at(i + 2);
    if (first < 0x20 || first == 0x7f) {
      return true;
    }
    if (first == 0xC2 && second >= 0x80 && second <= 0x9F) {  // C1
      return true;
    }
    if (first == 0xD8 && second == 0x9C) {  // U+061C arabic letter mark
      return true;
    }
    if (first == 0xE2 && second == 0x80 &&
        (third == 0x8E || third == 0x8F || (third >= 0xA8 && third <= 0xAE))) {
      return true;  // U+200E, U+200F, U+2028 to U+202E
    }
    if (first == 0xE2 && second == 0x81 && third >= 0xA6 && third <= 0xA9) {
      return true;  // U+2066 to U+2069
    }
  }
  return false;
}

// The actor named by {"by": "..."}, or k_default_actor; an Error when bad.
Expected<std::string> actor(const std::optional<std::string>& by) {
  if (!by) {
    return std::string(k_default_actor);
  }
  if (by->empty() || by->size() > k_max_by_bytes || has_control(*by)) {
    return fail("by must be 1 to " + std::to_string(k_max_by_bytes) +
                " bytes without control characters");
  }
  return *by;
}

}  // namespace detail

using namespace detail;

// The reason, ttl and by that an override and a maintenance window share,
// as an ad-hoc window from `now`.
Expected<cs::AdHocMaintenance> read_operator_note(const json::object& object, cs::WallTime now) {
  std::optional<std::string> reason;
  std::optional<std::string> ttl;
  std::optional<std::string> by;
  if (!string_field(object, "reason", reason) || !string_field(object, "ttl", ttl) ||
      !string_field(object, "by", by)) {
    return fail("reason, ttl and by must be strings");
  }
  if (!reason || reason->empty() || reason->size() > k_max_reason_bytes || has_control(*reason)) {
    return fail("reason is required (1 to " + std::to_string(k_max_reason_bytes) +
                " bytes, without control characters such as a newline)");
  }
  const auto duration = ttl ? config::parse_duration(*ttl) : std::nullopt;
  if (!duration || *duration <= config::Duration::zero() || *duration > k_max_override_ttl) {
    return fail("ttl must be a positive duration of at most 7d, such as 30m");
  }
  auto who = actor(by);
  if (!who) {
    return fail(who.error());
  }
  return cs::AdHocMaintenance{std::move(*reason), std::move(*who), now, now + *duration};
}

Expected<cs::Override> parse_override_body(std::string_view body, cs::WallTime now) {
  const auto object = parse_object(body, {"verdict", "reason", "ttl", "by"});
  if (!object) {
    return fail(object.error());
  }
  std::optional<std::string> verdict;
  if (!string_field(*object, "verdict", verdict)) {
    return fail("verdict, reason, ttl and by must be strings");
  }
  const auto kind = verdict ? cs::parse_verdict_kind(*verdict) : std::nullopt;
  if (!kind || (*kind != cs::VerdictKind::Healthy && *kind != cs::VerdictKind::Unhealthy)) {
    return fail("verdict must be healthy or unhealthy");
  }
  auto note = read_operator_note(*object, now);
  if (!note) {
    return fail(note.error());
  }
  return cs::Override{*kind, std::move(note->reason), std::move(note->by), note->set_at,
                      note->expires_at};
}

Expected<cs::AdHocMaintenance> parse_maintenance_body(std::string_view body, cs::WallTime now) {
  const auto object = parse_object(body, {"reason", "ttl", "by"});
  if (!object) {
    return fail(object.error());
  }
  return read_operator_note(*object, now);
}

Expected<std::string> parse_ack_body(std::string_view body) {
  std::optional<std::string> by;
  if (!body.empty()) {
    const auto object = parse_object(body, {"by"});
    if (!object) {
      return fail(object.error());
    }
    if (!string_field(*object, "by", by)) {
      return fail("by must be a string");
    }
  }
  return actor(by);
}

json::value time_json(const std::optional<cs::WallTime>& at) {
  if (!at) {
    return nullptr;
  }
  return json::string(cs::format_rfc3339(*at));
}

json::object verdict_summary_json(const cs::Verdict& verdict) {
  json::object out;
  out["target"] = verdict.target;
  out["verdict"] = cs::to_string(verdict.kind);
  out["held"] = verdict_kind_or_null(verdict.held);
  out["fresh"] = verdict.fresh;
  out["generation"] = verdict.generation;
  out["since"] = cs::format_rfc3339(verdict.since);
  // When it left its last maintenance window, if after since: a gate's
  // stable_for counts from here.
  out["stable_from"] = time_json(verdict.stable_from);
  out["evaluated_at"] = cs::format_rfc3339(verdict.evaluated_at);
  out["valid_until"] = cs::format_rfc3339(verdict.valid_until);
  out["reason"] = verdict.reason;
  out["failing_layer"] = layer_or_null(verdict.failing_layer);
  out["scope"] = cs::to_string(verdict.scope);
  out["maintenance"] = maintenance_or_null(verdict.maintenance);
  out["cooldown"] = cooldown_or_null(verdict.cooldown);
  // The earliest certificate the local vantages last saw (docs/checks.md).
  out["cert_not_after"] = time_json(verdict.cert_not_after);
  // The earliest RRSIG expiration over the answer they last saw (dns.dnssec).
  out["rrsig_expires"] = time_json(verdict.rrsig_expires);
  // The domain tally, the override and the group's members: what a board of
  // every target (`crosscheck status`, the status page) shows without one
  // request per target.
  out["votes"] = json::value_from(verdict.votes);
  out["override"] = override_or_null(verdict.override_in_force);
  out["group"] = group_or_null(verdict.group);
  return out;
}

json::object verdict_json(const TargetView& view, std::string_view local_node) {
  const cs::Verdict& verdict = view.verdict;
  json::object out = verdict_summary_json(verdict);
  json::array divergence;
  for (const auto& item : view.divergence) {
    divergence.emplace_back(divergence_json(item));
  }
  out["divergence"] = std::move(divergence);
  json::array evidence;
  for (const auto& item : verdict.evidence) {
    evidence.emplace_back(evidence_json(item, local_node));
  }
  out["evidence"] = std::move(evidence);
  out["reason_code"] = cs::to_string(verdict.reason_code);
  out["last_known_good"] = last_known_good_or_null(verdict.last_known_good);
  out["canary"] = verdict.canary;
  return out;
}

json::object transition_json(const TransitionView& transition) {
  json::object out;
  out["generation"] = transition.generation;
  out["at"] = cs::format_rfc3339(transition.at);
  out["verdict"] = cs::to_string(transition.verdict);
  out["held"] = verdict_kind_or_null(transition.held);
  out["reason_code"] = cs::to_string(transition.reason_code);
  out["reason"] = transition.reason;
  return out;
}

json::object vantage_json(const VantageView& vantage) {
  json::object out;
  out["name"] = vantage.name;
  out["node"] = text_or_null(vantage.node);
  out["domain"] = vantage.domain;
  out["suspect"] = vantage.suspect;
  out["suspect_reason"] = text_or_null(vantage.suspect_reason);
  out["last_seen"] = time_json(vantage.last_seen);
  return out;
}

json::object escalation_json(const EscalationView& escalation) {
  json::object out;
  out["id"] = escalation.id;
  out["key"] = escalation.key;
  out["kind"] = cs::to_string(escalation.kind);
  out["target"] = text_or_null(escalation.target);
  out["vantage"] = text_or_null(escalation.vantage);
  out["reason"] = escalation.reason;
  out["opened_at"] = cs::format_rfc3339(escalation.opened_at);
  out["acked_at"] = time_json(escalation.acked_at);
  out["acked_by"] = text_or_null(escalation.acked_by);
  out["silenced"] = escalation.silenced;
  return out;
}

json::object error_json(std::string_view error, std::string_view detail) {
  json::object out;
  out["error"] = error;
  out["detail"] = detail;
  return out;
}

std::string to_body(const json::value& value) {
  return json_text::write(value);
}

}  // namespace crosscheck::snapshot
