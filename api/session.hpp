// The API server's connection: one Session per accepted socket (Beast's
// session idiom) and what sessions share with the server. Internal to api/:
// server.cpp accepts and evicts, session.cpp reads, routes and answers,
// session_tls.cpp does the TLS handshake and re-checks a client after a reload.
// A Session is one template over its stream, plain TCP or TLS (api.tls),
// instantiated for both in session.cpp: one copy of the session logic.
// Beast is included here; only server.cpp and session.cpp include this header.
#pragma once

#include "api/counters.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "api/stream_slots.hpp"
#include "api/tls.hpp"
#include "net/system_clock.hpp"
#include "snapshot/hub.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

namespace crosscheck::api::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

// The read buffer holds at most one request's header and body.
constexpr std::size_t k_read_buffer_limit = k_api_header_limit + k_api_body_limit;

// After an answer that closes the connection we stop sending, then read and
// discard what the client still sends (so a close never resets our answer
// away), for at most this long and this many bytes.
constexpr auto k_linger_timeout = 1s;
constexpr std::size_t k_linger_bytes = std::size_t{256} * 1024;

// A write whose ApiActions completion is later than its deadline plus this
// is answered 504.
constexpr auto k_action_grace = 1s;

// A body sent in parts (GET /metrics) is made and written this much at a
// time: what one scrape holds in memory, whatever the fleet's size.
constexpr std::size_t k_part_size = std::size_t{256} * 1024;
// Bodies sent in parts at once: api/stream_slots.hpp.

struct Counters {
  std::array<std::atomic<std::uint64_t>, k_tls_refusal_kinds> tls_refusals{};
  std::atomic<std::uint64_t> connections_accepted{0}, connections_rejected{0},
      connections_evicted{0}, requests{0}, responses_2xx{0}, responses_3xx{0}, responses_4xx{0},
      responses_5xx{0}, malformed_requests{0}, oversized_headers{0}, oversized_bodies{0},
      timeouts{0}, io_errors{0}, accept_errors{0}, watch_refused{0}, action_timeouts{0},
      internal_errors{0}, auth_missing{0}, auth_invalid{0}, auth_insufficient_scope{0},
      auth_disabled{0};
};

ApiCounters copy_of(const Counters& c);

// A session as the server sees it (accept, evict, stop), whatever its stream.
class Connection {
 public:
  Connection() = default;
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;

  virtual void start() = 0;
  // Server stop: abandon everything (handlers still queued are never run).
  virtual void shut() = 0;
  // True when the client has sent bytes of a request we have not read yet:
  // in the kernel (the readiness wait leaves them there) or, with TLS,
  // held by OpenSSL. Such a connection is never evicted.
  virtual bool request_begun() = 0;
  // Closes this waiting (or handshaking) connection to make room for a newcomer and gives
  // its slot back at once (the newcomer takes it). Server thread.
  virtual void evict() = 0;
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// What sessions share with the server, kept alive by them.
struct Shared {
  Shared(ApiServerOptions server_options, snapshot::SnapshotHub& snapshot_hub,
         ApiActions& api_actions)
      : options(std::move(server_options)),
        hub(snapshot_hub),
        actions(api_actions),
        auth_(std::make_shared<const ApiAuth>(options.auth)) {}

  consensus::Instant now() const {
    return options.clock != nullptr ? options.clock->now() : system_clock.now();
  }

  // The tokens, replaceable by a config reload while serving.
  std::shared_ptr<const ApiAuth> auth() const {
    const std::lock_guard lock(auth_mutex);
    return auth_;
  }
  void set_auth(ApiAuth auth) {
    auto next = std::make_shared<const ApiAuth>(std::move(auth));
    const std::lock_guard lock(auth_mutex);
    auth_ = std::move(next);
  }
  // The verdict signer, replaceable the same way (key rotation).
  std::shared_ptr<const net::VerdictSigner> signer() const {
    const std::lock_guard lock(token_mutex);
    return options.signer;
  }
  void set_signer(std::shared_ptr<const net::VerdictSigner> signer) {
    const std::lock_guard lock(token_mutex);
    options.signer = std::move(signer);
  }

  ApiServerOptions options;
  snapshot::SnapshotHub& hub;
  ApiActions& actions;
  net::SystemClock system_clock;
  Counters counters;
  std::atomic<std::size_t> active{0};     // sessions serving requests
  std::atomic<std::size_t> rejecting{0};  // sessions answering 503
  StreamSlots streams;                    // sessions sending a body in parts
  // Sessions waiting for the first byte of a request, longest-waiting
  // first: the eviction candidates. Server thread only.
  std::list<Connection*> waiting;
  // Sessions holding a slot while in their TLS handshake, oldest first:
  // evicted before any waiting one. Server thread only.
  std::list<Connection*> handshaking;
  mutable std::mutex token_mutex;  // guards options.signer
  // The certificate set for new connections (api.tls); nullptr: plain HTTP.
  std::shared_ptr<const ServerTls> tls() const {
    const std::lock_guard lock(tls_mutex);
    return tls_;
  }
  void set_tls(std::shared_ptr<const ServerTls> tls) {
    const std::lock_guard lock(tls_mutex);
    tls_ = std::move(tls);
  }
  // The counters, with the serving certificate's notAfter.
  ApiCounters snapshot_counters() const {
    ApiCounters copy = copy_of(counters);
    if (const auto serving = tls()) {
      copy.tls_certificate_not_after = serving->files.not_after;
    }
    return copy;
  }
  std::shared_ptr<const ServerTls> tls_;
  mutable std::mutex tls_mutex;   // guards tls_
  mutable std::mutex auth_mutex;  // guards auth_
  std::shared_ptr<const ApiAuth> auth_;
  // Completions from other threads post to the io_context only while open.
  std::mutex post_mutex;
  bool open = true;
};

inline void bump(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// One accepted connection, from its first byte (after the TLS handshake,
// with api.tls) to its close.
template <typename Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool k_tls = std::is_same_v<Stream, TlsStream>;

  // `tls` is the certificate set this connection uses (nullptr for plain).
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool rejecting,
          std::shared_ptr<const ServerTls> tls);

  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;

  void start() override;
  void shut() override;
  bool request_begun() override;
  void evict() override;

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // TLS (session_tls.cpp): the handshake, under handshake_timeout and
  // evictable at the cap meanwhile; a refusal is counted and reported with
  // its reason (on_tls_refusal), then the socket is closed.
  void handshake();
  void on_handshake(error_code ec);
  void serve();
  // TLS: true when OpenSSL holds bytes the client sent that no read has
  // taken yet (with the handshake's last record, or after a request).
  bool tls_buffered();
  // TLS: false, the refusal counted and reported, when a reload changed the
  // client checks and this connection's certificate no longer passes them.
  bool still_admitted();

  // No exception leaves a completion handler: it closes this connection.
  template <typename Body>
  void guarded(Body&& body) {
    try {
      body();
    } catch (const std::exception&) {
      bump(shared_->counters.internal_errors);
      close_now();
    }
  }

  // Waits (idle_timeout) for the first byte of the next request, then reads
  // it. Why wait for readiness instead of reading, with TLS too: the bytes
  // stay in the kernel, so at the cap request_begun() tells a connection
  // whose request has begun (never evicted) from one that sent nothing; a
  // pending TLS read would take them into OpenSSL, a partial record
  // invisible from outside.
  void do_read();

  void on_readable(error_code ec);

  // The whole request, header block and body, under one deadline.
  void read_request();

  // Lists this session as an eviction candidate in `list` (waiting or
  // handshaking) until unlist().
  void list_in(std::list<Connection*>& list);
  void unlist();
  bool waiting() const { return listed_in_ == &shared_->waiting; }

  void on_read(error_code ec);

  void handle(http::request<http::string_body> request);
  // Fills the request's token fields from the tokens in force.
  void authenticate(ApiRequest& api) const;
  void count_refusal(AuthRefusal refusal);

  void start_watch(const WatchRequest& watch);

  void on_watch(const snapshot::SnapshotPtr& snapshot);

  // Runs a write through ApiActions. The completion may come on any thread,
  // or never: it reaches this session only by a post while the server is
  // open, holds it only weakly, and the timer (which owns the session while
  // it waits) answers 504 if it never comes.
  void start_action(WriteRequest write);

  // Answers write `action` once: the completion or the timeout, whichever is
  // first; a late completion (or one for an earlier write) is dropped.
  void finish_action(std::uint64_t action, const ActionResult& result);

  void send(ApiResponse answer, bool close);
  // The status line and header fields of `answer`; sets keep_open_ (the
  // connection stays open after it), which the caller applies.
  void fill_header(http::response_header<>& header, const ApiResponse& answer, bool close);
  // A body with a source (GET /metrics) to an HTTP/1.1 client: the header,
  // then each part as a chunk under idle_timeout (the whole within
  // options.max_stream_time), then the last chunk. A body cut short lacks the last
  // chunk: the client can tell. (HTTP/1.0 has no chunks: send() makes the
  // whole body first and sends it with its Content-Length.)
  void send_parts(ApiResponse answer, bool close);
  void write_part();
  // Gives back this session's slot in shared_->streams, once.
  void end_stream();

  void on_write(error_code ec);

  void linger_close();

  void drain();

  void close_now();

  std::shared_ptr<const ServerTls> tls_;  // before stream_: the context outlives it
  // The latest certificate set whose client checks this connection passed.
  std::shared_ptr<const ServerTls> checked_;
  Stream stream_;
  std::shared_ptr<Shared> shared_;
  std::string client_subject_;  // mTLS: the verified client certificate's subject
  asio::steady_timer action_timer_;
  asio::steady_timer idle_timer_;  // while waiting for a request's first byte
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_open_ = false;  // the answer being written leaves the connection open
  // A body sent in parts: its header and writer, its source (which owns
  // what it reads), the part in flight, when the whole must be sent by, and
  // whether this session holds a place in shared_->streams.
  http::response<http::empty_body> head_;
  std::optional<http::response_serializer<http::empty_body>> head_writer_;
  std::shared_ptr<BodySource> source_;
  std::string part_;
  std::chrono::steady_clock::time_point stream_deadline_;
  std::optional<StreamPlace> place_;  // held in shared_->streams until end_stream()
  std::string request_principal_;     // the valid token of the request being answered ("": none)
  std::size_t request_targets_ = 0;   // the targets of the snapshot it is answered from
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::string target_;  // the request's target as received: what a verdict signature binds
  bool rejecting_ = false;
  std::string client_address_;  // the peer, for the audit log ("unknown" when unknown)
  std::list<Connection*>* listed_in_ = nullptr;  // waiting or handshaking, at listed_at_
  bool evicted_ = false;
  std::list<Connection*>::iterator listed_at_;
  std::uint64_t since_ = 0;
  WriteRequest write_;
  bool action_done_ = true;
  std::uint64_t action_seq_ = 0;
};

extern template class Session<PlainStream>;
extern template class Session<TlsStream>;

}  // namespace crosscheck::api::detail
