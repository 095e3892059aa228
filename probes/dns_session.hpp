// The session behind query_dns(): one DNS query from start to completion.
// Internal to probes/ (others call query_dns() in dns_client.hpp): the class
// is one, its transports live apart. dns_client.cpp opens the query, reads
// UDP, watches the deadline and completes; dns_client_tcp.cpp does the TCP
// retry of a truncated reply and DNS over TLS. OpenSSL stays out of this
// header and out of the UDP half: only dns_client_tcp.cpp sees the TLS stream.
#pragma once

#include "probes/dns_client.hpp"
#include "probes/dns_types.hpp"
#include "probes/dns_wire.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

constexpr std::size_t k_tcp_length_prefix = 2;

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
std::string reason(const error_code& ec);

DnsResult failed(DnsStatus status, std::string detail);

// The TLS stream over the session's TCP socket (dns_client_tcp.cpp), and how
// it is deleted there: declared only, so this header needs no OpenSSL.
struct TlsStream;
struct DeleteTlsStream {
  void operator()(TlsStream* stream) const;
};

// One query from start to completion. Every handler holds a shared_ptr to
// the session; finish() runs once (done_), closes the sockets and cancels the
// timer, so handlers still queued see done_ and return.
class DnsSession : public std::enable_shared_from_this<DnsSession> {
 public:
  DnsSession(asio::io_context& io, const consensus::Clock& clock, DnsRequest request,
             DnsCallback done);

  void start();

 private:
  // UDP, and what both transports share (dns_client.cpp).
  std::optional<DnsResult> open_udp();
  template <typename Socket, typename Protocol>
  std::optional<DnsResult> bind_source(Socket& socket, const Protocol& protocol);
  std::string_view peer() const;
  std::string unreachable(const error_code& ec) const;
  DnsResult network_failure(const error_code& ec) const;
  void on_sent(error_code ec);
  void receive_udp();
  error_code read_datagram(std::span<std::uint8_t> buffer, std::span<std::uint8_t>& datagram);
  void on_udp_readable(error_code ec);
  ClassifiedReply judge_datagram(std::span<const std::uint8_t> datagram);
  void on_udp_reply(std::span<const std::uint8_t> datagram);
  bool reply_left_unread();
  std::string resolver_label() const;

  // TCP and DNS over TLS (dns_client_tcp.cpp).
  void start_tcp();
  void start_tls();
  void connect_tcp();
  void on_tcp_connected(error_code ec);
  void start_handshake();
  void on_handshake(error_code ec);
  template <typename Operation>
  void on_stream(Operation operation);
  void write_query();
  void on_tcp_written(error_code ec);
  void read_tcp_message();
  void on_tcp_length(error_code ec);
  void on_tcp_reply(error_code ec);
  void finish_tcp(const error_code& ec);
  DnsResult dot_broken(const std::string& why) const;
  DnsResult stream_failed(const std::string& why) const;

  // The deadline and the single completion (dns_client.cpp).
  void on_deadline(error_code ec);
  void finish(DnsResult result);

  asio::io_context& io_;
  DnsRequest request_;
  DnsCallback callback_;
  udp::endpoint server_;
  udp::socket udp_;
  tcp::socket tcp_;
  std::unique_ptr<TlsStream, DeleteTlsStream> tls_;  // over tcp_, for a DoT resolver once connected
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

}  // namespace crosscheck::probes::detail
