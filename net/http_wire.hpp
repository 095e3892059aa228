// How an HttpRequest becomes a request on the wire (method, target, Host,
// User-Agent, headers, body) and which connection it needs. Internal to
// net/: it brings Beast's message types, so only .cpp files include it.
#pragma once

#include "base/expected.hpp"
#include "net/http_client.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace crosscheck::net {

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The request `spec` as sent with `options` (user agent, keep-alive); an
// error for a method that is neither one Beast knows nor an HTTP token.
Expected<WireRequest> build_wire_request(const HttpRequest& spec, const HttpClientOptions& options);

// The connection a request needs: scheme, host (SNI, certificate), port,
// address, source address and whether TLS is verified. Equal origins may
// share a kept-alive connection.
std::string origin_of(const HttpRequest& spec);

}  // namespace crosscheck::net
