// A hash map keyed by name that is looked up with a std::string_view, no
// std::string made for the lookup. For indexes read on every observation
// (target and vantage names), where an ordered map compared ~14 names per
// lookup at 10,000 targets and its nodes were scattered over the heap.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace crosscheck {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace crosscheck
