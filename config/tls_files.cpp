// TLS PEM files read and checked with OpenSSL: one way to read a file
// (regular, bounded), one to decode its certificates and one its key,
// shared by the API's reader and a client tls: block's. No TLS context is
// built here.
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
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

namespace crosscheck::config {

void X509Free::operator()(x509_st* cert) const {
  X509_free(cert);
}
void PrivateKeyFree::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

namespace {

using detail::BioPtr;
using detail::no_passphrase;

// "api.tls.cert_file '/etc/x'", "ca_file '/etc/x'": how errors name a file.
std::string label(std::string_view key, const std::filesystem::path& path) {
  return std::string(key) + " '" + path.string() + "'";
}

// A file's bytes. Why a regular-file check first: a FIFO would block the
// reader (reload runs on the service thread), and a directory gives
// OpenSSL's vaguest error. Why a bound: a PEM file is small, and a device
// or a huge file named by mistake must not be read into memory.
Expected<std::string> read_pem_text(const std::string& what, const std::filesystem::path& path,
                                    int code = 0) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) {
    return fail("cannot read " + what + ": " + ec.message(), code);
  }
  if (std::filesystem::is_directory(status)) {
    return fail(what + ": is a directory", code);
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail("cannot read " + what + ": not a regular file", code);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail("cannot read " + what + ": " + std::strerror(errno), code);
  }
  std::string text(k_tls_file_limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_tls_file_limit) {
    return fail(what + ": larger than " + std::to_string(k_tls_file_limit) + " bytes", code);
  }
  return text;
}

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OpenSSL's reason for the last failure, then the queue emptied.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return reason != nullptr ? reason : "not PEM";
}

// Every certificate of a PEM text, in order; `garbled` is OpenSSL's reason
// when a block after the last good one is not a certificate.
struct Certificates {
  std::vector<X509Ptr> list;
  std::optional<std::string> garbled;
};

Certificates decode_certificates(const std::string& text) {
  Certificates found;
  const BioPtr bio = memory_bio(text);
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    found.list.emplace_back(cert);
  }
  // The loop ends at the end of the text (no further PEM start line) or at
  // the first block that is not a good certificate.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (last != 0 && !clean_end) {
    found.garbled = openssl_reason();
  }
  ERR_clear_error();
  return found;
}

// The private key of a PEM text; null with `why` set when there is none
// usable (garbled, or encrypted: no passphrase is ever asked for).
PrivateKeyPtr decode_private_key(const std::string& text, std::string& why) {
  const BioPtr bio = memory_bio(text);
  ERR_clear_error();
  PrivateKeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    why = openssl_reason();
  }
  ERR_clear_error();
  return key;
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

// A client tls: block's certificate file: an error when it holds none, or
// anything after the last one is not a certificate.
Expected<std::vector<X509Ptr>> read_client_certificates(std::string_view key,
                                                        const std::filesystem::path& file) {
  auto text = read_pem_text(label(key, file), file);
  if (!text) {
    return text.failure();
  }
  auto found = decode_certificates(*text);
  if (found.garbled) {
    return fail(label(key, file) + " holds a garbled certificate: " + *found.garbled);
  }
  if (found.list.empty()) {
    return fail(label(key, file) + " holds no PEM certificate");
  }
  return std::move(found.list);
}

Expected<PrivateKeyPtr> read_client_key(const std::filesystem::path& file) {
  auto text = read_pem_text(label("key_file", file), file);
  if (!text) {
    return text.failure();
  }
  std::string why;
  auto key = decode_private_key(*text, why);
  if (!key) {
    return fail(label("key_file", file) +
                " holds no usable PEM private key (an encrypted key needs a passphrase, which "
                "crosscheck never asks for): " +
                why);
  }
  return key;
}

}  // namespace

CertFingerprint certificate_fingerprint(const x509_st* certificate) {
  CertFingerprint digest{};
  unsigned int size = 0;
  X509_digest(certificate, EVP_sha256(), digest.data(), &size);
  return digest;
}

std::optional<SpkiPin> certificate_spki_pin(const x509_st* certificate) {
  // Two passes of i2d: the length first, then the bytes.
  const X509_PUBKEY* key = X509_get_X509_PUBKEY(certificate);
  const int length = i2d_X509_PUBKEY(key, nullptr);
  if (length <= 0) {
    return std::nullopt;
  }
  std::vector<unsigned char> der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  if (i2d_X509_PUBKEY(key, &out) != length) {
    return std::nullopt;
  }
  SpkiPin pin;
  unsigned int size = 0;
  if (EVP_Digest(der.data(), der.size(), pin.sha256.data(), &size, EVP_sha256(), nullptr) != 1) {
    return std::nullopt;
  }
  return pin;
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
  const auto api_label = [](std::string_view key, const std::filesystem::path& path) {
    return label("api.tls." + std::string(key), path);
  };
  ServerTlsFiles files;
  auto chain = read_pem_text(api_label("cert_file", tls.cert_file), tls.cert_file,
                             static_cast<int>(TlsFileKind::Cert));
  if (!chain) {
    return chain.failure();
  }
  files.certificate_chain = std::move(*chain);
  const auto certificates = decode_certificates(files.certificate_chain);
  if (certificates.list.empty() || certificates.garbled) {
    return fail(api_label("cert_file", tls.cert_file) +
                    ": not a PEM certificate chain (-----BEGIN CERTIFICATE-----, leaf first)",
                static_cast<int>(TlsFileKind::Cert));
  }
  const X509* leaf = certificates.list.front().get();

  auto key_text = read_pem_text(api_label("key_file", tls.key_file), tls.key_file,
                                static_cast<int>(TlsFileKind::Key));
  if (!key_text) {
    return key_text.failure();
  }
  files.private_key = std::move(*key_text);
  std::string why;
  const auto key = decode_private_key(files.private_key, why);
  if (!key) {
    return fail(api_label("key_file", tls.key_file) +
                    ": not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)",
                static_cast<int>(TlsFileKind::Key));
  }
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return fail(api_label("key_file", tls.key_file) +
                    ": does not match the certificate in cert_file '" + tls.cert_file.string() +
                    "'",
                static_cast<int>(TlsFileKind::Key));
  }

  if (tls.client_ca_file) {
    auto ca = read_pem_text(api_label("client_ca_file", *tls.client_ca_file), *tls.client_ca_file,
                            static_cast<int>(TlsFileKind::ClientCa));
    if (!ca) {
      return ca.failure();
    }
    files.client_ca = std::move(*ca);
    const auto authorities = decode_certificates(files.client_ca);
    if (authorities.list.empty() || authorities.garbled) {
      return fail(api_label("client_ca_file", *tls.client_ca_file) +
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

Expected<TlsMaterial> read_tls_files(const TlsClientConfig& tls) {
  TlsMaterial material;
  if (tls.ca_file) {
    auto trusted = read_client_certificates("ca_file", *tls.ca_file);
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
  auto chain = read_client_certificates("cert_file", *tls.cert_file);
  if (!chain) {
    return chain.failure();
  }
  auto key = read_client_key(*tls.key_file);
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
