// DNS over TLS (`resolver: tls://IP[:PORT]`): a vantage's TLS settings,
// built once per vantage, and the checks around the handshake (the name
// through net/tls_client.hpp, the key pins) with the words an observer
// error uses. OpenSSL calls on one handle; no sockets, no I/O.
#pragma once

#include "config/config.hpp"

#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct ssl_st;

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::probes {

struct DotTransport {
  // The client context: tls_ca's CAs or the system store. Null when it could
  // not be built (tls_ca unreadable since the config was checked): `problem`
  // says why, and every query of the vantage is an observer error.
  std::shared_ptr<boost::asio::ssl::context> context;
  std::string problem;
  std::optional<std::string> name;    // tls_name: SNI, and the certificate must name it
  std::vector<config::SpkiPin> pins;  // tls_pins: the leaf's key must be one of them
};

// Builds a vantage's DoT settings; reads tls_ca here, not per query.
std::shared_ptr<const DotTransport> make_dot_transport(const config::DotConfig& dot);

// Before the handshake: SNI and the name check when tls_name is set; the
// OpenSSL error when the handle refuses a setting.
boost::system::error_code prepare_dot_handshake(ssl_st* handle, const DotTransport& dot);

// After a failed handshake with `resolver` ("tls://127.0.0.1:853"): the
// observer error's detail, saying what failed ("dot: the certificate of
// tls://...: does not name dns.example (possible interception)").
std::string describe_dot_failure(const boost::system::error_code& ec, ssl_st* handle,
                                 const std::string& resolver, const DotTransport& dot);

// After a handshake that succeeded: nullopt when there are no pins or the
// leaf's key matches one, else the observer error's detail naming the key
// the resolver presented.
std::optional<std::string> check_dot_pins(ssl_st* handle, const std::string& resolver,
                                          const DotTransport& dot);

}  // namespace crosscheck::probes
