// ASCII helpers for protocol text (HTTP header names, methods, schemes):
// locale-independent, no allocation.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace crosscheck::ascii {

constexpr char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive equality, as HTTP header names and methods compare.
constexpr bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return to_lower(x) == to_lower(y); });
}

// An HTTP token (RFC 9110 5.6.2), the form of a method: "GET", "PURGE"; not "FETCH ME".
constexpr bool is_token(std::string_view text) {
  constexpr std::string_view k_marks = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           k_marks.find(c) != std::string_view::npos;
  });
}

// `text` with ASCII letters in lower case, as DNS names, URL schemes and
// hosts compare (other bytes as they are).
inline std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

// `text` with every byte outside printable ASCII shown as '?', at most
// `limit` bytes: for quoting what the other side sent into a log line
// (a newline in it must not start a forged line of its own).
inline std::string printable(std::string_view text, std::size_t limit) {
  std::string out(text.substr(0, limit));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c < ' ' || c > '~'; }, '?');
  return out;
}

}  // namespace crosscheck::ascii
