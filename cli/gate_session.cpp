// `crosscheck gate` over HTTP(S): one session per oracle on one
// io_context, one deadline for the whole run.
#include "cli/gate_oracle.hpp"

#include "consensus/time_format.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/tls_client.hpp"
#include "probes/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace crosscheck::daemon::gate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t k_body_limit = 1024 * 1024;  // one verdict with evidence fits easily
constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::string_view k_user_agent = "crosscheck-gate/" CROSSCHECK_VERSION;

using OracleDone = std::function<void(OracleResult)>;

// Optionally POST recheck, then GET the gate; a fresh connection for each.
// Completes exactly once: by the answer, an error, or abort() at the deadline.
class OracleSession : public std::enable_shared_from_this<OracleSession> {
 public:
  OracleSession(asio::io_context& io, ssl::context* tls, const GatePlan& plan,
                const config::Url& oracle, OracleDone done)
      : io_(io),
        tls_context_(tls),
        plan_(plan),
        oracle_(oracle),
        on_done_(std::move(done)),
        resolver_(io),
        recheck_pending_(plan.recheck) {}

  void start() {
    guard([this] {
      if (const auto ip = config::IpAddress::parse(oracle_.host); ip) {
        endpoints_.push_back(net::tcp_endpoint(*ip, oracle_.port));
        return connect();
      }
      resolver_.async_resolve(oracle_.host, std::to_string(oracle_.port),
                              tcp::resolver::numeric_service,
                              beast::bind_front_handler(&OracleSession::on_resolve, self()));
    });
  }

  // The run's deadline passed: whatever is still missing is no answer.
  void abort(const std::string& why) { finish({Outcome::Unreachable, why}); }

 private:
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  std::shared_ptr<OracleSession> self() { return shared_from_this(); }

  // Runs a step; an exception (memory, OpenSSL) ends this oracle as a hold.
  template <class Step>
  void guard(Step&& step) noexcept {
    try {
      step();
    } catch (const std::exception& e) {
      fail_internally(e.what());
    } catch (...) {
      fail_internally("unknown exception");
    }
  }

  void fail_internally(const char* what) noexcept {
    try {
      finish({Outcome::Hold, std::string("internal error: ") + what});
    } catch (...) {
      done_ = true;  // the result slot stays empty and counts as a hold
    }
  }

  void finish(OracleResult result) {
    if (done_) {
      return;
    }
    done_ = true;
    resolver_.cancel();
    close();
    auto callback = std::move(on_done_);
    callback(std::move(result));
  }

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

  static std::string describe(const error_code& ec) {
    if (ec == beast::error::timeout) {
      return "timed out";
    }
    if (ec == ssl::error::stream_truncated) {
      return "connection closed by peer";
    }
    return net::describe(ec);
  }

  void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec || results.empty()) {
        return finish({Outcome::Unreachable, "cannot resolve " + oracle_.host + ": " +
                                                 (ec ? describe(ec) : "no addresses")});
      }
      for (const auto& entry : results) {
        endpoints_.push_back(entry.endpoint());
      }
      connect();
    });
  }

  void connect() {
    if (done_) {
      return;  // aborted while a connect was posted: start nothing new
    }
    close();
    plain_.reset();
    tls_.reset();
    if (oracle_.is_https()) {
      if (tls_context_ == nullptr) {
        return finish({Outcome::Unreachable, "tls: no TLS context (OpenSSL failed to start)"});
      }
      tls_ = std::make_unique<TlsStream>(io_, *tls_context_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(io_);
    }
    lowest().async_connect(endpoints_,
                           beast::bind_front_handler(&OracleSession::on_connect, self()));
  }

  void on_connect(error_code ec, const tcp::endpoint& /*peer*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        return finish({Outcome::Unreachable, describe(ec)});
      }
      if (!tls_) {
        return send();
      }
      if (const auto setup = prepare_tls(); setup) {
        return finish({Outcome::Unreachable, "tls: setup failed: " + setup.message()});
      }
      tls_->async_handshake(ssl::stream_base::client,
                            beast::bind_front_handler(&OracleSession::on_handshake, self()));
    });
  }

  // SNI for host names; the certificate must chain to the system store and
  // name the oracle's host (or IP address).
  error_code prepare_tls() {
    error_code ec;
    SSL* handle = tls_->native_handle();
    const bool host_is_ip = config::IpAddress::parse(oracle_.host).has_value();
    // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
    if (!host_is_ip && SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                const_cast<char*>(oracle_.host.c_str())) != 1) {
      return asio::error::invalid_argument;
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if ((host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, oracle_.host.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, oracle_.host.c_str(), 0)) != 1) {
      return asio::error::invalid_argument;
    }
    tls_->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) {
      tls_->set_verify_callback(ssl::host_name_verification(oracle_.host), ec);
    }
    return ec;
  }

  void on_handshake(error_code ec) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        const long verify = SSL_get_verify_result(tls_->native_handle());
        return finish({Outcome::Unreachable, verify != X509_V_OK
                                                 ? std::string("tls: certificate verify failed (") +
                                                       X509_verify_cert_error_string(verify) + ")"
                                                 : "tls: handshake failed: " + describe(ec)});
      }
      send();
    });
  }

  void send() {
    const bool recheck = recheck_pending_;
    request_ = {};
    request_.method(recheck ? http::verb::post : http::verb::get);
    request_.target(recheck ? recheck_target(plan_, oracle_) : gate_target(plan_, oracle_));
    request_.version(11);
    request_.set(http::field::host, authority(oracle_));
    request_.set(http::field::user_agent, k_user_agent);
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::connection, "close");
    if (recheck && !plan_.token.empty()) {
      request_.set(http::field::authorization, "Bearer " + plan_.token);
    }
    request_.prepare_payload();
    with_stream([this](auto& stream) {
      http::async_write(stream, request_,
                        beast::bind_front_handler(&OracleSession::on_write, self()));
    });
  }

  void on_write(error_code ec, std::size_t /*bytes*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        return finish({Outcome::Unreachable, "sending the request: " + describe(ec)});
      }
      buffer_.consume(buffer_.size());
      parser_.emplace();
      parser_->header_limit(k_header_limit);
      parser_->body_limit(k_body_limit);
      with_stream([this](auto& stream) {
        http::async_read(stream, buffer_, *parser_,
                         beast::bind_front_handler(&OracleSession::on_read, self()));
      });
    });
  }

  void on_read(error_code ec, std::size_t /*bytes*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec == ssl::error::stream_truncated && parser_->is_header_done()) {
        ec = {};  // a TLS peer that closes without close_notify ends the body
        parser_->put_eof(ec);
      }
      const bool http_error =
          ec.category() == http::make_error_code(http::error::body_limit).category();
      if (ec && !parser_->is_header_done() &&
          (!http_error || ec == http::error::end_of_stream || ec == http::error::partial_message)) {
        return finish({Outcome::Unreachable,
                       ec == http::error::end_of_stream || ec == http::error::partial_message
                           ? "connection closed before an answer"
                           : "no answer: " + describe(ec)});
      }
      if (ec) {
        return finish(
            {Outcome::Hold, "unusable HTTP answer: " +
                                (ec == http::error::body_limit
                                     ? "body larger than " + std::to_string(k_body_limit) + " bytes"
                                     : describe(ec))});
      }
      on_answer();
    });
  }

  void on_answer() {
    auto& response = parser_->get();
    const int status = static_cast<int>(response.result_int());
    if (status >= 300 && status < 400) {
      return finish({Outcome::Hold, "HTTP " + std::to_string(status) + " redirect to '" +
                                        quote(response[http::field::location]) + "' not followed"});
    }
    if (recheck_pending_) {
      if (status < 200 || status >= 300) {
        return finish(
            {Outcome::Hold, "recheck refused: " + describe_refusal(status, response.body())});
      }
      recheck_pending_ = false;
      // Posted: the old stream must not be destroyed inside its own completion.
      return asio::post(io_, [self = self()] { self->guard([&] { self->connect(); }); });
    }
    const auto now =
        std::chrono::time_point_cast<consensus::Duration>(std::chrono::system_clock::now());
    finish(judge_gate_answer(plan_, status, response.body(), now));
  }

  asio::io_context& io_;
  ssl::context* tls_context_;
  const GatePlan& plan_;
  const config::Url& oracle_;
  OracleDone on_done_;
  tcp::resolver resolver_;
  std::vector<tcp::endpoint> endpoints_;
  bool recheck_pending_ = false;
  bool done_ = false;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<TlsStream> tls_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::vector<OracleResult> ask_oracles(const GatePlan& plan) {
  std::shared_ptr<ssl::context> tls;  // outlives the io_context and every stream
  try {
    tls = net::make_client_tls_context();
  } catch (const std::exception&) {
    tls.reset();  // only https oracles need it; they report the failure
  }
  asio::io_context io;
  std::vector<std::optional<OracleResult>> results(plan.oracles.size());
  std::vector<std::shared_ptr<OracleSession>> sessions;
  std::size_t finished = 0;
  asio::steady_timer deadline(io);
  for (std::size_t i = 0; i < plan.oracles.size(); ++i) {
    sessions.push_back(std::make_shared<OracleSession>(io, tls.get(), plan, plan.oracles[i],
                                                       [&, i](OracleResult result) {
                                                         results[i] = std::move(result);
                                                         if (++finished == results.size()) {
                                                           deadline.cancel();
                                                         }
                                                       }));
  }
  deadline.expires_after(plan.timeout);
  deadline.async_wait([&](error_code ec) {
    if (ec) {
      return;
    }
    for (const auto& session : sessions) {
      session->abort("timed out after " + config::format_duration(plan.timeout));
    }
  });
  for (const auto& session : sessions) {
    session->start();
  }
  io.run();
  std::vector<OracleResult> out;
  for (auto& result : results) {
    out.push_back(result ? std::move(*result)
                         : OracleResult{Outcome::Hold, "no result (internal error)"});
  }
  return out;
}

}  // namespace crosscheck::daemon::gate
