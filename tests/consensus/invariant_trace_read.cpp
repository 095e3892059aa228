// from_jsonl(): the reading half of invariant_trace_io.hpp, strict on
// purpose (an unknown field is an error), since a kept regression trace that
// silently loses a field would replay another world.
#include "invariant_trace_io.hpp"

#include "consensus/time_format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <charconv>
#include <memory>
#include <set>

namespace crosscheck::testing {
namespace {

namespace json = boost::json;

// The fields of one JSON object, read by name. Every field must be read (a
// misspelt one is an error, not a default), and the first problem wins:
// after it, getters return defaults and the caller checks ok() once.
class Fields {
 public:
  Fields(const json::value& value, std::string where, std::string& error)
      : object_(value.if_object()), where_(std::move(where)), error_(error) {
    if (object_ == nullptr) {
      fail("", "must be an object");
    }
  }

  bool ok() const { return error_.empty(); }
  bool has(std::string_view name) const { return object_ != nullptr && object_->contains(name); }
  std::string path(std::string_view name) const { return where_ + "." + std::string(name); }

  // The field's value; nullptr when it is absent (an error when required).
  const json::value* get(std::string_view name, bool required = true) {
    const auto* value = object_ != nullptr ? object_->if_contains(name) : nullptr;
    if (value != nullptr) {
      read_.emplace(name);
    } else if (required) {
      fail(name, "is missing");
    }
    return value;
  }

  std::string string(std::string_view name, bool required = true) {
    const auto* value = get(name, required);
    if (value != nullptr && !value->is_string()) {
      fail(name, "must be a string");
    }
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
  }

  template <typename Number>
  Number number(std::string_view name) {
    const auto* value = get(name);
    boost::system::error_code ec;
    const auto result = value != nullptr ? value->to_number<Number>(ec) : Number{};
    if (value != nullptr && ec) {
      fail(name, "must be a whole number in range");
    }
    return result;
  }

  cs::Duration duration(std::string_view name) {
    return cs::Duration{number<cs::Duration::rep>(name)};
  }

  bool boolean(std::string_view name) {
    const auto* value = get(name);
    if (value != nullptr && !value->is_bool()) {
      fail(name, "must be true or false");
    }
    return value != nullptr && value->is_bool() && value->get_bool();
  }

  // A string holding a decimal (as written), or a number (as a person may).
  double fraction(std::string_view name) {
    const auto* value = get(name);
    if (value == nullptr) {
      return 0;
    }
    if (value->is_number()) {
      return value->to_number<double>();
    }
    double result = 0;
    const auto* stored = value->if_string();
    const auto spelled =
        stored != nullptr ? std::string_view(stored->data(), stored->size()) : std::string_view{};
    const char* end = std::to_address(spelled.end());
    const auto [stop, ec] = std::from_chars(spelled.data(), end, result);
    if (stored == nullptr || ec != std::errc{} || stop != end) {
      fail(name, "must be a decimal such as \"0.5\"");
    }
    return result;
  }

  cs::WallTime wall(std::string_view name) {
    const auto spelled = string(name);
    const auto parsed = cs::parse_rfc3339(spelled);
    if (ok() && !parsed) {
      fail(name, "is not an RFC 3339 time");
    }
    return parsed.value_or(cs::WallTime{});
  }

  cs::Instant instant(std::string_view name) {
    const auto* value = get(name);
    if (value == nullptr || value->is_string()) {
      const auto at = value != nullptr ? wall(name) : cs::WallTime{};
      return cs::Instant{cs::MonoTime{at.time_since_epoch()}, at};
    }
    Fields both(*value, path(name), error_);
    const auto at = both.wall("wall");
    const auto mono = both.duration("mono_ms");
    both.finish();
    return cs::Instant{cs::MonoTime{mono}, at};
  }

  // A name that one of cs::parse_*() knows; `what` lists the names.
  template <typename Enum>
  Enum parsed(std::string_view name, std::optional<Enum> (*parse)(std::string_view),
              std::string_view what, bool required = true, Enum fallback = Enum{}) {
    const auto spelled = string(name, required);
    if (!has(name) || !ok()) {
      return fallback;
    }
    const auto result = parse(spelled);
    if (!result) {
      fail(name, "'" + spelled + "' is not " + std::string(what));
    }
    return result.value_or(fallback);
  }

  std::vector<std::string> strings(std::string_view name, bool required = true) {
    std::vector<std::string> out;
    const auto* value = get(name, required);
    const auto* array = value != nullptr ? value->if_array() : nullptr;
    if (value != nullptr && array == nullptr) {
      fail(name, "must be an array of strings");
    }
    for (const auto& item : array != nullptr ? *array : json::array{}) {
      if (!item.is_string()) {
        fail(name, "must be an array of strings");
        break;
      }
      out.emplace_back(item.get_string());
    }
    return out;
  }

  // Ends the reading: a field that no getter asked for is an error.
  bool finish() {
    for (const auto& field : object_ != nullptr ? *object_ : json::object{}) {
      if (!read_.contains(std::string_view(field.key()))) {
        fail(field.key(), "is not a field here");
        break;
      }
    }
    return ok();
  }

  void fail(std::string_view name, const std::string& what) {
    if (error_.empty()) {
      error_ = (name.empty() ? where_ : path(name)) + " " + what;
    }
  }

 private:
  const json::object* object_;
  std::string where_;
  std::string& error_;
  std::set<std::string, std::less<>> read_;
};

cs::Quorum read_quorum(Fields& fields, std::string_view name) {
  const auto* value = fields.get(name);
  if (value != nullptr && value->is_string() && value->get_string() == k_majority_quorum) {
    return cs::Quorum{};
  }
  return cs::Quorum{value != nullptr ? std::optional{fields.number<int>(name)} : std::nullopt};
}

cs::VantagePolicy read_vantage(const json::value& value, const std::string& where,
                               std::string& error) {
  Fields fields(value, where, error);
  cs::VantagePolicy vantage;
  vantage.name = fields.string("name");
  vantage.node = fields.string("node", false);
  vantage.domain = fields.string("domain");
  fields.finish();
  return vantage;
}

cs::TargetPolicy read_target(const json::value& value, const std::string& where,
                             std::string& error) {
  Fields fields(value, where, error);
  cs::TargetPolicy target;
  target.name = fields.string("name");
  target.canary = fields.boolean("canary");
  target.rise = fields.number<int>("rise");
  target.fall = fields.number<int>("fall");
  target.stale_after = fields.duration("stale_after_ms");
  target.dispute_grace = fields.duration("dispute_grace_ms");
  target.restore_hold = fields.duration("restore_hold_ms");
  target.down_quorum = read_quorum(fields, "down_quorum");
  target.up_quorum = read_quorum(fields, "up_quorum");
  target.depends_on = fields.strings("depends_on", false);
  if (fields.has("latency")) {
    Fields latency(*fields.get("latency"), fields.path("latency"), error);
    target.latency =
        cs::LatencyObjective{latency.fraction("quantile"), latency.duration("threshold_ms"),
                             latency.duration("window_ms")};
    latency.finish();
  }
  if (fields.has("cert_min_remaining_ms")) {
    target.cert_min_remaining = fields.duration("cert_min_remaining_ms");
  }
  if (fields.has("rrsig_min_remaining_ms")) {
    target.rrsig_min_remaining = fields.duration("rrsig_min_remaining_ms");
  }
  fields.finish();
  return target;
}

// `read` over every item of the array field `name`.
template <typename Item, typename Read>
std::vector<Item> read_list(Fields& fields, std::string_view name, Read read, std::string& error) {
  std::vector<Item> out;
  const auto* value = fields.get(name);
  const auto* array = value != nullptr ? value->if_array() : nullptr;
  if (value != nullptr && array == nullptr) {
    fields.fail(name, "must be an array");
  }
  for (std::size_t i = 0; array != nullptr && i < array->size() && fields.ok(); ++i) {
    out.push_back(read((*array)[i], fields.path(name) + "[" + std::to_string(i) + "]", error));
  }
  return out;
}

cs::Policy read_policy(const json::value& value, std::string& error) {
  Fields fields(value, "policy", error);
  cs::Policy policy;
  policy.targets = read_list<cs::TargetPolicy>(fields, "targets", read_target, error);
  policy.vantages = read_list<cs::VantagePolicy>(fields, "vantages", read_vantage, error);
  policy.peers = fields.strings("peers");
  if (const auto* domains = fields.get("peer_domains")) {
    Fields peers(*domains, fields.path("peer_domains"), error);
    for (const auto& entry : domains->is_object() ? domains->get_object() : json::object{}) {
      policy.peer_domains[std::string(entry.key())] = peers.strings(entry.key());
    }
    peers.finish();
  }
  policy.suspect_fraction = fields.fraction("suspect_fraction");
  policy.suspicion_grace = fields.duration("suspicion_grace_ms");
  policy.flap_limit = fields.number<int>("flap_limit");
  policy.flap_window = fields.duration("flap_window_ms");
  policy.max_unhealthy_fraction = fields.fraction("max_unhealthy_fraction");
  policy.blast_radius_min_targets = fields.number<int>("blast_radius_min_targets");
  fields.finish();
  return policy;
}

cs::Observation read_observation(const json::value& value, const std::string& where,
                                 std::string& error) {
  Fields fields(value, where, error);
  cs::Observation observation;
  observation.target = fields.string("target");
  observation.vantage = fields.string("vantage");
  observation.at = fields.instant("at");
  observation.outcome = fields.parsed("outcome", cs::parse_outcome, "up, down or observer_error");
  observation.layer = fields.parsed("layer", cs::parse_layer, "none, dns, connect, tls or http",
                                    false, cs::Layer::None);
  observation.last_known_good =
      fields.parsed("last_known_good", cs::parse_last_known_good,
                    "not_tried, reachable or unreachable", false, cs::LastKnownGood::NotTried);
  observation.latency_ms = fields.has("latency_ms") ? fields.fraction("latency_ms") : 0;
  observation.detail = fields.string("detail", false);
  observation.answers = fields.strings("answers", false);
  if (fields.has("cert_not_after_ms")) {
    observation.cert_not_after = cs::WallTime{fields.duration("cert_not_after_ms")};
  }
  if (fields.has("rrsig_expires_ms")) {
    observation.rrsig_expires = cs::WallTime{fields.duration("rrsig_expires_ms")};
  }
  fields.finish();
  return observation;
}

cs::RemoteVote read_remote(const json::value& value, std::string& error) {
  Fields fields(value, "remote", error);
  cs::RemoteVote remote;
  remote.target = fields.string("target");
  remote.vantage = fields.string("vantage");
  remote.vote = fields.parsed("vote", cs::parse_vote, "up, down, unknown or degraded");
  if (fields.has("observed_at")) {
    remote.observed_at = fields.instant("observed_at");
  }
  if (const auto* last = fields.get("last", false)) {
    remote.last = read_observation(*last, fields.path("last"), error);
  }
  fields.finish();
  return remote;
}

void read_override(const json::value& value, Step& step, std::string& error) {
  Fields fields(value, "set_override", error);
  step.target = fields.string("target");
  step.override_value.verdict =
      fields.parsed("verdict", cs::parse_verdict_kind, "healthy or unhealthy");
  step.override_value.reason = fields.string("reason");
  step.override_value.by = fields.string("by");
  step.override_value.set_at = fields.wall("set_at");
  step.override_value.expires_at = fields.wall("expires_at");
  fields.finish();
}

// One step line: "t" and exactly one of the kinds.
Step read_step(const json::value& value, std::string& error) {
  constexpr std::array<std::pair<std::string_view, Step::Kind>, 7> k_kinds{{
      {"observe", Step::Kind::Observe},
      {"remote", Step::Kind::Remote},
      {"add_remote", Step::Kind::AddRemote},
      {"set_override", Step::Kind::SetOverride},
      {"clear_override", Step::Kind::ClearOverride},
      {"restart", Step::Kind::Restart},
      {"evaluate", Step::Kind::Evaluate},
  }};
  Fields fields(value, "step", error);
  Step step;
  step.at = fields.instant("t");
  const json::value* body = nullptr;
  for (const auto& [name, kind] : k_kinds) {
    if (fields.has(name)) {
      if (body != nullptr) {
        fields.fail(name, "is a second kind of step on one line");
      }
      body = fields.get(name);
      step.kind = kind;
    }
  }
  if (body == nullptr) {
    fields.fail("",
                "names none of observe, remote, add_remote, set_override, "
                "clear_override, restart, evaluate");
  }
  if (!fields.ok()) {
    return step;
  }
  switch (step.kind) {
    case Step::Kind::Observe:
      step.observation = read_observation(*body, "observe", error);
      break;
    case Step::Kind::Remote:
      step.remote = read_remote(*body, error);
      break;
    case Step::Kind::AddRemote:
      step.vantage = read_vantage(*body, "add_remote", error);
      break;
    case Step::Kind::SetOverride:
      read_override(*body, step, error);
      break;
    case Step::Kind::ClearOverride:
      step.target = fields.string("clear_override");
      break;
    case Step::Kind::Restart:
    case Step::Kind::Evaluate: {
      const auto* name = step.kind == Step::Kind::Restart ? "restart" : "evaluate";
      if (!fields.boolean(name)) {
        fields.fail(name, "must be true");
      }
      break;
    }
  }
  fields.finish();
  return step;
}

}  // namespace

std::optional<Trace> from_jsonl(std::string_view text, std::string& error) {
  error.clear();
  std::optional<Trace> trace;
  std::size_t number = 0;
  while (!text.empty() && error.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos || line.front() == '#') {
      continue;
    }
    boost::system::error_code ec;
    const auto value = json::parse(json::string_view(line.data(), line.size()), ec);
    if (ec) {
      error = "not valid JSON: " + ec.message();
    } else if (!trace) {
      Fields header(value, "header", error);
      trace.emplace();
      trace->seed = header.number<std::uint64_t>("seed");
      if (const auto* policy = header.get("policy")) {
        trace->policy = read_policy(*policy, error);
      }
      header.finish();
    } else {
      trace->steps.push_back(read_step(value, error));
    }
    if (!error.empty()) {
      error.insert(0, "line " + std::to_string(number) + ": ");
    }
  }
  if (error.empty() && !trace) {
    error = R"(no policy line: a trace starts with {"seed": ..., "policy": {...}})";
  }
  return error.empty() ? trace : std::nullopt;
}

}  // namespace crosscheck::testing
