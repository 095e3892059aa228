#include "probes/last_known_good.hpp"

namespace crosscheck::probes {

void LastKnownGoodStore::remember(const std::string& target, const std::string& vantage,
                                  std::vector<config::IpAddress> addresses,
                                  consensus::MonoTime now) {
  if (addresses.empty()) {
    return;
  }
  entries_[{target, vantage}] = Entry{std::move(addresses), now};
}

std::vector<config::IpAddress> LastKnownGoodStore::recall(const std::string& target,
                                                          const std::string& vantage,
                                                          consensus::MonoTime now,
                                                          consensus::Duration max_age) const {
  const auto found = entries_.find(std::pair{target, vantage});
  if (found == entries_.end() || now - found->second.at > max_age) {
    return {};
  }
  return found->second.addresses;
}

}  // namespace crosscheck::probes
