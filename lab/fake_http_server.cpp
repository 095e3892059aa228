// The fake HTTP(S) server: test certificates made with the OpenSSL 3 API, one
// Beast session per connection on the server's own thread, and the shared
// state (routes, recorded requests) behind one mutex.
#include "lab/fake_http_server.hpp"

#include "base/ascii.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
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
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace crosscheck::lab {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::size_t k_request_body_limit = 64 * 1024;
constexpr std::size_t k_read_buffer_bytes = k_header_limit + k_request_body_limit;
constexpr auto k_io_limit = std::chrono::seconds(30);  // any one server-side operation
constexpr long k_seconds_per_day = 24L * 60 * 60;

// ---- Test certificates ---------------------------------------------------

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, ExtensionFree>;

void require(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("fake_http_server: openssl: ") + what);
  }
}

// P-256: generated in microseconds, unlike RSA.
KeyPtr make_key() {
  KeyPtr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  require(key != nullptr, "EC key generation failed");
  return key;
}

struct CertSpec {
  std::string common_name;
  std::string subject_alt_name;  // "DNS:service.test,IP:127.0.0.1"; empty for a CA
  bool is_ca = false;
  long not_before_days = -1;  // relative to now
  long not_after_days = 90;
  long serial = 1;
};

void add_extension(X509* cert, X509V3_CTX* context, int nid, const char* value) {
  const ExtensionPtr extension{X509V3_EXT_conf_nid(nullptr, context, nid, value)};
  require(extension != nullptr, "bad certificate extension");
  require(X509_add_ext(cert, extension.get(), -1) == 1, "cannot add certificate extension");
}

// Signs with `issuer_key` as `issuer`, or self-signs when issuer is null.
CertPtr make_certificate(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert{X509_new()};
  require(cert != nullptr, "X509_new failed");
  X509* x = cert.get();
  require(X509_set_version(x, 2) == 1, "X509_set_version failed");
  require(ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial) == 1, "serial");
  require(
      X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before_days * k_seconds_per_day) != nullptr,
      "notBefore");
  require(
      X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after_days * k_seconds_per_day) != nullptr,
      "notAfter");
  require(X509_set_pubkey(x, key) == 1, "X509_set_pubkey failed");
  X509_NAME* name = X509_get_subject_name(x);
  require(X509_NAME_add_entry_by_txt(
              name, "CN", MBSTRING_ASC,
              reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) == 1,
          "subject name");
  require(X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
          "issuer name");

  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  add_extension(x, &context, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  add_extension(x, &context, NID_key_usage,
                spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_extension(x, &context, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(x, &context, NID_authority_key_identifier, "keyid:always");
  }
  if (!spec.subject_alt_name.empty()) {
    add_extension(x, &context, NID_subject_alt_name, spec.subject_alt_name.c_str());
  }
  require(X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string to_pem(X509* cert) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  require(bio != nullptr && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  std::string pem(BIO_ctrl_pending(bio.get()), '\0');
  require(
      BIO_read(bio.get(), pem.data(), static_cast<int>(pem.size())) == static_cast<int>(pem.size()),
      "BIO_read");
  return pem;
}

// The server context for `options`; returns the issuing CA's PEM in `ca_pem`.
std::unique_ptr<ssl::context> make_server_context(const FakeTlsOptions& options,
                                                  const std::string& address, std::string& ca_pem) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  CertSpec leaf_spec;
  leaf_spec.common_name = options.host;
  leaf_spec.subject_alt_name = "DNS:" + options.host + ",IP:" + address;
  leaf_spec.not_after_days = options.valid_days;
  leaf_spec.serial = 2;
  const KeyPtr leaf_key = make_key();
  CertPtr leaf;
  if (options.certificate == FakeCertificate::SelfSigned) {
    leaf = make_certificate(leaf_spec, leaf_key.get(), nullptr, nullptr);
  } else {
    CertSpec ca_spec;
    ca_spec.common_name = "crosscheck test CA";
    ca_spec.is_ca = true;
    ca_spec.not_before_days = -60;
    ca_spec.not_after_days = 365;
    const KeyPtr ca_key = make_key();
    const CertPtr ca = make_certificate(ca_spec, ca_key.get(), nullptr, nullptr);
    if (options.certificate == FakeCertificate::ExpiredCaSigned) {
      leaf_spec.not_before_days = -30;
      leaf_spec.not_after_days = -1;
    }
    leaf = make_certificate(leaf_spec, leaf_key.get(), ca.get(), ca_key.get());
    ca_pem = to_pem(ca.get());
  }
  require(SSL_CTX_use_certificate(context->native_handle(), leaf.get()) == 1,
          "SSL_CTX_use_certificate");
  require(SSL_CTX_use_PrivateKey(context->native_handle(), leaf_key.get()) == 1,
          "SSL_CTX_use_PrivateKey");
  return context;
}

// ---- Shared state --------------------------------------------------------

struct ServerState {
  mutable std::mutex mutex;
  std::map<std::string, FakeResponse, std::less<>> routes;
  std::deque<RecordedRequest> recorded;  // the last FakeHttpServer::k_max_recorded
  std::size_t request_count = 0;

  FakeResponse route(std::string_view target) const {
    const std::string_view path = target.substr(0, target.find('?'));
    const std::lock_guard lock(mutex);
    const auto found = routes.find(path);
    return found != routes.end() ? found->second : FakeResponse::with_status(404, "not found");
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
    behaviour_ = state_.route(request.target());
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
    impl_->tls = make_server_context(*impl_->options.tls, address.to_string(), impl_->ca_pem);
  }
  impl_->state.routes.emplace("/", FakeResponse{});
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
  const std::lock_guard lock(impl_->state.mutex);
  impl_->state.routes.insert_or_assign(std::move(path), std::move(response));
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
