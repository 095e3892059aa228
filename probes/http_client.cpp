// One HTTP(S) check as a Beast session: connect (optionally from a bound
// source), TLS with SNI and verification, one request, a bounded read; the
// response is judged by http_judge. One deadline covers it all; every failure
// is a value in ReachResult.
#include "probes/http_client.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/tls_client.hpp"
#include "probes/http_judge.hpp"
#include "probes/stopwatch.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>
#include <utility>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t k_header_limit = 16 * 1024;       // response status line + fields
constexpr std::size_t k_read_buffer_bytes = 64 * 1024;  // read ahead of the parser, at most
constexpr std::string_view k_user_agent = "crosscheck/0.1";
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string describe_net(const error_code& ec) {
  if (ec == beast::error::timeout) {
    return "timed out";
  }
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

ReachResult observer_failure(std::string detail) {
  return reach_result(ReachFailure::Observer, std::move(detail));
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(asio::io_context& io, const consensus::Clock& clock,
              std::shared_ptr<ssl::context> tls, const HttpRequest& request, HttpCallback done)
      : io_(io),
        tls_context_(std::move(tls)),
        request_(request),
        url_(request.check.url),
        method_(request.check.method),
        on_done_(std::move(done)),
        stopwatch_(clock) {}

  void start() { connect(); }

  // Completes with `result` unless already completed; the first caller wins.
  void finish(ReachResult result) {
    if (done_) {
      return;
    }
    done_ = true;
    close();
    result.latency_ms = stopwatch_.elapsed_ms();
    result.tls = tls_info_;
    auto callback = std::move(on_done_);
    callback(std::move(result));
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls_) {
      operation(*tls_);
    } else {
      operation(*plain_);
    }
  }

  void close() {
    if (plain_ || tls_) {
      error_code ignored;
      lowest().socket().close(ignored);
    }
  }

  std::string endpoint_text() const {
    return config::Endpoint{request_.address, url_.port}.to_string();
  }

  // A fresh connection per hop; the source is bound before connecting.
  void connect() {
    close();
    plain_.reset();
    tls_.reset();
    if (url_.is_https()) {
      tls_ = std::make_unique<TlsStream>(io_, *tls_context_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(io_);
    }
    const tcp::endpoint peer = net::tcp_endpoint(request_.address, url_.port);
    if (request_.source) {
      error_code ec;
      auto& socket = lowest().socket();
      socket.open(peer.protocol(), ec);
      if (!ec) {
        socket.bind(tcp::endpoint(net::to_asio(*request_.source), 0), ec);
      }
      if (ec) {
        // Binding is local work: whatever stops it is this host's problem.
        return finish(observer_failure("connect: cannot bind source " +
                                       request_.source->to_string() + ": " + describe_net(ec)));
      }
    }
    lowest().expires_at(request_.deadline);
    lowest().async_connect(peer,
                           beast::bind_front_handler(&HttpSession::on_connect, shared_from_this()));
  }

  void on_connect(error_code ec) {
    if (ec) {
      return finish(connect_failed(connect_failure(ec, ec == beast::error::timeout),
                                   endpoint_text(), describe_net(ec)));
    }
    if (!tls_) {
      return send_request();
    }
    if (auto ec_setup = prepare_tls(); ec_setup) {
      return finish(tls_failed(ReachFailure::TlsSetup, describe_tls(ec_setup)));
    }
    lowest().expires_at(request_.deadline);
    tls_->async_handshake(
        ssl::stream_base::client,
        beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
  }

  // SNI carries the URL's host (never an IP literal, RFC 6066); verification
  // checks the chain and that the certificate names that host.
  error_code prepare_tls() {
    error_code ec;
    SSL* ssl = tls_->native_handle();
    const bool host_is_ip = config::IpAddress::parse(url_.host).has_value();
    // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
    if (!host_is_ip && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                const_cast<char*>(url_.host.c_str())) != 1) {
      return {static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()};
    }
    if (!request_.check.tls_verify) {
      tls_->set_verify_mode(ssl::verify_none, ec);
      return ec;
    }
    // OpenSSL's own host check names the failure ("hostname mismatch");
    // host_name_verification is the same check as the verify callback.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int set = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
    if (set != 1) {
      return {static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()};
    }
    tls_->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) {
      tls_->set_verify_callback(ssl::host_name_verification(url_.host), ec);
    }
    return ec;
  }

  void on_handshake(error_code ec) {
    SSL* ssl = tls_->native_handle();
    if (ec) {
      const long verify = SSL_get_verify_result(ssl);
      if (request_.check.tls_verify && verify != X509_V_OK) {
        return finish(
            tls_failed(ReachFailure::TlsCertificate, X509_verify_cert_error_string(verify)));
      }
      return finish(tls_failed(ReachFailure::TlsHandshake, describe_tls(ec)));
    }
    tls_info_ = TlsInfo{SSL_get_version(ssl), std::nullopt};
    if (const X509Ptr leaf{SSL_get1_peer_certificate(ssl)}; leaf) {
      int days = 0;
      int seconds = 0;
      if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(leaf.get())) == 1) {
        tls_info_->cert_days_left = days;
      }
    }
    send_request();
  }

  void send_request() {
    request_message_ = {};
    request_message_.method_string(method_);
    request_message_.target(url_.target);
    request_message_.version(11);
    request_message_.set(http::field::host, authority(url_));
    request_message_.set(http::field::user_agent, k_user_agent);
    request_message_.set(http::field::connection, "close");
    for (const auto& [name, value] : request_.check.headers) {
      request_message_.set(name, value);
    }
    lowest().expires_at(request_.deadline);
    with_stream([this](auto& stream) {
      http::async_write(stream, request_message_,
                        beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
    });
  }

  void on_write(error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      return finish(
          ec == beast::error::timeout
              ? reach_result(ReachFailure::HttpTimeout, "http: timed out sending the request")
              : reach_result(ReachFailure::HttpOther, "http: " + describe_net(ec)));
    }
    buffer_.consume(buffer_.size());
    parser_.emplace();
    parser_->header_limit(k_header_limit);
    // The body limit is max_body_bytes, applied in on_read: Beast's own
    // body_limit fails a Content-Length above it before reading any body,
    // and the check must judge the first max_body_bytes instead.
    parser_->body_limit(boost::none);
    parser_->skip(equals_ignoring_case(method_, "HEAD"));
    read_some();
  }

  void read_some() {
    lowest().expires_at(request_.deadline);
    with_stream([this](auto& stream) {
      http::async_read_some(stream, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
    });
  }

  void on_read(error_code ec, std::size_t /*bytes*/) {
    if (ec == ssl::error::stream_truncated && parser_->got_some()) {
      // A TLS peer that closes without close_notify ends a close-delimited body.
      ec = {};
      parser_->put_eof(ec);
    }
    if (ec) {
      return finish(reach_result(
          ec == beast::error::timeout ? ReachFailure::HttpTimeout : ReachFailure::HttpOther,
          "http: " + read_failure(ec)));
    }
    const std::size_t limit = request_.check.max_body_bytes;
    auto& body = parser_->get().body();
    if (body.size() > limit) {
      body.resize(limit);
      return judge(true);
    }
    if (parser_->is_done()) {
      return judge(false);
    }
    read_some();
  }

  std::string read_failure(const error_code& ec) const {
    if (ec == beast::error::timeout) {
      return parser_->is_header_done() ? "timed out reading the response body"
                                       : "timed out waiting for the response";
    }
    if (ec == http::error::end_of_stream) {
      return "connection closed before a response";
    }
    if (ec == http::error::partial_message) {
      return "connection closed mid-response";
    }
    if (ec == http::error::header_limit) {
      return "response header larger than " + std::to_string(k_header_limit) + " bytes";
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return "invalid response (" + ec.message() + ")";
    }
    return describe_tls(ec);
  }

  // Hands the response's facts to the judge; follows a same-origin redirect
  // over a new connection to the same address.
  void judge(bool truncated) {
    const auto& response = parser_->get();
    HttpResponseFacts facts;
    facts.status = static_cast<int>(response.result_int());
    // The server's own reason phrase; Beast's table when it sent none ("HTTP/1.1 503").
    facts.reason = response.reason();
    if (facts.reason.empty() && http::obsolete_reason(response.result()) != "<unknown-status>") {
      facts.reason = http::obsolete_reason(response.result());
    }
    facts.body = response.body();
    facts.body_truncated = truncated;
    if (const auto location = response.find(http::field::location); location != response.end()) {
      facts.location = location->value();
    }
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
    // Posted so the old stream is not destroyed inside its own completion.
    asio::post(io_, [self = shared_from_this()] { self->connect(); });
  }

  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  asio::io_context& io_;
  std::shared_ptr<ssl::context> tls_context_;
  HttpRequest request_;
  config::Url url_;     // the current hop: redirects change its target
  std::string method_;  // 303 turns it into GET
  HttpCallback on_done_;
  Stopwatch stopwatch_;
  bool done_ = false;
  int redirects_ = 0;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<TlsStream> tls_;
  std::optional<TlsInfo> tls_info_;  // set once a handshake succeeded
  http::request<http::empty_body> request_message_;
  beast::flat_buffer buffer_{k_read_buffer_bytes};
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

void run_http_check(asio::io_context& io, const consensus::Clock& clock,
                    std::shared_ptr<ssl::context> tls, const HttpRequest& request,
                    HttpCallback done) {
  std::shared_ptr<HttpSession> session;
  try {
    if (!tls && request.check.url.is_https()) {
      tls = net::make_client_tls_context();
    }
    session = std::make_shared<HttpSession>(io, clock, std::move(tls), request, done);
    session->start();
  } catch (const std::exception& e) {
    // Construction failed (memory, OpenSSL): this host's problem, reported
    // from the io_context like every other completion.
    ReachResult result = observer_failure(std::string("http: cannot start the check: ") + e.what());
    asio::post(io, [session, done, result = std::move(result)]() mutable {
      if (session) {
        session->finish(std::move(result));
      } else if (done) {
        done(std::move(result));
      }
    });
  }
}

}  // namespace crosscheck::probes
