// The one reader of a `tls:` block's PEM files (peers[].tls,
// escalation.webhook.tls, escalation.alertmanager.tls, the CLI's --cacert,
// --cert, --key): CA certificates to trust, a client certificate chain and
// its private key. check-config, start-up, reload and net's client TLS
// context all read them here. OpenSSL's PEM decoding only; no sockets.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"

#include <memory>
#include <vector>

struct x509_st;
struct evp_pkey_st;

namespace crosscheck::config {

struct X509Free {
  void operator()(x509_st* cert) const;
};
struct PrivateKeyFree {
  void operator()(evp_pkey_st* key) const;
};
using X509Ptr = std::unique_ptr<x509_st, X509Free>;
using PrivateKeyPtr = std::unique_ptr<evp_pkey_st, PrivateKeyFree>;

// What a `tls:` block's files hold, decoded.
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

}  // namespace crosscheck::config
