// RESP (the Redis serialization protocol, versions 2 and 3's common part):
// encoding a command and parsing replies as they arrive, with bounds, so a
// hostile or broken server costs a clear error, never memory or a crash.
// Plain values; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes::resp {

enum class Type : std::uint8_t { Simple, Error, Integer, Bulk, Null, Array };

struct Value {
  Type type = Type::Null;
  std::string text;  // Simple, Error, Bulk
  std::int64_t integer = 0;
  std::vector<Value> elements;  // Array
};

// Bounds on one reply: a check's replies are a few dozen bytes.
constexpr std::size_t k_max_bulk = 65'536;
constexpr std::size_t k_max_elements = 64;
constexpr int k_max_depth = 4;

// `*N\r\n$len\r\narg\r\n...`: any bytes in the arguments (a password).
std::string encode_command(const std::vector<std::string>& arguments);

struct Parsed {
  std::optional<Value> value;  // set when a whole reply was read
  std::size_t consumed = 0;    // bytes of `input` it took
  std::string error;           // set when the input is not RESP (or over the bounds)
};

// The first reply in `input`: a value, "need more bytes" (no value, no
// error), or an error.
Parsed parse(std::string_view input);

// A reply for a detail line: "+PONG" -> "PONG", an error as is, an array as
// "[master, 0, ...]", cut to `limit` characters.
std::string describe(const Value& value, std::size_t limit = 120);

}  // namespace crosscheck::probes::resp
