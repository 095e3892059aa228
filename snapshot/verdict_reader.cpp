// Field by field, the inverse of api_json.cpp's verdict shapes. Lenient on
// absent or mistyped optional fields (an older or newer server), strict only
// on what identifies a verdict: its target and its kind.
#include "snapshot/verdict_reader.hpp"

#include "consensus/time_format.hpp"
#include "json/consensus_json.hpp"
#include "json/strings.hpp"

#include <boost/json/parse.hpp>

namespace crosscheck::snapshot {
namespace {

namespace cs = consensus;
namespace json = boost::json;

std::string text_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

bool bool_at(const json::object& object, std::string_view key, bool fallback) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_bool() ? value->get_bool() : fallback;
}

std::optional<double> number_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto number = value->to_number<double>(ec);
  return ec ? std::nullopt : std::optional<double>(number);
}

std::optional<cs::WallTime> time_at(const json::object& object, std::string_view key) {
  return cs::parse_rfc3339(text_at(object, key));
}

const json::array* array_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? &value->get_array() : nullptr;
}

cs::Vote vote_of(std::string_view text) {
  return cs::parse_vote(text).value_or(cs::Vote::Unknown);
}

cs::Evidence read_evidence(const json::object& object) {
  cs::Evidence out;
  out.vantage = text_at(object, "vantage");
  out.node = text_at(object, "node");
  out.domain = text_at(object, "domain");
  out.vote = vote_of(text_at(object, "vote"));
  // An older oracle sends neither: its vote stands for the raw one, and
  // `crosscheck explain` derives staleness from the timestamps.
  out.raw_vote = object.contains("raw_vote") ? vote_of(text_at(object, "raw_vote")) : out.vote;
  out.suspect = bool_at(object, "suspect", false);
  out.stale = bool_at(object, "stale", false);
  if (const auto at = time_at(object, "last_observed"); at) {
    out.last_observed = cs::Instant{{}, *at};
  }
  out.window_latency_ms = number_at(object, "window_latency_ms");
  out.cert_not_after = time_at(object, "cert_not_after");
  out.rrsig_expires = time_at(object, "rrsig_expires");
  // api_json writes latency_ms (and the rest) only for an observed vantage.
  if (const auto latency = number_at(object, "latency_ms"); latency) {
    cs::Observation last;
    last.vantage = out.vantage;
    last.latency_ms = *latency;
    last.layer = cs::parse_layer(text_at(object, "layer")).value_or(cs::Layer::None);
    // An older oracle sends no outcome: a failing layer means down.
    last.outcome =
        cs::parse_outcome(text_at(object, "outcome"))
            .value_or(last.layer == cs::Layer::None ? cs::Outcome::Up : cs::Outcome::Down);
    last.detail = text_at(object, "detail");
    last.answers = json_text::strings_at(object, "answers");
    if (out.last_observed) {
      last.at = *out.last_observed;
    }
    out.last = std::make_shared<const cs::Observation>(std::move(last));
  }
  return out;
}

std::optional<cs::Override> read_override(const json::object& object) {
  const auto* value = object.if_contains("override");
  if (value == nullptr || !value->is_object()) {
    return std::nullopt;
  }
  const auto& item = value->get_object();
  cs::Override out;
  out.verdict = cs::parse_verdict_kind(text_at(item, "verdict")).value_or(cs::VerdictKind::Unknown);
  out.reason = text_at(item, "reason");
  out.by = text_at(item, "by");
  out.set_at = time_at(item, "set_at").value_or(cs::WallTime{});
  out.expires_at = time_at(item, "expires_at").value_or(cs::WallTime{});
  return out;
}

std::optional<cs::MaintenanceView> read_maintenance(const json::object& object) {
  const auto* value = object.if_contains("maintenance");
  if (value == nullptr || !value->is_object()) {
    return std::nullopt;
  }
  return json::value_to<cs::MaintenanceView>(*value);
}

std::optional<cs::CooldownView> read_cooldown(const json::object& object) {
  const auto* value = object.if_contains("cooldown");
  if (value == nullptr || !value->is_object()) {
    return std::nullopt;
  }
  const auto& item = value->get_object();
  cs::CooldownView out;
  out.action_id = text_at(item, "action");
  out.by = text_at(item, "by");
  out.what = text_at(item, "what");
  out.since = time_at(item, "since").value_or(cs::WallTime{});
  out.until = time_at(item, "until").value_or(cs::WallTime{});
  return out;
}

cs::ReasonCode reason_code_of(std::string_view text) {
  for (const auto code :
       {cs::ReasonCode::Quorum, cs::ReasonCode::Dispute, cs::ReasonCode::Insufficient,
        cs::ReasonCode::Flapping, cs::ReasonCode::BlastRadius, cs::ReasonCode::Override,
        cs::ReasonCode::Restored, cs::ReasonCode::Dependency}) {
    if (cs::to_string(code) == text) {
      return code;
    }
  }
  return cs::ReasonCode::Insufficient;
}

void read_details(const json::object& object, TargetView& view) {
  cs::Verdict& verdict = view.verdict;
  if (const auto* votes = object.if_contains("votes"); votes != nullptr) {
    verdict.votes = json::value_to<cs::VoteCounts>(*votes);
  }
  if (const auto* items = array_at(object, "evidence"); items != nullptr) {
    for (const auto& item : *items) {
      if (item.is_object()) {
        verdict.evidence.push_back(read_evidence(item.get_object()));
      }
    }
  }
  if (const auto* items = array_at(object, "divergence"); items != nullptr) {
    for (const auto& item : *items) {
      if (item.is_object()) {
        const auto& entry = item.get_object();
        view.divergence.push_back(Divergence{text_at(entry, "vantage"), text_at(entry, "domain"),
                                             json_text::strings_at(entry, "answers")});
      }
    }
  }
  verdict.reason_code = reason_code_of(text_at(object, "reason_code"));
  verdict.last_known_good = cs::parse_last_known_good(text_at(object, "last_known_good"))
                                .value_or(cs::LastKnownGood::NotTried);
  verdict.override_in_force = read_override(object);
  verdict.canary = bool_at(object, "canary", false);
}

}  // namespace

Expected<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return fail("malformed JSON (" + ec.message() + ")");
  }
  return value;
}

Expected<TargetView> read_verdict(const json::value& value) {
  if (!value.is_object()) {
    return fail("a verdict is not a JSON object");
  }
  const auto& object = value.get_object();
  TargetView view;
  cs::Verdict& verdict = view.verdict;
  verdict.target = text_at(object, "target");
  const auto kind = cs::parse_verdict_kind(text_at(object, "verdict"));
  if (verdict.target.empty() || !kind) {
    return fail("a verdict without a target name or a known verdict");
  }
  verdict.kind = *kind;
  verdict.held = cs::parse_verdict_kind(text_at(object, "held"));
  verdict.fresh = bool_at(object, "fresh", true);
  verdict.generation = static_cast<std::uint64_t>(number_at(object, "generation").value_or(0));
  verdict.since = time_at(object, "since").value_or(cs::WallTime{});
  verdict.stable_from = time_at(object, "stable_from");  // absent: an older oracle
  verdict.evaluated_at = time_at(object, "evaluated_at").value_or(cs::WallTime{});
  verdict.valid_until = time_at(object, "valid_until").value_or(cs::WallTime{});
  verdict.reason = text_at(object, "reason");
  verdict.failing_layer = cs::parse_layer(text_at(object, "failing_layer"));
  // An oracle older than scope: none (no failover is supported by it).
  verdict.scope =
      cs::parse_failure_scope(text_at(object, "scope")).value_or(cs::FailureScope::None);
  verdict.maintenance = read_maintenance(object);
  verdict.cooldown = read_cooldown(object);
  verdict.cert_not_after = time_at(object, "cert_not_after");  // absent: an older oracle
  verdict.rrsig_expires = time_at(object, "rrsig_expires");
  read_details(object, view);
  return view;
}

Expected<VerdictList> read_verdict_list(const json::value& value) {
  const auto* items = value.is_object() ? array_at(value.get_object(), "verdicts") : nullptr;
  if (items == nullptr) {
    return fail("the answer has no \"verdicts\" list");
  }
  VerdictList list;
  list.revision = static_cast<std::uint64_t>(number_at(value.get_object(), "revision").value_or(0));
  list.node = text_at(value.get_object(), "node");
  for (const auto& item : *items) {
    auto view = read_verdict(item);
    if (!view) {
      return fail(view.error());
    }
    list.has_votes.push_back(item.get_object().contains("votes"));
    list.targets.push_back(std::move(*view));
  }
  return list;
}

Expected<TargetView> read_verdict(std::string_view text) {
  auto value = parse_json(text);
  if (!value) {
    return fail(value.error());
  }
  return read_verdict(*value);
}

Expected<VerdictList> read_verdict_list(std::string_view text) {
  auto value = parse_json(text);
  if (!value) {
    return fail(value.error());
  }
  return read_verdict_list(*value);
}

}  // namespace crosscheck::snapshot
