// Test certificates for the fake HTTPS server, made with the OpenSSL 3 API:
// a self-signed leaf, or one signed by a fresh test CA (valid or expired).
// Throws std::runtime_error when OpenSSL fails (a broken test host); never
// touches the network or the disk.
#pragma once

#include "lab/fake_http_server.hpp"

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::lab {

struct ServerTls {
  std::unique_ptr<boost::asio::ssl::context> context;
  std::string ca_pem;  // the issuing CA's certificate; empty when self-signed
};

// A TLS server context whose leaf names `options.host` and `address`.
ServerTls make_server_tls(const FakeTlsOptions& options, const std::string& address);

}  // namespace crosscheck::lab
