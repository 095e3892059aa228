// What makes a group the cluster it is: its threshold and its members, as
// one short string stored with the group's verdict. A
// restart that finds another definition than the stored one judges the
// group anew, one generation on, as a reload does (engine_groups.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

// "H/N/HASH": healthy_at_least, the member count and a 64-bit FNV-1a of the
// member names in sorted order (the order in the file judges nothing).
// Short whatever the size (up to 10,000 members).
inline std::string group_definition(int healthy_at_least, std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  constexpr std::uint64_t k_offset = 14695981039346656037ULL;
  constexpr std::uint64_t k_prime = 1099511628211ULL;
  std::uint64_t hash = k_offset;
  auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash = (hash ^ static_cast<unsigned char>(c)) * k_prime;
    }
    hash = (hash ^ 0U) * k_prime;  // a separator no name contains
  };
  for (const auto& member : members) {
    mix(member);
  }
  constexpr std::string_view k_hex = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i) {
    hex[static_cast<std::size_t>(i)] = k_hex[hash & 0xFU];
    hash >>= 4U;
  }
  return std::to_string(healthy_at_least) + "/" + std::to_string(members.size()) + "/" + hex;
}

}  // namespace crosscheck::consensus
