// Lists of strings in JSON, written and read one way everywhere (answers,
// domain lists, evidence): an array of strings; reading skips what is not
// a string and takes a missing or mistyped field as empty.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::json_text {

boost::json::array string_array(const std::vector<std::string>& items);
// The strings of `value` when it is an array; empty otherwise (or nullptr).
std::vector<std::string> strings_of(const boost::json::value* value);
// The strings of object[key].
std::vector<std::string> strings_at(const boost::json::object& object, std::string_view key);

}  // namespace crosscheck::json_text
