// The API server's connection, its answers: the header every answer
// carries, a body whole (signed for /v1/verdicts) or in parts as it is made
// (GET /metrics: HTTP/1.1 chunks, each under idle_timeout, the whole within
// max_stream_time, at most k_max_streams at once), then the next request or
// the close (lingering so the answer is not reset away).
#include "api/session.hpp"

#include "net/verdict_signature.hpp"

#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <ctime>

namespace crosscheck::api::detail {
namespace {

// "Sun, 06 Dec 2026 08:05:09 GMT" (RFC 9110 IMF-fixdate). The daemon never
// sets a locale, so strftime's day and month names are the C locale's.
std::string http_date(consensus::WallTime at) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(at));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 40> text{};
  const auto size = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return {text.data(), size};
}

}  // namespace

template <typename Stream>
void Session<Stream>::fill_header(http::response_header<>& header, const ApiResponse& answer,
                                  bool close) {
  header.version(version_);
  header.result(static_cast<unsigned>(answer.status));
  header.set(http::field::server, "crosscheck");
  // The oracle's clock (RFC 9110 asks an origin server with one to send
  // it): the status page judges valid_until against it, not against a
  // browser clock that may run behind (hostile review).
  header.set(http::field::date, http_date(shared_->now().wall));
  header.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) {
    header.set(name, value);
  }
  keep_open_ = keep_alive_ && !close;
}

template <typename Stream>
void Session<Stream>::send(ApiResponse answer, bool close) {
  assert(!place_);  // one answer at a time: a body in parts ends before the next
  if (answer.source) {
    const bool tokens = !shared_->auth()->tokens.empty();
    place_ = shared_->streams.take({client_address_, request_principal_, version_ < 11}, tokens);
    if (!place_) {  // error_response adds Retry-After
      answer = error_response(
          503, "overloaded",
          version_ < 11 ? "an HTTP/1.0 scrape is made whole, one at a time (and one client "
                          "holds 2 at most); retry shortly, or scrape with HTTP/1.1"
          : tokens      ? "too many /metrics scrapes at once, or from this client; retry "
                          "shortly (places are kept for requests with a valid bearer token)"
                        : "too many /metrics scrapes at once, or from this client; retry shortly");
    }
  }
  if (answer.source && version_ < 11) {
    // HTTP/1.0 has no chunks, and a body ended by the close would look
    // complete when cut short: made whole, sent with its length (held
    // whole while it is sent: at most k_max_whole_streams at once). Never
    // past options.max_whole_body, and not made at all for a snapshot at
    // least as large as one that passed it: what HTTP/1.0 requests cost
    // the server's thread stays bounded however many a client sends.
    const std::size_t limit = shared_->options.max_whole_body;
    bool fits = !shared_->streams.whole_known_too_large(request_targets_);
    std::string body;
    for (auto part = fits ? answer.source->next(k_part_size) : std::string(); !part.empty();
         part = answer.source->next(k_part_size)) {
      if (body.size() + part.size() > limit) {
        fits = false;
        shared_->streams.whole_overflowed(request_targets_);
        break;
      }
      body += part;
    }
    answer.source.reset();
    if (fits) {
      answer.body = std::move(body);
    } else {
      end_stream();
      answer = error_response(505, "http_version_not_supported",
                              "the exposition is larger than an HTTP/1.0 answer may be (" +
                                  std::to_string(limit >> 20) +
                                  " MiB): scrape /metrics with HTTP/1.1, which gets it in parts");
      close = true;  // one refusal a connection
    }
  }
  Counters& counters = shared_->counters;
  bump(answer.status >= 500   ? counters.responses_5xx
       : answer.status >= 400 ? counters.responses_4xx
       : answer.status >= 300 ? counters.responses_3xx
                              : counters.responses_2xx);
  if (answer.source) {
    target_.clear();
    return send_parts(std::move(answer), close);
  }
  // The type named, not `= {}`: clang 14 (-O1, the asan build) left the
  // temporary's destructor undefined at link time in these explicitly
  // instantiated members when the braced list was bare.
  response_ = http::response<http::string_body>{};
  fill_header(response_.base(), answer, close);
  response_.keep_alive(keep_open_);
  if (is_signed_route(target_)) {
    // Signed after the router chose the bytes, before they leave: a
    // proxy or cache that changes one of them breaks the signature.
    if (const auto signer = shared_->signer()) {
      response_.set(net::k_verdict_signature_header, signer->sign(target_, answer.body));
    }
  }
  // One answer per request: a later answer on this connection that no
  // request reached handle() for (400, 413, 431) is not signed for this one.
  target_.clear();
  response_.body() = std::move(answer.body);
  response_.prepare_payload();
  lowest().expires_after(shared_->options.idle_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                      self->guarded([&] { self->on_write(ec); });
                    });
}

template <typename Stream>
void Session<Stream>::send_parts(ApiResponse answer, bool close) {
  stream_deadline_ = std::chrono::steady_clock::now() + shared_->options.max_stream_time;
  source_ = std::move(answer.source);
  head_ = http::response<http::empty_body>{};
  fill_header(head_.base(), answer, close);
  head_.chunked(true);
  head_.keep_alive(keep_open_);
  head_writer_.emplace(head_);
  lowest().expires_after(shared_->options.idle_timeout);
  http::async_write_header(stream_, *head_writer_,
                           [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
                             self->guarded([&] {
                               if (ec) {
                                 return self->on_write(ec);
                               }
                               self->write_part();
                             });
                           });
}

template <typename Stream>
void Session<Stream>::write_part() {
  part_ = source_->next(k_part_size);
  const auto next = [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
    self->guarded([&] {
      if (ec) {
        return self->on_write(ec);
      }
      self->write_part();
    });
  };
  const auto last = [self = shared_from_this()](error_code ec, std::size_t /*bytes*/) {
    self->guarded([&] { self->on_write(ec); });
  };
  lowest().expires_at(
      std::min(std::chrono::steady_clock::now() + shared_->options.idle_timeout, stream_deadline_));
  if (part_.empty()) {  // the body is complete (a part is never empty before)
    source_.reset();
    return asio::async_write(stream_, http::make_chunk_last(), last);
  }
  asio::async_write(stream_, http::make_chunk(asio::buffer(part_)), next);
}

template <typename Stream>
void Session<Stream>::end_stream() {
  if (place_) {
    shared_->streams.give_back(*place_);
    place_.reset();
  }
}

template <typename Stream>
void Session<Stream>::on_write(error_code ec) {
  if (ec) {
    bump(ec == beast::error::timeout ? shared_->counters.timeouts : shared_->counters.io_errors);
    source_.reset();  // and with it the snapshot it read
    end_stream();
    return close_now();
  }
  // Why now and not at the next answer: a kept-alive connection idles
  // between requests, and a body (a verdict, a /metrics part) was held for
  // as long as the client kept the connection open. Why swaps: assigning
  // an empty string keeps the old buffer (libstdc++).
  std::string().swap(response_.body());
  std::string().swap(part_);
  response_ = http::response<http::string_body>{};
  head_writer_.reset();
  source_.reset();
  end_stream();
  if (!keep_open_) {
    return linger_close();
  }
  do_read();
}

template <typename Stream>
void Session<Stream>::linger_close() {
  if constexpr (k_tls) {
    // close_notify, then wait (bounded) for the client's, reading and
    // discarding what it still sends; then close.
    lowest().expires_after(k_linger_timeout);
    return stream_.async_shutdown(
        [self = shared_from_this()](error_code /*ec*/) { self->close_now(); });
  }
  error_code ec;
  lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    return close_now();
  }
  drained_ = 0;
  lowest().expires_after(k_linger_timeout);
  drain();
}

template <typename Stream>
void Session<Stream>::drain() {
  stream_.async_read_some(asio::buffer(scratch_),
                          [self = shared_from_this()](error_code ec, std::size_t bytes) {
                            self->drained_ += bytes;
                            if (ec || self->drained_ > k_linger_bytes) {
                              return self->close_now();
                            }
                            self->drain();
                          });
}

template <typename Stream>
void Session<Stream>::close_now() {
  error_code ignored;
  lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  lowest().socket().close(ignored);
}

template void Session<PlainStream>::fill_header(http::response_header<>& header,
                                                const ApiResponse& answer, bool close);
template void Session<PlainStream>::send(ApiResponse answer, bool close);
template void Session<PlainStream>::send_parts(ApiResponse answer, bool close);
template void Session<PlainStream>::write_part();
template void Session<PlainStream>::end_stream();
template void Session<PlainStream>::on_write(error_code ec);
template void Session<PlainStream>::linger_close();
template void Session<PlainStream>::drain();
template void Session<PlainStream>::close_now();
template void Session<TlsStream>::fill_header(http::response_header<>& header,
                                              const ApiResponse& answer, bool close);
template void Session<TlsStream>::send(ApiResponse answer, bool close);
template void Session<TlsStream>::send_parts(ApiResponse answer, bool close);
template void Session<TlsStream>::write_part();
template void Session<TlsStream>::end_stream();
template void Session<TlsStream>::on_write(error_code ec);
template void Session<TlsStream>::linger_close();
template void Session<TlsStream>::drain();
template void Session<TlsStream>::close_now();

}  // namespace crosscheck::api::detail
