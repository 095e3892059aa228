// The API server: Beast's session idiom on one io_context thread. Each
// session waits for the first byte of a request (idle_timeout; evictable at
// the connection cap meanwhile), reads the whole request under one deadline
// (request_timeout, parser limits set), routes it through the pure
// handle_request(), and writes one answer; writes and watches wait off-thread
// and hop back with asio::post before touching it.
#include "api/server.hpp"

#include "api/session.hpp"
#include "net/address.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <thread>
#include <vector>

namespace crosscheck::api {

using namespace detail;  // Session and what sessions share (api/session.hpp, api/tls.hpp)

namespace {

// Connections being answered 503 at once; past this they are just closed.
constexpr std::size_t k_max_rejecting = 64;
// The API thread's nice value above the process's (see yield_to_probing).
constexpr int k_api_nice = 5;
// Back-off before accepting again after an accept error (EMFILE, ENFILE).
constexpr auto k_accept_retry = 100ms;
// Waiting connections a newcomer looks at, longest-waiting first, for one
// whose client has not sent anything since; bounds the work per accept.
constexpr std::size_t k_eviction_scan = 64;

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

ApiCounters detail::copy_of(const Counters& c) {
  ApiCounters copy{c.connections_accepted.load(),
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
  for (std::size_t i = 0; i < k_tls_refusal_kinds; ++i) {
    copy.tls_refusals.at(i) = c.tls_refusals.at(i).load();
  }
  copy.auth_missing = c.auth_missing.load();
  copy.auth_invalid = c.auth_invalid.load();
  copy.auth_insufficient_scope = c.auth_insufficient_scope.load();
  copy.auth_disabled = c.auth_disabled.load();
  return copy;
}

struct ApiServer::Impl {
  Impl(ApiServerOptions options, snapshot::SnapshotHub& hub, ApiActions& actions)
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

  // At the cap, evicts the oldest connection still in its TLS handshake,
  // else the one that has waited longest without sending a byte of its
  // next request; false when every one is busy (mid-request, mid-answer,
  // waiting for a watch or a write). Why handshakes first: they have
  // proven nothing yet, and a client that never finishes one (slowloris
  // on TLS) must not keep a served client out.
  bool evict_one() {
    if (!shared->handshaking.empty()) {
      shared->handshaking.front()->evict();  // evict() unlists it
      return true;
    }
    std::size_t scanned = 0;
    for (auto it = shared->waiting.begin();
         it != shared->waiting.end() && scanned < k_eviction_scan; ++scanned) {
      Connection* candidate = *it++;  // evict() erases the candidate's entry
      if (!candidate->request_begun()) {
        candidate->evict();
        return true;
      }
    }
    return false;
  }

  void admit(tcp::socket socket) {
    bool rejecting = false;
    if (shared->active.load() >= shared->options.max_connections && !evict_one()) {
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
    std::shared_ptr<Connection> session;
    if (auto tls = shared->tls()) {
      session = std::make_shared<Session<TlsStream>>(std::move(socket), shared, rejecting,
                                                     std::move(tls));
    } else {
      session =
          std::make_shared<Session<PlainStream>>(std::move(socket), shared, rejecting, nullptr);
    }
    if (sessions.size() > 2 * (shared->active.load() + shared->rejecting.load()) + 64) {
      std::erase_if(sessions, [](const std::weak_ptr<Connection>& weak) { return weak.expired(); });
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
  std::vector<std::weak_ptr<Connection>> sessions;  // server thread only
  config::Endpoint bound;
  std::thread thread;
  bool started = false;
};

ApiServer::ApiServer(ApiServerOptions options, snapshot::SnapshotHub& hub, ApiActions& actions)
    : impl_(std::make_unique<Impl>(std::move(options), hub, actions)) {}

ApiServer::~ApiServer() {
  try {
    stop();
  } catch (const std::exception&) {
    // Only an allocation in stop() can throw; a destructor must not.
  }
}

Status ApiServer::start() {
  if (impl_->started) {
    return fail("the API server was already started");
  }
  const ApiServerOptions& options = impl_->shared->options;
  if (options.tls) {
    auto tls = make_server_tls(*options.tls);
    if (!tls) {
      return tls.failure();
    }
    impl_->shared->set_tls(std::move(*tls));
  }
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
    std::string why = options.listen.to_string() + ": " + ec.message();
    acceptor.close(ec);
    return fail(std::move(why));
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
  return {};
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
  return impl_->shared->snapshot_counters();
}

Status ApiServer::set_tls(const config::ServerTlsFiles& files) {
  if (!impl_->shared->tls()) {
    return fail("the API serves plain HTTP; TLS needs a restart");
  }
  auto tls = make_server_tls(files);
  if (!tls) {
    return tls.failure();
  }
  impl_->shared->set_tls(std::move(*tls));
  return {};
}

void ApiServer::set_auth(ApiAuth auth) {
  impl_->shared->set_auth(std::move(auth));
}

void ApiServer::set_signer(std::shared_ptr<const net::VerdictSigner> signer) {
  impl_->shared->set_signer(std::move(signer));
}

std::size_t api_connection_cap(std::size_t requested, std::uint64_t open_files) {
  const std::uint64_t reserve = std::min<std::uint64_t>(k_api_fd_reserve, open_files / 2);
  const std::uint64_t budget = open_files - reserve;
  return static_cast<std::size_t>(
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(requested, budget)));
}

}  // namespace crosscheck::api
