#include "snapshot/action_json.hpp"

#include "consensus/gate.hpp"
#include "consensus/time_format.hpp"
#include "snapshot/body_fields.hpp"

#include <boost/json/value.hpp>

namespace crosscheck::snapshot {
namespace {

namespace cs = consensus;
namespace json = boost::json;
using namespace detail;

Expected<std::string> text_of(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return fail("field '" + std::string(name) + "' must be a string");
  }
  return std::string(value->get_string());
}

Expected<cs::WallTime> time_of(const json::object& object, std::string_view name) {
  auto text = text_of(object, name);
  if (!text) {
    return fail(text.error());
  }
  const auto at = cs::parse_rfc3339(*text);
  if (!at) {
    return fail("field '" + std::string(name) + "' must be an RFC 3339 time");
  }
  return *at;
}

// A `what` or `note`: at most k_max_action_text bytes, no control characters.
Expected<std::string> free_text(const std::optional<std::string>& text, std::string_view name,
                                bool required) {
  if (!text) {
    if (required) {
      return fail(std::string(name) + " is required: say what was done (\"promote db-2\")");
    }
    return std::string();
  }
  if ((required && text->empty()) || text->size() > k_max_action_text || has_control(*text)) {
    return fail(std::string(name) + " must be " + (required ? "1" : "0") + " to " +
                std::to_string(k_max_action_text) + " bytes without control characters");
  }
  return *text;
}

}  // namespace

json::object action_json(const cs::RecordedAction& action) {
  json::object out;
  out["id"] = action.id;
  out["node"] = action.node;
  out["target"] = action.target;
  out["expect"] = cs::to_string(action.expect);
  out["for"] = cs::to_string(action.for_);
  out["generation"] = action.generation;
  out["by"] = action.by;
  out["what"] = action.what;
  out["principal"] = action.principal;
  out["at"] = cs::format_rfc3339(action.at);
  out["cooldown_until"] = cs::format_rfc3339(action.cooldown_until);
  if (action.ack) {
    json::object ack;
    ack["by"] = action.ack->by;
    ack["note"] = action.ack->note;
    ack["at"] = cs::format_rfc3339(action.ack->at);
    ack["node"] = action.ack->node;
    out["ack"] = std::move(ack);
  } else {
    out["ack"] = nullptr;
  }
  return out;
}

Expected<cs::RecordedAction> read_action_json(const json::value& value) {
  if (!value.is_object()) {
    return fail("an action must be a JSON object");
  }
  const auto& object = value.get_object();
  cs::RecordedAction out;
  for (const auto& [name, field] :
       {std::pair{"id", &out.id}, std::pair{"node", &out.node}, std::pair{"target", &out.target},
        std::pair{"by", &out.by}, std::pair{"what", &out.what},
        std::pair{"principal", &out.principal}}) {
    auto text = text_of(object, name);
    if (!text) {
      return fail(text.error());
    }
    *field = std::move(*text);
  }
  auto expect = text_of(object, "expect");
  const auto kind = expect ? cs::parse_verdict_kind(*expect) : std::nullopt;
  if (!kind || (*kind != cs::VerdictKind::Healthy && *kind != cs::VerdictKind::Unhealthy)) {
    return fail("field 'expect' must be healthy or unhealthy");
  }
  out.expect = *kind;
  auto for_text = text_of(object, "for");
  const auto for_ = for_text ? cs::parse_gate_for(*for_text) : std::nullopt;
  if (!for_) {
    return fail("field 'for' must be service, dns or any");
  }
  out.for_ = *for_;
  const auto* generation = object.if_contains("generation");
  if (generation == nullptr || !(generation->is_uint64() || generation->is_int64()) ||
      (generation->is_int64() && generation->get_int64() < 0)) {
    return fail("field 'generation' must be a non-negative integer");
  }
  out.generation = generation->is_uint64() ? generation->get_uint64()
                                           : static_cast<std::uint64_t>(generation->get_int64());
  auto at = time_of(object, "at");
  auto until = time_of(object, "cooldown_until");
  if (!at || !until) {
    return fail(!at ? at.error() : until.error());
  }
  out.at = *at;
  out.cooldown_until = *until;
  const auto* ack = object.if_contains("ack");
  if (ack == nullptr) {
    return fail("field 'ack' must be null or an object");
  }
  if (ack->is_object()) {
    const auto& fields = ack->get_object();
    cs::ActionAck read;
    auto by = text_of(fields, "by");
    auto note = text_of(fields, "note");
    auto node = text_of(fields, "node");
    auto ack_at = time_of(fields, "at");
    if (!by || !note || !node || !ack_at) {
      return fail("field 'ack' must hold by, note, node and at");
    }
    out.ack = cs::ActionAck{std::move(*by), std::move(*note), *ack_at, std::move(*node)};
  } else if (!ack->is_null()) {
    return fail("field 'ack' must be null or an object");
  }
  return out;
}

Expected<cs::ActionRequest> parse_action_body(std::string_view body, bool with_target) {
  const auto object =
      with_target ? parse_object(body, {"target", "expect", "for", "generation", "what", "by"})
                  : parse_object(body, {"what", "by"});
  if (!object) {
    return fail(object.error());
  }
  std::optional<std::string> what;
  std::optional<std::string> by;
  std::optional<std::string> target;
  std::optional<std::string> expect;
  std::optional<std::string> for_text;
  if (!string_field(*object, "what", what) || !string_field(*object, "by", by) ||
      !string_field(*object, "target", target) || !string_field(*object, "expect", expect) ||
      !string_field(*object, "for", for_text)) {
    return fail("target, expect, for, what and by must be strings");
  }
  cs::ActionRequest out;
  auto text = free_text(what, "what", true);
  if (!text) {
    return fail(text.error());
  }
  out.what = std::move(*text);
  auto who = actor(by);
  if (!who) {
    return fail(who.error());
  }
  out.by = std::move(*who);
  if (!with_target) {
    return out;
  }
  if (!target || target->empty()) {
    return fail("target is required");
  }
  out.target = std::move(*target);
  if (expect) {
    const auto kind = cs::parse_verdict_kind(*expect);
    if (!kind || (*kind != cs::VerdictKind::Healthy && *kind != cs::VerdictKind::Unhealthy)) {
      return fail("expect must be healthy or unhealthy");
    }
    out.expect = *kind;
  }
  if (for_text) {
    const auto parsed = cs::parse_gate_for(*for_text);
    if (!parsed) {
      return fail("for must be service, dns or any");
    }
    out.for_ = *parsed;
  }
  if (const auto* generation = object->if_contains("generation")) {
    if (!generation->is_uint64() && !(generation->is_int64() && generation->get_int64() >= 0)) {
      return fail("generation must be a non-negative integer");
    }
    out.generation = generation->to_number<std::uint64_t>();
  }
  return out;
}

Expected<cs::ActionAck> parse_action_ack_body(std::string_view body) {
  std::optional<std::string> by;
  std::optional<std::string> note;
  if (!body.empty()) {
    const auto object = parse_object(body, {"by", "note"});
    if (!object) {
      return fail(object.error());
    }
    if (!string_field(*object, "by", by) || !string_field(*object, "note", note)) {
      return fail("by and note must be strings");
    }
  }
  auto who = actor(by);
  if (!who) {
    return fail(who.error());
  }
  auto text = free_text(note, "note", false);
  if (!text) {
    return fail(text.error());
  }
  cs::ActionAck out;
  out.by = std::move(*who);
  out.note = std::move(*text);
  return out;
}

}  // namespace crosscheck::snapshot
