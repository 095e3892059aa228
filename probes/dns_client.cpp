// The UDP half of the DNS session (probes/dns_session.hpp), with what both
// transports share: the query opened, its deadline and its single completion.
#include "probes/dns_client.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/random.hpp"
#include "probes/dns_session.hpp"
#include "probes/dns_wire.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace crosscheck::probes {
namespace detail {
namespace {

// The largest datagram there can be: a resolver that ignores our EDNS size
// must still parse (or be judged) whole rather than cut at some lower bound.
constexpr std::size_t k_max_udp_reply = 65535;
// Datagrams read from a UDP socket at the deadline, looking for a reply
// that came but was not read in time (a stall of this process).
constexpr int k_max_unread_datagrams = 16;

// This thread's buffer for the datagram being read. One is enough: a
// datagram is read only once its socket is readable, and judged before the
// next read. Why not a buffer per query: thousands of queries in flight
// held 64 KiB each (74 MB at 1,156 in flight, bench row 4), and a 64 KiB
// malloc and free per query made glibc consolidate its free lists (a fifth
// of the daemon's CPU, perf). Uninitialised on purpose: only received bytes
// are read.
std::span<std::uint8_t> datagram_buffer() {
  thread_local const std::unique_ptr<std::uint8_t[]> buffer(new std::uint8_t[k_max_udp_reply]);
  return {buffer.get(), k_max_udp_reply};
}

}  // namespace

std::string reason(const error_code& ec) {
  std::string text = net::describe(ec);
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) != 0 &&
      std::isupper(static_cast<unsigned char>(text[1])) == 0) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

DnsResult failed(DnsStatus status, std::string detail) {
  DnsResult result;
  result.status = status;
  result.detail = std::move(detail);
  return result;
}

DnsSession::DnsSession(asio::io_context& io, const consensus::Clock& clock, DnsRequest request,
                       DnsCallback done)
    : io_(io),
      request_(std::move(request)),
      callback_(std::move(done)),
      server_(net::udp_endpoint(request_.server)),
      udp_(io),
      tcp_(io),
      timer_(io),
      stopwatch_(clock),
      budget_(request_.budget.value_or(time_left(request_.deadline))) {}

void DnsSession::start() {
  timer_.expires_at(request_.deadline);
  timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_deadline(ec); });

  auto query = build_dns_query(
      request_.name, request_.type, net::random_u16(),
      DnsFlags{request_.dnssec_ok, request_.checking_disabled, request_.recursion_desired});
  if (!query) {
    return finish(failed(DnsStatus::ObserverError, query.error()));
  }
  query_ = std::move(*query);

  if (request_.tls) {
    return start_tls();
  }
  if (auto problem = open_udp()) {
    return finish(std::move(*problem));
  }
  udp_.async_send(asio::buffer(query_.wire),
                  [self = shared_from_this()](error_code ec, std::size_t) { self->on_sent(ec); });
}

// Opens, binds and connects the UDP socket. Connecting matters: Linux
// reports ICMP port unreachable (ECONNREFUSED) only on connected UDP
// sockets, and the kernel then drops datagrams from other sources.
std::optional<DnsResult> DnsSession::open_udp() {
  error_code ec;
  udp_.open(server_.protocol(), ec);
  if (ec) {
    return failed(DnsStatus::ObserverError, "dns: cannot open a UDP socket: " + reason(ec));
  }
  // Without a source, connect() binds a random ephemeral port itself: one
  // system call less per probe than an explicit bind to port 0.
  if (request_.source) {
    if (auto problem = bind_source(udp_, server_.protocol())) {
      return problem;
    }
  }
  udp_.connect(server_, ec);
  if (ec) {
    return network_failure(ec);
  }
  return std::nullopt;
}

// Binds `source` (or the unspecified address) with port 0, so the kernel
// picks a random source port for every query.
template <typename Socket, typename Protocol>
std::optional<DnsResult> DnsSession::bind_source(Socket& socket, const Protocol& protocol) {
  auto local = typename Protocol::endpoint(protocol, 0);
  if (request_.source) {
    local = typename Protocol::endpoint(net::to_asio(*request_.source), 0);
    if (local.protocol() != protocol) {
      return failed(DnsStatus::ObserverError,
                    "dns: source " + request_.source->to_string() + " and " + std::string(peer()) +
                        " " + request_.server.to_string() + " differ in address family");
    }
  }
  error_code ec;
  socket.bind(local, ec);
  if (ec) {
    // Any bind failure is this host's: it never reached the network.
    const std::string what =
        request_.source ? "source " + request_.source->to_string() : std::string("a local address");
    return failed(DnsStatus::ObserverError, "dns: cannot bind " + what + ": " + reason(ec));
  }
  return std::nullopt;
}

// The TCP socket binds the same way; its instance is made here, where the
// template is defined, for connect_tcp() in dns_client_tcp.cpp.
template std::optional<DnsResult> DnsSession::bind_source(tcp::socket& socket, const tcp& protocol);

// What the detail calls the peer: RD clear asks a zone's server itself
// (authoritative mode), whose failure must not read as the resolver's.
std::string_view DnsSession::peer() const {
  return request_.recursion_desired ? "resolver" : "server";
}

std::string DnsSession::unreachable(const error_code& ec) const {
  return "dns: " + std::string(peer()) + " " + resolver_label() + " unreachable: " + reason(ec);
}

DnsResult DnsSession::network_failure(const error_code& ec) const {
  return failed(net::is_observer_fault(ec) ? DnsStatus::ObserverError : DnsStatus::NetworkError,
                unreachable(ec));
}

void DnsSession::on_sent(error_code ec) {
  if (done_) {
    return;
  }
  if (ec) {
    return finish(network_failure(ec));
  }
  receive_udp();
}

// Waits until the socket is readable, then reads the datagram into this
// thread's buffer (on_udp_readable). Why not async_receive_from: it needs
// a buffer for as long as the query is in flight, and tries a read before
// anything can have come (one system call per query for nothing).
void DnsSession::receive_udp() {
  udp_.async_wait(udp::socket::wait_read,
                  [self = shared_from_this()](error_code ec) { self->on_udp_readable(ec); });
}

// One datagram, without blocking: its bytes, or the error (would_block
// when there is none). ICMP port unreachable comes back here as
// connection_refused (the socket is connected).
error_code DnsSession::read_datagram(std::span<std::uint8_t> buffer,
                                     std::span<std::uint8_t>& datagram) {
  sockaddr_storage from{};
  socklen_t length = sizeof(from);
  const auto got = ::recvfrom(udp_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                              reinterpret_cast<sockaddr*>(&from), &length);
  if (got < 0) {
    return {errno, boost::system::system_category()};
  }
  if (length > sender_.capacity()) {
    return asio::error::address_family_not_supported;
  }
  std::memcpy(sender_.data(), &from, length);
  sender_.resize(length);
  datagram = buffer.first(static_cast<std::size_t>(got));
  return {};
}

void DnsSession::on_udp_readable(error_code ec) {
  if (done_) {
    return;
  }
  std::span<std::uint8_t> datagram;
  if (!ec) {
    ec = read_datagram(datagram_buffer(), datagram);
  }
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    return receive_udp();  // woken with nothing to read
  }
  if (ec) {
    return finish(network_failure(ec));
  }
  on_udp_reply(datagram);
}

// The datagram just read, judged: its sender (sender_), then its bytes. An
// Ignored one, from another source or not ours, is counted here, so the
// reader in time (on_udp_reply) and the one at the deadline
// (reply_left_unread) count strays alike and differ only in what they do
// with a reply of ours.
ClassifiedReply DnsSession::judge_datagram(std::span<const std::uint8_t> datagram) {
  ClassifiedReply reply;
  // Why check the sender although the socket is connected: it costs
  // nothing and keeps the rule visible where replies are accepted.
  if (sender_ != server_) {
    reply.match = ReplyMatch::Ignored;
    reply.ignored = IgnoredReply::WrongSource;
    reply.why = sender_.address().to_string();
  } else {
    reply = classify_dns_reply(datagram, query_);
  }
  if (reply.match == ReplyMatch::Ignored) {
    ignored_.add(reply.ignored, reply.why);
  }
  return reply;
}

void DnsSession::on_udp_reply(std::span<const std::uint8_t> datagram) {
  auto reply = judge_datagram(datagram);
  switch (reply.match) {
    case ReplyMatch::Ignored:
      // Not ours, or unreadable: keep listening on the same socket until
      // the deadline. A spoofed datagram must never end the query.
      return receive_udp();
    case ReplyMatch::Truncated:
      return start_tcp();
    case ReplyMatch::Accepted:
      break;
  }
  finish(std::move(reply.result));
}

// At the deadline: whether the resolver's reply is in the socket, unread.
// It came while this process was too busy to read it (the deadline's
// handler ran first, or late), so when it came is unknown: neither a
// timeout nor an answer in time. Strays read on the way are counted.
bool DnsSession::reply_left_unread() {
  if (!udp_.is_open()) {
    return false;
  }
  for (int i = 0; i < k_max_unread_datagrams; ++i) {
    std::span<std::uint8_t> datagram;
    if (read_datagram(datagram_buffer(), datagram)) {
      return false;  // nothing more to read (or the socket failed)
    }
    if (judge_datagram(datagram).match != ReplyMatch::Ignored) {
      return true;
    }
  }
  return false;
}

// "127.0.0.1:53", "tls://127.0.0.1:853": the resolver as configured.
std::string DnsSession::resolver_label() const {
  return (request_.tls ? "tls://" : "") + request_.server.to_string();
}

void DnsSession::on_deadline(error_code ec) {
  if (done_ || ec == asio::error::operation_aborted) {
    return;
  }
  const auto budget = budget_.count();
  const std::string after = "timeout after " + std::to_string(budget < 0 ? 0 : budget) + "ms";
  if (request_.tls && dot_stage_ != DotStage::Sent) {
    // No TLS session by the deadline (a path that drops port 853, a server
    // that does not speak TLS, something holding the connection), or the
    // query not yet sent over it: nothing the resolver said.
    return finish(dot_broken(dot_stage_ == DotStage::Sending
                                 ? "the write did not complete by the deadline (" + after + ")"
                                 : "no TLS session by the deadline (" + after + ")"));
  }
  if (in_tcp_ && !request_.tls) {
    // The resolver answered over UDP, so it is alive: what failed is TCP
    // (a firewall dropping TCP/53 is the classic), and the detail says so.
    return finish(no_valid_reply(
        failed(DnsStatus::Truncated, "dns: truncated reply and TCP retry failed: " + after),
        ignored_));
  }
  if (reply_left_unread()) {
    // An overloaded observer must not vote down on a resolver that did
    // answer: no vote, and the detail says whose fault it is.
    return finish(failed(DnsStatus::ObserverError,
                         "dns: the reply from " + resolver_label() +
                             " was waiting unread at the deadline: this oracle was too busy "
                             "to read it in time (" +
                             after + ")"));
  }
  // Only now do the ignored replies count: "malformed" when one of ours
  // did not parse, else a timeout that says how many strays came.
  finish(no_valid_reply(failed(DnsStatus::Timeout, "dns: " + after), ignored_));
}

// The single completion: stops all I/O, then delivers the result through
// the io_context, never from inside query_dns() itself.
void DnsSession::finish(DnsResult result) {
  if (done_) {
    return;
  }
  done_ = true;
  timer_.cancel();
  error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);

  result.latency_ms = stopwatch_.elapsed_ms();
  result.resolver = resolver_label();
  result.over_tls = request_.tls != nullptr;
  result.ignored = ignored_;
  asio::post(io_, [callback = std::move(callback_), result = std::move(result)]() mutable {
    callback(std::move(result));
  });
}

}  // namespace detail

void query_dns(boost::asio::io_context& io, const consensus::Clock& clock,
               const DnsRequest& request, DnsCallback done) {
  std::make_shared<detail::DnsSession>(io, clock, request, std::move(done))->start();
}

}  // namespace crosscheck::probes
