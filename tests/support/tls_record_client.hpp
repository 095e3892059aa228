// A TLS client for tests that need to send part of a TLS record: OpenSSL
// over memory BIOs and a blocking loopback socket, so the test decides
// which encrypted bytes leave and when (a request cut mid-record). Every
// step bounded (5 s socket timeouts).
#pragma once

#include "support/tls_test_client.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace crosscheck::testing {

class TlsRecordClient {
 public:
  TlsRecordClient(const TestCerts& certs, unsigned short port, const ClientOptions& options = {})
      : context_(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free), socket_(io_) {
    SSL_CTX_load_verify_locations(context_.get(), certs.path("ca.crt").c_str(), nullptr);
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    if (!options.cert.empty()) {
      SSL_CTX_use_certificate_chain_file(context_.get(), options.cert.c_str());
      SSL_CTX_use_PrivateKey_file(context_.get(), options.key.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_.reset(SSL_new(context_.get()));
    SSL_set_bio(ssl_.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));  // owned by ssl_
    SSL_set_connect_state(ssl_.get());
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
      return;
    }
    const timeval limit{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    for (;;) {
      const int done = SSL_do_handshake(ssl_.get());
      if (!send_raw(sealed_output())) {
        return;
      }
      if (done == 1) {
        connected_ = true;
        return;
      }
      if (SSL_get_error(ssl_.get(), done) != SSL_ERROR_WANT_READ || !receive()) {
        return;
      }
    }
  }

  bool connected() const { return connected_; }

  // `plain` encrypted as TLS records, not sent.
  std::string seal(std::string_view plain) {
    SSL_write(ssl_.get(), plain.data(), static_cast<int>(plain.size()));
    return sealed_output();
  }

  // Sends these bytes as they are.
  bool send_raw(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  // Reads one HTTP answer (with Content-Length) and returns its status; 0
  // when the connection closes or times out first.
  int read_status() {
    std::string text;
    for (;;) {
      std::array<char, 4096> plain{};
      const int got = SSL_read(ssl_.get(), plain.data(), static_cast<int>(plain.size()));
      if (got > 0) {
        text.append(plain.data(), static_cast<std::size_t>(got));
        if (complete(text)) {
          return std::stoi(text.substr(9, 3));
        }
        continue;
      }
      if (SSL_get_error(ssl_.get(), got) != SSL_ERROR_WANT_READ || !receive()) {
        return 0;
      }
    }
  }

 private:
  std::string sealed_output() {
    std::string out;
    std::array<char, 4096> chunk{};
    int got = 0;
    while ((got = BIO_read(SSL_get_wbio(ssl_.get()), chunk.data(), chunk.size())) > 0) {
      out.append(chunk.data(), static_cast<std::size_t>(got));
    }
    return out;
  }

  // One socket read into OpenSSL's input; false on close or timeout.
  bool receive() {
    std::array<char, 4096> chunk{};
    boost::system::error_code ec;
    const std::size_t got = socket_.read_some(asio::buffer(chunk), ec);
    if (ec || got == 0) {
      return false;
    }
    BIO_write(SSL_get_rbio(ssl_.get()), chunk.data(), static_cast<int>(got));
    return true;
  }

  static bool complete(const std::string& text) {
    const auto end = text.find("\r\n\r\n");
    if (end == std::string::npos || text.size() < 12) {
      return false;
    }
    const auto at = text.find("Content-Length: ");
    const std::size_t length = at == std::string::npos ? 0 : std::stoul(text.substr(at + 16));
    return text.size() >= end + 4 + length;
  }

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context_;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_{nullptr, &SSL_free};
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  bool connected_ = false;
};

}  // namespace crosscheck::testing
