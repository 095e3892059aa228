#include "probes/dns_client.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/random.hpp"
#include "probes/dns_wire.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket&>;

// The largest datagram there can be: a resolver that ignores our EDNS size
// must still parse (or be judged) whole rather than cut at some lower bound.
constexpr std::size_t k_max_udp_reply = 65535;
constexpr std::size_t k_tcp_length_prefix = 2;
// A resolver answers a TCP query with one message; stray ones before it are
// skipped, but a connection that sends this many and never the reply is not
// answering, and reading on would only spin until the deadline.
constexpr int k_max_tcp_stray_messages = 16;
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

// How far a DoT query got. Why it matters: an interceptor on the path can
// refuse, drop, reset or garble the connection, but it cannot forge what the
// verified session carries. So everything before the query is Sent, and any
// break of the session after it, is an observer error; only the resolver's
// replies and its silence on an intact session (Sent, then the deadline) are
// judged as over plain DNS. E.g. port 853 refused: "dot: cannot reach
// tls://9.9.9.9:853: connection refused", no vote.
enum class DotStage : std::uint8_t { Connecting, Handshaking, Sending, Sent };

// net::describe, starting lower-case: its fallback is the system message
// ("Cannot assign requested address") and details stay lower-case after
// "dns: ". An acronym at the start keeps its capitals.
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

// One query from start to completion. Every handler holds a shared_ptr to
// the session; finish() runs once (done_), closes the sockets and cancels the
// timer, so handlers still queued see done_ and return.
class DnsSession : public std::enable_shared_from_this<DnsSession> {
 public:
  DnsSession(asio::io_context& io, const consensus::Clock& clock, DnsRequest request,
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

  void start() {
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

 private:
  // Opens, binds and connects the UDP socket. Connecting matters: Linux
  // reports ICMP port unreachable (ECONNREFUSED) only on connected UDP
  // sockets, and the kernel then drops datagrams from other sources.
  std::optional<DnsResult> open_udp() {
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
  std::optional<DnsResult> bind_source(Socket& socket, const Protocol& protocol) {
    auto local = typename Protocol::endpoint(protocol, 0);
    if (request_.source) {
      local = typename Protocol::endpoint(net::to_asio(*request_.source), 0);
      if (local.protocol() != protocol) {
        return failed(DnsStatus::ObserverError, "dns: source " + request_.source->to_string() +
                                                    " and " + std::string(peer()) + " " +
                                                    request_.server.to_string() +
                                                    " differ in address family");
      }
    }
    error_code ec;
    socket.bind(local, ec);
    if (ec) {
      // Any bind failure is this host's: it never reached the network.
      const std::string what = request_.source ? "source " + request_.source->to_string()
                                               : std::string("a local address");
      return failed(DnsStatus::ObserverError, "dns: cannot bind " + what + ": " + reason(ec));
    }
    return std::nullopt;
  }

  // What the detail calls the peer: RD clear asks a zone's server itself
  // (authoritative mode), whose failure must not read as the resolver's.
  std::string_view peer() const { return request_.recursion_desired ? "resolver" : "server"; }

  std::string unreachable(const error_code& ec) const {
    return "dns: " + std::string(peer()) + " " + resolver_label() + " unreachable: " + reason(ec);
  }

  DnsResult network_failure(const error_code& ec) const {
    return failed(net::is_observer_fault(ec) ? DnsStatus::ObserverError : DnsStatus::NetworkError,
                  unreachable(ec));
  }

  void on_sent(error_code ec) {
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
  void receive_udp() {
    udp_.async_wait(udp::socket::wait_read,
                    [self = shared_from_this()](error_code ec) { self->on_udp_readable(ec); });
  }

  // One datagram, without blocking: its bytes, or the error (would_block
  // when there is none). ICMP port unreachable comes back here as
  // connection_refused (the socket is connected).
  error_code read_datagram(std::span<std::uint8_t> buffer, std::span<std::uint8_t>& datagram) {
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

  void on_udp_readable(error_code ec) {
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

  void on_udp_reply(std::span<const std::uint8_t> datagram) {
    // Why check the sender although the socket is connected: it costs
    // nothing and keeps the rule visible where replies are accepted.
    if (sender_ != server_) {
      ignored_.add(IgnoredReply::WrongSource, sender_.address().to_string());
      return receive_udp();
    }
    auto reply = classify_dns_reply(datagram, query_);
    switch (reply.match) {
      case ReplyMatch::Ignored:
        // Not ours, or unreadable: keep listening on the same socket until
        // the deadline. A spoofed datagram must never end the query.
        ignored_.add(reply.ignored, reply.why);
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
  bool reply_left_unread() {
    if (!udp_.is_open()) {
      return false;
    }
    for (int i = 0; i < k_max_unread_datagrams; ++i) {
      std::span<std::uint8_t> datagram;
      if (read_datagram(datagram_buffer(), datagram)) {
        return false;  // nothing more to read (or the socket failed)
      }
      if (sender_ != server_) {
        ignored_.add(IgnoredReply::WrongSource, sender_.address().to_string());
        continue;
      }
      auto reply = classify_dns_reply(datagram, query_);
      if (reply.match != ReplyMatch::Ignored) {
        return true;
      }
      ignored_.add(reply.ignored, reply.why);
    }
    return false;
  }

  // "127.0.0.1:53", "tls://127.0.0.1:853": the resolver as configured.
  std::string resolver_label() const {
    return (request_.tls ? "tls://" : "") + request_.server.to_string();
  }

  // TC set: the same query over TCP, bounded by the same deadline timer.
  void start_tcp() {
    in_tcp_ = true;
    error_code ignored;
    udp_.close(ignored);
    connect_tcp();
  }

  // DNS over TLS: straight to TCP, no UDP datagram ever leaves.
  void start_tls() {
    if (!request_.tls->context) {
      return finish(failed(DnsStatus::ObserverError, request_.tls->problem));
    }
    in_tcp_ = true;
    dot_stage_ = DotStage::Connecting;
    connect_tcp();
  }

  void connect_tcp() {
    const auto endpoint = net::tcp_endpoint(request_.server.address, request_.server.port);
    error_code ec;
    tcp_.open(endpoint.protocol(), ec);
    if (ec) {
      return finish(
          failed(DnsStatus::ObserverError, "dns: cannot open a TCP socket: " + reason(ec)));
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

  void on_tcp_connected(error_code ec) {
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

  void start_handshake() {
    tls_ = std::make_unique<TlsStream>(tcp_, *request_.tls->context);
    if (const auto ec = prepare_dot_handshake(tls_->native_handle(), *request_.tls)) {
      return finish(failed(DnsStatus::ObserverError, "dot: TLS setup failed: " + reason(ec)));
    }
    dot_stage_ = DotStage::Handshaking;
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  // Why every TLS failure is the observer's: a DoT vantage that cannot
  // authenticate its resolver observes nothing, and its interceptor must not
  // vote in the resolver's name either way.
  void on_handshake(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      return finish(
          failed(DnsStatus::ObserverError,
                 describe_dot_failure(ec, tls_->native_handle(), resolver_label(), *request_.tls)));
    }
    if (auto mismatch = check_dot_pins(tls_->native_handle(), resolver_label(), *request_.tls)) {
      return finish(failed(DnsStatus::ObserverError, std::move(*mismatch)));
    }
    dot_stage_ = DotStage::Sending;
    write_query();
  }

  // The plain TCP socket, or the TLS stream over it once there is one.
  template <typename Operation>
  void on_stream(Operation operation) {
    if (tls_) {
      operation(*tls_);
    } else {
      operation(tcp_);
    }
  }

  void write_query() {
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

  void on_tcp_written(error_code ec) {
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
  void read_tcp_message() {
    on_stream([this](auto& stream) {
      asio::async_read(stream, asio::buffer(tcp_length_),
                       [self = shared_from_this()](error_code error, std::size_t) {
                         self->on_tcp_length(error);
                       });
    });
  }

  void on_tcp_length(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      return finish_tcp(ec);
    }
    const std::size_t length = (static_cast<std::size_t>(tcp_length_[0]) << 8U) | tcp_length_[1];
    tcp_in_.resize(length);
    on_stream([this](auto& stream) {
      asio::async_read(stream, asio::buffer(tcp_in_),
                       [self = shared_from_this()](error_code error, std::size_t) {
                         self->on_tcp_reply(error);
                       });
    });
  }

  void on_tcp_reply(error_code ec) {
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
        return finish(failed(DnsStatus::Truncated,
                             request_.tls ? "dns: truncated reply over TLS"
                                          : "dns: truncated reply and TCP retry failed: "
                                            "truncated over TCP too"));
      case ReplyMatch::Accepted:
        break;
    }
    reply.result.over_tcp = true;
    finish(std::move(reply.result));
  }

  void finish_tcp(const error_code& ec) {
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
  DnsResult dot_broken(const std::string& why) const {
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
  DnsResult stream_failed(const std::string& why) const {
    if (request_.tls) {
      return failed(DnsStatus::Timeout, "dns: no reply over TLS: " + why);
    }
    return failed(DnsStatus::Truncated, "dns: truncated reply and TCP retry failed: " + why);
  }

  void on_deadline(error_code ec) {
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
  void finish(DnsResult result) {
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

  asio::io_context& io_;
  DnsRequest request_;
  DnsCallback callback_;
  udp::endpoint server_;
  udp::socket udp_;
  tcp::socket tcp_;
  std::unique_ptr<TlsStream> tls_;  // over tcp_, for a DoT resolver once connected
  asio::steady_timer timer_;
  Stopwatch stopwatch_;
  std::chrono::milliseconds budget_;  // the deadline's distance at the start (for the detail)
  DnsQuery query_;
  udp::endpoint sender_;  // of the last datagram read
  std::vector<std::uint8_t> tcp_out_;
  std::array<std::uint8_t, k_tcp_length_prefix> tcp_length_{};
  std::vector<std::uint8_t> tcp_in_;
  IgnoredReplies ignored_;
  int tcp_strays_ = 0;  // messages ignored on the TCP connection
  bool in_tcp_ = false;
  DotStage dot_stage_ = DotStage::Connecting;  // DoT only
  bool done_ = false;
};

}  // namespace

void query_dns(boost::asio::io_context& io, const consensus::Clock& clock,
               const DnsRequest& request, DnsCallback done) {
  std::make_shared<DnsSession>(io, clock, request, std::move(done))->start();
}

}  // namespace crosscheck::probes
