#include "json/strings.hpp"

namespace crosscheck::json_text {

boost::json::array string_array(const std::vector<std::string>& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (const auto& item : items) {
    out.emplace_back(boost::json::string(item));
  }
  return out;
}

std::vector<std::string> strings_of(const boost::json::value* value) {
  std::vector<std::string> out;
  if (value == nullptr || !value->is_array()) {
    return out;
  }
  for (const auto& item : value->get_array()) {
    if (item.is_string()) {
      out.emplace_back(item.get_string());
    }
  }
  return out;
}

std::vector<std::string> strings_at(const boost::json::object& object, std::string_view key) {
  return strings_of(object.if_contains(key));
}

}  // namespace crosscheck::json_text
