// The API server's TLS: one OpenSSL context per certificate set (api.tls),
// and what a session asks after a handshake (why it failed, who the client
// is). Internal to api/ (Asio SSL is included here): only session.cpp and
// server.cpp include it.
#pragma once

#include "api/counters.hpp"
#include "base/expected.hpp"
#include "config/tls_files.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace crosscheck::api::detail {

// One loaded certificate set. Sessions hold it by shared_ptr: a reload
// makes a new one for new connections, open ones keep theirs.
struct ServerTls {
  explicit ServerTls(const config::ServerTlsFiles& loaded);

  boost::asio::ssl::context context;
  config::ServerTlsFiles files;
  bool requires_client_certificate = false;
};

// TLS 1.2 or later, TLS 1.2 ciphers ECDHE with AEAD only, no compression,
// no renegotiation; a client certificate required when files pin a CA or
// fingerprints. An Error when OpenSSL refuses the certificate or key.
Expected<std::shared_ptr<const ServerTls>> make_server_tls(const config::ServerTlsFiles& files);

// Why a server handshake failed, from its error and the connection's
// verify result. Why the verify result: OpenSSL reports every refused
// certificate as "certificate verify failed"; the X509_V_ERR code says
// which check refused it (expired, unknown issuer, our fingerprint pin).
TlsRefusal classify_handshake_failure(const boost::system::error_code& ec, ssl_st* ssl);

// A readable reason: OpenSSL's verify error when there is one, else ec's message.
std::string handshake_failure_detail(const boost::system::error_code& ec, ssl_st* ssl);

// True when `a` and `b` ask the same of a client (client_ca_file and
// client_fingerprints): a reload that changes only the server's own
// certificate leaves open connections alone.
bool same_client_auth(const ServerTls& a, const ServerTls& b);

// True when the client certificate `ssl`'s handshake verified would pass
// `tls`'s client checks now: pinned (when pins are set) and chaining to its
// client CA (when set), or no certificate asked at all. What a reload that
// changes the client-auth settings asks of connections already open.
bool client_admitted(ssl_st* ssl, const ServerTls& tls);

// The verified client certificate's subject (RFC 2253), "" without one.
std::string client_subject(ssl_st* ssl);

}  // namespace crosscheck::api::detail
