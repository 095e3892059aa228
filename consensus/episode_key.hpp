// An escalation key, shared by targets (Engine::new_key) and groups
// (Engine::update_group_episode): "KIND/NAME/GENERATION", with ".2", ".3"
// when that generation already used it. Pure.
#pragma once

#include "consensus/types.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

// Why a suffix: one generation can hold two episodes of a kind (a dispute,
// then flapping, then a dispute again while the verdict stays disputed).
// Sinks dedupe by key, so a reused key would silently swallow the second
// page. The key returned is added to `used`.
inline std::string unique_episode_key(std::vector<std::string>& used, EventKind kind,
                                      std::string_view name, std::uint64_t generation) {
  std::string base = std::string(to_string(kind)) + "/";
  base += name;
  base += "/" + std::to_string(generation);
  std::string key = base;
  for (int n = 2; std::find(used.begin(), used.end(), key) != used.end(); ++n) {
    key = base + "." + std::to_string(n);
  }
  used.push_back(key);
  return key;
}

}  // namespace crosscheck::consensus
