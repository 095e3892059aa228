// A small synchronous HTTP/1.1 client for the CLI's reads of the REST API
// (`status`, `explain`, `status --watch`): GET over http or https, one
// deadline per request, bounded answers, a kept-alive connection reused. A
// façade over the asynchronous HttpClient on a private io_context.
#pragma once

#include "base/expected.hpp"
#include "config/types.hpp"
#include "net/http_client.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::net {

// Largest answer body read by default (a verdict with evidence is a few KiB).
// Not k_api_body_limit: that is the server's request limit (api_server.hpp).
constexpr std::size_t k_client_body_limit = std::size_t{4} * 1024 * 1024;

enum class ApiFailure : std::uint8_t {
  None,
  Unreachable,  // cannot resolve or connect: nothing is listening there
  Timeout,      // connected, but no complete answer before the deadline
  Protocol,     // TLS failure, closed early, not HTTP, body over the limit
  Interrupted,  // SIGINT or SIGTERM arrived (only with handle_signals)
};

struct ApiResult {
  ApiFailure failure = ApiFailure::None;
  std::string error;  // one line: "cannot connect to 127.0.0.1:9470: connection refused"
  int status = 0;     // the HTTP status when failure is None
  std::string body;

  bool ok() const { return failure == ApiFailure::None; }
};

// A request other than a plain GET (the escalation sinks POST JSON). Not
// ApiRequest: that is the router's, and one name for two types breaks the ODR.
struct ClientRequest {
  std::string method = "GET";  // GET or POST
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // added as given
};

struct ApiClientOptions {
  std::chrono::milliseconds timeout{5'000};  // per request, connect included
  std::string token;                         // bearer token; empty: none sent
  bool handle_signals = false;               // SIGINT/SIGTERM end the current wait as Interrupted
  std::size_t body_limit = k_client_body_limit;    // larger answers fail as Protocol, unread
  std::shared_ptr<boost::asio::ssl::context> tls;  // https; null: the default (system store)
};

class ApiClient {
 public:
  // `base` is the API's root URL (http or https, optional path prefix).
  ApiClient(config::Url base, ApiClientOptions options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;
  ApiClient(ApiClient&&) = delete;
  ApiClient& operator=(ApiClient&&) = delete;

  // GET base + `path` ("/v1/verdicts?x=1"). `extra_wait` lengthens the
  // deadline for a long poll. Never throws on network trouble.
  ApiResult get(std::string_view path, std::chrono::milliseconds extra_wait = {});
  // Sends `request` to base + `path` (empty: the base URL itself) under the
  // same deadline and failure rules as get().
  ApiResult send(std::string_view path, const ClientRequest& request);

  // Waits `pause` (a reconnect backoff); false when a signal interrupted it.
  bool pause(std::chrono::milliseconds pause);

  // True once SIGINT or SIGTERM arrived (with handle_signals).
  bool interrupted() const;

  const config::Url& base() const;

 private:
  ApiResult send(std::string_view path, const ClientRequest& request,
                 std::chrono::milliseconds extra_wait);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The API root from --api / CROSSCHECK_API: an http(s) URL without user
// info, query or fragment.
Expected<config::Url> parse_api_url(std::string_view text);

// A failed request to `base` in the CLI's and the logs' words ("cannot
// connect to 127.0.0.1:9470: connection refused", "no answer from URL within
// 5s", "the answer from URL is larger than N bytes"). `budget` is the
// request's whole wait, `body_limit` its cap.
std::string describe_failure(const net::HttpResult& result, const config::Url& base,
                             std::chrono::milliseconds budget, std::size_t body_limit);

// base's path prefix (trailing slashes removed) + `path`: the target sent.
std::string api_target(const config::Url& base, std::string_view path);

}  // namespace crosscheck::net
