#include "json/consensus_json.hpp"

#include "consensus/time_format.hpp"
#include "json/strings.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {
namespace {

namespace json = boost::json;

// A count: a non-negative integer that fits an int; anything else reads 0.
int count_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64()) {
    return 0;
  }
  const std::int64_t number = value->get_int64();
  return number >= 0 && number <= std::numeric_limits<int>::max() ? static_cast<int>(number) : 0;
}

std::string text_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

json::value text_or_null(std::string_view text) {
  if (text.empty()) {
    return nullptr;
  }
  return json::string(text);
}

WallTime time_at(const json::object& object, std::string_view key) {
  return parse_rfc3339(text_at(object, key)).value_or(WallTime{});
}

}  // namespace

void tag_invoke(const boost::json::value_from_tag& /*tag*/, boost::json::value& out,
                const VoteCounts& votes) {
  json::object object;
  object["up"] = votes.up;
  object["down"] = votes.down;
  object["unknown"] = votes.unknown;
  object["down_quorum"] = votes.down_quorum;
  object["up_quorum"] = votes.up_quorum;
  // Domains whose own vantages disagree: counted neither up nor down.
  object["split"] = votes.split;
  object["split_domains"] = json_text::string_array(votes.split_domains);
  object["known_domains"] = votes.known_domains;
  object["up_domains"] = json_text::string_array(votes.up_domains);
  object["down_domains"] = json_text::string_array(votes.down_domains);
  // Domains that see the latency objective broken (docs/degraded.md).
  object["degraded"] = votes.degraded;
  object["degraded_domains"] = json_text::string_array(votes.degraded_domains);
  out = std::move(object);
}

VoteCounts tag_invoke(const boost::json::value_to_tag<VoteCounts>& /*tag*/,
                      const boost::json::value& value) {
  VoteCounts votes;
  if (!value.is_object()) {
    return votes;
  }
  const json::object& object = value.get_object();
  votes.up = count_at(object, "up");
  votes.down = count_at(object, "down");
  votes.unknown = count_at(object, "unknown");
  votes.down_quorum = count_at(object, "down_quorum");
  votes.up_quorum = count_at(object, "up_quorum");
  votes.split = count_at(object, "split");
  votes.split_domains = json_text::strings_at(object, "split_domains");
  votes.known_domains = count_at(object, "known_domains");
  votes.up_domains = json_text::strings_at(object, "up_domains");
  votes.down_domains = json_text::strings_at(object, "down_domains");
  votes.degraded = count_at(object, "degraded");
  votes.degraded_domains = json_text::strings_at(object, "degraded_domains");
  return votes;
}

void tag_invoke(const boost::json::value_from_tag& /*tag*/, boost::json::value& out,
                const MaintenanceView& view) {
  json::object object;
  object["source"] = to_string(view.source);
  object["window"] = view.window;
  object["since"] = format_rfc3339(view.since);
  object["until"] = format_rfc3339(view.until);
  object["reason"] = text_or_null(view.reason);
  object["by"] = text_or_null(view.by);
  object["node"] = text_or_null(view.node);
  out = std::move(object);
}

MaintenanceView tag_invoke(const boost::json::value_to_tag<MaintenanceView>& /*tag*/,
                           const boost::json::value& value) {
  MaintenanceView view;
  if (!value.is_object()) {
    return view;
  }
  const json::object& object = value.get_object();
  view.source =
      text_at(object, "source") == "api" ? MaintenanceSource::Api : MaintenanceSource::Config;
  view.window = text_at(object, "window");
  view.since = time_at(object, "since");
  view.until = time_at(object, "until");
  view.reason = text_at(object, "reason");
  view.by = text_at(object, "by");
  view.node = text_at(object, "node");  // absent (an older oracle) or null: set there
  return view;
}

}  // namespace crosscheck::consensus
