#include "json/write.hpp"

#include <boost/json/value.hpp>

#include <array>
#include <charconv>
#include <cmath>

namespace crosscheck::json_text {
namespace {

void write_string(std::string_view text, std::string& out) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += k_hex[byte >> 4U];
          out += k_hex[byte & 0xFU];
        } else {
          out += c;  // UTF-8 passes through, as Boost.JSON writes it
        }
    }
  }
  out += '"';
}

template <typename Number>
void write_number(Number number, std::string& out) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  out.append(buffer.data(), ec == std::errc{} ? end : buffer.data());
}

void write_array(const boost::json::array& array, std::string& out) {
  out += '[';
  bool first = true;
  for (const auto& item : array) {
    out += first ? "" : ",";
    first = false;
    write(item, out);
  }
  out += ']';
}

void write_object(const boost::json::object& object, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [key, item] : object) {
    out += first ? "" : ",";
    first = false;
    write_string(key, out);
    out += ':';
    write(item, out);
  }
  out += '}';
}

}  // namespace

void write(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      write_number(value.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      write_number(value.get_uint64(), out);
      return;
    case boost::json::kind::double_:
      if (!std::isfinite(value.get_double())) {
        out += "null";
      } else {
        write_number(value.get_double(), out);
      }
      return;
    case boost::json::kind::string:
      write_string(value.get_string(), out);
      return;
    case boost::json::kind::array:
      write_array(value.get_array(), out);
      return;
    case boost::json::kind::object:
      write_object(value.get_object(), out);
      return;
  }
}

std::string write(const boost::json::value& value) {
  std::string out;
  write(value, out);
  return out;
}

std::string write(const boost::json::object& object) {
  std::string out;
  write_object(object, out);
  return out;
}

std::string write(const boost::json::array& array) {
  std::string out;
  write_array(array, out);
  return out;
}

}  // namespace crosscheck::json_text
