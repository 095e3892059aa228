// The DNS session over a stream (probes/dns_session.hpp): the TCP retry of a
// truncated UDP reply, and DNS over TLS, which never sends UDP. One
// length-prefixed message each way, judged by the same rules as over UDP; a
// DoT failure is told by how far the query got (DotStage).
#include "probes/dns_session.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "probes/dns_tls.hpp"
#include "probes/dns_wire.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string>
#include <utility>

namespace crosscheck::probes::detail {

struct TlsStream {
  TlsStream(tcp::socket& socket, asio::ssl::context& context) : stream(socket, context) {}
  asio::ssl::stream<tcp::socket&> stream;
};

void DeleteTlsStream::operator()(TlsStream* stream) const {
  std::default_delete<TlsStream>()(stream);
}

namespace {

// A resolver answers a TCP query with one message; stray ones before it are
// skipped, but a connection that sends this many and never the reply is not
// answering, and reading on would only spin until the deadline.
constexpr int k_max_tcp_stray_messages = 16;

}  // namespace

// TC set: the same query over TCP, bounded by the same deadline timer.
void DnsSession::start_tcp() {
  in_tcp_ = true;
  error_code ignored;
  udp_.close(ignored);
  connect_tcp();
}

// DNS over TLS: straight to TCP, no UDP datagram ever leaves.
void DnsSession::start_tls() {
  if (!request_.tls->context) {
    return finish(failed(DnsStatus::ObserverError, request_.tls->problem));
  }
  in_tcp_ = true;
  dot_stage_ = DotStage::Connecting;
  connect_tcp();
}

void DnsSession::connect_tcp() {
  const auto endpoint = net::tcp_endpoint(request_.server.address, request_.server.port);
  error_code ec;
  tcp_.open(endpoint.protocol(), ec);
  if (ec) {
    return finish(failed(DnsStatus::ObserverError, "dns: cannot open a TCP socket: " + reason(ec)));
  }
  // Without a source, connect() picks the address and port itself; an
  // explicit bind to port 0 would only narrow the kernel's port choice.
  if (request_.source) {
    if (auto problem = bind_source(tcp_, endpoint.protocol())) {
      return finish(std::move(*problem));
    }
  }
  tcp_.async_connect(
      endpoint, [self = shared_from_this()](error_code error) { self->on_tcp_connected(error); });
}

void DnsSession::on_tcp_connected(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish_tcp(ec);
  }
  if (request_.tls) {
    return start_handshake();
  }
  write_query();
}

void DnsSession::start_handshake() {
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): tls_ owns it (DeleteTlsStream)
  tls_.reset(new TlsStream(tcp_, *request_.tls->context));
  if (const auto ec = prepare_dot_handshake(tls_->stream.native_handle(), *request_.tls)) {
    return finish(failed(DnsStatus::ObserverError, "dot: TLS setup failed: " + reason(ec)));
  }
  dot_stage_ = DotStage::Handshaking;
  tls_->stream.async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

// Why every TLS failure is the observer's: a DoT vantage that cannot
// authenticate its resolver observes nothing, and its interceptor must not
// vote in the resolver's name either way.
void DnsSession::on_handshake(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish(failed(
        DnsStatus::ObserverError,
        describe_dot_failure(ec, tls_->stream.native_handle(), resolver_label(), *request_.tls)));
  }
  if (auto mismatch =
          check_dot_pins(tls_->stream.native_handle(), resolver_label(), *request_.tls)) {
    return finish(failed(DnsStatus::ObserverError, std::move(*mismatch)));
  }
  dot_stage_ = DotStage::Sending;
  write_query();
}

// The plain TCP socket, or the TLS stream over it once there is one.
template <typename Operation>
void DnsSession::on_stream(Operation operation) {
  if (tls_) {
    operation(tls_->stream);
  } else {
    operation(tcp_);
  }
}

void DnsSession::write_query() {
  const auto length = static_cast<std::uint16_t>(query_.wire.size());
  tcp_out_.clear();
  tcp_out_.push_back(static_cast<std::uint8_t>(length >> 8U));
  tcp_out_.push_back(static_cast<std::uint8_t>(length & 0xFFU));
  tcp_out_.insert(tcp_out_.end(), query_.wire.begin(), query_.wire.end());
  on_stream([this](auto& stream) {
    asio::async_write(stream, asio::buffer(tcp_out_),
                      [self = shared_from_this()](error_code error, std::size_t) {
                        self->on_tcp_written(error);
                      });
  });
}

void DnsSession::on_tcp_written(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish_tcp(ec);
  }
  if (request_.tls) {
    dot_stage_ = DotStage::Sent;
  }
  read_tcp_message();
}

// One length-prefixed DNS message (RFC 1035 4.2.2).
void DnsSession::read_tcp_message() {
  on_stream([this](auto& stream) {
    asio::async_read(
        stream, asio::buffer(tcp_length_),
        [self = shared_from_this()](error_code error, std::size_t) { self->on_tcp_length(error); });
  });
}

void DnsSession::on_tcp_length(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish_tcp(ec);
  }
  const std::size_t length = (static_cast<std::size_t>(tcp_length_[0]) << 8U) | tcp_length_[1];
  tcp_in_.resize(length);
  on_stream([this](auto& stream) {
    asio::async_read(
        stream, asio::buffer(tcp_in_),
        [self = shared_from_this()](error_code error, std::size_t) { self->on_tcp_reply(error); });
  });
}

void DnsSession::on_tcp_reply(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish_tcp(ec);
  }
  auto reply = classify_dns_reply(tcp_in_, query_);
  switch (reply.match) {
    case ReplyMatch::Ignored:
      // The same rule as over UDP: a message that is not ours, or cannot
      // be read, is counted and the next one awaited on this connection,
      // until the resolver closes it or the deadline passes.
      ignored_.add(reply.ignored, reply.why);
      if (++tcp_strays_ == k_max_tcp_stray_messages) {
        return finish(no_valid_reply(
            stream_failed(std::to_string(k_max_tcp_stray_messages) + " messages, none the reply"),
            ignored_));
      }
      return read_tcp_message();
    case ReplyMatch::Truncated:
      return finish(failed(DnsStatus::Truncated, request_.tls
                                                     ? "dns: truncated reply over TLS"
                                                     : "dns: truncated reply and TCP retry failed: "
                                                       "truncated over TCP too"));
    case ReplyMatch::Accepted:
      break;
  }
  reply.result.over_tcp = true;
  finish(std::move(reply.result));
}

void DnsSession::finish_tcp(const error_code& ec) {
  if (net::is_observer_fault(ec)) {
    return finish(
        failed(DnsStatus::ObserverError,
               std::string(request_.tls ? "dns: TCP connection to " : "dns: TCP retry to ") +
                   resolver_label() + " failed on this host: " + reason(ec)));
  }
  if (request_.tls) {
    return finish(dot_broken(reason(ec)));
  }
  finish(no_valid_reply(stream_failed(reason(ec)), ignored_));
}

// The DoT connection failed or broke (refused, reset, closed, bytes that
// are not TLS, an alert) or the deadline came before the query was sent:
// anyone on the path can do that, so it is an observer error. A reply of
// ours that did not parse, sent over the verified session, is still judged
// (Malformed), as over plain DNS.
DnsResult DnsSession::dot_broken(const std::string& why) const {
  const std::string label = resolver_label();
  std::string detail;
  switch (dot_stage_) {
    case DotStage::Connecting:
      detail = "dot: cannot reach " + label + ": " + why;
      break;
    case DotStage::Handshaking:
      detail = "dot: TLS handshake with " + label + " did not complete: " + why;
      break;
    case DotStage::Sending:
      detail = "dot: the query could not be sent to " + label + " over TLS: " + why;
      break;
    case DotStage::Sent:
      detail = "dot: the TLS session with " + label +
               " broke before a complete reply (possible interception): " + why;
      break;
  }
  return no_valid_reply(failed(DnsStatus::ObserverError, std::move(detail)), ignored_);
}

// The TCP retry (or the TLS connection) ended without the reply: `why`.
DnsResult DnsSession::stream_failed(const std::string& why) const {
  if (request_.tls) {
    return failed(DnsStatus::Timeout, "dns: no reply over TLS: " + why);
  }
  return failed(DnsStatus::Truncated, "dns: truncated reply and TCP retry failed: " + why);
}

}  // namespace crosscheck::probes::detail
