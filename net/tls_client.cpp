#include "net/tls_client.hpp"

#include "config/types.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ssl/error.hpp>

namespace crosscheck::net {

namespace {

boost::system::error_code openssl_error() {
  return boost::system::error_code(static_cast<int>(ERR_get_error()),
                                   boost::asio::error::get_ssl_category());
}

}  // namespace

boost::system::error_code set_server_name(SSL* handle, const std::string& host) {
  // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
  if (!config::IpAddress::parse(host).has_value() &&
      SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host.c_str())) != 1) {
    return openssl_error();
  }
  return {};
}

boost::system::error_code require_server_identity(SSL* handle, const std::string& host) {
  const bool host_is_ip = config::IpAddress::parse(host).has_value();
  if (const auto ec = set_server_name(handle, host); ec) {
    return ec;
  }
  // OpenSSL's own host check also names the failure ("hostname mismatch").
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  const int set = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (set != 1) {
    return openssl_error();
  }
  SSL_set_verify(handle, SSL_VERIFY_PEER, nullptr);
  return {};
}

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context() {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  context->set_default_verify_paths();
  return context;
}

}  // namespace crosscheck::net
