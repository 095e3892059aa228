// The API server's connection: one Session per accepted socket (Beast's
// session idiom) and what sessions share with the server. Internal to api/:
// server.cpp accepts and evicts, session.cpp reads, routes and answers.
// Beast is included here; only api/*.cpp include this header.
#pragma once

#include "api/counters.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "net/system_clock.hpp"
#include "snapshot/hub.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

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

struct Counters {
  std::atomic<std::uint64_t> connections_accepted{0}, connections_rejected{0},
      connections_evicted{0}, requests{0}, responses_2xx{0}, responses_3xx{0}, responses_4xx{0},
      responses_5xx{0}, malformed_requests{0}, oversized_headers{0}, oversized_bodies{0},
      timeouts{0}, io_errors{0}, accept_errors{0}, watch_refused{0}, action_timeouts{0},
      internal_errors{0}, auth_missing{0}, auth_invalid{0}, auth_insufficient_scope{0},
      auth_disabled{0};
};

ApiCounters copy_of(const Counters& c);

class Session;

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

  ApiServerOptions options;
  snapshot::SnapshotHub& hub;
  ApiActions& actions;
  net::SystemClock system_clock;
  Counters counters;
  std::atomic<std::size_t> active{0};     // sessions serving requests
  std::atomic<std::size_t> rejecting{0};  // sessions answering 503
  // Sessions waiting for the first byte of a request, longest-waiting
  // first: the eviction candidates. Server thread only.
  std::list<Session*> waiting;
  mutable std::mutex auth_mutex;  // guards auth_
  std::shared_ptr<const ApiAuth> auth_;
  // Completions from other threads post to the io_context only while open.
  std::mutex post_mutex;
  bool open = true;
};

inline void bump(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// One accepted connection, from its first byte to its close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool rejecting)
      : stream_(std::move(socket)),
        shared_(std::move(shared)),
        action_timer_(stream_.get_executor()),
        idle_timer_(stream_.get_executor()),
        buffer_(k_read_buffer_limit),
        rejecting_(rejecting) {}

  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;

  void start();

  // Server stop: abandon everything (handlers still queued are never run).
  void shut();

  // True when the client has sent bytes we have not read yet: its request
  // has begun (the readiness wait below leaves them in the kernel).
  bool has_unread_bytes();

  // Closes this waiting connection to make room for a newcomer and gives
  // its slot back at once (the newcomer takes it). Server thread.
  void evict();

 private:
  // No exception leaves a completion handler: it closes this connection.
  template <typename Body>
  void guarded(Body&& body);

  // Waits (idle_timeout) for the first byte of the next request, then reads
  // it. Why wait for readiness instead of reading: the bytes stay in the
  // kernel, so at the cap has_unread_bytes() tells a connection whose
  // request has begun (never evicted) from one that sent nothing.
  void do_read();

  void on_readable(error_code ec);

  // The whole request, header block and body, under one deadline.
  void read_request();

  void start_waiting();

  void stop_waiting();

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

  void on_write(error_code ec);

  void linger_close();

  void drain();

  void close_now();

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  asio::steady_timer action_timer_;
  asio::steady_timer idle_timer_;  // while waiting for a request's first byte
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool rejecting_ = false;
  std::string client_address_;  // the peer, for the audit log ("" when unknown)
  bool waiting_ = false;        // in shared_->waiting, at waiting_at_
  bool evicted_ = false;
  std::list<Session*>::iterator waiting_at_;
  std::uint64_t since_ = 0;
  WriteRequest write_;
  bool action_done_ = true;
  std::uint64_t action_seq_ = 0;
};

}  // namespace crosscheck::api::detail
