// The API's TLS files read and checked with OpenSSL (PEM parsing, the key
// against the leaf, digests); no TLS context is built here.
#include "config/tls_files.hpp"

#include "config/openssl_handles.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

namespace crosscheck::config {
namespace {

using detail::BioPtr;
using detail::KeyPtr;
using detail::no_passphrase;
using detail::X509Ptr;

std::string label(std::string_view key, const std::filesystem::path& path) {
  return "api.tls." + std::string(key) + " '" + path.string() + "'";
}

Expected<std::string> read_pem_file(std::string_view key, const std::filesystem::path& path,
                                    TlsFileKind kind) {
  const int code = static_cast<int>(kind);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return fail(label(key, path) + ": is a directory", code);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail("cannot read " + label(key, path) + ": " + std::strerror(errno), code);
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > k_tls_file_limit) {
    return fail(label(key, path) + ": larger than " + std::to_string(k_tls_file_limit) + " bytes",
                code);
  }
  return text;
}

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate of a PEM text, in order; empty when one is garbled or
// there is none.
std::vector<X509Ptr> read_certificates(const std::string& text) {
  std::vector<X509Ptr> certificates;
  const BioPtr bio = memory_bio(text);
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    certificates.emplace_back(cert);
  }
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!clean_end) {
    certificates.clear();
  }
  return certificates;
}

std::int64_t not_after_of(const X509* cert) {
  std::tm when{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &when) != 1) {
    return 0;
  }
  return static_cast<std::int64_t>(timegm(&when));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  const auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower >= 'a' && lower <= 'f') {
    return lower - 'a' + 10;
  }
  return -1;
}

}  // namespace

CertFingerprint certificate_fingerprint(const x509_st* certificate) {
  CertFingerprint digest{};
  unsigned int size = 0;
  X509_digest(certificate, EVP_sha256(), digest.data(), &size);
  return digest;
}

std::string certificate_subject(const x509_st* certificate) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) < 0) {
    return {};
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

Expected<ServerTlsFiles> read_server_tls(const ApiTlsConfig& tls) {
  ServerTlsFiles files;
  auto chain = read_pem_file("cert_file", tls.cert_file, TlsFileKind::Cert);
  if (!chain) {
    return chain.failure();
  }
  files.certificate_chain = std::move(*chain);
  const auto certificates = read_certificates(files.certificate_chain);
  if (certificates.empty()) {
    return fail(label("cert_file", tls.cert_file) +
                    ": not a PEM certificate chain (-----BEGIN CERTIFICATE-----, leaf first)",
                static_cast<int>(TlsFileKind::Cert));
  }
  const X509* leaf = certificates.front().get();

  auto key_text = read_pem_file("key_file", tls.key_file, TlsFileKind::Key);
  if (!key_text) {
    return key_text.failure();
  }
  files.private_key = std::move(*key_text);
  const BioPtr key_bio = memory_bio(files.private_key);
  const KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    return fail(label("key_file", tls.key_file) +
                    ": not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)",
                static_cast<int>(TlsFileKind::Key));
  }
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return fail(label("key_file", tls.key_file) +
                    ": does not match the certificate in cert_file '" + tls.cert_file.string() +
                    "'",
                static_cast<int>(TlsFileKind::Key));
  }

  if (tls.client_ca_file) {
    auto ca = read_pem_file("client_ca_file", *tls.client_ca_file, TlsFileKind::ClientCa);
    if (!ca) {
      return ca.failure();
    }
    files.client_ca = std::move(*ca);
    if (read_certificates(files.client_ca).empty()) {
      return fail(label("client_ca_file", *tls.client_ca_file) +
                      ": not PEM certificates (-----BEGIN CERTIFICATE-----)",
                  static_cast<int>(TlsFileKind::ClientCa));
    }
  }
  files.client_fingerprints = tls.client_fingerprints;
  files.not_after = not_after_of(leaf);
  files.leaf_fingerprint = certificate_fingerprint(leaf);
  files.leaf_subject = certificate_subject(leaf);
  return files;
}

std::optional<CertFingerprint> parse_fingerprint(std::string_view text) {
  constexpr std::string_view k_prefix = "sha256:";
  if (text.size() < k_prefix.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < k_prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != k_prefix[i]) {
      return std::nullopt;
    }
  }
  text.remove_prefix(k_prefix.size());
  CertFingerprint digest{};
  std::size_t byte = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (byte == digest.size() || i + 1 >= text.size()) {
      return std::nullopt;
    }
    const int high = hex_digit(text[i]);
    const int low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    digest[byte++] = static_cast<std::uint8_t>(high * 16 + low);
    i += 2;
    // One colon between bytes, never at the end.
    if (i < text.size() && text[i] == ':' && i + 1 < text.size()) {
      ++i;
    }
  }
  if (byte != digest.size()) {
    return std::nullopt;
  }
  return digest;
}

std::string to_string(const CertFingerprint& fingerprint) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  std::string text = "sha256:";
  for (std::size_t i = 0; i < fingerprint.size(); ++i) {
    if (i > 0) {
      text += ':';
    }
    text += k_hex[fingerprint[i] >> 4U];
    text += k_hex[fingerprint[i] & 0xFU];
  }
  return text;
}

}  // namespace crosscheck::config
