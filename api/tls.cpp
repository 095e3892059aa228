// The API server's OpenSSL context (built from checked PEM bytes, never
// from paths: what check-config read is what is served) and the reading
// of a handshake's outcome.
#include "api/tls.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/verify_context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <memory>
#include <string_view>

namespace crosscheck::api {

std::string_view to_string(TlsRefusal reason) {
  switch (reason) {
    case TlsRefusal::NoClientCertificate:
      return "no_client_certificate";
    case TlsRefusal::UnknownCa:
      return "unknown_ca";
    case TlsRefusal::Expired:
      return "expired";
    case TlsRefusal::FingerprintMismatch:
      return "fingerprint_mismatch";
    case TlsRefusal::NotTls:
      return "not_tls";
    case TlsRefusal::Timeout:
      return "timeout";
    case TlsRefusal::Revoked:
      return "revoked";
    case TlsRefusal::Handshake:
      break;
  }
  return "handshake";
}

}  // namespace crosscheck::api

namespace crosscheck::api::detail {
namespace {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

// TLS 1.2 suites: forward secret (ECDHE) and authenticated encryption
// (GCM, ChaCha20-Poly1305) only. TLS 1.3 suites are all of that kind.
constexpr const char* k_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Resumed sessions must come back to a context that asks for the same
// client certificate checks (OpenSSL refuses resumption without one).
constexpr std::string_view k_session_id_context = "crosscheck-api";

// Errors that say "this chain does not lead to a CA we trust".
bool is_trust_error(long error) {
  return error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
         error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
         error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         error == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || error == X509_V_ERR_CERT_UNTRUSTED;
}

// Called by OpenSSL for every certificate and every problem it finds.
// With pins, a leaf not pinned is refused whatever its chain; with pins
// and no CA the pin is the trust, so "unknown issuer" and "self-signed" are
// forgiven (expiry is not).
bool verify_client(const std::vector<config::CertFingerprint>& pins, bool has_ca, bool preverified,
                   X509_STORE_CTX* store) {
  if (pins.empty()) {
    return preverified;
  }
  const X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf == nullptr ||
      std::find(pins.begin(), pins.end(), config::certificate_fingerprint(leaf)) == pins.end()) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return false;
  }
  if (!preverified && !has_ca && is_trust_error(X509_STORE_CTX_get_error(store))) {
    return true;
  }
  return preverified;
}

Status configure(ssl::context& context, const config::ServerTlsFiles& files) {
  SSL_CTX* native = context.native_handle();
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, k_tls12_ciphers) != 1) {
    return fail("api.tls: OpenSSL offers none of the ECDHE+AEAD ciphers");
  }
  SSL_CTX_set_session_id_context(
      native, reinterpret_cast<const unsigned char*>(k_session_id_context.data()),
      static_cast<unsigned int>(k_session_id_context.size()));
  error_code ec;
  context.use_certificate_chain(boost::asio::buffer(files.certificate_chain), ec);
  if (ec) {
    return fail("api.tls.cert_file: " + ec.message());
  }
  context.use_private_key(boost::asio::buffer(files.private_key), ssl::context::pem, ec);
  if (ec) {
    return fail("api.tls.key_file: " + ec.message());
  }
  const bool has_ca = !files.client_ca.empty();
  if (has_ca) {
    context.add_certificate_authority(boost::asio::buffer(files.client_ca), ec);
    if (ec) {
      return fail("api.tls.client_ca_file: " + ec.message());
    }
  }
  if (has_ca || !files.client_fingerprints.empty()) {
    // Why no resumption under mTLS: a resumed session skips the client
    // certificate checks (expiry included) for the session's lifetime,
    // 7200 s by OpenSSL's default. Every connection shows its certificate.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(native, 0);
    context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    context.set_verify_callback(
        [pins = files.client_fingerprints, has_ca](bool preverified, ssl::verify_context& verify) {
          return verify_client(pins, has_ca, preverified, verify.native_handle());
        });
  } else {
    context.set_verify_mode(ssl::verify_none);
  }
  return {};
}

}  // namespace

ServerTls::ServerTls(const config::ServerTlsFiles& loaded)
    : context(ssl::context::tls_server),
      files(loaded),
      requires_client_certificate(!loaded.client_ca.empty() ||
                                  !loaded.client_fingerprints.empty()) {}

Expected<std::shared_ptr<const ServerTls>> make_server_tls(const config::ServerTlsFiles& files) {
  auto tls = std::make_shared<ServerTls>(files);
  if (const Status configured = configure(tls->context, files); !configured) {
    ERR_clear_error();
    return configured.failure();
  }
  return std::shared_ptr<const ServerTls>(std::move(tls));
}

TlsRefusal classify_handshake_failure(const error_code& ec, ssl_st* ssl) {
  if (ec.category() != boost::asio::error::get_ssl_category()) {
    return TlsRefusal::Handshake;
  }
  const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
    return TlsRefusal::NotTls;
  }
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return TlsRefusal::NoClientCertificate;
  }
  if (reason != SSL_R_CERTIFICATE_VERIFY_FAILED || ssl == nullptr) {
    return TlsRefusal::Handshake;
  }
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_ERR_CERT_HAS_EXPIRED) {
    return TlsRefusal::Expired;
  }
  if (verify == X509_V_ERR_APPLICATION_VERIFICATION) {
    return TlsRefusal::FingerprintMismatch;
  }
  if (is_trust_error(verify)) {
    return TlsRefusal::UnknownCa;
  }
  return TlsRefusal::Handshake;
}

std::string handshake_failure_detail(const error_code& ec, ssl_st* ssl) {
  if (ssl != nullptr && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify == X509_V_ERR_APPLICATION_VERIFICATION) {
      return "client certificate fingerprint not in api.tls.client_fingerprints";
    }
    return X509_verify_cert_error_string(verify);
  }
  return ec.message();
}

bool same_client_auth(const ServerTls& a, const ServerTls& b) {
  return a.files.client_ca == b.files.client_ca &&
         a.files.client_fingerprints == b.files.client_fingerprints;
}

bool client_admitted(ssl_st* ssl, const ServerTls& tls) {
  if (!tls.requires_client_certificate) {
    return true;
  }
  const X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    return false;  // made when no certificate was asked
  }
  const auto& pins = tls.files.client_fingerprints;
  if (!pins.empty() &&
      std::find(pins.begin(), pins.end(), config::certificate_fingerprint(leaf)) == pins.end()) {
    return false;
  }
  if (tls.files.client_ca.empty()) {
    return true;  // pins only: the pin is the trust (as in the handshake)
  }
  // The chain against the new CA, as the handshake checks it (purpose
  // ssl_client, times); the store is the context's, which holds only it.
  const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> check(X509_STORE_CTX_new(),
                                                                              &X509_STORE_CTX_free);
  // SSL_CTX_get_cert_store only reads; the const is ours.
  SSL_CTX* context = const_cast<ServerTls&>(tls).context.native_handle();  // NOLINT
  if (!check || X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(context),
                                    const_cast<X509*>(leaf),  // NOLINT: only read
                                    SSL_get_peer_cert_chain(ssl)) != 1) {
    ERR_clear_error();
    return false;
  }
  X509_STORE_CTX_set_default(check.get(), "ssl_client");
  const bool verified = X509_verify_cert(check.get()) == 1;
  ERR_clear_error();
  return verified;
}

std::string client_subject(ssl_st* ssl) {
  const X509* peer = SSL_get0_peer_certificate(ssl);
  return peer != nullptr ? config::certificate_subject(peer) : std::string();
}

}  // namespace crosscheck::api::detail
