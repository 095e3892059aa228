// An API request target taken apart: percent-decoded path segments and a
// strict query whose every parameter must be used, or the request is a 400.
// Pure string work: no I/O, never throws on input.
#pragma once

#include "base/expected.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::net {

// "db%2Dprimary" -> "db-primary"; nullopt on a broken escape or an encoded NUL.
// '+' stays '+' (RFC 3986; form encoding is not used by this API).
std::optional<std::string> percent_decode(std::string_view text);
// RFC 3986 percent-encoding of everything but the unreserved characters
// (for a target name in a path: "db primary" -> "db%20primary").
std::string percent_encode(std::string_view text);

// A whole non-negative decimal number ("42"); nullopt on anything else.
std::optional<std::uint64_t> parse_count(std::string_view text);

// The decoded query. A handler take()s what it knows, then asks leftover().
class QueryParams {
 public:
  // Parses "a=1&b=x%20y"; fails on a bad escape or a repeated name.
  Status parse(std::string_view text);
  // The value of `name` (marking it used), or nullopt when absent.
  std::optional<std::string> take(std::string_view name);
  // "" when every parameter was taken; else a 400 detail naming the first
  // other one and the `allowed` list ("expect, generation").
  std::string leftover(std::string_view allowed) const;

 private:
  struct Item {
    std::string name;
    std::string value;
    bool taken = false;
  };
  Item* find(std::string_view name);
  std::vector<Item> items_;
};

struct RequestTarget {
  std::string path;                   // as sent, without the query
  std::vector<std::string> segments;  // "/v1/verdicts/a%2Fb" -> {"v1", "verdicts", "a/b"}
  std::string query;                  // after '?', still encoded (QueryParams::parse it)
};

// Splits "/path?query" and decodes the path; fails when the target is not a
// path or the path's encoding is broken.
Expected<RequestTarget> parse_request_target(std::string_view target);

}  // namespace crosscheck::net
