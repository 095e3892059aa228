#include "lab/test_certificates.hpp"

#include "config/tls_files.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/ssl/context.hpp>

#include <stdexcept>

namespace crosscheck::lab {
namespace {

namespace ssl = boost::asio::ssl;

constexpr long k_seconds_per_day = 24L * 60 * 60;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
using KeyPtr = config::PrivateKeyPtr;
using CertPtr = config::X509Ptr;
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

}  // namespace

ServerTls make_server_tls(const FakeTlsOptions& options, const std::string& address) {
  ServerTls out;
  out.context = std::make_unique<ssl::context>(ssl::context::tls_server);
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
    out.ca_pem = to_pem(ca.get());
  }
  require(SSL_CTX_use_certificate(out.context->native_handle(), leaf.get()) == 1,
          "SSL_CTX_use_certificate");
  require(SSL_CTX_use_PrivateKey(out.context->native_handle(), leaf_key.get()) == 1,
          "SSL_CTX_use_PrivateKey");
  return out;
}

}  // namespace crosscheck::lab
