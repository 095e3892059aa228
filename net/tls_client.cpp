#include "net/tls_client.hpp"

#include "config/tls_files.hpp"
#include "config/types.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <algorithm>
#include <boost/asio/ssl/error.hpp>

namespace crosscheck::net {

namespace {

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

std::optional<config::SpkiPin> peer_spki_pin(SSL* handle) {
  const config::X509Ptr leaf{SSL_get1_peer_certificate(handle)};
  return leaf ? config::certificate_spki_pin(leaf.get()) : std::nullopt;
}

std::optional<int> cert_days_left(SSL* handle, std::chrono::system_clock::time_point now) {
  const auto not_after = cert_not_after(handle);
  if (!not_after) {
    return std::nullopt;
  }
  const auto left = *not_after - std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::days>(left).count());
}

std::optional<std::chrono::sys_time<std::chrono::milliseconds>> cert_not_after(SSL* handle) {
  // Verified: the chain that verified (leaf, intermediates, anchor), not
  // whatever else the server sent (an expired cross-sign it still appends
  // is no client's problem). Not verified (refused, or tls_verify off): the
  // leaf alone, from the chain as sent, which OpenSSL keeps after a failed
  // verification, so an expired leaf is seen too.
  STACK_OF(X509)* verified = SSL_get0_verified_chain(handle);
  const bool trusted = SSL_get_verify_result(handle) == X509_V_OK && verified != nullptr &&
                       sk_X509_num(verified) > 0;
  const STACK_OF(X509)* chain = trusted ? verified : SSL_get_peer_cert_chain(handle);
  if (chain == nullptr) {
    return std::nullopt;
  }
  const int count = trusted ? sk_X509_num(chain) : std::min(sk_X509_num(chain), 1);
  // The distance from the epoch: no time zone and no time_t range to mind.
  const std::unique_ptr<ASN1_TIME, Asn1TimeFree> epoch{ASN1_TIME_set(nullptr, 0)};
  if (!epoch) {
    return std::nullopt;
  }
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>> earliest;
  for (int i = 0; i < count; ++i) {
    int days = 0;
    int seconds = 0;
    const X509* cert = sk_X509_value(chain, i);
    if (cert == nullptr ||
        ASN1_TIME_diff(&days, &seconds, epoch.get(), X509_get0_notAfter(cert)) != 1) {
      continue;
    }
    const auto at = std::chrono::sys_time<std::chrono::milliseconds>{} + std::chrono::days{days} +
                    std::chrono::seconds{seconds};
    earliest = earliest ? std::min(*earliest, at) : at;
  }
  return earliest;
}

namespace {

// TLS 1.2 or newer, no compression; no trust store yet.
std::shared_ptr<boost::asio::ssl::context> bare_client_context() {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  return context;
}

Error context_error(const std::string& what) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return fail("tls: " + what + ": " + (reason != nullptr ? reason : "OpenSSL refused it"));
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context() {
  auto context = bare_client_context();
  context->set_default_verify_paths();
  return context;
}

Expected<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(
    const config::TlsClientConfig& tls) {
  auto material = config::read_tls_files(tls);
  if (!material) {
    return material.failure();
  }
  auto context = bare_client_context();
  SSL_CTX* handle = context->native_handle();
  if (material->trusted.empty()) {
    context->set_default_verify_paths();
  } else {
    X509_STORE* store = SSL_CTX_get_cert_store(handle);
    for (const auto& cert : material->trusted) {
      if (X509_STORE_add_cert(store, cert.get()) != 1) {
        return context_error("cannot trust a certificate of ca_file");
      }
    }
    // Why partial chains: pinning an intermediate CA must work without
    // also trusting the root above it.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  }
  if (material->key) {
    if (SSL_CTX_use_certificate(handle, material->chain.front().get()) != 1) {
      return context_error("cannot use cert_file");
    }
    for (std::size_t i = 1; i < material->chain.size(); ++i) {
      if (SSL_CTX_add1_chain_cert(handle, material->chain[i].get()) != 1) {
        return context_error("cannot use an intermediate certificate of cert_file");
      }
    }
    if (SSL_CTX_use_PrivateKey(handle, material->key.get()) != 1 ||
        SSL_CTX_check_private_key(handle) != 1) {
      return context_error("cannot use key_file");
    }
  }
  return context;
}

TlsRefusal classify_tls_failure(const boost::system::error_code& ec, long verify_result) {
  switch (verify_result) {
    case X509_V_OK:
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return TlsRefusal::Expired;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return TlsRefusal::WrongName;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return TlsRefusal::UnknownCa;
    default:
      return TlsRefusal::Handshake;
  }
  if (ec.category() != boost::asio::error::get_ssl_category()) {
    // A reset, an end of stream or a truncated stream: the connection
    // dropped (a peer killed mid-handshake), which TLS did not refuse.
    return TlsRefusal::None;
  }
  // The server's alerts about the certificate we sent (or did not send).
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return TlsRefusal::ClientCert;
    default:
      return TlsRefusal::Handshake;
  }
}

}  // namespace crosscheck::net
