// Asynchronous HTTP/HTTPS checks through net::HttpClient against one
// resolved address, keeping the URL's host for SNI and the Host header; the
// probe follows redirects itself. This header is light.
#pragma once

#include "config/config.hpp"
#include "consensus/clock.hpp"
#include "probes/reach_result.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::probes {

struct HttpRequest {
  config::HttpCheck check;
  config::IpAddress address;                       // connect here (resolved by the vantage)
  std::optional<config::IpAddress> source;         // bind to this local address
  std::chrono::steady_clock::time_point deadline;  // covers connect, TLS and response
};

using HttpCallback = std::function<void(ReachResult)>;

// Runs one request per `request.check` (method, headers, expect_status,
// expect_body, tls_verify, follow_redirects, max_body_bytes) and calls
// `done` exactly once by the deadline; `clock` measures the latency. Never
// throws.
void run_http_check(boost::asio::io_context& io, const consensus::Clock& clock,
                    std::shared_ptr<boost::asio::ssl::context> tls, const HttpRequest& request,
                    HttpCallback done);

}  // namespace crosscheck::probes
