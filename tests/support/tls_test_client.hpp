// A TLS client for tests of the API's TLS: one connection kept open for
// several requests, with an optional client certificate; every step
// bounded (5 s socket timeouts). Loopback only.
#pragma once

#include "config/tls_files.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crosscheck::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;

struct ClientOptions {
  std::string cert;  // client certificate and key; none when empty
  std::string key;
  std::string ciphers;  // TLS 1.2 only with these, when set
};

// One TLS connection to the oracle, kept open for several requests. Every
// failure (handshake, or the server's alert on the first read under TLS
// 1.3, where the client's handshake ends before the server checks it)
// leaves ok() false with the reason in error().
class TlsClient {
 public:
  // `resume`: a session from an earlier connection to offer.
  TlsClient(const TestCerts& certs, unsigned short port, const ClientOptions& options = {},
            const std::shared_ptr<SSL_SESSION>& resume = nullptr)
      : TlsClient(certs.path("ca.crt"), port, options, resume) {}

  // Trusts only the CA certificates in `ca_file`.
  TlsClient(const std::string& ca_file, unsigned short port, const ClientOptions& options = {},
            const std::shared_ptr<SSL_SESSION>& resume = nullptr)
      : context_(ssl::context::tls_client) {
    context_.load_verify_file(ca_file);
    context_.set_verify_mode(ssl::verify_peer);
    if (!options.cert.empty()) {
      context_.use_certificate_chain_file(options.cert);
      context_.use_private_key_file(options.key, ssl::context::pem);
    }
    if (!options.ciphers.empty()) {
      SSL_CTX_set_max_proto_version(context_.native_handle(), TLS1_2_VERSION);
      SSL_CTX_set_cipher_list(context_.native_handle(), options.ciphers.c_str());
    }
    stream_.emplace(io_, context_);
    if (resume) {
      SSL_set_session(stream_->native_handle(), resume.get());
    }
    boost::system::error_code ec;
    auto& socket = stream_->next_layer();
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) {
      const timeval limit{5, 0};  // no read or write waits longer
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
      stream_->handshake(ssl::stream_base::client, ec);
    }
    if (ec) {
      error_ = "handshake: " + ec.message();
      return;
    }
    if (const X509* server = SSL_get0_peer_certificate(stream_->native_handle())) {
      server_fingerprint_ =
          crosscheck::config::to_string(crosscheck::config::certificate_fingerprint(server));
    }
  }

  // GET `target` on this connection (keep-alive), with `headers`; status 0
  // on failure.
  HttpAnswer get(const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    HttpAnswer answer;
    if (!error_.empty()) {
      answer.error = error_;
      return answer;
    }
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
      request.set(name, value);
    }
    boost::system::error_code ec;
    http::write(*stream_, request, ec);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!ec) {
      http::read(*stream_, buffer, response, ec);
    }
    if (ec) {
      error_ = "request: " + ec.message();
      answer.error = error_;
      return answer;
    }
    answer.status = static_cast<int>(response.result_int());
    answer.body = response.body();
    return answer;
  }

  // Connected, handshake done and (TLS 1.3) not refused by the first answer.
  bool served(const std::string& target = "/healthz") { return get(target).status == 200; }
  const std::string& server_fingerprint() const { return server_fingerprint_; }
  // This connection's session, to offer on the next (after a get(): TLS
  // 1.3 tickets come after the handshake).
  std::shared_ptr<SSL_SESSION> session() {
    return {SSL_get1_session(stream_->native_handle()), &SSL_SESSION_free};
  }
  // True when the server resumed the offered session (no certificate shown).
  bool resumed() { return SSL_session_reused(stream_->native_handle()) == 1; }

 private:
  asio::io_context io_;
  ssl::context context_;
  std::optional<ssl::stream<asio::ip::tcp::socket>> stream_;
  std::string error_;
  std::string server_fingerprint_;
};

}  // namespace crosscheck::testing
