#include "daemon/replay_input.hpp"

#include "config/types.hpp"
#include "consensus/time_format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cmath>

namespace crosscheck::daemon {
namespace json = boost::json;
namespace cs = crosscheck::consensus;

namespace {

constexpr std::array<std::string_view, 10> k_observation_fields{
    "t",      "target",  "vantage",         "outcome", "detail",
    "layer",  "answers", "last_known_good", "domain",  "latency_ms"};
constexpr std::array<std::string_view, 5> k_override_fields{"target", "verdict", "reason", "ttl",
                                                            "by"};

template <std::size_t N>
bool only_known(const json::object& object, const std::array<std::string_view, N>& known,
                std::string& error) {
  for (const auto& field : object) {
    bool found = false;
    for (const auto& name : known) {
      found = found || field.key() == name;
    }
    if (!found) {
      error = "unknown field '" + std::string(field.key()) + "'";
      return false;
    }
  }
  return true;
}

// The string field `name`, or nullopt with `error` set (when required).
std::optional<std::string> string_field(const json::object& object, std::string_view name,
                                        bool required, std::string& error) {
  const auto* value = object.if_contains(name);
  if (value == nullptr) {
    if (required) {
      error = "missing field '" + std::string(name) + "'";
    }
    return std::nullopt;
  }
  if (!value->is_string()) {
    error = "field '" + std::string(name) + "' must be a string";
    return std::nullopt;
  }
  return std::string(value->get_string());
}

cs::Layer layer_from_detail(std::string_view detail) {
  const auto colon = detail.find(':');
  if (colon == std::string_view::npos) {
    return cs::Layer::None;
  }
  return cs::parse_layer(detail.substr(0, colon)).value_or(cs::Layer::None);
}

bool read_observation(const json::object& object, cs::Observation& out, std::string& error) {
  if (!only_known(object, k_observation_fields, error)) {
    return false;
  }
  auto target = string_field(object, "target", true, error);
  auto vantage = target ? string_field(object, "vantage", true, error) : std::nullopt;
  auto outcome_text = vantage ? string_field(object, "outcome", true, error) : std::nullopt;
  if (!outcome_text) {
    return false;
  }
  const auto outcome = cs::parse_outcome(*outcome_text);
  if (!outcome) {
    error = "outcome '" + *outcome_text + "' is not up, down or observer_error";
    return false;
  }
  out.target = std::move(*target);
  out.vantage = std::move(*vantage);
  out.outcome = *outcome;
  error.clear();
  if (auto detail = string_field(object, "detail", false, error)) {
    out.detail = std::move(*detail);
  }
  if (auto layer = string_field(object, "layer", false, error)) {
    const auto parsed = cs::parse_layer(*layer);
    if (!parsed) {
      error = "layer '" + *layer + "' is not none, dns, connect, tls or http";
      return false;
    }
    out.layer = *parsed;
  } else if (out.outcome == cs::Outcome::Down) {
    out.layer = layer_from_detail(out.detail);
  }
  if (auto lkg = string_field(object, "last_known_good", false, error)) {
    const auto parsed = cs::parse_last_known_good(*lkg);
    if (!parsed) {
      error = "last_known_good '" + *lkg + "' is not reachable, unreachable or not_tried";
      return false;
    }
    out.last_known_good = *parsed;
  }
  if (const auto* latency = object.if_contains("latency_ms")) {
    if (!latency->is_number() || latency->to_number<double>() < 0 ||
        !std::isfinite(latency->to_number<double>())) {
      error = "field 'latency_ms' must be a non-negative number";
      return false;
    }
    out.latency_ms = latency->to_number<double>();
  }
  if (const auto* answers = object.if_contains("answers")) {
    if (!answers->is_array()) {
      error = "field 'answers' must be an array of strings";
      return false;
    }
    for (const auto& answer : answers->get_array()) {
      if (!answer.is_string()) {
        error = "field 'answers' must be an array of strings";
        return false;
      }
      out.answers.emplace_back(answer.get_string());
    }
  }
  return error.empty();
}

bool read_override(const json::value& value, cs::WallTime t, OverrideRecord& out,
                   std::string& error) {
  if (!value.is_object()) {
    error = "field 'override' must be an object";
    return false;
  }
  const auto& object = value.get_object();
  if (!only_known(object, k_override_fields, error)) {
    error = "override: " + error;
    return false;
  }
  auto target = string_field(object, "target", true, error);
  auto verdict = target ? string_field(object, "verdict", true, error) : std::nullopt;
  auto reason = verdict ? string_field(object, "reason", true, error) : std::nullopt;
  auto ttl_text = reason ? string_field(object, "ttl", true, error) : std::nullopt;
  if (!ttl_text) {
    error = "override: " + error;
    return false;
  }
  const auto kind = cs::parse_verdict_kind(*verdict);
  if (kind != cs::VerdictKind::Healthy && kind != cs::VerdictKind::Unhealthy) {
    error = "override: verdict '" + *verdict + "' is not healthy or unhealthy";
    return false;
  }
  const auto ttl = config::parse_duration(*ttl_text);
  if (!ttl || ttl->count() <= 0) {
    error = "override: ttl '" + *ttl_text + "' is not a positive duration such as 30m";
    return false;
  }
  out.target = std::move(*target);
  out.value.verdict = *kind;
  out.value.reason = std::move(*reason);
  out.value.by = string_field(object, "by", false, error).value_or("replay");
  out.value.set_at = t;
  out.value.expires_at = t + *ttl;
  return true;
}

}  // namespace

std::optional<ReplayRecord> parse_replay_line(std::string_view line, std::string& error) {
  boost::system::error_code ec;
  const json::value value = json::parse(line, ec);
  if (ec) {
    error = "not valid JSON: " + ec.message();
    return std::nullopt;
  }
  if (!value.is_object()) {
    error = "expected a JSON object";
    return std::nullopt;
  }
  const auto& object = value.get_object();
  const auto t_text = string_field(object, "t", true, error);
  if (!t_text) {
    return std::nullopt;
  }
  const auto t = cs::parse_rfc3339(*t_text);
  if (!t) {
    error = "t '" + *t_text + "' is not an RFC 3339 time such as 2025-10-20T06:48:00Z";
    return std::nullopt;
  }
  ReplayRecord record{*t, cs::Observation{}, std::nullopt};
  if (const auto* item = object.if_contains("override")) {
    if (object.size() != 2) {
      error = "an override line has only 't' and 'override'";
      return std::nullopt;
    }
    OverrideRecord body;
    if (!read_override(*item, *t, body, error)) {
      return std::nullopt;
    }
    record.body = std::move(body);
    return record;
  }
  if (const auto* item = object.if_contains("clear_override")) {
    if (object.size() != 2 || !item->is_string()) {
      error = "a clear_override line has only 't' and 'clear_override': \"TARGET\"";
      return std::nullopt;
    }
    record.body = ClearOverrideRecord{std::string(item->get_string())};
    return record;
  }
  cs::Observation observation;
  if (!read_observation(object, observation, error)) {
    return std::nullopt;
  }
  record.domain = string_field(object, "domain", false, error);
  error.clear();
  observation.at = cs::Instant{cs::MonoTime{t->time_since_epoch()}, *t};
  record.body = std::move(observation);
  return record;
}

}  // namespace crosscheck::daemon
