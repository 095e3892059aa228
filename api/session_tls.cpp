// The API server's connection, its TLS part: the handshake (under
// handshake_timeout, evictable at the connection cap meanwhile; a refusal
// counted by reason and reported), what OpenSSL holds unread, and the
// re-check of a client certificate after a reload changed the client checks.
#include "api/session.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/ssl.h>

namespace crosscheck::api::detail {
namespace {

// A client that connected and went away without a word (a port check):
// nothing was refused.
bool went_away(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::connection_reset;
}

}  // namespace

template <typename Stream>
void Session<Stream>::handshake() {
  if (!rejecting_) {
    list_in(shared_->handshaking);  // holds a slot: evictable at the cap
  }
  lowest().expires_after(shared_->options.handshake_timeout);
  stream_.async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this()](error_code ec) {
                            self->guarded([&] { self->on_handshake(ec); });
                          });
}

template <typename Stream>
void Session<Stream>::on_handshake(error_code ec) {
  if (evicted_) {
    return;  // closed to make room: not a refusal
  }
  unlist();
  if (ec == beast::error::timeout) {
    bump(shared_->counters.timeouts);
    bump(shared_->counters.tls_refusals.at(static_cast<std::size_t>(TlsRefusal::Timeout)));
    return close_now();  // counted, not reported: slow is not refused
  }
  if (ec && went_away(ec)) {
    return close_now();
  }
  if (ec) {
    const TlsRefusal reason = classify_handshake_failure(ec, stream_.native_handle());
    bump(shared_->counters.tls_refusals.at(static_cast<std::size_t>(reason)));
    if (shared_->options.on_tls_refusal) {
      shared_->options.on_tls_refusal(TlsRefusalEvent{
          reason, client_address_, handshake_failure_detail(ec, stream_.native_handle())});
    }
    return close_now();
  }
  lowest().expires_never();
  if (tls_->requires_client_certificate) {
    client_subject_ = client_subject(stream_.native_handle());
  }
  serve();
}

template <typename Stream>
bool Session<Stream>::tls_buffered() {
  ssl_st* ssl = stream_.native_handle();
  // SSL_has_pending: records (or part of one) read from the BIO, not yet
  // returned; the BIO: bytes Asio took from the socket that OpenSSL has
  // not looked at (Asio's own input buffer is drained into it whole).
  return SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
}

template <typename Stream>
bool Session<Stream>::still_admitted() {
  const auto now = shared_->tls();
  if (!now || now == checked_) {
    return true;
  }
  if (same_client_auth(*now, *checked_) || client_admitted(stream_.native_handle(), *now)) {
    checked_ = now;  // one check per reload, not per request
    return true;
  }
  bump(shared_->counters.tls_refusals.at(static_cast<std::size_t>(TlsRefusal::Revoked)));
  if (shared_->options.on_tls_refusal) {
    shared_->options.on_tls_refusal(TlsRefusalEvent{
        TlsRefusal::Revoked, client_address_,
        "open connection of " +
            (client_subject_.empty() ? "a client without a certificate" : client_subject_) +
            " closed: its certificate does not pass api.tls's client checks since the "
            "last reload"});
  }
  return false;
}

// The TLS members, for the TLS session only (session.cpp instantiates the
// class; these are called only where k_tls holds).
template void Session<TlsStream>::handshake();
template void Session<TlsStream>::on_handshake(error_code ec);
template bool Session<TlsStream>::tls_buffered();
template bool Session<TlsStream>::still_admitted();

}  // namespace crosscheck::api::detail
