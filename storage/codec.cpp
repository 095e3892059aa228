#include "storage/codec.hpp"
#include "json/write.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <limits>
#include <type_traits>

namespace crosscheck::storage {
namespace {

namespace json = boost::json;

// Every enum here is a std::uint8_t whose to_string() says "invalid" for
// values it does not name, so trying all 256 finds the one spelled `text`
// and stays right when consensus adds a value.
template <typename Enum>
std::optional<Enum> parse_by_name(std::string_view text) {
  using Underlying = std::underlying_type_t<Enum>;
  static_assert(std::is_same_v<Underlying, std::uint8_t>);
  for (unsigned value = 0; value <= std::numeric_limits<Underlying>::max(); ++value) {
    const auto candidate = static_cast<Enum>(value);
    if (consensus::to_string(candidate) == text) {
      return candidate;
    }
  }
  return std::nullopt;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  array.reserve(items.size());
  for (const auto& item : items) {
    array.emplace_back(item);
  }
  return array;
}

std::vector<std::string> strings_of(const json::value* value) {
  std::vector<std::string> items;
  if (value == nullptr || !value->is_array()) {
    return items;
  }
  for (const auto& item : value->get_array()) {
    if (item.is_string()) {
      items.emplace_back(item.get_string());
    }
  }
  return items;
}

int int_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64()) {
    return 0;
  }
  const auto number = value->get_int64();
  if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
    return 0;
  }
  return static_cast<int>(number);
}

}  // namespace

std::int64_t to_millis(consensus::WallTime at) {
  return at.time_since_epoch().count();
}

consensus::WallTime from_millis(std::int64_t millis) {
  return consensus::WallTime{consensus::Duration{millis}};
}

std::optional<consensus::ReasonCode> parse_reason_code(std::string_view text) {
  return parse_by_name<consensus::ReasonCode>(text);
}

std::optional<consensus::EventKind> parse_event_kind(std::string_view text) {
  return parse_by_name<consensus::EventKind>(text);
}

std::string votes_to_json(const consensus::VoteCounts& votes) {
  json::object object;
  object["up"] = votes.up;
  object["down"] = votes.down;
  object["unknown"] = votes.unknown;
  object["down_quorum"] = votes.down_quorum;
  object["up_quorum"] = votes.up_quorum;
  object["known_domains"] = votes.known_domains;
  object["up_domains"] = to_array(votes.up_domains);
  object["down_domains"] = to_array(votes.down_domains);
  object["split"] = votes.split;
  object["split_domains"] = to_array(votes.split_domains);
  return json_text::write(object);
}

consensus::VoteCounts votes_from_json(std::string_view text) {
  consensus::VoteCounts votes;
  boost::system::error_code error;
  const auto value = json::parse(text, error);
  if (error || !value.is_object()) {
    return votes;
  }
  const auto& object = value.get_object();
  votes.up = int_of(object, "up");
  votes.down = int_of(object, "down");
  votes.unknown = int_of(object, "unknown");
  votes.down_quorum = int_of(object, "down_quorum");
  votes.up_quorum = int_of(object, "up_quorum");
  votes.known_domains = int_of(object, "known_domains");
  votes.up_domains = strings_of(object.if_contains("up_domains"));
  votes.down_domains = strings_of(object.if_contains("down_domains"));
  votes.split = int_of(object, "split");
  votes.split_domains = strings_of(object.if_contains("split_domains"));
  return votes;
}

std::string answers_to_json(const std::vector<std::string>& answers) {
  return json_text::write(to_array(answers));
}

std::vector<std::string> answers_from_json(std::string_view text) {
  boost::system::error_code error;
  const auto value = json::parse(text, error);
  if (error) {
    return {};
  }
  return strings_of(&value);
}

}  // namespace crosscheck::storage
