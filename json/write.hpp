// The one way crosscheck writes JSON text (REST bodies, replay output, JSON
// logs, webhook bodies, stored answers): Boost.JSON's serializer, except
// that numbers a person reads come out as plain decimals ("latency_ms":
// 0.504, never 5.04E-1). Pure: no I/O.
#pragma once

#include <boost/json/fwd.hpp>

#include <string>

namespace crosscheck::json_text {

// Compact JSON text of `value`. Doubles use the shortest form that reads
// back to the same double (std::to_chars): 12.5, 0.504, 3, 1e-07; a
// non-finite double (which JSON cannot hold) is written as null.
std::string write(const boost::json::value& value);
std::string write(const boost::json::object& object);
std::string write(const boost::json::array& array);
// Appends to `out` (for writers that build one buffer).
void write(const boost::json::value& value, std::string& out);

}  // namespace crosscheck::json_text
