// Internal to snapshot/: the pieces every write body is read with (strict
// object, string fields, no control characters, who), shared by
// json_views.cpp and action_json.cpp.
#pragma once

#include "base/expected.hpp"

#include <boost/json/object.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::snapshot::detail {

// Reads `name` from a JSON object as a string; false when present but not one.
bool string_field(const boost::json::object& body, std::string_view name,
                  std::optional<std::string>& out);
// Parses a write's JSON object body, allowing only `names` as keys.
Expected<boost::json::object> parse_object(std::string_view text,
                                           std::initializer_list<std::string_view> names);
// True when `text` holds a control character (C0 or DEL).
bool has_control(std::string_view text);
// The actor named by {"by": "..."}, or k_default_actor; an Error when bad.
Expected<std::string> actor(const std::optional<std::string>& by);

}  // namespace crosscheck::snapshot::detail
