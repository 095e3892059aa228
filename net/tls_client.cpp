#include "net/tls_client.hpp"

#include "config/types.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ssl/error.hpp>

namespace crosscheck::net {

namespace {

struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct Asn1TimeFree {
  void operator()(ASN1_TIME* time) const { ASN1_TIME_free(time); }
};

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

std::optional<int> cert_days_left(SSL* handle, std::chrono::system_clock::time_point now) {
  const std::unique_ptr<X509, X509Free> leaf{SSL_get1_peer_certificate(handle)};
  if (!leaf) {
    return std::nullopt;
  }
  const std::unique_ptr<ASN1_TIME, Asn1TimeFree> from{
      ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(now))};
  int days = 0;
  int seconds = 0;
  if (!from || ASN1_TIME_diff(&days, &seconds, from.get(), X509_get0_notAfter(leaf.get())) != 1) {
    return std::nullopt;
  }
  return days;
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
