// The fake HTTP(S) server: one Beast session per connection on the
// server's own thread, and the shared state (routes, recorded requests)
// behind one mutex. Its certificates come from test_certificates.cpp.
#include "lab/fake_http_server.hpp"

#include "base/ascii.hpp"
#include "lab/test_certificates.hpp"
#include "net/beast_names.hpp"

#include <openssl/ssl.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

namespace crosscheck::lab {
namespace {

using namespace net::beast_names;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::size_t k_request_body_limit = 64 * 1024;
constexpr std::size_t k_read_buffer_bytes = k_header_limit + k_request_body_limit;
constexpr auto k_io_limit = std::chrono::seconds(30);  // any one server-side operation

// ---- Shared state --------------------------------------------------------

struct ServerState {
  mutable std::mutex mutex;
  std::map<std::string, FakeHttpServer::Responder, std::less<>> routes;
  std::deque<RecordedRequest> recorded;  // the last FakeHttpServer::k_max_recorded
  std::size_t request_count = 0;

  // Called outside the lock: a responder may take its time or ask the server.
  FakeResponse route(const RecordedRequest& request) const {
    const std::string_view target = request.target;
    const std::string_view path = target.substr(0, target.find('?'));
    FakeHttpServer::Responder responder;
    {
      const std::lock_guard lock(mutex);
      const auto found = routes.find(path);
      if (found == routes.end()) {
        return FakeResponse::with_status(404, "not found");
      }
      responder = found->second;
    }
    return responder(request);
  }

  void record(RecordedRequest request) {
    const std::lock_guard lock(mutex);
    ++request_count;
    recorded.push_back(std::move(request));
    if (recorded.size() > FakeHttpServer::k_max_recorded) {
      recorded.pop_front();
    }
  }
};

// ---- One connection ------------------------------------------------------

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool k_tls = std::is_same_v<Stream, TlsStream>;

  Connection(ServerState& state, tcp::socket socket, ssl::context* tls)
      : state_(state),
        peer_address_(remote_address(socket)),
        stream_(make_stream(std::move(socket), tls)),
        timer_(stream_.get_executor()) {
    parser_.header_limit(k_header_limit);
    parser_.body_limit(k_request_body_limit);
  }

  void start() {
    if constexpr (k_tls) {
      lowest().expires_after(k_io_limit);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) {
                                  return self->close();
                                }
                                self->read_request();
                              });
    } else {
      read_request();
    }
  }

 private:
  static std::string remote_address(const tcp::socket& socket) {
    error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    return ec ? std::string() : endpoint.address().to_string();
  }

  static Stream make_stream(tcp::socket socket, ssl::context* tls) {
    if constexpr (k_tls) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void close() {
    error_code ignored;
    timer_.cancel();
    lowest().socket().close(ignored);
  }

  void read_request() {
    lowest().expires_after(k_io_limit);
    http::async_read(stream_, buffer_, parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                       if (ec) {
                         return self->close();
                       }
                       self->on_request();
                     });
  }

  void on_request() {
    const auto& request = parser_.get();
    RecordedRequest record;
    record.method = std::string(request.method_string());
    record.target = std::string(request.target());
    record.host = std::string(request[http::field::host]);
    record.peer_address = peer_address_;
    record.body = request.body();
    for (const auto& field : request) {
      record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if constexpr (k_tls) {
      const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
      record.sni = name != nullptr ? name : "";
    }
    behaviour_ = state_.route(record);
    const bool answers = behaviour_.action == FakeResponse::Action::Respond ||
                         behaviour_.action == FakeResponse::Action::SlowBody;
    record.status = answers ? behaviour_.status : 0;
    state_.record(std::move(record));
    head_request_ = request.method() == http::verb::head;
    switch (behaviour_.action) {
      case FakeResponse::Action::Stall:
        return wait_for_client_to_leave();
      case FakeResponse::Action::Reset:
        return reset();
      case FakeResponse::Action::Respond:
      case FakeResponse::Action::SlowBody:
        return write_head();
    }
  }

  // Keeps the connection open, unanswered, until the client closes it.
  void wait_for_client_to_leave() {
    lowest().expires_after(k_io_limit);
    stream_.async_read_some(
        asio::buffer(&sink_, 1),
        [self = this->shared_from_this()](error_code, std::size_t) { self->close(); });
  }

  // SO_LINGER 0 turns close() into an RST.
  void reset() {
    error_code ignored;
    lowest().socket().set_option(tcp::socket::linger(true, 0), ignored);
    close();
  }

  void write_head() {
    head_.result(static_cast<unsigned>(behaviour_.status));
    if (!behaviour_.reason.empty()) {
      head_.reason(behaviour_.reason);
    }
    head_.version(11);
    head_.set(http::field::server, "crosscheck-fake");
    head_.set(http::field::connection, "close");
    for (const auto& [name, value] : behaviour_.headers) {
      head_.set(name, value);
    }
    head_.content_length(behaviour_.body.size());
    lowest().expires_after(k_io_limit);
    http::async_write(stream_, head_,
                      [self = this->shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                        if (ec || self->head_request_ || self->behaviour_.body.empty()) {
                          return self->close();
                        }
                        self->write_body();
                      });
  }

  void write_body() {
    const bool slow = behaviour_.action == FakeResponse::Action::SlowBody;
    const std::size_t size = slow ? 1 : behaviour_.body.size() - sent_;
    lowest().expires_after(k_io_limit);
    asio::async_write(stream_, asio::buffer(behaviour_.body.data() + sent_, size),
                      [self = this->shared_from_this()](error_code ec, std::size_t bytes) {
                        self->sent_ += bytes;
                        if (ec || self->sent_ == self->behaviour_.body.size()) {
                          return self->close();
                        }
                        self->timer_.expires_after(self->behaviour_.byte_interval);
                        self->timer_.async_wait([self](error_code wait_ec) {
                          if (wait_ec) {
                            return self->close();
                          }
                          self->write_body();
                        });
                      });
  }

  ServerState& state_;
  std::string peer_address_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_{k_read_buffer_bytes};
  http::request_parser<http::string_body> parser_;
  http::response<http::empty_body> head_;
  FakeResponse behaviour_;
  bool head_request_ = false;
  std::size_t sent_ = 0;
  char sink_ = 0;
};

}  // namespace

// ---- FakeResponse, RecordedRequest ----------------------------------------

FakeResponse FakeResponse::with_status(int status, std::string body) {
  FakeResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

FakeResponse FakeResponse::redirect(std::string location, int status) {
  FakeResponse response = with_status(status);
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

FakeResponse FakeResponse::stall() {
  FakeResponse response;
  response.action = Action::Stall;
  return response;
}

FakeResponse FakeResponse::reset() {
  FakeResponse response;
  response.action = Action::Reset;
  return response;
}

FakeResponse FakeResponse::slow_body(std::string body, std::chrono::milliseconds interval) {
  FakeResponse response = with_status(200, std::move(body));
  response.action = Action::SlowBody;
  response.byte_interval = interval;
  return response;
}

FakeResponse FakeResponse::huge_body(std::size_t bytes) {
  return with_status(200, std::string(bytes, 'x'));
}

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

// ---- FakeHttpServer --------------------------------------------------------

// Member order is destruction order reversed: the io_context (and with it
// every pending connection) goes before the TLS context and the state they use.
struct FakeHttpServer::Impl {
  FakeHttpServerOptions options;
  ServerState state;
  std::string ca_pem;
  std::unique_ptr<ssl::context> tls;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  tcp::endpoint local;  // read by the test thread; the acceptor belongs to `thread`
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        return;
      }
      if (!ec) {
        if (tls) {
          std::make_shared<Connection<TlsStream>>(state, std::move(socket), tls.get())->start();
        } else {
          std::make_shared<Connection<beast::tcp_stream>>(state, std::move(socket), nullptr)
              ->start();
        }
      }
      accept();
    });
  }
};

FakeHttpServer::FakeHttpServer(FakeHttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const auto address = asio::ip::make_address(impl_->options.address);
  if (impl_->options.tls) {
    auto made = make_server_tls(*impl_->options.tls, address.to_string());
    impl_->tls = std::move(made.context);
    impl_->ca_pem = std::move(made.ca_pem);
  }
  set("/", FakeResponse{});
  const tcp::endpoint endpoint(address, 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->local = impl_->acceptor.local_endpoint();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FakeHttpServer::~FakeHttpServer() {
  impl_->io.stop();
  impl_->thread.join();
}

config::IpAddress FakeHttpServer::address() const {
  return *config::IpAddress::parse(impl_->local.address().to_string());
}

std::uint16_t FakeHttpServer::port() const {
  return impl_->local.port();
}

std::string FakeHttpServer::url(std::string_view host, std::string_view path) const {
  return std::string(impl_->tls ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port()) + std::string(path);
}

void FakeHttpServer::set(std::string path, FakeResponse response) {
  respond_with(std::move(path),
               [response = std::move(response)](const RecordedRequest&) { return response; });
}

void FakeHttpServer::respond_with(std::string path, Responder responder) {
  const std::lock_guard lock(impl_->state.mutex);
  impl_->state.routes.insert_or_assign(std::move(path), std::move(responder));
}

std::size_t FakeHttpServer::request_count() const {
  const std::lock_guard lock(impl_->state.mutex);
  return impl_->state.request_count;
}

std::optional<RecordedRequest> FakeHttpServer::last_request() const {
  const std::lock_guard lock(impl_->state.mutex);
  if (impl_->state.recorded.empty()) {
    return std::nullopt;
  }
  return impl_->state.recorded.back();
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  const std::lock_guard lock(impl_->state.mutex);
  return {impl_->state.recorded.begin(), impl_->state.recorded.end()};
}

std::string FakeHttpServer::ca_pem() const {
  return impl_->ca_pem;
}

}  // namespace crosscheck::lab
