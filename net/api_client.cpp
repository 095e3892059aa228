// The CLI's API client: each step (resolve, connect, TLS handshake, write,
// read) is one asynchronous operation run to completion on a private
// io_context under the request's single deadline, so a silent server costs
// at most --timeout and never hangs the terminal.
#include "net/api_client.hpp"

#include "consensus/time_format.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/tls_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cctype>
#include <csignal>
#include <exception>
#include <functional>
#include <utility>

namespace crosscheck::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_header_limit = std::size_t{16} * 1024;
constexpr std::string_view k_user_agent = "crosscheck-cli/" CROSSCHECK_VERSION;

std::string authority(const config::Url& url) {
  const std::string host =
      url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  return host + ":" + std::to_string(url.port);
}

std::string describe(const error_code& ec) {
  if (ec == ssl::error::stream_truncated) {
    return "connection closed by peer";
  }
  return net::describe(ec);
}

ApiResult failed(ApiFailure failure, std::string error) {
  ApiResult result;
  result.failure = failure;
  result.error = std::move(error);
  return result;
}

}  // namespace

struct ApiClient::Impl {
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  Impl(config::Url base_url, ApiClientOptions client_options)
      : base(std::move(base_url)), options(std::move(client_options)) {
    if (options.handle_signals) {
      signals.emplace(io, SIGINT, SIGTERM);
      signals->async_wait([this](error_code ec, int /*signal*/) {
        if (!ec) {
          interrupted = true;
          cancel();
        }
      });
    }
  }

  // Runs the operation `start` begins (it is handed a `done(error_code)`)
  // until it completes; at the deadline everything is cancelled and the
  // answer is timed_out, after a signal it is interrupted.
  template <class Start>
  error_code step(Start&& start) {
    io.restart();  // the last step ran out of work, which stops the io_context
    std::optional<error_code> result;
    std::forward<Start>(start)([&result](error_code ec) { result = ec; });
    asio::steady_timer timer(io, deadline);
    bool expired = false;
    bool timer_done = false;
    timer.async_wait([&](error_code ec) {
      timer_done = true;
      if (!ec) {
        expired = true;
        cancel();
      }
    });
    while (!result && io.run_one() > 0) {
    }
    timer.cancel();
    while (!timer_done && io.run_one() > 0) {
    }
    if (interrupted) {
      return asio::error::interrupted;
    }
    return expired ? error_code(asio::error::timed_out) : result.value_or(asio::error::fault);
  }

  void cancel() {
    resolver.cancel();
    if (pause_timer != nullptr) {
      pause_timer->cancel();
    }
    if (plain || tls) {
      error_code ignored;
      lowest().socket().close(ignored);
    }
  }

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls) {
      operation(*tls);
    } else {
      operation(*plain);
    }
  }

  void disconnect() {
    cancel();
    plain.reset();
    tls.reset();
    connected = false;
  }

  // "cannot connect to 127.0.0.1:9470: connection refused".
  std::optional<ApiResult> connect() {
    disconnect();
    std::vector<tcp::endpoint> endpoints;
    if (const auto ip = config::IpAddress::parse(base.host); ip) {
      endpoints.push_back(net::tcp_endpoint(*ip, base.port));
    } else {
      tcp::resolver::results_type found;
      const auto ec = step([&](auto done) {
        resolver.async_resolve(base.host, std::to_string(base.port), tcp::resolver::numeric_service,
                               [&found, done](error_code e, tcp::resolver::results_type r) {
                                 found = std::move(r);
                                 done(e);
                               });
      });
      if (ec || found.empty()) {
        return failed(ApiFailure::Unreachable,
                      "cannot resolve " + base.host + ": " + (ec ? describe(ec) : "no addresses"));
      }
      for (const auto& entry : found) {
        endpoints.push_back(entry.endpoint());
      }
    }
    if (base.is_https()) {
      if (!tls_context) {
        tls_context = net::make_client_tls_context();
      }
      tls = std::make_unique<TlsStream>(io, *tls_context);
    } else {
      plain = std::make_unique<beast::tcp_stream>(io);
    }
    const auto ec = step([&](auto done) {
      lowest().async_connect(endpoints, [done](error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) {
      return failed(
          ec == asio::error::interrupted ? ApiFailure::Interrupted : ApiFailure::Unreachable,
          "cannot connect to " + authority(base) + ": " + describe(ec));
    }
    if (tls) {
      if (auto problem = handshake(); problem) {
        return problem;
      }
    }
    connected = true;
    return std::nullopt;
  }

  std::optional<ApiResult> handshake() {
    if (const auto ec = net::require_server_identity(tls->native_handle(), base.host); ec) {
      return failed(ApiFailure::Protocol, "tls: setup failed: " + ec.message());
    }
    const auto ec = step([&](auto done) {
      tls->async_handshake(ssl::stream_base::client, [done](error_code e) { done(e); });
    });
    if (!ec) {
      return std::nullopt;
    }
    const long verify = SSL_get_verify_result(tls->native_handle());
    return failed(ApiFailure::Protocol,
                  verify != X509_V_OK
                      ? std::string("tls: certificate verify failed (") +
                            X509_verify_cert_error_string(verify) + ")"
                      : "tls: handshake with " + authority(base) + " failed: " + describe(ec));
  }

  std::string request_target(std::string_view path) const {
    std::string prefix = base.target;
    while (!prefix.empty() && prefix.back() == '/') {
      prefix.pop_back();
    }
    return prefix + std::string(path);
  }

  // One request on the open connection. `retry` is set when a reused
  // connection turned out closed before anything was read (an idle
  // keep-alive the server dropped): a GET may then be sent again.
  ApiResult exchange(std::string_view path, const ClientRequest& spec, bool& retry) {
    http::request<http::string_body> request{http::string_to_verb(spec.method),
                                             request_target(path), 11};
    if (request.target().empty()) {
      request.target("/");
    }
    for (const auto& [name, value] : spec.headers) {
      request.set(name, value);
    }
    if (request.method() != http::verb::get) {
      request.set(http::field::content_type, spec.content_type);
      request.body() = spec.body;
      request.prepare_payload();
    }
    request.set(http::field::host, authority(base));
    request.set(http::field::user_agent, k_user_agent);
    request.set(http::field::accept, "application/json");
    if (!options.token.empty()) {
      request.set(http::field::authorization, "Bearer " + options.token);
    }
    auto ec = step([&](auto done) {
      with_stream([&](auto& stream) {
        http::async_write(stream, request, [done](error_code e, std::size_t) { done(e); });
      });
    });
    http::response_parser<http::string_body> parser;
    parser.header_limit(k_header_limit);
    parser.body_limit(options.body_limit);
    if (!ec) {
      buffer.consume(buffer.size());
      ec = step([&](auto done) {
        with_stream([&](auto& stream) {
          http::async_read(stream, buffer, parser, [done](error_code e, std::size_t) { done(e); });
        });
      });
    }
    if (ec == ssl::error::stream_truncated && parser.is_header_done()) {
      ec = {};  // a TLS peer that closes without close_notify ends the body
      parser.put_eof(ec);
    }
    if (ec) {
      retry = !parser.is_header_done() && ec != asio::error::timed_out &&
              ec != asio::error::interrupted;
      return read_failure(ec, parser.is_header_done());
    }
    ApiResult result;
    result.status = static_cast<int>(parser.get().result_int());
    result.body = std::move(parser.get().body());
    connected = parser.get().keep_alive();
    return result;
  }

  ApiResult read_failure(const error_code& ec, bool header_done) {
    disconnect();
    if (ec == asio::error::interrupted) {
      return failed(ApiFailure::Interrupted, "interrupted");
    }
    if (ec == asio::error::timed_out) {
      return failed(ApiFailure::Timeout, "no answer from " + base.text + " within " +
                                             consensus::format_duration(budget));
    }
    if (ec == http::error::body_limit) {
      return failed(ApiFailure::Protocol, "the answer from " + base.text + " is larger than " +
                                              std::to_string(options.body_limit) + " bytes");
    }
    if (!header_done && (ec == http::error::end_of_stream || ec == http::error::partial_message)) {
      return failed(ApiFailure::Protocol, base.text + " closed the connection before an answer");
    }
    return failed(ApiFailure::Protocol, "bad answer from " + base.text + ": " + describe(ec));
  }

  ApiResult get(std::string_view path, const ClientRequest& spec,
                std::chrono::milliseconds extra_wait) {
    if (interrupted) {
      return failed(ApiFailure::Interrupted, "interrupted");
    }
    budget = options.timeout + extra_wait;
    deadline = Clock::now() + budget;
    const bool reused = connected;
    if (!connected) {
      if (auto problem = connect(); problem) {
        return std::move(*problem);
      }
    }
    bool retry = false;
    auto result = exchange(path, spec, retry);
    if (reused && retry) {
      if (auto problem = connect(); problem) {
        return std::move(*problem);
      }
      result = exchange(path, spec, retry);
    }
    return result;
  }

  bool pause(std::chrono::milliseconds length) {
    if (interrupted) {
      return false;
    }
    io.restart();
    asio::steady_timer timer(io, length);
    bool done = false;
    pause_timer = &timer;
    timer.async_wait([&done](error_code) { done = true; });
    while (!done && io.run_one() > 0) {
    }
    pause_timer = nullptr;
    return !interrupted;
  }

  config::Url base;
  ApiClientOptions options;
  asio::io_context io;
  std::shared_ptr<ssl::context> tls_context;  // outlives every stream below
  tcp::resolver resolver{io};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;
  std::optional<asio::signal_set> signals;
  asio::steady_timer* pause_timer = nullptr;
  Clock::time_point deadline;
  std::chrono::milliseconds budget{0};
  bool connected = false;
  bool interrupted = false;
};

ApiClient::ApiClient(config::Url base, ApiClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(base), std::move(options))) {}

ApiClient::~ApiClient() = default;

ApiResult ApiClient::get(std::string_view path, std::chrono::milliseconds extra_wait) {
  return send(path, ClientRequest{}, extra_wait);
}

ApiResult ApiClient::send(std::string_view path, const ClientRequest& request) {
  return send(path, request, {});
}

ApiResult ApiClient::send(std::string_view path, const ClientRequest& request,
                          std::chrono::milliseconds extra_wait) {
  try {
    return impl_->get(path, request, extra_wait);
  } catch (const std::exception& error) {  // OpenSSL context, memory: an answer, not a crash
    impl_->disconnect();
    return failed(ApiFailure::Protocol, std::string("client error: ") + error.what());
  }
}

bool ApiClient::pause(std::chrono::milliseconds pause) {
  return impl_->pause(pause);
}

bool ApiClient::interrupted() const {
  return impl_->interrupted;
}

const config::Url& ApiClient::base() const {
  return impl_->base;
}

std::optional<config::Url> parse_api_url(std::string_view text, std::string& why) {
  auto url = config::Url::parse(text, &why);
  if (url && text.find_first_of("?#@") != std::string_view::npos) {
    why = "user info, query and fragment are not allowed";
    return std::nullopt;
  }
  return url;
}

}  // namespace crosscheck::daemon
