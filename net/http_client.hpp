// The one asynchronous HTTP/1.1 client: plain or TLS, on the caller's
// io_context, under one absolute deadline, with a bounded answer and exactly
// one completion that never throws. Every outgoing HTTP request of ours (CLI,
// gate, peers, sinks, the probe's check) goes through it. Beast and
// Asio SSL stay in http_client.cpp; this header is light.
#pragma once

#include "base/expected.hpp"
#include "config/types.hpp"

#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace crosscheck::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Why a request produced no usable answer; one value per cause, counted and
// rendered by the caller.
enum class HttpFailure : std::uint8_t {
  None,
  Resolve,         // the host name did not resolve (or to no address)
  Connect,         // no connection: unreachable, reset, closed while connecting
  ConnectRefused,  // nothing listens there
  Timeout,         // the deadline passed (stage says where)
  Tls,             // handshake or certificate verification failed
  Closed,          // connected, but the connection broke before the answer's header
  Protocol,        // not HTTP, or broken in the middle of the answer
  BodyTooLarge,    // the answer's body is over body_limit (and truncate is off)
  Observer,        // this host's own failure: bind, no route, out of sockets
  Cancelled,       // HttpClient::cancel()
};

// "resolve", "connect-refused", ... (stable, for counters and logs).
std::string_view to_string(HttpFailure failure);

// Why a TLS connection was refused, one value per cause an operator fixes
// differently; counted as the `reason` label of failure counters.
enum class TlsRefusal : std::uint8_t {
  None,
  UnknownCa,   // the server's chain does not lead to a trusted CA (or is self-signed)
  Expired,     // the server's certificate has expired (or is not yet valid)
  WrongName,   // the server's certificate does not name the host (or IP) we asked for
  ClientCert,  // the server refused our client certificate, or that we sent none
  Handshake,   // any other handshake failure (protocol version, ciphers, garbage)
};

// "tls_unknown_ca", "tls_expired", "tls_wrong_name", "tls_client_cert",
// "tls_handshake"; "none".
std::string_view to_string(TlsRefusal refusal);

struct HttpResult;
// The counter label of a request that got no answer: the TLS refusal
// ("tls_unknown_ca", "tls_expired", "tls_wrong_name", "tls_client_cert",
// "tls_handshake") or "transport" for any other failure; "" when it got one.
std::string_view failure_reason(const HttpResult& result);
// Every label failure_reason() can return, for counters that start at 0.
inline constexpr std::array<std::string_view, 6> k_http_failure_reasons{
    "transport",      "tls_unknown_ca",  "tls_expired",
    "tls_wrong_name", "tls_client_cert", "tls_handshake"};

// "host:port" with an IPv6 host in brackets: the Host header's form.
std::string authority(const config::Url& url);

// The standard reason phrase of `status` ("Service Unavailable"), "" when unknown.
std::string_view standard_reason(int status);

// The step a request had reached when it ended.
enum class HttpStage : std::uint8_t { Resolve, Connect, Tls, Write, Read, Done };

// Default cap on an answer's body; callers pass their own.
constexpr std::size_t k_http_body_limit = std::size_t{4} * 1024 * 1024;
// Cap on an answer's status line and header fields.
constexpr std::size_t k_http_header_limit = std::size_t{16} * 1024;

struct HttpRequest {
  config::Url url;     // scheme, host (for SNI and Host), port, default target
  std::string target;  // the request target; empty: url.target
  std::string method = "GET";
  HttpHeaders headers;  // added as given (after Host, User-Agent)
  std::string body;     // sent with Content-Length when not empty or method is not GET
  std::optional<config::IpAddress> address;  // connect here instead of resolving url.host
  std::optional<config::IpAddress> source;   // bind the socket to this local address
  bool verify_tls = true;                    // chain and host-name check (SNI is always sent)
  std::size_t body_limit = k_http_body_limit;
  // false: a body over body_limit fails as BodyTooLarge, unread. true: read at
  // most body_limit bytes (about one read more), keep them and stop.
  bool truncate_body = false;
  std::chrono::steady_clock::time_point deadline;  // on the client's clock; covers every step
};

struct HttpResult {
  HttpFailure failure = HttpFailure::None;
  HttpStage stage = HttpStage::Resolve;
  std::string
      error;  // one line when failed: "connection refused", "tls: certificate verify failed (...)"
  int status = 0;  // 0 when no status line was read
  std::string reason;
  HttpHeaders headers;
  std::string body;
  bool body_truncated = false;           // truncate_body stopped reading
  bool keep_alive = false;               // the server lets the connection be reused
  bool reused = false;                   // sent on a kept-alive connection
  std::chrono::microseconds latency{0};  // request() to the whole answer, on the client's clock
  std::string tls_version;               // "TLSv1.3"; empty for plain http
  std::optional<int> cert_days_left;     // https: days until the leaf certificate expires
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>>
      cert_not_after;  // https: its notAfter
  // For callers that render their own text (the probe check): the failing
  // operation's own error (empty for Timeout and Cancelled), the certificate's
  // verify error ("self-signed certificate") when verification failed, whether
  // the answer's header had been read, and whether our own preparation failed
  // (stage Connect: opening or binding the socket; stage Tls: SNI, verification).
  boost::system::error_code cause;
  std::string tls_verify_error;
  TlsRefusal tls_refusal = TlsRefusal::None;  // failure Tls: which cause
  bool header_received = false;
  bool setup_failed = false;

  bool ok() const { return failure == HttpFailure::None; }
  // The first value of header `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

using HttpCallback = std::function<void(HttpResult)>;

// The client's time source: monotonic for the deadline and latency, wall for
// a certificate's days left. Tests supply their own; empty members mean the
// real clocks (real_http_clock()).
struct HttpClock {
  std::function<std::chrono::steady_clock::time_point()> monotonic;
  std::function<std::chrono::system_clock::time_point()> wall;
};
HttpClock real_http_clock();

struct HttpClientOptions {
  std::shared_ptr<boost::asio::ssl::context> tls;  // https; null: the default client context
  HttpClock clock;          // deadline, latency, cert days; empty: the real clocks
  bool keep_alive = false;  // keep the connection for the next request to the same origin
  std::string user_agent = "crosscheck";
};

// One request at a time on one (optionally kept-alive) connection. `done`
// runs exactly once on the io_context, never inside request(); it never
// throws out of a handler. Destroying the client cancels what is in flight
// (its `done` still runs, as Cancelled, when the io_context runs).
class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;

  // Starts `request`; a second one while one is in flight completes at once
  // as Protocol ("busy").
  void request(HttpRequest request, HttpCallback done);
  // Ends the request in flight as Cancelled and drops the kept connection.
  void cancel();

 private:
  struct Session;
  std::shared_ptr<Session> session_;
};

}  // namespace crosscheck::net
