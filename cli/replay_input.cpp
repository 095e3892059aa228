#include "cli/replay_input.hpp"

#include "config/types.hpp"
#include "consensus/time_format.hpp"
#include "json/strict.hpp"
#include "snapshot/action_json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <istream>
#include <limits>

namespace crosscheck::cli {
namespace json = boost::json;
namespace cs = crosscheck::consensus;

namespace {

constexpr std::array<std::string_view, 10> k_observation_fields{
    "t",     "target",  "vantage",         "outcome", "detail",
    "layer", "answers", "last_known_good", "domain",  "latency_ms"};
constexpr std::array<std::string_view, 5> k_override_fields{"target", "verdict", "reason", "ttl",
                                                            "by"};
constexpr std::string_view k_ellipsis = "…";

// The line as a JSON value; nullopt with `error` set when it is not valid
// JSON or an object in it names a key twice.
std::optional<json::value> parse_json(std::string_view line, std::string& error) {
  auto parsed = json_text::parse_strict_json(line);
  if (!parsed.duplicate.empty()) {
    error = "field '" + echo_input(parsed.duplicate) +
            "' appears twice in one object; which one counts would be a guess";
    return std::nullopt;
  }
  if (!parsed.value) {
    error = "not valid JSON: " + parsed.error.message();
  }
  return std::move(parsed.value);
}

// The length of the valid UTF-8 sequence at text[i], or 0 when the bytes
// there are not one (a stray continuation byte, an overlong form, a
// surrogate, past U+10FFFF or cut short).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // the range of the byte after the lead
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// One character of `text` at `i` (`length` bytes, 0 for an invalid byte) as
// it is echoed: itself, or an escape for what a terminal would act on.
std::string echoed_character(std::string_view text, std::size_t i, std::size_t length) {
  std::array<char, 8> buffer{};
  const auto code = static_cast<unsigned char>(text[i]);
  if (length == 0) {
    std::snprintf(buffer.data(), buffer.size(), "\\x%02x", code);
    return buffer.data();
  }
  if (length == 2 && code == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
    // C1 controls U+0080..U+009F (U+009B is a CSI on some terminals).
    std::snprintf(buffer.data(), buffer.size(), "\\u%04x", static_cast<unsigned char>(text[i + 1]));
    return buffer.data();
  }
  if (length > 1 || (code >= 0x20 && code != 0x7F)) {
    return std::string(text.substr(i, length));
  }
  switch (code) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      std::snprintf(buffer.data(), buffer.size(), "\\x%02x", code);
      return buffer.data();
  }
}

template <std::size_t N>
bool only_known(const json::object& object, const std::array<std::string_view, N>& known,
                std::string& error) {
  for (const auto& field : object) {
    bool found = false;
    for (const auto& name : known) {
      found = found || field.key() == name;
    }
    if (!found) {
      error = "unknown field '" + echo_input(field.key()) + "'";
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
  const auto prefix = detail.substr(0, colon);
  // A protocol check's detail names its protocol: "postgres: 10.0.0.7:5432 ...".
  if (prefix == "redis" || prefix == "postgres" || prefix == "mysql") {
    return cs::Layer::App;
  }
  return cs::parse_layer(prefix).value_or(cs::Layer::None);
}

bool read_answers(const json::value& value, std::vector<std::string>& out, std::string& error) {
  const auto* answers = value.if_array();
  if (answers == nullptr) {
    error = "field 'answers' must be an array of strings";
    return false;
  }
  if (answers->size() > k_replay_max_answers) {
    error = "field 'answers' holds " + std::to_string(answers->size()) + " entries, more than " +
            std::to_string(k_replay_max_answers);
    return false;
  }
  for (const auto& answer : *answers) {
    if (!answer.is_string()) {
      error = "field 'answers' must be an array of strings";
      return false;
    }
    if (answer.get_string().size() > k_replay_max_answer_bytes) {
      error = "an answer of " + std::to_string(answer.get_string().size()) +
              " bytes is longer than " + std::to_string(k_replay_max_answer_bytes);
      return false;
    }
    out.emplace_back(answer.get_string());
  }
  return true;
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
    error = "outcome '" + echo_input(*outcome_text) + "' is not up, down or observer_error";
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
      error = "layer '" + echo_input(*layer) + "' is not none, dns, connect, tls or http";
      return false;
    }
    out.layer = *parsed;
  } else if (out.outcome == cs::Outcome::Down) {
    out.layer = layer_from_detail(out.detail);
  }
  if (auto lkg = string_field(object, "last_known_good", false, error)) {
    const auto parsed = cs::parse_last_known_good(*lkg);
    if (!parsed) {
      error =
          "last_known_good '" + echo_input(*lkg) + "' is not reachable, unreachable or not_tried";
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
    if (!read_answers(*answers, out.answers, error)) {
      return false;
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
    error = "override: verdict '" + echo_input(*verdict) + "' is not healthy or unhealthy";
    return false;
  }
  const auto ttl = config::parse_duration(*ttl_text);
  if (!ttl || ttl->count() <= 0) {
    error = "override: ttl '" + echo_input(*ttl_text) + "' is not a positive duration such as 30m";
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

// True when `text` is laid out as RFC 3339 up to its seconds and they are
// 60. Why refuse it here: parse_rfc3339 accepts 60 and reads
// 23:59:60 as the next minute's :00, so a leap second would silently land
// on (or after) the observation that follows it.
bool leap_second(std::string_view text) {
  return text.size() >= 19 && text[13] == ':' && text[16] == ':' && text.substr(17, 2) == "60";
}

}  // namespace

LineReader::LineReader(std::istream& input, std::size_t limit)
    : input_(input), buffer_(limit + 1) {}

LineStatus LineReader::next(std::string_view& line, std::size_t& length) {
  line = {};
  length = 0;
  if (!input_.good()) {
    return LineStatus::End;
  }
  // getline stores at most buffer_.size() - 1 bytes; with more before the
  // newline it stops there and sets failbit (the newline test comes first,
  // so a line of exactly `limit` bytes reads whole).
  input_.getline(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  const auto got = static_cast<std::size_t>(input_.gcount());
  if (!input_.fail()) {
    length = input_.eof() ? got : got - 1;  // gcount counts the newline it consumed
    line = std::string_view(buffer_.data(), length);
    return LineStatus::Read;
  }
  if (got == 0 || input_.bad()) {
    return LineStatus::End;
  }
  // Too long: consume the rest of the line, counting it, keeping nothing.
  input_.clear();
  input_.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  const auto rest = static_cast<std::size_t>(input_.gcount());
  length = got + (input_.eof() ? rest : rest - 1);
  return LineStatus::TooLong;
}

std::string echo_input(std::string_view text, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_length(text, i);
    const auto piece = echoed_character(text, i, length);
    if (out.size() + piece.size() > limit) {
      out += k_ellipsis;
      break;
    }
    out += piece;
    i += length == 0 ? 1 : length;
  }
  return out;
}

namespace {

std::optional<ReplayRecord> read_line(std::string_view line, std::string& error) {
  const auto parsed = parse_json(line, error);
  if (!parsed) {
    return std::nullopt;
  }
  const json::value& value = *parsed;
  if (!value.is_object()) {
    error = "expected a JSON object";
    return std::nullopt;
  }
  const auto& object = value.get_object();
  const auto t_text = string_field(object, "t", true, error);
  if (!t_text) {
    return std::nullopt;
  }
  if (leap_second(*t_text)) {
    error = "t '" + echo_input(*t_text) +
            "' has seconds 60: a leap second cannot be represented (it would read as the next "
            "minute's :00); record it as :59";
    return std::nullopt;
  }
  const auto t = cs::parse_rfc3339(*t_text);
  if (!t) {
    error = "t '" + echo_input(*t_text) + "' is not an RFC 3339 time such as 2025-10-20T06:48:00Z";
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
  if (const auto* item = object.if_contains("action")) {
    if (object.size() != 2 || !item->is_object()) {
      error =
          "an action line has only 't' and 'action': {\"target\", \"what\", \"by\"?, "
          "\"expect\"?, \"for\"?}";
      return std::nullopt;
    }
    auto request = snapshot::parse_action_body(json::serialize(*item), true);
    if (!request) {
      error = "action: " + request.error();
      return std::nullopt;
    }
    record.body = ActionRecord{std::move(*request)};
    return record;
  }
  if (const auto* item = object.if_contains("ack_action")) {
    if (object.size() != 2 || !item->is_string()) {
      error = "an ack_action line has only 't' and 'ack_action': \"ID\"";
      return std::nullopt;
    }
    record.body = AckActionRecord{std::string(item->get_string())};
    return record;
  }
  cs::Observation observation;
  if (!read_observation(object, observation, error)) {
    return std::nullopt;
  }
  record.domain = string_field(object, "domain", false, error);
  if (!error.empty()) {
    return std::nullopt;  // present but not a string
  }
  if (record.domain && record.domain->empty()) {
    error = "field 'domain' must not be empty";
    return std::nullopt;
  }
  observation.at = cs::Instant{cs::MonoTime{t->time_since_epoch()}, *t};
  record.body = std::move(observation);
  return record;
}

}  // namespace

Expected<ReplayRecord> parse_replay_line(std::string_view line) {
  std::string error;
  auto record = read_line(line, error);
  if (!record) {
    return fail(error);
  }
  return std::move(*record);
}

}  // namespace crosscheck::cli
