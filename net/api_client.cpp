// The CLI's API client: each request is one HttpClient request run to
// completion on a private io_context under the request's single deadline, so
// a silent server costs at most --timeout and never hangs the terminal.
// SIGINT/SIGTERM (with handle_signals) cancel the request or pause in flight.
#include "net/api_client.hpp"

#include "consensus/time_format.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <exception>
#include <utility>

namespace crosscheck::net {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using net::authority;
using net::HttpFailure;
using net::HttpStage;

constexpr std::string_view k_user_agent = "crosscheck-cli/" CROSSCHECK_VERSION;

ApiResult failed(ApiFailure failure, std::string error) {
  ApiResult result;
  result.failure = failure;
  result.error = std::move(error);
  return result;
}

// Why by stage: a timeout before the connection is up means nothing answers
// there (Unreachable), like a refusal; after it, a silent server (Timeout).
ApiFailure api_failure(const net::HttpResult& result) {
  switch (result.failure) {
    case HttpFailure::None:
      return ApiFailure::None;
    case HttpFailure::Resolve:
    case HttpFailure::Connect:
    case HttpFailure::ConnectRefused:
    case HttpFailure::Observer:
      return ApiFailure::Unreachable;
    case HttpFailure::Timeout:
      if (result.stage == HttpStage::Resolve || result.stage == HttpStage::Connect) {
        return ApiFailure::Unreachable;
      }
      return result.stage == HttpStage::Tls ? ApiFailure::Protocol : ApiFailure::Timeout;
    case HttpFailure::Cancelled:
      return ApiFailure::Interrupted;
    case HttpFailure::Tls:
    case HttpFailure::Closed:
    case HttpFailure::Protocol:
    case HttpFailure::BodyTooLarge:
      return ApiFailure::Protocol;
  }
  return ApiFailure::Protocol;
}

}  // namespace

std::string describe_failure(const net::HttpResult& result, const config::Url& base,
                             std::chrono::milliseconds budget, std::size_t body_limit) {
  switch (result.failure) {
    case HttpFailure::None:
      return {};
    case HttpFailure::Tls:
      return result.error + " [" + std::string(failure_reason(result)) + "]";
    case HttpFailure::Resolve:
      return result.error;
    case HttpFailure::Connect:
    case HttpFailure::ConnectRefused:
    case HttpFailure::Observer:
      return "cannot connect to " + authority(base) + ": " + result.error;
    case HttpFailure::Timeout:
      switch (result.stage) {
        case HttpStage::Resolve:
          return "cannot resolve " + base.host + ": timed out";
        case HttpStage::Connect:
          return "cannot connect to " + authority(base) + ": timed out";
        case HttpStage::Tls:
          return "tls: handshake with " + authority(base) + " failed: timed out";
        default:
          return "no answer from " + base.text + " within " + consensus::format_duration(budget);
      }
    case HttpFailure::Cancelled:
      return "interrupted";
    case HttpFailure::BodyTooLarge:
      return "the answer from " + base.text + " is larger than " + std::to_string(body_limit) +
             " bytes";
    case HttpFailure::Closed:
      if (result.stage == HttpStage::Read) {
        return base.text + " closed the connection before an answer";
      }
      if (result.stage == HttpStage::Tls) {
        return result.error;
      }
      return "bad answer from " + base.text + ": " + result.error;
    case HttpFailure::Protocol:
      return "bad answer from " + base.text + ": " + result.error;
  }
  return result.error;
}

std::string api_target(const config::Url& base, std::string_view path) {
  std::string prefix = base.target;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  return prefix + std::string(path);
}

struct ApiClient::Impl {
  Impl(config::Url base_url, ApiClientOptions client_options)
      : base(std::move(base_url)),
        options(std::move(client_options)),
        client(io, net::HttpClientOptions{options.tls, {}, true, std::string(k_user_agent)}) {
    if (options.handle_signals) {
      signals.emplace(io, SIGINT, SIGTERM);
      signals->async_wait([this](error_code ec, int /*signal*/) {
        if (!ec) {
          interrupted = true;
          client.cancel();
          pause_timer.cancel();
        }
      });
    }
  }

  ApiResult send(std::string_view path, const ClientRequest& spec,
                 std::chrono::milliseconds extra_wait) {
    if (interrupted) {
      return failed(ApiFailure::Interrupted, "interrupted");
    }
    const auto budget = options.timeout + extra_wait;
    net::HttpRequest request;
    request.url = base;
    request.target = api_target(base, path);
    request.method = spec.method;
    request.headers = spec.headers;
    request.headers.emplace_back("Accept", "application/json");
    if (spec.method != "GET") {
      request.headers.emplace_back("Content-Type", spec.content_type);
      request.body = spec.body;
    }
    if (!options.token.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + options.token);
    }
    request.body_limit = options.body_limit;
    request.deadline = clock.monotonic() + budget;
    std::optional<net::HttpResult> answer;
    client.request(std::move(request),
                   [&answer](net::HttpResult result) { answer = std::move(result); });
    run_until([&answer] { return answer.has_value(); });
    if (!answer) {
      return failed(ApiFailure::Protocol, "client error: no completion");
    }
    if (interrupted || !answer->ok()) {
      const auto failure = interrupted ? ApiFailure::Interrupted : api_failure(*answer);
      return failed(failure, failure == ApiFailure::Interrupted
                                 ? "interrupted"
                                 : describe_failure(*answer, base, budget, options.body_limit));
    }
    ApiResult result;
    result.status = answer->status;
    result.body = std::move(answer->body);
    return result;
  }

  bool pause(std::chrono::milliseconds length) {
    if (interrupted) {
      return false;
    }
    bool done = false;
    pause_timer.expires_after(length);
    pause_timer.async_wait([&done](error_code) { done = true; });
    run_until([&done] { return done; });
    return !interrupted;
  }

  // Runs the io_context until `finished`; the signal wait stays pending.
  template <class Predicate>
  void run_until(Predicate finished) {
    io.restart();  // the last run ran out of work, which stops the io_context
    while (!finished() && io.run_one() > 0) {
    }
  }

  config::Url base;
  ApiClientOptions options;
  net::HttpClock clock = net::real_http_clock();
  asio::io_context io;
  net::HttpClient client;
  asio::steady_timer pause_timer{io};
  std::optional<asio::signal_set> signals;
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
    return impl_->send(path, request, extra_wait);
  } catch (const std::exception& error) {  // memory: an answer, not a crash
    impl_->client.cancel();
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

Expected<config::Url> parse_api_url(std::string_view text) {
  std::string why;
  auto url = config::Url::parse(text, &why);
  if (!url) {
    return fail(why);
  }
  if (text.find_first_of("?#@") != std::string_view::npos) {
    return fail("user info, query and fragment are not allowed");
  }
  return std::move(*url);
}

}  // namespace crosscheck::net
