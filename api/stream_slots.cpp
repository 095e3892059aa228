#include "api/stream_slots.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cassert>

namespace crosscheck::api {

std::string stream_client_key(const StreamClient& client) {
  if (!client.principal.empty()) {
    return "token:" + client.principal;
  }
  std::string_view host = client.address;
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (const auto zone = host.find('%'); zone != std::string_view::npos) {
    host = host.substr(0, zone);  // fe80::1%eth0: the scope is not the host
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    return std::string(host);
  }
  if (address.is_v4()) {
    return address.to_string();
  }
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  auto bytes = v6.to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) {
    bytes[i] = 0;
  }
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::optional<StreamPlace> StreamSlots::take(const StreamClient& client, bool tokens_configured) {
  StreamPlace place{stream_client_key(client), client.principal.empty(), client.whole};
  const std::lock_guard lock(mutex_);
  const std::size_t open_to_all =
      tokens_configured ? k_max_streams - k_streams_for_tokens : k_max_streams;
  const auto found = by_client_.find(place.key);
  const std::size_t held = found == by_client_.end() ? 0 : found->second;
  if (total_ >= k_max_streams || (place.anonymous && anonymous_ >= open_to_all) ||
      held >= k_streams_per_client || (place.whole && whole_ >= k_max_whole_streams)) {
    return std::nullopt;
  }
  ++by_client_[place.key];
  ++total_;
  anonymous_ += place.anonymous ? 1 : 0;
  whole_ += place.whole ? 1 : 0;
  return place;
}

void StreamSlots::give_back(const StreamPlace& place) noexcept {
  const std::lock_guard lock(mutex_);
  const auto found = by_client_.find(place.key);
  assert(found != by_client_.end() && total_ > 0);
  assert(!place.anonymous || anonymous_ > 0);
  assert(!place.whole || whole_ > 0);
  if (found == by_client_.end()) {
    return;  // not taken: nothing to give back
  }
  if (--found->second == 0) {
    by_client_.erase(found);
  }
  --total_;
  anonymous_ -= place.anonymous && anonymous_ > 0 ? 1 : 0;
  whole_ -= place.whole && whole_ > 0 ? 1 : 0;
}

std::size_t StreamSlots::taken() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

bool StreamSlots::whole_known_too_large(std::size_t targets) const {
  const std::lock_guard lock(mutex_);
  return overflow_targets_ && targets >= *overflow_targets_;
}

void StreamSlots::whole_overflowed(std::size_t targets) {
  const std::lock_guard lock(mutex_);
  overflow_targets_ = std::min(targets, overflow_targets_.value_or(targets));
}

}  // namespace crosscheck::api
