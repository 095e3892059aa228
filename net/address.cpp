#include "net/address.hpp"

#include <algorithm>

namespace crosscheck::net {

boost::asio::ip::address to_asio(const config::IpAddress& address) {
  if (address.family == config::IpAddress::Family::V4) {
    boost::asio::ip::address_v4::bytes_type bytes{};
    std::copy_n(address.bytes.begin(), bytes.size(), bytes.begin());
    return boost::asio::ip::address_v4(bytes);
  }
  boost::asio::ip::address_v6::bytes_type bytes{};
  std::copy_n(address.bytes.begin(), bytes.size(), bytes.begin());
  return boost::asio::ip::address_v6(bytes);
}

config::IpAddress from_asio(const boost::asio::ip::address& address) {
  config::IpAddress out;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
    out.family = config::IpAddress::Family::V4;
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
    out.family = config::IpAddress::Family::V6;
  }
  return out;
}

boost::asio::ip::udp::endpoint udp_endpoint(const config::Endpoint& endpoint) {
  return {to_asio(endpoint.address), endpoint.port};
}

boost::asio::ip::tcp::endpoint tcp_endpoint(const config::IpAddress& address, std::uint16_t port) {
  return {to_asio(address), port};
}

}  // namespace crosscheck::net
