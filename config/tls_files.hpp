// The one reader of TLS PEM files: the API's (api.tls: cert_file, key_file,
// client_ca_file) and a client `tls:` block's (peers[].tls,
// escalation.webhook.tls, escalation.alertmanager.tls, the CLI's --cacert,
// --cert, --key). check-config, start-up, reload (SIGHUP) and net's TLS
// contexts all read them here, with the same limits (a regular file, at most
// k_tls_file_limit bytes, no passphrase prompt), so a file one accepts the
// others accept. OpenSSL's PEM decoding (private to config/); no sockets.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct x509_st;      // OpenSSL's X509
struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace crosscheck::config {

struct X509Free {
  void operator()(x509_st* cert) const;
};
struct PrivateKeyFree {
  void operator()(evp_pkey_st* key) const;
};
using X509Ptr = std::unique_ptr<x509_st, X509Free>;
using PrivateKeyPtr = std::unique_ptr<evp_pkey_st, PrivateKeyFree>;

// Which file an error is about (Error::code of read_server_tls).
enum class TlsFileKind : std::uint8_t { Cert = 1, Key = 2, ClientCa = 3 };

// A PEM file holds at most this many bytes (a chain of a few certificates
// is a few KB; a CA bundle a few hundred KB).
constexpr std::size_t k_tls_file_limit = std::size_t{1024} * 1024;

// What the API server needs to build its TLS context, checked.
struct ServerTlsFiles {
  std::string certificate_chain;  // PEM, leaf first
  std::string private_key;        // PEM, matches the leaf
  std::string client_ca;          // PEM certificates; empty without client_ca_file
  std::vector<CertFingerprint> client_fingerprints;
  std::int64_t not_after = 0;  // the leaf's notAfter, unix seconds
  CertFingerprint leaf_fingerprint{};
  std::string leaf_subject;  // RFC 2253: "CN=oracle-a,O=ops"

  friend bool operator==(const ServerTlsFiles&, const ServerTlsFiles&) = default;
};

// Reads and checks `tls`'s files: every one readable PEM, the chain starts
// with a certificate, the key is the leaf's, the CA file holds at least one
// certificate. An Error names the key and the path ("api.tls.key_file
// '/etc/k': does not match the certificate in cert_file"), with
// Error::code a TlsFileKind.
Expected<ServerTlsFiles> read_server_tls(const ApiTlsConfig& tls);

// What a client `tls:` block's files hold, decoded.
struct TlsMaterial {
  std::vector<X509Ptr> trusted;  // ca_file's certificates; empty: the system store
  std::vector<X509Ptr> chain;    // cert_file: the client certificate first, then intermediates
  PrivateKeyPtr key;             // key_file
};

// Reads every file the block names. An Error naming the key and the path when
// a file cannot be read, holds no certificate (ca_file, cert_file) or no key
// (key_file), is garbled, or the key does not belong to the certificate:
// "key_file '/etc/x.key' does not match cert_file '/etc/x.crt' (...)".
Expected<TlsMaterial> read_tls_files(const TlsClientConfig& tls);

// "sha256:AB:CD:..." or "sha256:abcd..." (64 hex digits, colons allowed
// between bytes); nullopt when it is not one.
std::optional<CertFingerprint> parse_fingerprint(std::string_view text);

// A certificate's SHA-256 fingerprint and its subject in RFC 2253 form
// ("CN=failover-bot,O=ops"); the API server asks them of client certificates.
CertFingerprint certificate_fingerprint(const x509_st* certificate);
std::string certificate_subject(const x509_st* certificate);
// The certificate's public-key pin (tls_pins): SHA-256 over its DER
// SubjectPublicKeyInfo; nullopt when OpenSSL cannot encode the key.
std::optional<SpkiPin> certificate_spki_pin(const x509_st* certificate);

// "sha256:ab:cd:..." (lower case, colons).
std::string to_string(const CertFingerprint& fingerprint);

}  // namespace crosscheck::config
