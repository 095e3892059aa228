// One HTTP(S) check: a request per hop through net::HttpClient (connect to
// the resolved address from an optional source, TLS with SNI and
// verification, a bounded read), the answer judged by http_judge, same-origin
// redirects followed here. One deadline covers every hop; every failure is a
// value in ReachResult, its detail rendered from net's typed failure.
#include "probes/http_client.hpp"

#include "net/errors.hpp"
#include "net/http_client.hpp"
#include "net/tls_client.hpp"
#include "probes/http_judge.hpp"
#include "probes/stopwatch.hpp"

#include <openssl/err.h>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <cctype>
#include <exception>
#include <string_view>
#include <utility>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

constexpr std::string_view k_user_agent = "crosscheck/0.1";

std::string describe_net(const error_code& ec) {
  if (ec == ssl::error::stream_truncated) {
    return "connection closed by peer";
  }
  std::string text = net::describe(ec);  // strerror() text is capitalised
  if (!text.empty()) {
    text.front() = static_cast<char>(std::tolower(static_cast<unsigned char>(text.front())));
  }
  return text;
}

// The OpenSSL reason without the library suffix asio adds: "wrong version number".
std::string describe_tls(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) {
      return reason;
    }
  }
  return describe_net(ec);
}

// Why reading the response failed, as the probe has always said it.
std::string read_failure(const error_code& ec) {
  if (ec == http::error::end_of_stream) {
    return "connection closed before a response";
  }
  if (ec == http::error::partial_message) {
    return "connection closed mid-response";
  }
  if (ec == http::error::header_limit) {
    return "response header larger than " + std::to_string(net::k_http_header_limit) + " bytes";
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return "invalid response (" + ec.message() + ")";
  }
  return describe_tls(ec);
}

ReachResult observer_failure(std::string detail) {
  return reach_result(ReachFailure::Observer, std::move(detail));
}

// Maps a request that produced no answer onto the probe's typed failure.
// Worked example: a deadline that passes during the handshake is
// net Timeout at stage Tls, which the probe has always called
// "tls: handshake failed: timed out" (TlsHandshake).
ReachResult failed(const net::HttpResult& answer, const HttpRequest& request,
                   const config::Url& url) {
  const bool timed_out = answer.failure == net::HttpFailure::Timeout;
  // Without an error code (an exception inside the client), net's own line.
  const auto reason = [&](auto&& render) {
    return answer.cause ? render(answer.cause) : answer.error;
  };
  switch (answer.stage) {
    case net::HttpStage::Resolve:
    case net::HttpStage::Connect:
      if (answer.setup_failed && request.source) {
        // Binding is local work: whatever stops it is this host's problem.
        return observer_failure("connect: cannot bind source " + request.source->to_string() +
                                ": " + reason(describe_net));
      }
      return connect_failed(connect_failure(answer.cause, timed_out),
                            config::Endpoint{request.address, url.port}.to_string(),
                            reason(describe_net));
    case net::HttpStage::Tls:
      if (answer.setup_failed) {
        return tls_failed(ReachFailure::TlsSetup, reason(describe_tls));
      }
      if (request.check.tls_verify && !answer.tls_verify_error.empty()) {
        return certificate_refused(answer.tls_refusal, answer.tls_verify_error);
      }
      return tls_failed(ReachFailure::TlsHandshake, timed_out ? "timed out" : reason(describe_tls));
    case net::HttpStage::Write:
      return timed_out
                 ? reach_result(ReachFailure::HttpTimeout, "http: timed out sending the request")
                 : reach_result(ReachFailure::HttpOther, "http: " + reason(describe_net));
    case net::HttpStage::Read:
    case net::HttpStage::Done:
      if (timed_out) {
        return reach_result(ReachFailure::HttpTimeout,
                            answer.header_received ? "http: timed out reading the response body"
                                                   : "http: timed out waiting for the response");
      }
      return reach_result(ReachFailure::HttpOther, "http: " + reason(read_failure));
  }
  return reach_result(ReachFailure::HttpOther, "http: " + answer.error);
}

// The first value of the Location header, when the answer has one (even empty).
std::optional<std::string_view> location_of(const net::HttpResult& answer) {
  for (const auto& [name, value] : answer.headers) {
    if (equals_ignoring_case(name, "Location")) {
      return std::string_view{value};
    }
  }
  return std::nullopt;
}

class HttpCheck : public std::enable_shared_from_this<HttpCheck> {
 public:
  HttpCheck(asio::io_context& io, const consensus::Clock& clock, std::shared_ptr<ssl::context> tls,
            const HttpRequest& request, HttpCallback done)
      : request_(request),
        url_(request.check.url),
        method_(request.check.method),
        on_done_(std::move(done)),
        stopwatch_(clock),
        client_(io, net::HttpClientOptions{std::move(tls), {}, false, std::string(k_user_agent)}) {}

  void start() { send(); }

  // Completes with `result` unless already completed; the first caller wins.
  void finish(ReachResult result) {
    if (done_) {
      return;
    }
    done_ = true;
    result.latency_ms = stopwatch_.elapsed_ms();
    result.tls = tls_info_;
    auto callback = std::move(on_done_);
    callback(std::move(result));
  }

 private:
  // One hop: a fresh connection to the resolved address, the URL's host for SNI and Host.
  void send() {
    net::HttpRequest hop;
    hop.url = url_;
    hop.method = method_;
    hop.headers.assign(request_.check.headers.begin(), request_.check.headers.end());
    hop.address = request_.address;
    hop.source = request_.source;
    hop.verify_tls = request_.check.tls_verify;
    // Read at most max_body_bytes and judge those: a longer body is not a failure.
    hop.body_limit = request_.check.max_body_bytes;
    hop.truncate_body = true;
    hop.deadline = request_.deadline;
    client_.request(std::move(hop), [self = shared_from_this()](net::HttpResult answer) {
      self->on_answer(std::move(answer));
    });
  }

  void on_answer(net::HttpResult answer) {
    if (!answer.tls_version.empty()) {
      tls_info_ =
          TlsInfo{answer.tls_version, answer.cert_days_left, wall_time(answer.cert_not_after)};
    } else if (answer.cert_not_after) {
      // A handshake that refused the certificate: still the one to watch.
      tls_info_ = TlsInfo{"", std::nullopt, wall_time(answer.cert_not_after)};
    }
    if (!answer.ok()) {
      return finish(failed(answer, request_, url_));
    }
    judge(answer);
  }

  // Hands the response's facts to the judge; follows a same-origin redirect
  // over a new connection to the same address.
  void judge(net::HttpResult& answer) {
    bool truncated = answer.body_truncated;
    if (answer.body.size() > request_.check.max_body_bytes) {
      answer.body.resize(request_.check.max_body_bytes);
      truncated = true;
    }
    HttpResponseFacts facts;
    facts.status = answer.status;
    // The server's own reason phrase; the standard one when it sent none ("HTTP/1.1 503").
    facts.reason = answer.reason.empty() ? net::standard_reason(answer.status)
                                         : std::string_view{answer.reason};
    facts.body = answer.body;
    facts.body_truncated = truncated;
    facts.location = location_of(answer);
    auto judgement = judge_response(request_.check, url_, facts, redirects_, tls_info_);
    if (!judgement.follow) {
      return finish(std::move(judgement.result));
    }
    ++redirects_;
    if (facts.status == 303 && !equals_ignoring_case(method_, "HEAD")) {
      method_ = "GET";
    }
    url_.target = judgement.follow->target;
    url_.text = judgement.follow->text;
    send();
  }

  HttpRequest request_;
  config::Url url_;     // the current hop: redirects change its target
  std::string method_;  // 303 turns it into GET
  HttpCallback on_done_;
  Stopwatch stopwatch_;
  bool done_ = false;
  int redirects_ = 0;
  std::optional<TlsInfo> tls_info_;  // set once a handshake succeeded
  net::HttpClient client_;
};

}  // namespace

void run_http_check(asio::io_context& io, const consensus::Clock& clock,
                    std::shared_ptr<ssl::context> tls, const HttpRequest& request,
                    HttpCallback done) {
  std::shared_ptr<HttpCheck> check;
  try {
    if (!tls && request.check.url.is_https()) {
      tls = net::make_client_tls_context();
    }
    check = std::make_shared<HttpCheck>(io, clock, std::move(tls), request, done);
    check->start();
  } catch (const std::exception& e) {
    // Construction failed (memory, OpenSSL): this host's problem, reported
    // from the io_context like every other completion.
    ReachResult result = observer_failure(std::string("http: cannot start the check: ") + e.what());
    asio::post(io, [check, done, result = std::move(result)]() mutable {
      if (check) {
        check->finish(std::move(result));
      } else if (done) {
        done(std::move(result));
      }
    });
  }
}

}  // namespace crosscheck::probes
