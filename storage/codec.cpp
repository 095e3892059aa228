#include "storage/codec.hpp"

#include "json/consensus_json.hpp"
#include "json/strings.hpp"
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
  return json_text::write(json::value_from(votes));
}

consensus::VoteCounts votes_from_json(std::string_view text) {
  boost::system::error_code error;
  const auto value = json::parse(text, error);
  return error ? consensus::VoteCounts{} : json::value_to<consensus::VoteCounts>(value);
}

std::string window_to_json(const consensus::MaintenanceView& window) {
  return json_text::write(json::value_from(window));
}

std::optional<consensus::MaintenanceView> window_from_json(std::string_view text) {
  boost::system::error_code error;
  const auto value = json::parse(text, error);
  if (error || !value.is_object()) {
    return std::nullopt;
  }
  return json::value_to<consensus::MaintenanceView>(value);
}

std::string answers_to_json(const std::vector<std::string>& answers) {
  return json_text::write(json_text::string_array(answers));
}

std::vector<std::string> answers_from_json(std::string_view text) {
  boost::system::error_code error;
  const auto value = json::parse(text, error);
  if (error) {
    return {};
  }
  return json_text::strings_of(&value);
}

}  // namespace crosscheck::storage
