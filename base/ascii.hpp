// ASCII helpers for protocol text (HTTP header names, methods, schemes):
// locale-independent, no allocation.
#pragma once

#include <algorithm>
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

}  // namespace crosscheck::ascii
