// The API server: Beast's session idiom on one io_context thread. Each
// session waits for the first byte of a request (idle_timeout; evictable at
// the connection cap meanwhile), reads the whole request under one deadline
// (request_timeout, parser limits set), routes it through the pure
// handle_request(), and writes one answer; writes and watches wait off-thread
// and hop back with asio::post before touching it.
#include "api/server.hpp"

#include "api/metrics.hpp"
#include "net/address.hpp"
#include "net/system_clock.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace crosscheck::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

// The read buffer holds at most one request's header and body.
constexpr std::size_t k_read_buffer_limit = k_api_header_limit + k_api_body_limit;
// Connections being answered 503 at once; past this they are just closed.
constexpr std::size_t k_max_rejecting = 64;
// After an answer that closes the connection we stop sending, then read and
// discard what the client still sends (so a close never resets our answer
// away), for at most this long and this many bytes.
constexpr auto k_linger_timeout = 1s;
constexpr std::size_t k_linger_bytes = std::size_t{256} * 1024;
// The API thread's nice value above the process's (see yield_to_probing).
constexpr int k_api_nice = 5;
// A write whose ApiActions completion is later than its deadline plus this
// is answered 504.
constexpr auto k_action_grace = 1s;
// Back-off before accepting again after an accept error (EMFILE, ENFILE).
constexpr auto k_accept_retry = 100ms;
// Waiting connections a newcomer looks at, longest-waiting first, for one
// whose client has not sent anything since; bounds the work per accept.
constexpr std::size_t k_eviction_scan = 64;

struct Counters {
  std::atomic<std::uint64_t> connections_accepted{0}, connections_rejected{0},
      connections_evicted{0}, requests{0}, responses_2xx{0}, responses_3xx{0}, responses_4xx{0},
      responses_5xx{0}, malformed_requests{0}, oversized_headers{0}, oversized_bodies{0},
      timeouts{0}, io_errors{0}, accept_errors{0}, watch_refused{0}, action_timeouts{0},
      internal_errors{0};
};

ApiCounters copy_of(const Counters& c) {
  return ApiCounters{c.connections_accepted.load(),
                     c.connections_rejected.load(),
                     c.connections_evicted.load(),
                     c.requests.load(),
                     c.responses_2xx.load(),
                     c.responses_3xx.load(),
                     c.responses_4xx.load(),
                     c.responses_5xx.load(),
                     c.malformed_requests.load(),
                     c.oversized_headers.load(),
                     c.oversized_bodies.load(),
                     c.timeouts.load(),
                     c.io_errors.load(),
                     c.accept_errors.load(),
                     c.watch_refused.load(),
                     c.action_timeouts.load(),
                     c.internal_errors.load()};
}

class Session;

// What sessions share with the server, kept alive by them.
struct Shared {
  Shared(ApiServerOptions server_options, SnapshotHub& snapshot_hub, ApiActions& api_actions)
      : options(std::move(server_options)), hub(snapshot_hub), actions(api_actions) {}

  consensus::Instant now() const {
    return options.clock != nullptr ? options.clock->now() : system_clock.now();
  }

  // The bearer token, replaceable by a config reload while serving.
  std::optional<std::string> token() const {
    const std::lock_guard lock(token_mutex);
    return options.token;
  }
  void set_token(std::optional<std::string> token) {
    const std::lock_guard lock(token_mutex);
    options.token = std::move(token);
  }

  ApiServerOptions options;
  SnapshotHub& hub;
  ApiActions& actions;
  SystemClock system_clock;
  Counters counters;
  std::atomic<std::size_t> active{0};     // sessions serving requests
  std::atomic<std::size_t> rejecting{0};  // sessions answering 503
  // Sessions waiting for the first byte of a request, longest-waiting
  // first: the eviction candidates. Server thread only.
  std::list<Session*> waiting;
  mutable std::mutex token_mutex;  // guards options.token
  // Completions from other threads post to the io_context only while open.
  std::mutex post_mutex;
  bool open = true;
};

void bump(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

PeerSignature signature_of(const http::request<http::string_body>& request) {
  return PeerSignature{
      std::string(request[k_peer_node_header]), std::string(request[k_peer_timestamp_header]),
      std::string(request[k_peer_nonce_header]), std::string(request[k_peer_signature_header])};
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool rejecting)
      : stream_(std::move(socket)),
        shared_(std::move(shared)),
        action_timer_(stream_.get_executor()),
        idle_timer_(stream_.get_executor()),
        buffer_(k_read_buffer_limit),
        rejecting_(rejecting) {}

  ~Session() {
    stop_waiting();
    if (rejecting_) {
      shared_->rejecting.fetch_sub(1);
    } else if (!evicted_) {  // an evicted session gave its slot back already
      shared_->active.fetch_sub(1);
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;

  void start() {
    guarded([&] {
      if (rejecting_) {
        send(error_response(503, "overloaded", "too many connections; retry shortly"), true);
      } else {
        do_read();
      }
    });
  }

  // Server stop: abandon everything (handlers still queued are never run).
  void shut() {
    error_code ignored;
    stream_.socket().close(ignored);
    action_timer_.cancel();
    idle_timer_.cancel();
  }

  // True when the client has sent bytes we have not read yet: its request
  // has begun (the readiness wait below leaves them in the kernel).
  bool has_unread_bytes() {
    error_code ec;
    const std::size_t unread = stream_.socket().available(ec);
    return !ec && unread > 0;
  }

  // Closes this waiting connection to make room for a newcomer and gives
  // its slot back at once (the newcomer takes it). Server thread.
  void evict() {
    stop_waiting();
    evicted_ = true;
    shared_->active.fetch_sub(1);
    bump(shared_->counters.connections_evicted);
    idle_timer_.cancel();
    close_now();
  }

 private:
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
  // it. Why wait for readiness instead of reading: the bytes stay in the
  // kernel, so at the cap has_unread_bytes() tells a connection whose
  // request has begun (never evicted) from one that sent nothing.
  void do_read() {
    parser_.emplace();
    parser_->header_limit(k_api_header_limit);
    parser_->body_limit(k_api_body_limit);
    if (buffer_.size() > 0) {
      return read_request();  // a pipelined request has begun already
    }
    start_waiting();
    idle_timer_.expires_after(shared_->options.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->waiting_) {
        bump(self->shared_->counters.timeouts);
        self->stop_waiting();
        self->close_now();
      }
    });
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      self->guarded([&] { self->on_readable(ec); });
    });
  }

  void on_readable(error_code ec) {
    if (!waiting_) {
      return;  // evicted or timed out meanwhile: closed already
    }
    stop_waiting();
    idle_timer_.cancel();
    if (ec) {
      bump(shared_->counters.io_errors);
      return close_now();
    }
    read_request();  // end of stream too: the read says the client went away
  }

  // The whole request, header block and body, under one deadline.
  void read_request() {
    stream_.expires_after(shared_->options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                       self->guarded([&] { self->on_read(ec); });
                     });
  }

  void start_waiting() {
    waiting_ = true;
    waiting_at_ = shared_->waiting.insert(shared_->waiting.end(), this);
  }

  void stop_waiting() {
    if (waiting_) {
      shared_->waiting.erase(waiting_at_);
      waiting_ = false;
    }
  }

  void on_read(error_code ec) {
    Counters& counters = shared_->counters;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return close_now();  // the client went away
    }
    if (ec == beast::error::timeout) {
      bump(counters.timeouts);
      return close_now();
    }
    if (ec == http::error::header_limit) {
      bump(counters.oversized_headers);
      return send(
          error_response(431, "headers_too_large",
                         "request headers exceed " + std::to_string(k_api_header_limit) + " bytes"),
          true);
    }
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
      bump(counters.oversized_bodies);
      return send(
          error_response(413, "payload_too_large",
                         "request body exceeds " + std::to_string(k_api_body_limit) + " bytes"),
          true);
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      bump(counters.malformed_requests);
      return send(error_response(400, "bad_request", "malformed HTTP request"), true);
    }
    if (ec) {
      bump(counters.io_errors);
      return close_now();
    }
    bump(counters.requests);
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> request) {
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    ApiRequest api;
    api.method = std::string(request.method_string());
    api.target = std::string(request.target());
    api.authorization = std::string(request[http::field::authorization]);
    api.if_none_match = std::string(request[http::field::if_none_match]);
    api.body = std::move(request.body());
    // Only writes need the token (reads never look at it): the hot GET path
    // takes no lock.
    if (request.method() != http::verb::get) {
      const auto token = shared_->token();
      api.writes_enabled = token.has_value();
      api.authorized = token && bearer_token_matches(api.authorization, *token);
    }
    // Only /metrics shows the server's counters and /proc figures; reading
    // them for every request would tax the hot read path for nothing.
    MetricsSources metrics;
    if (api.target == "/metrics" || api.target.starts_with("/metrics?")) {
      metrics = MetricsSources{copy_of(shared_->counters), read_process_stats()};
      api.metrics = &metrics;
    }
    PeerAuth peer;
    if (shared_->options.peers && api.target.starts_with(k_peer_votes_path)) {
      peer = shared_->options.peers->verify(signature_of(request), api.method, api.target,
                                            shared_->now().wall);
      api.peer = &peer;
    }
    const SnapshotPtr snapshot = shared_->hub.current();
    ApiOutcome outcome = handle_request(api, *snapshot, shared_->now());
    if (auto* response = std::get_if<ApiResponse>(&outcome)) {
      return send(std::move(*response), false);
    }
    if (auto* watch = std::get_if<WatchRequest>(&outcome)) {
      return start_watch(*watch);
    }
    start_action(std::get<WriteRequest>(std::move(outcome)));
  }

  void start_watch(const WatchRequest& watch) {
    since_ = watch.since;
    shared_->hub.wait_newer(watch.since, stream_.get_executor(),
                            std::min(watch.wait, shared_->options.max_watch_wait),
                            [self = shared_from_this()](SnapshotPtr snapshot) {
                              self->guarded([&] { self->on_watch(snapshot); });
                            });
  }

  void on_watch(const SnapshotPtr& snapshot) {
    if (!snapshot) {
      bump(shared_->counters.watch_refused);
      return send(error_response(503, "overloaded", "too many watches waiting; retry shortly"),
                  false);
    }
    send(watch_response(*snapshot, since_), false);
  }

  // Runs a write through ApiActions. The completion may come on any thread,
  // or never: it reaches this session only by a post while the server is
  // open, holds it only weakly, and the timer (which owns the session while
  // it waits) answers 504 if it never comes.
  void start_action(WriteRequest write) {
    write_ = std::move(write);
    action_done_ = false;
    const std::uint64_t action = ++action_seq_;
    const auto deadline =
        write_.kind == WriteRequest::Kind::Recheck ? write_.deadline : k_write_action_deadline;
    action_timer_.expires_after(deadline + k_action_grace);
    action_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        bump(self->shared_->counters.action_timeouts);
        self->guarded([&] {
          self->finish_action(
              self->action_seq_,
              ActionResult{504, "action_timeout", "the service did not answer in time", nullptr});
        });
      }
    });
    ActionCallback done = [shared = shared_, weak = weak_from_this(),
                           executor = stream_.get_executor(), action](ActionResult result) {
      const std::lock_guard lock(shared->post_mutex);
      if (!shared->open) {
        return;
      }
      asio::post(executor, [weak, action, result = std::move(result)]() mutable {
        if (const auto self = weak.lock()) {
          self->guarded([&] { self->finish_action(action, result); });
        }
      });
    };
    try {
      switch (write_.kind) {
        case WriteRequest::Kind::Recheck:
          return shared_->actions.recheck(write_.target, write_.deadline, std::move(done));
        case WriteRequest::Kind::Acknowledge:
          return shared_->actions.acknowledge(write_.escalation_id, write_.by, std::move(done));
        case WriteRequest::Kind::SetOverride:
          return shared_->actions.set_override(write_.target, write_.override_value,
                                               std::move(done));
        case WriteRequest::Kind::ClearOverride:
          return shared_->actions.clear_override(write_.target, std::move(done));
      }
    } catch (const std::exception& error) {
      bump(shared_->counters.internal_errors);
      finish_action(action, ActionResult{500, "internal", error.what(), nullptr});
    }
  }

  // Answers write `action` once: the completion or the timeout, whichever is
  // first; a late completion (or one for an earlier write) is dropped.
  void finish_action(std::uint64_t action, const ActionResult& result) {
    if (action_done_ || action != action_seq_) {
      return;
    }
    action_done_ = true;
    action_timer_.cancel();
    send(write_response(write_, result), false);
  }

  void send(ApiResponse answer, bool close) {
    Counters& counters = shared_->counters;
    bump(answer.status >= 500   ? counters.responses_5xx
         : answer.status >= 400 ? counters.responses_4xx
         : answer.status >= 300 ? counters.responses_3xx
                                : counters.responses_2xx);
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::server, "crosscheck");
    response_.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) {
      response_.set(name, value);
    }
    response_.keep_alive(keep_alive_ && !close);
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                        self->guarded([&] { self->on_write(ec); });
                      });
  }

  void on_write(error_code ec) {
    if (ec) {
      bump(ec == beast::error::timeout ? shared_->counters.timeouts : shared_->counters.io_errors);
      return close_now();
    }
    if (!response_.keep_alive()) {
      return linger_close();
    }
    do_read();
  }

  void linger_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      return close_now();
    }
    drained_ = 0;
    stream_.expires_after(k_linger_timeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, std::size_t bytes) {
                              self->drained_ += bytes;
                              if (ec || self->drained_ > k_linger_bytes) {
                                return self->close_now();
                              }
                              self->drain();
                            });
  }

  void close_now() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

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
  bool waiting_ = false;  // in shared_->waiting, at waiting_at_
  bool evicted_ = false;
  std::list<Session*>::iterator waiting_at_;
  std::uint64_t since_ = 0;
  WriteRequest write_;
  bool action_done_ = true;
  std::uint64_t action_seq_ = 0;
};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Why: read load must never delay probing. When clients keep the CPUs busy,
// the kernel would share them equally between this thread and the probing
// thread; a nice value k_api_nice above the process's gives probing about
// three times the API's share (Linux nice values are per thread). Best
// effort: a failure leaves the thread at the process's priority.
void yield_to_probing() {
  const auto self = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, self);
  if (errno == 0) {
    ::setpriority(PRIO_PROCESS, self, std::min(current + k_api_nice, 19));
  }
}

}  // namespace

struct ApiServer::Impl {
  Impl(ApiServerOptions options, SnapshotHub& hub, ApiActions& actions)
      : shared(std::make_shared<Shared>(std::move(options), hub, actions)) {}

  void do_accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        return;
      }
      if (ec) {
        bump(shared->counters.accept_errors);
        retry_timer.expires_after(k_accept_retry);
        retry_timer.async_wait([this](error_code wait_ec) {
          if (!wait_ec) {
            do_accept();
          }
        });
        return;
      }
      try {
        admit(std::move(socket));
      } catch (const std::exception&) {
        bump(shared->counters.internal_errors);
      }
      do_accept();
    });
  }

  // At the cap, evicts the connection that has waited longest without
  // sending a byte of its next request; false when every one is busy
  // (mid-request, mid-answer, waiting for a watch or a write).
  bool evict_longest_waiting() {
    std::size_t scanned = 0;
    for (auto it = shared->waiting.begin();
         it != shared->waiting.end() && scanned < k_eviction_scan; ++scanned) {
      Session* candidate = *it++;  // evict() erases the candidate's entry
      if (!candidate->has_unread_bytes()) {
        candidate->evict();
        return true;
      }
    }
    return false;
  }

  void admit(tcp::socket socket) {
    bool rejecting = false;
    if (shared->active.load() >= shared->options.max_connections && !evict_longest_waiting()) {
      bump(shared->counters.connections_rejected);
      if (shared->rejecting.load() >= k_max_rejecting) {
        return;  // the socket closes as it goes out of scope
      }
      rejecting = true;
      shared->rejecting.fetch_add(1);
    } else {
      bump(shared->counters.connections_accepted);
      shared->active.fetch_add(1);
    }
    auto session = std::make_shared<Session>(std::move(socket), shared, rejecting);
    if (sessions.size() > 2 * (shared->active.load() + shared->rejecting.load()) + 64) {
      std::erase_if(sessions, [](const std::weak_ptr<Session>& weak) { return weak.expired(); });
    }
    sessions.push_back(session);
    session->start();
  }

  // On the server thread: close everything, then stop the loop.
  void shutdown() {
    error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    for (const auto& weak : sessions) {
      if (const auto session = weak.lock()) {
        session->shut();
      }
    }
    sessions.clear();
    shared->hub.forget_waiters(io);
    io.stop();
  }

  std::shared_ptr<Shared> shared;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry_timer{io};
  std::vector<std::weak_ptr<Session>> sessions;  // server thread only
  config::Endpoint bound;
  std::thread thread;
  bool started = false;
};

ApiServer::ApiServer(ApiServerOptions options, SnapshotHub& hub, ApiActions& actions)
    : impl_(std::make_unique<Impl>(std::move(options), hub, actions)) {}

ApiServer::~ApiServer() {
  try {
    stop();
  } catch (const std::exception&) {
    // Only an allocation in stop() can throw; a destructor must not.
  }
}

bool ApiServer::start(std::string& why) {
  if (impl_->started) {
    why = "the API server was already started";
    return false;
  }
  const ApiServerOptions& options = impl_->shared->options;
  const tcp::endpoint endpoint = net::tcp_endpoint(options.listen.address, options.listen.port);
  tcp::acceptor& acceptor = impl_->acceptor;
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  tcp::endpoint local;
  if (!ec) {
    local = acceptor.local_endpoint(ec);
  }
  if (ec) {
    why = options.listen.to_string() + ": " + ec.message();
    acceptor.close(ec);
    return false;
  }
  impl_->bound = config::Endpoint{net::from_asio(local.address()), local.port()};
  rlimit open_files{};
  if (getrlimit(RLIMIT_NOFILE, &open_files) == 0) {
    impl_->shared->options.max_connections =
        api_connection_cap(options.max_connections, open_files.rlim_cur);
  }
  impl_->started = true;
  impl_->do_accept();
  impl_->thread = std::thread([impl = impl_.get()] {
    yield_to_probing();
    // run() returns when stopped; a stray exception is counted, not fatal.
    while (!impl->io.stopped()) {
      try {
        impl->io.run();
      } catch (const std::exception&) {
        bump(impl->shared->counters.internal_errors);
      }
    }
  });
  return true;
}

void ApiServer::stop() {
  if (!impl_->thread.joinable()) {
    return;
  }
  {
    const std::lock_guard lock(impl_->shared->post_mutex);
    impl_->shared->open = false;
  }
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
  impl_->thread.join();
  impl_->shared->hub.forget_waiters(impl_->io);  // in case the loop had ended already
}

config::Endpoint ApiServer::bound_endpoint() const {
  return impl_->bound;
}

std::size_t ApiServer::active_connections() const {
  return impl_->shared->active.load();
}

std::size_t ApiServer::max_connections() const {
  return impl_->shared->options.max_connections;
}

ApiCounters ApiServer::counters() const {
  return copy_of(impl_->shared->counters);
}

void ApiServer::set_token(std::optional<std::string> token) {
  impl_->shared->set_token(std::move(token));
}

std::size_t api_connection_cap(std::size_t requested, std::uint64_t open_files) {
  const std::uint64_t reserve = std::min<std::uint64_t>(k_api_fd_reserve, open_files / 2);
  const std::uint64_t budget = open_files - reserve;
  return static_cast<std::size_t>(
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(requested, budget)));
}

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view k_scheme = "Bearer";
  if (token.empty() || authorization.size() <= k_scheme.size() ||
      !iequals(authorization.substr(0, k_scheme.size()), k_scheme) ||
      authorization[k_scheme.size()] != ' ') {
    return false;
  }
  std::string_view presented = authorization.substr(k_scheme.size() + 1);
  while (!presented.empty() && presented.front() == ' ') {
    presented.remove_prefix(1);
  }
  while (!presented.empty() && presented.back() == ' ') {
    presented.remove_suffix(1);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> presented_digest{};
  std::array<unsigned char, EVP_MAX_MD_SIZE> token_digest{};
  unsigned int presented_size = 0;
  unsigned int token_size = 0;
  if (EVP_Digest(presented.data(), presented.size(), presented_digest.data(), &presented_size,
                 EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(token.data(), token.size(), token_digest.data(), &token_size, EVP_sha256(),
                 nullptr) != 1 ||
      presented_size != token_size) {
    return false;
  }
  return CRYPTO_memcmp(presented_digest.data(), token_digest.data(), token_size) == 0;
}

}  // namespace crosscheck::daemon
