// OpenSSL handles owned by unique_ptr, and the passphrase callback, for the
// config readers that parse PEM (signing_key.cpp, tls_files.cpp). Internal
// to config/: only its .cpp files include it. The certificate and key
// owners are tls_files.hpp's public ones.
#pragma once

#include "config/tls_files.hpp"

#include <openssl/bio.h>

#include <memory>

namespace crosscheck::config::detail {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = config::X509Ptr;
using KeyPtr = config::PrivateKeyPtr;

// Why a callback that refuses: without one OpenSSL asks for the passphrase
// of an encrypted key on the terminal, and a daemon (or a gate in a
// failover script) would wait for a human. An encrypted key fails to load.
inline int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) {
  return -1;
}

}  // namespace crosscheck::config::detail
