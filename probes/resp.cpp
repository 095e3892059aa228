#include "probes/resp.hpp"

#include <charconv>

namespace crosscheck::probes::resp {
namespace {

constexpr std::string_view k_crlf = "\r\n";

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input) {}

  // nullopt with error_ empty: more bytes needed.
  std::optional<Value> value(int depth) {
    if (depth > k_max_depth) {
      return fail("nested deeper than " + std::to_string(k_max_depth));
    }
    auto line = next_line();
    if (!line) {
      return std::nullopt;
    }
    if (line->empty()) {
      return fail("empty line");
    }
    const char kind = line->front();
    const std::string_view rest = line->substr(1);
    Value out;
    switch (kind) {
      case '+':
        out.type = Type::Simple;
        out.text = rest;
        return out;
      case '-':
        out.type = Type::Error;
        out.text = rest;
        return out;
      case ':': {
        out.type = Type::Integer;
        if (!number(rest, out.integer)) {
          return fail("bad integer");
        }
        return out;
      }
      case '$':
        return bulk(rest);
      case '*':
        return array(rest, depth);
      case '_':
        return Value{};  // RESP3 null
      default:
        break;
    }
    return fail("unknown reply type '" + std::string(1, kind) + "'");
  }

  std::size_t consumed() const { return position_; }
  const std::string& error() const { return error_; }

 private:
  std::optional<Value> bulk(std::string_view length_text) {
    std::int64_t length = 0;
    if (!number(length_text, length) || length < -1) {
      return fail("bad bulk length");
    }
    if (length == -1) {
      return Value{};
    }
    if (static_cast<std::size_t>(length) > k_max_bulk) {
      return fail("bulk string of " + std::to_string(length) + " bytes (over " +
                  std::to_string(k_max_bulk) + ")");
    }
    const auto size = static_cast<std::size_t>(length);
    if (input_.size() - position_ < size + k_crlf.size()) {
      return std::nullopt;
    }
    if (input_.substr(position_ + size, k_crlf.size()) != k_crlf) {
      return fail("bulk string not followed by CRLF");
    }
    Value out;
    out.type = Type::Bulk;
    out.text = input_.substr(position_, size);
    position_ += size + k_crlf.size();
    return out;
  }

  std::optional<Value> array(std::string_view count_text, int depth) {
    std::int64_t count = 0;
    if (!number(count_text, count) || count < -1) {
      return fail("bad array length");
    }
    if (count == -1) {
      return Value{};
    }
    if (static_cast<std::size_t>(count) > k_max_elements) {
      return fail("array of " + std::to_string(count) + " elements (over " +
                  std::to_string(k_max_elements) + ")");
    }
    Value out;
    out.type = Type::Array;
    for (std::int64_t i = 0; i < count; ++i) {
      auto element = value(depth + 1);
      if (!element) {
        return std::nullopt;
      }
      out.elements.push_back(std::move(*element));
    }
    return out;
  }

  std::optional<std::string_view> next_line() {
    const auto end = input_.find(k_crlf, position_);
    if (end == std::string_view::npos) {
      if (input_.size() - position_ > k_max_bulk) {
        fail("line longer than " + std::to_string(k_max_bulk) + " bytes");
      }
      return std::nullopt;
    }
    const auto line = input_.substr(position_, end - position_);
    position_ = end + k_crlf.size();
    return line;
  }

  static bool number(std::string_view text, std::int64_t& out) {
    const auto* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && at == end && !text.empty();
  }

  std::optional<Value> fail(std::string why) {
    if (error_.empty()) {
      error_ = std::move(why);
    }
    return std::nullopt;
  }

  std::string_view input_;
  std::size_t position_ = 0;
  std::string error_;
};

}  // namespace

std::string encode_command(const std::vector<std::string>& arguments) {
  std::string out = "*" + std::to_string(arguments.size()) + "\r\n";
  for (const auto& argument : arguments) {
    out += "$" + std::to_string(argument.size()) + "\r\n";
    out += argument;
    out += "\r\n";
  }
  return out;
}

Parsed parse(std::string_view input) {
  Parser parser(input);
  Parsed out;
  out.value = parser.value(0);
  out.error = parser.error();
  if (!out.error.empty()) {
    out.value.reset();
  } else if (out.value) {
    out.consumed = parser.consumed();
  }
  return out;
}

std::string describe(const Value& value, std::size_t limit) {
  std::string out;
  switch (value.type) {
    case Type::Simple:
    case Type::Error:
    case Type::Bulk:
      out = value.text;
      break;
    case Type::Integer:
      out = std::to_string(value.integer);
      break;
    case Type::Null:
      out = "(nil)";
      break;
    case Type::Array:
      out = "[";
      for (std::size_t i = 0; i < value.elements.size() && out.size() < limit; ++i) {
        out += (i == 0 ? "" : ", ") + describe(value.elements[i], limit);
      }
      out += "]";
      break;
  }
  // One line of printable text: a reply's bytes go into a detail.
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < ' ' || static_cast<unsigned char>(c) >= 0x7f) {
      c = '?';
    }
  }
  if (out.size() > limit) {
    out.resize(limit);
    out += "...";
  }
  return out;
}

}  // namespace crosscheck::probes::resp
