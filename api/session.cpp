// The API server's connection: with api.tls, first the handshake
// (session_tls.cpp); then waits for the first byte of a request
// (idle_timeout; evictable at the connection cap meanwhile), reads the whole
// request under one deadline (request_timeout, parser limits set), routes it
// through the pure handle_request(), and answers it (session_write.cpp);
// writes and watches wait off-thread and hop back with asio::post before
// touching it.
#include "api/session.hpp"

#include "api/metrics.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <exception>

namespace crosscheck::api::detail {
namespace {

peers::PeerSignature signature_of(const http::request<http::string_body>& request) {
  return peers::PeerSignature{std::string(request[peers::k_peer_node_header]),
                              std::string(request[peers::k_peer_timestamp_header]),
                              std::string(request[peers::k_peer_nonce_header]),
                              std::string(request[peers::k_peer_signature_header])};
}

template <typename Stream>
Stream make_stream(tcp::socket socket, const ServerTls* tls) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    // ssl::context is only read by a stream (SSL_new); the const is ours.
    return Stream(std::move(socket), const_cast<ServerTls*>(tls)->context);  // NOLINT
  } else {
    return Stream(std::move(socket));
  }
}

std::string peer_of(tcp::socket& socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) {
    return "unknown";
  }
  const auto address = peer.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(peer.port());
}

}  // namespace

template <typename Stream>
Session<Stream>::Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool rejecting,
                         std::shared_ptr<const ServerTls> tls)
    : tls_(std::move(tls)),
      checked_(tls_),
      stream_(make_stream<Stream>(std::move(socket), tls_.get())),
      shared_(std::move(shared)),
      action_timer_(stream_.get_executor()),
      idle_timer_(stream_.get_executor()),
      buffer_(k_read_buffer_limit),
      rejecting_(rejecting) {}

template <typename Stream>
Session<Stream>::~Session() {
  unlist();
  end_stream();
  if (rejecting_) {
    shared_->rejecting.fetch_sub(1);
  } else if (!evicted_) {  // an evicted session gave its slot back already
    shared_->active.fetch_sub(1);
  }
}

template <typename Stream>
void Session<Stream>::start() {
  client_address_ = peer_of(lowest().socket());
  if constexpr (k_tls) {
    return guarded([&] { handshake(); });
  }
  guarded([&] { serve(); });
}

template <typename Stream>
void Session<Stream>::serve() {
  guarded([&] {
    if (rejecting_) {
      send(error_response(503, "overloaded", "too many connections; retry shortly"), true);
    } else {
      do_read();
    }
  });
}

template <typename Stream>
void Session<Stream>::shut() {
  error_code ignored;
  lowest().socket().close(ignored);
  action_timer_.cancel();
  idle_timer_.cancel();
}

template <typename Stream>
bool Session<Stream>::request_begun() {
  error_code ec;
  const std::size_t unread = lowest().socket().available(ec);
  if (!ec && unread > 0) {
    return true;
  }
  if constexpr (k_tls) {
    return tls_buffered();
  }
  return buffer_.size() > 0;
}

template <typename Stream>
void Session<Stream>::evict() {
  unlist();
  evicted_ = true;
  shared_->active.fetch_sub(1);
  bump(shared_->counters.connections_evicted);
  idle_timer_.cancel();
  close_now();
}

template <typename Stream>
void Session<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(k_api_header_limit);
  parser_->body_limit(k_api_body_limit);
  if (buffer_.size() > 0) {
    return read_request();  // a pipelined request has begun already
  }
  if constexpr (k_tls) {
    if (tls_buffered()) {
      return read_request();  // so has one OpenSSL took in with earlier records
    }
  }
  list_in(shared_->waiting);
  idle_timer_.expires_after(shared_->options.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->waiting()) {
      bump(self->shared_->counters.timeouts);
      self->unlist();
      self->close_now();
    }
  });
  lowest().socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    self->guarded([&] { self->on_readable(ec); });
  });
}

template <typename Stream>
void Session<Stream>::on_readable(error_code ec) {
  if (!waiting()) {
    return;  // evicted or timed out meanwhile: closed already
  }
  unlist();
  idle_timer_.cancel();
  if (ec) {
    bump(shared_->counters.io_errors);
    return close_now();
  }
  read_request();  // end of stream too: the read says the client went away
}

template <typename Stream>
void Session<Stream>::read_request() {
  lowest().expires_after(shared_->options.request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                     self->guarded([&] { self->on_read(ec); });
                   });
}

template <typename Stream>
void Session<Stream>::list_in(std::list<Connection*>& list) {
  unlist();
  listed_in_ = &list;
  listed_at_ = list.insert(list.end(), this);
}

template <typename Stream>
void Session<Stream>::unlist() {
  if (listed_in_ != nullptr) {
    listed_in_->erase(listed_at_);
    listed_in_ = nullptr;
  }
}

template <typename Stream>
void Session<Stream>::on_read(error_code ec) {
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
  if constexpr (k_tls) {
    if (!still_admitted()) {
      return close_now();  // its certificate was revoked by a reload
    }
  }
  bump(counters.requests);
  handle(parser_->release());
}

template <typename Stream>
void Session<Stream>::handle(http::request<http::string_body> request) {
  version_ = request.version();
  keep_alive_ = request.keep_alive();
  ApiRequest api;
  api.method = std::string(request.method_string());
  api.target = std::string(request.target());
  target_ = api.target;
  api.authorization = std::string(request[http::field::authorization]);
  api.if_none_match = std::string(request[http::field::if_none_match]);
  api.body = std::move(request.body());
  api.client_subject = client_subject_;
  api.client_address = client_address_;
  authenticate(api);
  request_principal_ = api.principal;
  const snapshot::SnapshotPtr snapshot = shared_->hub.current();
  request_targets_ = snapshot->targets.size();
  // Read only if the router takes the request to /metrics (reading /proc
  // for every request would tax the hot read path for nothing); a check of
  // the raw path here once missed /%6Detrics, which showed them as zero.
  api.metrics = [shared = shared_.get()] {
    return MetricsSources{shared->snapshot_counters(), snapshot::read_process_stats()};
  };
  peers::PeerAuth peer;
  if (shared_->options.peers && api.target.starts_with(peers::k_peer_path_prefix)) {
    peer = shared_->options.peers->verify(signature_of(request), api.method, api.target,
                                          shared_->now().wall);
    api.peer = &peer;
  }
  api.snapshot = snapshot;
  ApiOutcome outcome = handle_request(api, *snapshot, shared_->now());
  if (auto* response = std::get_if<ApiResponse>(&outcome)) {
    count_refusal(response->refusal);
    return send(std::move(*response), false);
  }
  if (auto* watch = std::get_if<WatchRequest>(&outcome)) {
    return start_watch(*watch);
  }
  start_action(std::get<WriteRequest>(std::move(outcome)));
}

template <typename Stream>
void Session<Stream>::authenticate(ApiRequest& api) const {
  const auto auth = shared_->auth();
  api.configured = auth->configured();
  api.read_requires_token = auth->read_requires_token;
  // Hashing only when a credential is presented: the anonymous GET stays cheap.
  if (!api.authorization.empty()) {
    if (const auto index = match_bearer_token(api.authorization, auth->tokens)) {
      api.principal = auth->tokens[*index].name;
      api.granted = auth->tokens[*index].scopes;
    }
  }
}

template <typename Stream>
void Session<Stream>::count_refusal(AuthRefusal refusal) {
  Counters& counters = shared_->counters;
  switch (refusal) {
    case AuthRefusal::None:
      return;
    case AuthRefusal::Missing:
      return bump(counters.auth_missing);
    case AuthRefusal::Invalid:
      return bump(counters.auth_invalid);
    case AuthRefusal::InsufficientScope:
      return bump(counters.auth_insufficient_scope);
    case AuthRefusal::Disabled:
      return bump(counters.auth_disabled);
  }
}

template <typename Stream>
void Session<Stream>::start_watch(const WatchRequest& watch) {
  since_ = watch.since;
  shared_->hub.wait_newer(watch.since, stream_.get_executor(),
                          std::min(watch.wait, shared_->options.max_watch_wait),
                          [self = shared_from_this()](snapshot::SnapshotPtr snapshot) {
                            self->guarded([&] { self->on_watch(snapshot); });
                          });
}

template <typename Stream>
void Session<Stream>::on_watch(const snapshot::SnapshotPtr& snapshot) {
  if (!snapshot) {
    bump(shared_->counters.watch_refused);
    return send(error_response(503, "overloaded", "too many watches waiting; retry shortly"),
                false);
  }
  send(watch_response(*snapshot, since_), false);
}

template <typename Stream>
void Session<Stream>::start_action(WriteRequest write) {
  write_ = std::move(write);
  action_done_ = false;
  const std::uint64_t action = ++action_seq_;
  const auto deadline =
      write_.kind == WriteRequest::Kind::Recheck || write_.kind == WriteRequest::Kind::PeerRecheck
          ? write_.deadline
          : k_write_action_deadline;
  action_timer_.expires_after(deadline + k_action_grace);
  action_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) {
      bump(self->shared_->counters.action_timeouts);
      self->guarded([&] {
        self->finish_action(
            self->action_seq_,
            ActionResult{504, "action_timeout", "the service did not answer in time", nullptr,
                         std::nullopt, std::nullopt, std::nullopt});
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
        return shared_->actions.recheck(write_.caller, write_.target, write_.deadline,
                                        std::move(done));
      case WriteRequest::Kind::PeerRecheck:
        return shared_->actions.peer_recheck(write_.caller, write_.target, write_.deadline,
                                             std::move(done));
      case WriteRequest::Kind::Acknowledge:
        return shared_->actions.acknowledge(write_.caller, write_.escalation_id, write_.by,
                                            std::move(done));
      case WriteRequest::Kind::SetOverride:
        return shared_->actions.set_override(write_.caller, write_.target, write_.override_value,
                                             std::move(done));
      case WriteRequest::Kind::ClearOverride:
        return shared_->actions.clear_override(write_.caller, write_.target, std::move(done));
      case WriteRequest::Kind::SetMaintenance:
        return shared_->actions.set_maintenance(write_.caller, write_.target,
                                                write_.maintenance_value, std::move(done));
      case WriteRequest::Kind::ClearMaintenance:
        return shared_->actions.clear_maintenance(write_.caller, write_.target, std::move(done));
      case WriteRequest::Kind::GateRecord:
        return shared_->actions.gate_and_record(write_.caller, write_.gate, write_.action,
                                                std::move(done));
      case WriteRequest::Kind::RecordAction:
        return shared_->actions.record_action(write_.caller, write_.action, std::move(done));
      case WriteRequest::Kind::AckAction:
        return shared_->actions.ack_action(write_.caller, write_.action_id, write_.ack,
                                           std::move(done));
    }
  } catch (const std::exception& error) {
    bump(shared_->counters.internal_errors);
    finish_action(action, ActionResult{500, "internal", error.what(), nullptr, std::nullopt,
                                       std::nullopt, std::nullopt});
  }
}

template <typename Stream>
void Session<Stream>::finish_action(std::uint64_t action, const ActionResult& result) {
  if (action_done_ || action != action_seq_) {
    return;
  }
  action_done_ = true;
  action_timer_.cancel();
  send(write_.kind == WriteRequest::Kind::PeerRecheck
           ? peer_recheck_response(write_, result, shared_->now())
           : write_response(write_, result),
       false);
}

template class Session<PlainStream>;
template class Session<TlsStream>;

}  // namespace crosscheck::api::detail
