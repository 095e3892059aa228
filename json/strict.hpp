// JSON parsing that refuses an object naming a key twice, for input a
// person reviews or acts on (replay lines, the API's write bodies):
// json::parse keeps one of the two silently.
// Pure: no I/O.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::json_text {

// What parse_strict_json found: the value, or why not.
struct StrictJson {
  std::optional<boost::json::value> value;
  std::string duplicate;            // the first key an object named twice
  boost::system::error_code error;  // not valid JSON (when no duplicate)
};

// `text` as one JSON value; no value when it is not exactly one valid JSON
// text or an object in it names a key twice.
StrictJson parse_strict_json(std::string_view text);

}  // namespace crosscheck::json_text
