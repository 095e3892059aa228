// Conversions between config's parsed addresses and Asio's. Light header:
// only Asio's address types.
#pragma once

#include "config/types.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

namespace crosscheck::net {

boost::asio::ip::address to_asio(const config::IpAddress& address);
config::IpAddress from_asio(const boost::asio::ip::address& address);
boost::asio::ip::udp::endpoint udp_endpoint(const config::Endpoint& endpoint);
boost::asio::ip::tcp::endpoint tcp_endpoint(const config::IpAddress& address, std::uint16_t port);

}  // namespace crosscheck::net
