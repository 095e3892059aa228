#include "probes/dns_tls.hpp"

#include "net/errors.hpp"
#include "net/tls_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>

namespace crosscheck::probes {

std::shared_ptr<const DotTransport> make_dot_transport(const config::DotConfig& dot) {
  auto transport = std::make_shared<DotTransport>();
  transport->name = dot.name;
  // The config drops a trailing dot already; a name with one would match no
  // certificate and go out as no SNI (RFC 6066 3: HostName has no dot).
  if (transport->name && transport->name->size() > 1 && transport->name->ends_with('.')) {
    transport->name->pop_back();
  }
  transport->pins = dot.pins;
  if (!dot.ca_file) {
    transport->context = net::make_client_tls_context();
    return transport;
  }
  auto context = net::make_client_tls_context(config::TlsClientConfig{dot.ca_file, {}, {}});
  if (context) {
    transport->context = std::move(*context);
  } else {
    transport->problem = "dot: tls_ca: " + context.error();
  }
  return transport;
}

boost::system::error_code prepare_dot_handshake(ssl_st* handle, const DotTransport& dot) {
  // Pins alone check the key, not a chain: no CA is asked to vouch for it.
  return dot.name ? net::require_server_identity(handle, *dot.name) : boost::system::error_code{};
}

std::string describe_dot_failure(const boost::system::error_code& ec, ssl_st* handle,
                                 const std::string& resolver, const DotTransport& dot) {
  // Without tls_name nothing verifies the chain (OpenSSL still records what
  // it found, which pins alone must not report as the failure).
  const long verify = dot.name ? SSL_get_verify_result(handle) : long{X509_V_OK};
  const std::string certificate = "dot: the certificate of " + resolver + " ";
  switch (net::classify_tls_failure(ec, verify)) {
    case net::TlsRefusal::WrongName:
      return certificate + "does not name " + dot.name.value_or("") + " (possible interception)";
    case net::TlsRefusal::UnknownCa:
      return certificate + "is not from a trusted CA (" + X509_verify_cert_error_string(verify) +
             "; possible interception)";
    case net::TlsRefusal::Expired:
      return certificate + "is expired or not yet valid (" + X509_verify_cert_error_string(verify) +
             ")";
    case net::TlsRefusal::ClientCert:
    case net::TlsRefusal::Handshake:
    case net::TlsRefusal::None:
      break;
  }
  if (verify != X509_V_OK) {
    return certificate + "does not verify (" + X509_verify_cert_error_string(verify) + ")";
  }
  return "dot: TLS handshake with " + resolver + " failed: " + net::describe(ec);
}

std::optional<std::string> check_dot_pins(ssl_st* handle, const std::string& resolver,
                                          const DotTransport& dot) {
  if (dot.pins.empty()) {
    return std::nullopt;
  }
  const auto pin = net::peer_spki_pin(handle);
  if (pin && std::find(dot.pins.begin(), dot.pins.end(), *pin) != dot.pins.end()) {
    return std::nullopt;
  }
  if (!pin) {
    return "dot: " + resolver + " sent no certificate to check tls_pins against";
  }
  return "dot: the certificate of " + resolver +
         " matches no pin (possible interception): its key is " + pin->to_string();
}

}  // namespace crosscheck::probes
