// Client-side TLS checks shared by everything that connects to a server by
// name: SNI, chain verification and "the certificate names this host". Only
// OpenSSL calls on one SSL handle; no sockets, no I/O.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct ssl_st;

namespace crosscheck::net {

// Sets SNI to `host` when it is a name (never for an IP literal, RFC 6066)
// and requires a certificate that chains to the context's trust store and
// names `host` (or its IP address). Call before the handshake; returns the
// OpenSSL error when the handle refuses a setting.
boost::system::error_code require_server_identity(ssl_st* handle, const std::string& host);

// Only SNI (for a name, never an IP literal): a client that does not verify
// the certificate still says which site it wants.
boost::system::error_code set_server_name(ssl_st* handle, const std::string& host);

// The public-key pin of the peer's leaf certificate: SHA-256 over its DER
// SubjectPublicKeyInfo (tls_pins); nullopt when the peer sent none.
std::optional<config::SpkiPin> peer_spki_pin(ssl_st* handle);

// Whole days from `now` until cert_not_after() (negative once expired);
// nullopt when the peer sent no certificate.
std::optional<int> cert_days_left(ssl_st* handle, std::chrono::system_clock::time_point now);
// The earliest notAfter of the chain that verified (leaf, intermediates,
// anchor: the first to lapse breaks every verifying client); without a
// verified chain (refused, or not verified) the leaf's, also after a
// handshake that failed verification; nullopt when the peer sent none. In
// milliseconds: a notAfter in 9999 overflows the clock's nanoseconds.
std::optional<std::chrono::sys_time<std::chrono::milliseconds>> cert_not_after(ssl_st* handle);

// The client TLS context every outgoing connection uses (probes, gate,
// peers, sinks): TLS 1.2 or newer, no compression, the system trust store.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

// The same context for a `tls:` block (peers, sinks, the CLI's --cacert,
// --cert, --key): with ca_file, only those CAs are trusted (not the system
// store; a listed intermediate is a trust anchor too); with cert_file and
// key_file, that certificate is offered when a server asks for one. The
// files are read by config::read_tls_files, as check-config reads them.
Expected<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(
    const config::TlsClientConfig& tls);

// Classifies a failed TLS operation: `verify_result` is the handle's
// SSL_get_verify_result() (X509_V_OK when our check of the server passed),
// `ec` the operation's error (a server's alert about our certificate).
// None when `ec` is not a TLS error at all: a connection reset, ended or
// truncated during the handshake is a dropped connection, not a refusal.
TlsRefusal classify_tls_failure(const boost::system::error_code& ec, long verify_result);

}  // namespace crosscheck::net
