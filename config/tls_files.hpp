// The one reader of the API's TLS files (api.tls: cert_file, key_file,
// client_ca_file): check-config, start-up and reload (SIGHUP) all read them
// here, so a file one accepts the others accept. Reads and checks bytes
// (OpenSSL, private to config/); builds no TLS context and opens no socket.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct x509_st;  // OpenSSL's X509

namespace crosscheck::config {

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

// "sha256:AB:CD:..." or "sha256:abcd..." (64 hex digits, colons allowed
// between bytes); nullopt when it is not one.
std::optional<CertFingerprint> parse_fingerprint(std::string_view text);

// A certificate's SHA-256 fingerprint and its subject in RFC 2253 form
// ("CN=failover-bot,O=ops"); the API server asks them of client certificates.
CertFingerprint certificate_fingerprint(const x509_st* certificate);
std::string certificate_subject(const x509_st* certificate);

// "sha256:ab:cd:..." (lower case, colons).
std::string to_string(const CertFingerprint& fingerprint);

}  // namespace crosscheck::config
