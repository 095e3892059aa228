// A small synchronous HTTP/1.1 client for end-to-end tests: one request per
// connection, bounded by a timeout, loopback only.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::testing {

struct HttpAnswer {
  int status = 0;  // 0 when no answer (connect failed, timeout)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error;

  std::string header(const std::string& name) const;
};

// Sends `method target` to host:port with an optional body and headers.
HttpAnswer http_request(const std::string& host, unsigned short port, const std::string& method,
                        const std::string& target, const std::string& body = {},
                        std::vector<std::pair<std::string, std::string>> headers = {},
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(3'000));

// Sends raw bytes and returns whatever comes back before the peer closes or
// the timeout passes (for malformed-request tests).
std::string raw_exchange(const std::string& host, unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(2'000));

}  // namespace crosscheck::testing
