// The short names the Beast and Asio sources use: asio, beast, http, ssl,
// tcp, error_code. For .cpp files that compile Beast anyway (net/, lab/);
// no widely included header includes it, so it adds no Beast elsewhere.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace boost::beast::http {}
namespace boost::asio::ssl {}

namespace crosscheck::net::beast_names {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

}  // namespace crosscheck::net::beast_names
