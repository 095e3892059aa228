#include "config/tls_files.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace crosscheck::config {

void X509Free::operator()(x509_st* cert) const {
  X509_free(cert);
}
void PrivateKeyFree::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string label(std::string_view key, const std::filesystem::path& file) {
  return std::string(key) + " '" + file.string() + "'";
}

// OpenSSL's reason for the last failure, then the queue emptied.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return reason != nullptr ? reason : "not PEM";
}

// Why a regular-file check first: a FIFO would block the reader (reload runs
// on the service thread), and a directory gives OpenSSL's vaguest error.
Expected<BioPtr> open_pem(std::string_view key, const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec) {
    return fail("cannot read " + label(key, file) + ": " + ec.message());
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail("cannot read " + label(key, file) + ": not a regular file");
  }
  BioPtr bio{BIO_new_file(file.c_str(), "r")};
  if (!bio) {
    ERR_clear_error();
    return fail("cannot read " + label(key, file) + ": " + std::strerror(errno));
  }
  return bio;
}

// Every certificate of a PEM file; an error when there is none, or when
// anything after the last one is not a certificate.
Expected<std::vector<X509Ptr>> read_certificates(std::string_view key,
                                                 const std::filesystem::path& file) {
  auto bio = open_pem(key, file);
  if (!bio) {
    return bio.failure();
  }
  ERR_clear_error();
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends at the end of the file (no further PEM start line) or at
  // the first block that is not a good certificate.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (last != 0 && !clean_end) {
    return fail(label(key, file) + " holds a garbled certificate: " + openssl_reason());
  }
  ERR_clear_error();
  if (certs.empty()) {
    return fail(label(key, file) + " holds no PEM certificate");
  }
  return certs;
}

Expected<PrivateKeyPtr> read_private_key(const std::filesystem::path& file) {
  auto bio = open_pem("key_file", file);
  if (!bio) {
    return bio.failure();
  }
  ERR_clear_error();
  PrivateKeyPtr key{PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr)};
  if (!key) {
    return fail(label("key_file", file) +
                " holds no usable PEM private key (an encrypted key needs a passphrase, which "
                "crosscheck never asks for): " +
                openssl_reason());
  }
  return key;
}

}  // namespace

Expected<TlsMaterial> read_tls_files(const TlsClientConfig& tls) {
  TlsMaterial material;
  if (tls.ca_file) {
    auto trusted = read_certificates("ca_file", *tls.ca_file);
    if (!trusted) {
      return trusted.failure();
    }
    material.trusted = std::move(*trusted);
  }
  if (tls.cert_file.has_value() != tls.key_file.has_value()) {
    return fail(tls.cert_file ? "cert_file needs key_file (the client certificate's key)"
                              : "key_file needs cert_file (the client certificate)");
  }
  if (!tls.cert_file) {
    return material;
  }
  auto chain = read_certificates("cert_file", *tls.cert_file);
  if (!chain) {
    return chain.failure();
  }
  auto key = read_private_key(*tls.key_file);
  if (!key) {
    return key.failure();
  }
  if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
    ERR_clear_error();
    return fail(label("key_file", *tls.key_file) + " does not match " +
                label("cert_file", *tls.cert_file) + " (the certificate's public key)");
  }
  material.chain = std::move(*chain);
  material.key = std::move(*key);
  return material;
}

}  // namespace crosscheck::config
