// The asynchronous HTTP/1.1 client. One Session runs one request at a time:
// resolve (unless given an address), connect (optionally from a source
// address), TLS handshake, write, then read the answer piece by piece so a
// body cap can stop it. One timer holds the request's absolute deadline;
// when it fires, or cancel() is called, the socket is closed and the pending
// operation ends with the cause already recorded. Every handler checks that
// it still belongs to the current request (a generation number), so a late
// completion of an aborted operation never touches the next one.
#include "net/http_client.hpp"

#include "net/address.hpp"
#include "net/beast_names.hpp"
#include "net/errors.hpp"
#include "net/http_wire.hpp"
#include "net/tls_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <exception>
#include <utility>

namespace crosscheck::net {
namespace {

using namespace beast_names;

std::string describe_error(const error_code& ec) {
  if (ec == ssl::error::stream_truncated) {
    return "connection closed by peer";
  }
  return describe(ec);
}

}  // namespace

struct HttpClient::Session : std::enable_shared_from_this<Session> {
  using TlsStream = ssl::stream<tcp::socket>;

  Session(asio::io_context& context, HttpClientOptions client_options)
      : io(context), options(std::move(client_options)), resolver(context), timer(context) {
    const auto real = real_http_clock();
    if (!options.clock.monotonic) {
      options.clock.monotonic = real.monotonic;
    }
    if (!options.clock.wall) {
      options.clock.wall = real.wall;
    }
  }

  // Runs `step` for request `id` unless that request has ended; an exception
  // (memory, OpenSSL) ends it as Protocol instead of leaving the handler.
  template <class Step>
  void guarded(std::uint64_t id, Step&& step) noexcept {
    if (id != generation || !active) {
      return;
    }
    if (cancelled) {
      // Why not the step: cancel() dropped the streams, and a completion
      // already queued before it (a connect that succeeded) went on to
      // send on a null socket: the daemon aborted on a reload (hostile
      // review). The first handler to run after a cancel ends the request.
      return fail_safely("cancelled");
    }
    try {
      step();
    } catch (const std::exception& e) {
      fail_safely(std::string("client error: ") + e.what());
    } catch (...) {
      fail_safely("client error: unknown exception");
    }
  }

  void fail_safely(std::string why) noexcept {
    try {
      fail(HttpFailure::Protocol, std::move(why));
    } catch (...) {
      active = false;  // nothing more can be said; the callback is dropped
    }
  }

  // A handler bound to the current request.
  template <class Function>
  auto bind(Function function) {
    // The streams ride along: one may be replaced while its operation is
    // still completing, and must outlive that completion. So does the
    // request's callback: the pending operations own it, not the Session,
    // so an io_context destroyed with them unrun frees the caller's state
    // (which often owns this client) instead of leaving a cycle.
    return [self = shared_from_this(), id = generation, function, keep_plain = plain,
            keep_tls = tls, keep_done = done.lock()](auto&&... args) mutable {
      self->guarded(id, [&] { function(*self, std::forward<decltype(args)>(args)...); });
    };
  }

  void start(HttpRequest spec, HttpCallback callback) {
    if (active) {
      HttpResult busy;
      busy.failure = HttpFailure::Protocol;
      busy.error = "client busy: one request at a time";
      asio::post(io, [callback = std::move(callback), busy = std::move(busy)]() mutable {
        callback(std::move(busy));
      });
      return;
    }
    ++generation;
    active = true;
    expired = false;
    cancelled = false;
    retried = false;
    request = std::move(spec);
    const auto owner = std::make_shared<HttpCallback>(std::move(callback));
    done = owner;
    result = HttpResult{};
    started = options.clock.monotonic();
    arm_deadline();  // while active, the deadline's wait always holds `owner`
    asio::post(io, bind([](Session& self) { self.begin(); }));
  }

  void arm_deadline() {
    const auto left = request.deadline - options.clock.monotonic();
    timer.expires_after(std::max(left, std::chrono::steady_clock::duration::zero()));
    timer.async_wait(bind([](Session& self, error_code ec) {
      if (!ec) {
        self.expired = true;
        self.abort_io();
      }
    }));
  }

  void begin() {
    auto built = build_wire_request(request, options);
    if (!built) {
      result.stage = HttpStage::Write;
      return fail(HttpFailure::Protocol, built.error());
    }
    wire = std::move(*built);
    if (connected && origin == origin_of(request)) {
      result.reused = true;
      return send();
    }
    connect_fresh();
  }

  void connect_fresh() {
    drop_connection();
    endpoints.clear();
    next_endpoint = 0;
    last_error = {};
    if (request.address) {
      endpoints.push_back(tcp_endpoint(*request.address, request.url.port));
      return connect_next();
    }
    if (const auto ip = config::IpAddress::parse(request.url.host); ip) {
      endpoints.push_back(tcp_endpoint(*ip, request.url.port));
      return connect_next();
    }
    result.stage = HttpStage::Resolve;
    resolver.async_resolve(
        request.url.host, std::to_string(request.url.port), tcp::resolver::numeric_service,
        bind([](Session& self, error_code ec, const tcp::resolver::results_type& found) {
          if (ec || found.empty()) {
            self.result.cause = ec;
            return self.fail(HttpFailure::Resolve, "cannot resolve " + self.request.url.host +
                                                       ": " +
                                                       (ec ? describe_error(ec) : "no addresses"));
          }
          for (const auto& entry : found) {
            self.endpoints.push_back(entry.endpoint());
          }
          self.connect_next();
        }));
  }

  // Tries the addresses in order; the last one's error decides the failure.
  void connect_next() {
    result.stage = HttpStage::Connect;
    if (expired || cancelled) {
      return fail(HttpFailure::Connect, "aborted");  // not the next address: the time is up
    }
    if (next_endpoint >= endpoints.size()) {
      const auto kind = last_error == asio::error::connection_refused ? HttpFailure::ConnectRefused
                        : is_observer_fault(last_error)               ? HttpFailure::Observer
                                                                      : HttpFailure::Connect;
      result.cause = last_error;
      return fail(kind, describe_error(last_error));
    }
    const auto endpoint = endpoints[next_endpoint++];
    drop_connection();
    if (request.url.is_https()) {
      if (!options.tls) {
        options.tls = make_client_tls_context();
      }
      tls = std::make_shared<TlsStream>(io, *options.tls);
    } else {
      plain = std::make_shared<tcp::socket>(io);
    }
    error_code ec;
    socket().open(endpoint.protocol(), ec);
    if (!ec && request.source) {
      socket().bind(tcp::endpoint(to_asio(*request.source), 0), ec);
    }
    if (ec) {
      // Why not the next address: opening or binding fails the same way for all.
      result.cause = ec;
      result.setup_failed = true;
      return fail(is_observer_fault(ec) ? HttpFailure::Observer : HttpFailure::Connect,
                  (request.source ? "cannot bind " + request.source->to_string() + ": "
                                  : std::string("cannot open a socket: ")) +
                      describe_error(ec));
    }
    socket().async_connect(endpoint, bind([](Session& self, error_code e) {
                             if (e) {
                               self.last_error = e;
                               return self.connect_next();
                             }
                             self.on_connected();
                           }));
  }

  void on_connected() {
    if (!tls) {
      return send();
    }
    result.stage = HttpStage::Tls;
    SSL* handle = tls->native_handle();
    const auto setup = request.verify_tls ? require_server_identity(handle, request.url.host)
                                          : set_server_name(handle, request.url.host);
    if (setup) {
      result.cause = setup;
      result.setup_failed = true;
      return fail(HttpFailure::Tls, "tls: setup failed: " + setup.message());
    }
    if (!request.verify_tls) {
      SSL_set_verify(handle, SSL_VERIFY_NONE, nullptr);
    }
    tls->async_handshake(ssl::stream_base::client, bind([](Session& self, error_code ec) {
                           if (ec) {
                             return self.handshake_failed(ec);
                           }
                           SSL* ssl_handle = self.tls->native_handle();
                           self.result.tls_version = SSL_get_version(ssl_handle);
                           self.result.cert_days_left =
                               cert_days_left(ssl_handle, self.options.clock.wall());
                           self.result.cert_not_after = cert_not_after(ssl_handle);
                           self.send();
                         }));
  }

  void handshake_failed(const error_code& ec) {
    const long verify =
        request.verify_tls ? SSL_get_verify_result(tls->native_handle()) : long{X509_V_OK};
    result.cause = ec;
    // A refused certificate is still one to watch: an expired one stays in
    // crosscheck_tls_cert_expiry_seconds and in cert_expiring.
    result.cert_not_after = cert_not_after(tls->native_handle());
    result.tls_refusal = classify_tls_failure(ec, verify);
    if (result.tls_refusal == TlsRefusal::None) {
      // Counted as transport, as a refused connect is: a peer that dies
      // mid-handshake says nothing about its certificates.
      return fail(HttpFailure::Closed,
                  "tls: " + authority(request.url) +
                      " closed the connection during the handshake: " + describe_error(ec));
    }
    if (verify != X509_V_OK) {
      result.tls_verify_error = X509_verify_cert_error_string(verify);
      return fail(HttpFailure::Tls,
                  "tls: certificate verify failed (" + result.tls_verify_error + ")");
    }
    if (result.tls_refusal == TlsRefusal::ClientCert) {
      return client_certificate_refused(ec);
    }
    fail(HttpFailure::Tls,
         "tls: handshake with " + authority(request.url) + " failed: " + describe_error(ec));
  }

  // Why after the handshake too: in TLS 1.3 the server judges our
  // certificate after the client's handshake is done, and its alert ends
  // the first write or read.
  bool refused_after_handshake(const error_code& ec) {
    if (!tls || classify_tls_failure(ec, X509_V_OK) != TlsRefusal::ClientCert) {
      return false;
    }
    result.cause = ec;
    result.tls_refusal = TlsRefusal::ClientCert;
    client_certificate_refused(ec);
    return true;
  }

  void client_certificate_refused(const error_code& ec) {
    result.stage = HttpStage::Tls;
    fail(HttpFailure::Tls,
         "tls: " + authority(request.url) +
             " refused our client certificate (or that we sent none): " + describe_error(ec));
  }

  void send() {
    result.stage = HttpStage::Write;
    with_stream([this](auto& stream) {
      http::async_write(stream, wire, bind([](Session& self, error_code ec, std::size_t) {
                          if (ec) {
                            if (self.refused_after_handshake(ec)) {
                              return;
                            }
                            if (self.may_retry()) {
                              return self.retry();
                            }
                            self.result.cause = ec;
                            return self.fail(HttpFailure::Closed,
                                             "sending the request: " + describe_error(ec));
                          }
                          self.start_reading();
                        }));
    });
  }

  void start_reading() {
    result.stage = HttpStage::Read;
    parser.emplace();
    parser->header_limit(k_http_header_limit);
    parser->skip(wire.method() == http::verb::head);  // a HEAD answer has no body
    if (request.truncate_body) {
      parser->body_limit(boost::none);  // the read loop stops at the cap instead
    } else {
      parser->body_limit(request.body_limit);
    }
    buffer.consume(buffer.size());
    read_more();
  }

  void read_more() {
    with_stream([this](auto& stream) {
      http::async_read_some(
          stream, buffer, *parser,
          bind([](Session& self, error_code ec, std::size_t) { self.on_read(ec); }));
    });
  }

  void on_read(error_code ec) {
    if (ec == ssl::error::stream_truncated && parser->is_header_done()) {
      ec = {};  // a TLS peer that closes without close_notify ends the body
      parser->put_eof(ec);
    }
    if (ec) {
      return read_failed(ec);
    }
    auto& body = parser->get().body();
    if (request.truncate_body && body.size() >= request.body_limit && !parser->is_done()) {
      body.resize(request.body_limit);
      result.body_truncated = true;
      return complete(false);
    }
    if (parser->is_done()) {
      return complete(parser->get().keep_alive());
    }
    read_more();
  }

  void read_failed(const error_code& ec) {
    const bool header_done = parser->is_header_done();
    if (!header_done && refused_after_handshake(ec)) {
      return;
    }
    if (!header_done && !parser->got_some() && may_retry()) {
      return retry();
    }
    result.cause = ec;
    if (ec == http::error::body_limit) {
      return fail(HttpFailure::BodyTooLarge,
                  "body larger than " + std::to_string(request.body_limit) + " bytes");
    }
    if (!header_done && (ec == http::error::end_of_stream || ec == http::error::partial_message)) {
      return fail(HttpFailure::Closed, "connection closed before an answer");
    }
    const bool parse_error =
        ec.category() == http::make_error_code(http::error::body_limit).category();
    if (!header_done && !parse_error) {
      return fail(HttpFailure::Closed, "no answer: " + describe_error(ec));
    }
    fail(HttpFailure::Protocol,
         (header_done ? "reading the body: " : "not HTTP: ") + describe_error(ec));
  }

  // A kept-alive connection the server dropped while idle fails before any
  // byte of the answer: sending once more on a fresh connection is safe.
  bool may_retry() const { return result.reused && !retried && !expired && !cancelled; }

  void retry() {
    retried = true;
    result.reused = false;
    connect_fresh();
  }

  void complete(bool keep_alive) {
    auto& answer = parser->get();
    result.status = static_cast<int>(answer.result_int());
    result.reason = std::string(answer.reason());
    for (const auto& field : answer) {
      result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    result.body = std::move(answer.body());
    result.keep_alive = keep_alive;
    result.stage = HttpStage::Done;
    if (options.keep_alive && keep_alive) {
      connected = true;
      origin = origin_of(request);
    } else {
      drop_connection();
    }
    finish();
  }

  void fail(HttpFailure failure, std::string why) {
    // Why the flags win: an aborted operation reports operation_aborted or a
    // closed socket, which says nothing about the cause.
    if (expired) {
      failure = HttpFailure::Timeout;
      why = "timed out";
      result.cause = {};
    } else if (cancelled) {
      failure = HttpFailure::Cancelled;
      why = "cancelled";
      result.cause = {};
    }
    result.failure = failure;
    result.error = std::move(why);
    result.header_received = result.stage == HttpStage::Read && parser && parser->is_header_done();
    drop_connection();
    finish();
  }

  void finish() {
    auto self = shared_from_this();  // the callback may destroy the client
    active = false;
    ++generation;
    timer.cancel();
    resolver.cancel();
    result.latency =
        std::chrono::duration_cast<std::chrono::microseconds>(options.clock.monotonic() - started);
    const auto owner = done.lock();
    done.reset();
    if (!owner || !*owner) {
      return;
    }
    auto callback = std::move(*owner);
    *owner = nullptr;
    callback(std::move(result));
  }

  void cancel() {
    drop_connection();
    if (active) {
      cancelled = true;
      resolver.cancel();
      abort_io();
    }
  }

  void abort_io() {
    resolver.cancel();
    if (plain || tls) {
      error_code ignored;
      socket().close(ignored);
    }
  }

  // Closes the kept or current connection; a pending handler keeps its
  // stream alive until it has run.
  void drop_connection() {
    connected = false;
    if (!plain && !tls) {
      return;
    }
    error_code ignored;
    socket().close(ignored);
    plain.reset();
    tls.reset();
  }

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls) {
      operation(*tls);
    } else {
      operation(*plain);
    }
  }

  asio::io_context& io;
  HttpClientOptions options;
  tcp::resolver resolver;
  asio::steady_timer timer;
  std::shared_ptr<tcp::socket> plain;
  std::shared_ptr<TlsStream> tls;
  std::vector<tcp::endpoint> endpoints;
  std::size_t next_endpoint = 0;
  error_code last_error;
  beast::flat_buffer buffer;
  HttpRequest request;
  WireRequest wire;
  std::optional<http::response_parser<http::string_body>> parser;
  std::weak_ptr<HttpCallback> done;  // owned by the request's pending operations
  HttpResult result;
  std::chrono::steady_clock::time_point started;
  std::string origin;  // of the kept-alive connection
  std::uint64_t generation = 0;
  bool active = false;
  bool connected = false;
  bool expired = false;
  bool cancelled = false;
  bool retried = false;
};

HttpClient::HttpClient(asio::io_context& io, HttpClientOptions options)
    : session_(std::make_shared<Session>(io, std::move(options))) {}

HttpClient::~HttpClient() {
  session_->cancel();
}

void HttpClient::request(HttpRequest request, HttpCallback done) {
  session_->start(std::move(request), std::move(done));
}

void HttpClient::cancel() {
  session_->cancel();
}

}  // namespace crosscheck::net
