// GET /metrics from the API server, in process, over real sockets: the
// exposition is made and sent in HTTP/1.1 chunks of about 256 KiB, never held
// whole (HTTP/1.0: whole, with its length); a scrape keeps the snapshot it
// reads while the hub moves on; a scraper that stops reading is cut at the
// idle timeout (or at the whole body's time limit) without holding the
// snapshot or the server's thread; at most 8 scrapes are sent at once, 2 of
// them kept for token holders, 2 at most from one address without a token.
#include "api/metrics.hpp"
#include "api/server.hpp"
#include "net/beast_names.hpp"
#include "snapshot/hub.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/no_actions.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::net::beast_names;
using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;
using crosscheck::snapshot::Snapshot;
using crosscheck::snapshot::SnapshotHub;
using crosscheck::snapshot::SnapshotPtr;
using crosscheck::snapshot::TargetView;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t k_part = std::size_t{256} * 1024;  // api/session.hpp's k_part_size
constexpr int k_small_buffer = 16 * 1024;                // a stalled client's receive buffer
constexpr auto k_wait = 10s;  // the longest any step below may take (16 MB under ASan)
constexpr const char* k_token = "scraper-token-0123456789abcdef";
constexpr const char* k_other_token = "another-token-0123456789abcdef";

// `targets` targets, each seen by three vantages of three domains (or by
// none: a far smaller exposition).
SnapshotPtr fleet(std::size_t targets, std::uint64_t revision, bool seen = true) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = revision;
  snapshot->ready = true;
  snapshot->node = "oracle-a";
  snapshot->targets.reserve(targets);
  for (std::size_t i = 0; i < targets; ++i) {
    TargetView view;
    view.verdict.target = "service-" + std::to_string(i) + ".example.internal";
    view.verdict.kind = i % 7 == 0 ? cs::VerdictKind::Disputed : cs::VerdictKind::Healthy;
    view.verdict.generation = i + 1;
    for (const char* vantage : {"alpha", "beta", "gamma"}) {
      if (!seen) {
        break;
      }
      cs::Evidence evidence;
      evidence.vantage = vantage;
      evidence.domain = std::string("dc-") + vantage;
      evidence.vote = cs::Vote::Up;
      view.verdict.evidence.push_back(evidence);
    }
    snapshot->targets.push_back(std::move(view));
  }
  return snapshot;
}

// The exposition up to the families whose values move while serving (the
// vantages' and after: API counters, process figures).
std::string stable_part(const std::string& text) {
  return text.substr(0, text.find("# HELP crosscheck_vantage_suspect "));
}

// What a test server differs in.
struct Setup {
  std::chrono::milliseconds idle_timeout = 10s;
  std::chrono::milliseconds max_stream_time = k_default_max_stream_time;
  std::size_t max_whole_body = k_default_max_whole_body;
  bool tokens = true;  // k_token and k_other_token
};

// A server on 127.0.0.1:0 serving `snapshot` (the hub keeps it until
// replaced).
struct Fixture {
  explicit Fixture(SnapshotPtr snapshot, const Setup& setup = {}) {
    hub.publish(std::move(snapshot));
    ApiServerOptions options;
    options.listen =
        crosscheck::config::Endpoint{*crosscheck::config::IpAddress::parse("127.0.0.1"), 0};
    options.idle_timeout = setup.idle_timeout;
    options.max_stream_time = setup.max_stream_time;
    options.max_whole_body = setup.max_whole_body;
    if (setup.tokens) {
      options.auth.tokens = {{"scraper", k_token, crosscheck::config::ScopeSet::all()},
                             {"other", k_other_token, crosscheck::config::ScopeSet::all()}};
    }
    server = std::make_unique<ApiServer>(options, hub, actions);
    const auto started = server->start();
    INFO((started ? std::string() : started.error()));
    REQUIRE(started);
  }
  std::uint16_t port() const { return server->bound_endpoint().port; }

  SnapshotHub hub;
  crosscheck::testing::NoActions actions;
  std::unique_ptr<ApiServer> server;
};

// One HTTP/1.1 connection; every step bounded by k_wait.
class Client {
 public:
  // `receive_buffer`: the socket's receive buffer in bytes (0: the
  // system's, which grows as the client reads). A small one keeps what the
  // sockets hold of an unread body far below the bodies here, whatever the
  // machine's TCP settings. `from`: the loopback address it connects from.
  explicit Client(std::uint16_t port, int receive_buffer = 0, const char* from = "127.0.0.1")
      : stream_(io_) {
    stream_.socket().open(tcp::v4());
    stream_.socket().bind(tcp::endpoint(asio::ip::make_address(from), 0));
    if (receive_buffer > 0) {
      stream_.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    }
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](error_code result) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  void send(const std::string& target, const std::string& token = {}) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (!token.empty()) {
      request.set(http::field::authorization, "Bearer " + token);
    }
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    http::async_write(stream_, request, [&](error_code result, std::size_t) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  // Bytes as they are (an HTTP/1.0 request, say).
  void send_raw(const std::string& text) {
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    asio::async_write(stream_, asio::buffer(text),
                      [&](error_code result, std::size_t) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  // The next answer's header; its body is read by read_body().
  http::response<http::string_body> read_header() {
    parser_.emplace();
    parser_->body_limit(std::uint64_t{512} * 1024 * 1024);
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    http::async_read_header(stream_, buffer_, *parser_,
                            [&](error_code result, std::size_t) { ec = result; });
    run();
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return parser_->get();
  }

  std::string read_body() {
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    http::async_read(stream_, buffer_, *parser_,
                     [&](error_code result, std::size_t) { ec = result; });
    run();
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return parser_->release().body();
  }

  // The next answer, and the size of each chunk its body came in.
  http::response<http::string_body> read(std::vector<std::uint64_t>& chunks) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{512} * 1024 * 1024);
    auto on_chunk = [&chunks](std::uint64_t size, std::string_view /*extensions*/,
                              error_code& /*ec*/) {
      if (size > 0) {
        chunks.push_back(size);
      }
    };
    parser.on_chunk_header(on_chunk);
    stream_.expires_after(k_wait);
    error_code ec = asio::error::would_block;
    http::async_read(stream_, buffer_, parser,
                     [&](error_code result, std::size_t) { ec = result; });
    run();
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return parser.release();
  }

 private:
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

template <typename Condition>
bool eventually(Condition condition) {
  return crosscheck::testing::eventually(condition, k_wait);
}

}  // namespace

TEST_CASE("a large /metrics is sent in chunks of about 256 KiB that join into the exposition",
          "[api][metrics]") {
  const auto snapshot = fleet(3'000, 7);
  const std::string whole = render_metrics(*snapshot, ApiCounters{}, {});
  REQUIRE(whole.size() > 8 * k_part);  // several parts, or this proves nothing
  Fixture fixture(snapshot);
  Client client(fixture.port());
  for (int round = 0; round < 2; ++round) {  // and the connection is kept alive after one
    CAPTURE(round);
    client.send("/metrics");
    std::vector<std::uint64_t> chunks;
    const auto response = client.read(chunks);
    CHECK(response.result_int() == 200);
    CHECK(response.chunked());
    CHECK(response.keep_alive());
    CHECK(response[http::field::content_type] == k_metrics_content_type);
    CHECK(stable_part(response.body()) == stable_part(whole));
    CHECK(response.body().ends_with("\n"));
    // Each chunk is one part: at least 256 KiB and past it by no more than
    // one target's lines, but the last, which holds the families after the
    // per-target ones.
    REQUIRE(chunks.size() >= whole.size() / (k_part + 4096));
    for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
      CAPTURE(i);
      CHECK(chunks[i] >= k_part);
      CHECK(chunks[i] < k_part + 4096);
    }
    CHECK(chunks.back() < k_part + std::size_t{64} * 1024);
  }
  client.send("/healthz");
  std::vector<std::uint64_t> none;
  CHECK(client.read(none).result_int() == 200);
  CHECK(none.empty());  // a body in one piece is not chunked
  CHECK(fixture.server->counters().responses_2xx == 3);
}

TEST_CASE("an HTTP/1.0 scrape gets the whole exposition with its length", "[api][metrics]") {
  const auto snapshot = fleet(500, 3);
  const std::string whole = render_metrics(*snapshot, ApiCounters{}, {});
  Fixture fixture(snapshot);
  const std::string answer = crosscheck::testing::raw_exchange(
      "127.0.0.1", fixture.port(), "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", k_wait);
  const auto end = answer.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const std::string head = answer.substr(0, end + 2);  // each header line with its CRLF
  INFO(head);
  CHECK(head.starts_with("HTTP/1.0 200 OK\r\n"));
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  const std::string body = answer.substr(end + 4);
  // A body cut short would be told by its length.
  CHECK(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(stable_part(body) == stable_part(whole));
  CHECK(body.find("process_open_fds ") != std::string::npos);  // complete: the last families
}

TEST_CASE("a scrape keeps the snapshot it reads while newer ones are published", "[api][metrics]") {
  // The path as sent or percent-encoded: the router decodes it, and the
  // scrape must own its snapshot either way (an encoded one once did not).
  for (const std::string target : {"/metrics", "/%6Detrics"}) {
    CAPTURE(target);
    // About 16 MB of text, far more than the sockets hold with the
    // client's small receive buffer and the server's send buffer (at most
    // 4 MB by default): most of it is made after the hub has moved on.
    auto snapshot = fleet(5'000, 1);
    const std::string whole = render_metrics(*snapshot, ApiCounters{}, {});
    const std::weak_ptr<const Snapshot> first = snapshot;
    Fixture fixture(std::move(snapshot));  // the hub holds the only reference
    Client client(fixture.port(), k_small_buffer);
    client.send(target);
    REQUIRE(client.read_header().result_int() == 200);
    fixture.hub.publish(fleet(1, 2));
    CHECK_FALSE(first.expired());  // the scrape holds it
    const std::string body = client.read_body();
    CHECK(stable_part(body) == stable_part(whole));
    // The server's own figures, whichever way the path was spelt (an
    // encoded one once showed them as zero).
    CHECK(body.find("\ncrosscheck_api_requests_total 1\n") != std::string::npos);
    CHECK(body.find("\nprocess_open_fds ") != std::string::npos);
    CHECK(eventually([&] { return first.expired(); }));  // and lets it go with the last part
  }
}

TEST_CASE("a scraper that stops reading is cut at the idle timeout, holding nothing",
          "[api][metrics]") {
  auto snapshot = fleet(5'000, 1);  // about 16 MB, as above
  const std::weak_ptr<const Snapshot> first = snapshot;
  Fixture fixture(std::move(snapshot), Setup{.idle_timeout = 1s});
  Client stuck(fixture.port(), k_small_buffer);
  stuck.send("/metrics");  // and never reads
  REQUIRE(eventually([&] { return fixture.server->counters().requests == 1; }));
  fixture.hub.publish(fleet(1, 2));
  {  // Meanwhile the server answers others (this one closes, never times out).
    Client other(fixture.port());
    other.send("/healthz");
    std::vector<std::uint64_t> chunks;
    CHECK(other.read(chunks).result_int() == 200);
  }
  // Cut within the idle timeout once the sockets' buffers are full, and the
  // snapshot it read released with it.
  CHECK(eventually([&] { return first.expired(); }));
  CHECK(fixture.server->counters().timeouts == 1);
}

// A scraper that sends nothing more and never reads: it holds a place
// while its body is being sent (about 16 MB with fleet(5'000)).
std::unique_ptr<Client> stalled_scrape(std::uint16_t port, const char* from,
                                       const std::string& token = {}) {
  auto client = std::make_unique<Client>(port, k_small_buffer, from);
  client->send("/metrics", token);
  return client;
}

// The answer to one more scrape on `client`'s connection: 200 (its header
// only: the body is left unread) or 503 with Retry-After (read whole, so
// the connection can ask again).
unsigned scrape_status(Client& client, const std::string& token = {}) {
  client.send("/metrics", token);
  const auto header = client.read_header();
  if (header.result_int() == 503) {
    CHECK(header[http::field::retry_after] == "1");
    client.read_body();
  }
  return header.result_int();
}

TEST_CASE("past 8 scrapes at once a ninth is answered 503 with Retry-After, 2 kept for tokens",
          "[api][metrics]") {
  Fixture fixture(fleet(5'000, 1), Setup{.idle_timeout = 60s});
  std::vector<std::unique_ptr<Client>> stuck;
  // Six without a token, two from each of three addresses: the places
  // anyone may take.
  for (const char* from : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    stuck.push_back(stalled_scrape(fixture.port(), from));
    stuck.push_back(stalled_scrape(fixture.port(), from));
  }
  // Each is counted as it is answered.
  REQUIRE(eventually([&] { return fixture.server->counters().responses_2xx == 6; }));
  Client anonymous(fixture.port(), 0, "127.0.0.5");
  CHECK(scrape_status(anonymous) == 503);
  CHECK(scrape_status(anonymous, "not-the-token") == 503);  // a wrong token is no token
  // A token holder gets one of the two kept places, and another the last.
  stuck.push_back(stalled_scrape(fixture.port(), "127.0.0.5", k_token));
  stuck.push_back(stalled_scrape(fixture.port(), "127.0.0.5", k_token));
  REQUIRE(eventually([&] { return fixture.server->counters().responses_2xx == 8; }));
  Client ninth(fixture.port(), 0, "127.0.0.6");
  CHECK(scrape_status(ninth, k_other_token) == 503);  // a token with none held: all 8 taken
  // One of them read to its end frees a place, for a token holder first:
  // the anonymous ones still fill theirs.
  std::vector<std::uint64_t> read;
  CHECK(stuck.back()->read(read).result_int() == 200);
  // The next request on that connection is read once the scrape has ended.
  stuck.back()->send("/healthz");
  CHECK(stuck.back()->read(read).result_int() == 200);
  CHECK(scrape_status(anonymous) == 503);
  CHECK(scrape_status(ninth, k_other_token) == 200);
}

TEST_CASE("one address without a token holds at most 2 scrapes at once", "[api][metrics]") {
  Fixture fixture(fleet(5'000, 1), Setup{.idle_timeout = 60s});
  auto first = stalled_scrape(fixture.port(), "127.0.0.2");
  auto second = stalled_scrape(fixture.port(), "127.0.0.2");
  REQUIRE(eventually([&] { return fixture.server->counters().requests == 2; }));
  Client third(fixture.port(), 0, "127.0.0.2");
  CHECK(scrape_status(third) == 503);
  Client elsewhere(fixture.port(), 0, "127.0.0.3");  // another address is not held back
  CHECK(scrape_status(elsewhere) == 200);
  Client with_token(fixture.port(), 0, "127.0.0.2");  // nor a token holder
  CHECK(scrape_status(with_token, k_token) == 200);
  // The address's places come back as its scrapes end.
  first.reset();
  second.reset();
  Client later(fixture.port(), 0, "127.0.0.2");
  CHECK(eventually([&] { return scrape_status(later) == 200; }));
}

TEST_CASE("a scrape not taken within the time limit is cut, holding nothing", "[api][metrics]") {
  auto snapshot = fleet(5'000, 1);  // about 16 MB
  const std::weak_ptr<const Snapshot> first = snapshot;
  // The idle timeout (a minute) would wait far longer than this test: the
  // whole body's limit (half a second) is what cuts it.
  Fixture fixture(std::move(snapshot), Setup{.idle_timeout = 60s, .max_stream_time = 500ms});
  Client slow(fixture.port(), k_small_buffer);
  slow.send("/metrics");
  REQUIRE(slow.read_header().result_int() == 200);
  fixture.hub.publish(fleet(1, 2));
  CHECK(eventually([&] { return first.expired(); }));
  CHECK(fixture.server->counters().timeouts == 1);
}

TEST_CASE("HTTP/1.0 scrapes, made whole, are sent one at a time", "[api][metrics]") {
  Fixture fixture(fleet(5'000, 1), Setup{.idle_timeout = 60s});
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  Client first(fixture.port(), k_small_buffer, "127.0.0.2");
  first.send_raw(request);  // and never reads
  REQUIRE(eventually([&] { return fixture.server->counters().responses_2xx == 1; }));
  Client second(fixture.port(), 0, "127.0.0.3");
  second.send_raw(request);
  std::vector<std::uint64_t> chunks;
  const auto refused = second.read(chunks);
  CHECK(refused.result_int() == 503);
  CHECK(refused[http::field::retry_after] == "1");
  Client chunked(fixture.port(), k_small_buffer, "127.0.0.3");  // HTTP/1.1 is not held back
  CHECK(scrape_status(chunked) == 200);
}

TEST_CASE("without any token every one of the 8 places is open to anyone", "[api][metrics]") {
  Fixture fixture(fleet(5'000, 1), Setup{.idle_timeout = 60s, .tokens = false});
  std::vector<std::unique_ptr<Client>> stuck;
  for (const char* from : {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}) {
    stuck.push_back(stalled_scrape(fixture.port(), from));
    stuck.push_back(stalled_scrape(fixture.port(), from));
  }
  REQUIRE(eventually([&] { return fixture.server->counters().responses_2xx == 8; }));
  Client ninth(fixture.port(), 0, "127.0.0.6");
  CHECK(scrape_status(ninth) == 503);
}

TEST_CASE("an HTTP/1.0 scrape past the whole-body limit gets 505 and the connection closes",
          "[api][metrics]") {
  constexpr std::size_t k_limit = std::size_t{12} << 20;
  const auto large = fleet(5'000, 1);
  const auto small = fleet(5'000, 2, false);  // as many targets, without evidence
  const auto fewer = fleet(4'999, 3, false);
  REQUIRE(render_metrics(*large, ApiCounters{}, {}).size() > k_limit);
  REQUIRE(render_metrics(*small, ApiCounters{}, {}).size() < k_limit);
  Fixture fixture(large, Setup{.max_whole_body = k_limit});
  // Two requests on one kept-alive connection: the refusal closes it.
  const std::string request =
      "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
  const auto exchange = [&] {
    return crosscheck::testing::raw_exchange("127.0.0.1", fixture.port(), request + request,
                                             k_wait);
  };
  std::string answer = exchange();
  CHECK(answer.starts_with("HTTP/1.0 505 "));
  CHECK(answer.find("HTTP/1.1") != std::string::npos);  // the way out, named
  CHECK(answer.find("HTTP/1.0 505 ", 1) == std::string::npos);
  CHECK(fixture.server->counters().responses_5xx == 1);
  // As many targets again: refused at once, though this text would fit.
  fixture.hub.publish(small);
  CHECK(exchange().starts_with("HTTP/1.0 505 "));
  // Fewer targets are tried again.
  fixture.hub.publish(fewer);
  answer = exchange();
  CHECK(answer.starts_with("HTTP/1.0 200 "));
  CHECK(answer.find("\nprocess_open_fds ") != std::string::npos);  // whole
  Client chunked(fixture.port());
  CHECK(scrape_status(chunked) == 200);
}
