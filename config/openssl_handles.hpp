// OpenSSL handles owned by unique_ptr, and the passphrase callback, for the
// config readers that parse PEM (signing_key.cpp, tls_files.cpp). Internal
// to config/: only its .cpp files include it.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace crosscheck::config::detail {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// Why a callback that refuses: without one OpenSSL asks for the passphrase
// of an encrypted key on the terminal, and a daemon (or a gate in a
// failover script) would wait for a human. An encrypted key fails to load.
inline int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) {
  return -1;
}

}  // namespace crosscheck::config::detail
