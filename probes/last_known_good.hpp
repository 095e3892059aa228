// Per (target, vantage) memory of the addresses last resolved successfully,
// with their age, for the last-known-good retry when DNS fails. Pure.
#pragma once

#include "config/types.hpp"
#include "consensus/types.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::probes {

class LastKnownGoodStore {
 public:
  // Remembers `addresses` as resolved at `now` (an empty list is ignored:
  // an empty answer must never erase the good addresses).
  void remember(const std::string& target, const std::string& vantage,
                std::vector<config::IpAddress> addresses, consensus::MonoTime now);
  // The remembered addresses when younger than max_age (inclusive), else none.
  std::vector<config::IpAddress> recall(const std::string& target, const std::string& vantage,
                                        consensus::MonoTime now, consensus::Duration max_age) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<config::IpAddress> addresses;
    consensus::MonoTime at;
  };
  std::map<std::pair<std::string, std::string>, Entry, std::less<>> entries_;
};

}  // namespace crosscheck::probes
