#include "api/server.hpp"

#include "consensus/time_format.hpp"
#include "net/beast_names.hpp"
#include "net/verdict_signature.hpp"
#include "snapshot/hub.hpp"
#include "support/eventually.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::snapshot;
using namespace std::chrono_literals;
namespace cs = crosscheck::consensus;
using namespace crosscheck::net::beast_names;
namespace json = boost::json;
using Response = http::response<http::string_body>;
using SteadyClock = std::chrono::steady_clock;

constexpr auto k_wait = 2s;  // the longest any step below may take
const std::string k_token = "s3cret";

template <typename Condition>
bool eventually(Condition condition) {
  return crosscheck::testing::eventually(condition, k_wait);
}

SnapshotPtr snapshot_at(std::uint64_t revision) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = revision;
  snapshot->ready = true;
  snapshot->node = "oracle-a";
  TargetView view;
  view.verdict.target = "dynamodb-use1";
  view.verdict.kind = cs::VerdictKind::Healthy;
  view.verdict.generation = revision;
  snapshot->targets.push_back(view);
  return snapshot;
}

// ApiActions that records each call and completes it from a thread of its
// own (joined, never detached), or holds it until released.
class FakeActions final : public ApiActions {
 public:
  ~FakeActions() override { join(); }
  FakeActions() = default;
  FakeActions(const FakeActions&) = delete;
  FakeActions& operator=(const FakeActions&) = delete;
  FakeActions(FakeActions&&) = delete;
  FakeActions& operator=(FakeActions&&) = delete;

  void set_result(ActionResult result) {
    const std::lock_guard lock(mutex_);
    result_ = std::move(result);
  }
  void hold() {
    const std::lock_guard lock(mutex_);
    hold_ = true;
  }
  // Completes the held calls now, from this thread.
  void release() {
    std::vector<ActionCallback> held;
    ActionResult result;
    {
      const std::lock_guard lock(mutex_);
      held.swap(held_);
      result = result_;
    }
    for (auto& done : held) {
      done(result);
    }
  }
  void join() {
    std::vector<std::thread> threads;
    {
      const std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }
  std::vector<std::string> calls() const {
    const std::lock_guard lock(mutex_);
    return calls_;
  }
  // The thread that called us (the API's) and the one that completed.
  std::pair<std::thread::id, std::thread::id> threads() const {
    const std::lock_guard lock(mutex_);
    return {caller_, completer_};
  }

  void recheck(const Caller& caller, const std::string& target, std::chrono::milliseconds deadline,
               ActionCallback done) override {
    record(caller, "recheck " + target + " " + cs::format_duration(deadline), std::move(done));
  }
  void acknowledge(const Caller& caller, std::int64_t id, const std::string& by,
                   ActionCallback done) override {
    record(caller, "ack " + std::to_string(id) + " " + by, std::move(done));
  }
  void set_override(const Caller& caller, const std::string& target, const cs::Override& value,
                    ActionCallback done) override {
    record(caller,
           "override " + target + " " + std::string(cs::to_string(value.verdict)) + " " +
               value.reason + " " + cs::format_duration(value.expires_at - value.set_at) + " " +
               value.by,
           std::move(done));
  }
  void clear_override(const Caller& caller, const std::string& target,
                      ActionCallback done) override {
    record(caller, "clear " + target, std::move(done));
  }
  void set_maintenance(const Caller& caller, const std::string& target,
                       const cs::AdHocMaintenance& value, ActionCallback done) override {
    record(caller,
           "maintenance " + target + " " + value.reason + " " +
               cs::format_duration(value.expires_at - value.set_at) + " " + value.by,
           std::move(done));
  }
  void clear_maintenance(const Caller& caller, const std::string& target,
                         ActionCallback done) override {
    record(caller, "end maintenance " + target, std::move(done));
  }
  void gate_and_record(const Caller& caller, const GateAsk& ask, cs::ActionRequest action,
                       ActionCallback done) override {
    record(caller,
           "gate " + action.target + " " + std::string(cs::to_string(ask.expect)) + " " +
               std::string(cs::to_string(ask.for_)) + " " + action.what + " " + action.by,
           std::move(done));
  }
  void record_action(const Caller& caller, cs::ActionRequest action, ActionCallback done) override {
    record(caller, "action " + action.target + " " + action.what + " " + action.by,
           std::move(done));
  }
  void ack_action(const Caller& caller, const std::string& id, cs::ActionAck ack,
                  ActionCallback done) override {
    record(caller, "ack action " + id + " " + ack.by, std::move(done));
  }
  // Who made the latest call.
  Caller last_caller() const {
    const std::lock_guard lock(mutex_);
    return caller_info_;
  }

 private:
  void record(const Caller& caller, std::string call, ActionCallback done) {
    const std::lock_guard lock(mutex_);
    caller_info_ = caller;
    calls_.push_back(std::move(call));
    caller_ = std::this_thread::get_id();
    if (hold_) {
      held_.push_back(std::move(done));
      return;
    }
    threads_.emplace_back([this, done = std::move(done), result = result_]() {
      {
        const std::lock_guard completing(mutex_);
        completer_ = std::this_thread::get_id();
      }
      done(result);
    });
  }

  mutable std::mutex mutex_;
  ActionResult result_{200, "", "", nullptr, std::nullopt, std::nullopt, std::nullopt};
  bool hold_ = false;
  std::vector<ActionCallback> held_;
  Caller caller_info_;
  std::vector<std::string> calls_;
  std::vector<std::thread> threads_;
  std::thread::id caller_;
  std::thread::id completer_;
};

// A hub, fake actions and a server on 127.0.0.1:0 (destroyed in that order
// reversed: the server stops first).
struct Fixture {
  explicit Fixture(ApiServerOptions options = {}) {
    hub.publish(snapshot_at(1));
    actions.set_result(
        ActionResult{200, "", "", snapshot_at(1), std::nullopt, std::nullopt, std::nullopt});
    options.listen = crosscheck::config::Endpoint{
        *crosscheck::config::IpAddress::parse("127.0.0.1"), 0};  // any free port
    server = std::make_unique<ApiServer>(options, hub, actions);
    const auto started = server->start();
    INFO((started ? std::string() : started.error()));
    REQUIRE(started);
  }
  std::uint16_t port() const { return server->bound_endpoint().port; }

  SnapshotHub hub;
  FakeActions actions;
  std::unique_ptr<ApiServer> server;
};

ApiServerOptions with_token() {
  ApiServerOptions options;
  options.auth.tokens = {{"default", k_token, crosscheck::config::ScopeSet::all()}};
  return options;
}

http::request<http::string_body> make_request(http::verb verb, const std::string& target,
                                              std::string body = {},
                                              const std::string& authorization = {}) {
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) {
    request.set(http::field::authorization, authorization);
  }
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

// A small HTTP/1.1 client on one connection; every step bounded by k_wait.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(io_) {
    error_code ec = asio::error::would_block;
    stream_.expires_after(k_wait);
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](error_code result) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  void send(const http::request<http::string_body>& request) {
    error_code ec = asio::error::would_block;
    stream_.expires_after(k_wait);
    http::async_write(stream_, request, [&](error_code result, std::size_t) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  void send_raw(const std::string& bytes) {
    error_code ec = asio::error::would_block;
    stream_.expires_after(k_wait);
    asio::async_write(stream_, asio::buffer(bytes),
                      [&](error_code result, std::size_t) { ec = result; });
    run();
    REQUIRE_FALSE(ec);
  }

  Response read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    error_code ec = asio::error::would_block;
    stream_.expires_after(k_wait);
    http::async_read(stream_, buffer_, parser,
                     [&](error_code result, std::size_t) { ec = result; });
    run();
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return parser.release();
  }

  Response exchange(const http::request<http::string_body>& request) {
    send(request);
    return read();
  }

  // True when the server closes the connection (EOF or reset) within k_wait.
  bool closed() {
    error_code ec = asio::error::would_block;
    std::array<char, 256> scratch{};
    stream_.expires_after(k_wait);
    stream_.async_read_some(asio::buffer(scratch),
                            [&](error_code result, std::size_t) { ec = result; });
    run();
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

json::object body_of(const Response& response) {
  INFO(response.body());
  const json::value value = json::parse(response.body());
  REQUIRE(value.is_object());
  return value.as_object();
}

std::string error_of(const Response& response) {
  return std::string(body_of(response).at("error").as_string());
}

}  // namespace

TEST_CASE("the server answers several reads on one kept-alive connection", "[api]") {
  Fixture fixture;
  Client client(fixture.port());
  for (int i = 0; i < 2; ++i) {
    const Response response = client.exchange(make_request(http::verb::get, "/v1/verdicts"));
    CHECK(response.result_int() == 200);
    CHECK(response.keep_alive());
    CHECK(response[http::field::content_type] == "application/json");
    CHECK(response[http::field::cache_control] == "no-store");
    CHECK(body_of(response).at("verdicts").as_array().size() == 1);
  }
  auto conditional = make_request(http::verb::get, "/v1/verdicts/dynamodb-use1");
  const Response first = client.exchange(conditional);
  conditional.set(http::field::if_none_match, first[http::field::etag]);
  const Response again = client.exchange(conditional);
  CHECK(again.result_int() == 304);
  CHECK(again.body().empty());
  CHECK(client.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);

  const ApiCounters counters = fixture.server->counters();
  CHECK(counters.connections_accepted == 1);
  CHECK(counters.requests == 5);
  CHECK(counters.responses_2xx == 4);
  CHECK(counters.responses_3xx == 1);
}

namespace {

// Threads of this process whose nice value is `nice` (field 19 of
// /proc/self/task/TID/stat, counted after the command's closing parenthesis).
int threads_at_nice(int nice) {
  int count = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(task.path() / "stat");
    const std::string text((std::istreambuf_iterator<char>(stat)),
                           std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19 && std::stoi(field) == nice) {
        ++count;
      }
    }
  }
  return count;
}

}  // namespace

TEST_CASE("the API thread yields the CPU to probing: nice 5 above the process", "[api]") {
  errno = 0;
  const int process_nice = ::getpriority(PRIO_PROCESS, 0);
  REQUIRE(errno == 0);
  if (process_nice > 14) {
    WARN("not checked: the process already runs at nice " << process_nice);
    return;
  }
  const int before = threads_at_nice(process_nice + 5);
  Fixture fixture;
  Client client(fixture.port());
  // Answered, so the server's thread is running and has set its priority.
  REQUIRE(client.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);
  CHECK(threads_at_nice(process_nice + 5) == before + 1);
  CHECK(::getpriority(PRIO_PROCESS, 0) == process_nice);  // the process itself is untouched
}

TEST_CASE("an oversized header block is answered 431 and the connection closed", "[api]") {
  Fixture fixture;
  Client client(fixture.port());
  client.send_raw("GET /v1/verdicts HTTP/1.1\r\nHost: x\r\nX-Padding: " +
                  std::string(k_api_header_limit + 1, 'a') + "\r\n\r\n");
  const Response response = client.read();
  CHECK(response.result_int() == 431);
  CHECK(error_of(response) == "headers_too_large");
  CHECK_FALSE(response.keep_alive());
  CHECK(client.closed());
  CHECK(fixture.server->counters().oversized_headers == 1);
}

TEST_CASE("an oversized body is answered 413 and the connection closed", "[api]") {
  Fixture fixture(with_token());
  Client client(fixture.port());
  client.send_raw("PUT /v1/overrides/dynamodb-use1 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(k_api_body_limit + 1) + "\r\n\r\n" + std::string(4096, '{'));
  const Response response = client.read();
  CHECK(response.result_int() == 413);
  CHECK(error_of(response) == "payload_too_large");
  CHECK(client.closed());
  CHECK(fixture.server->counters().oversized_bodies == 1);
  CHECK(fixture.actions.calls().empty());
}

TEST_CASE("a malformed request is answered 400 and the connection closed", "[api]") {
  Fixture fixture;
  Client client(fixture.port());
  client.send_raw("this is not http\r\n\r\n");
  const Response response = client.read();
  CHECK(response.result_int() == 400);
  CHECK(error_of(response) == "bad_request");
  CHECK(client.closed());
  CHECK(fixture.server->counters().malformed_requests == 1);
}

TEST_CASE("at the cap a newcomer evicts the connection idle longest, never one mid-request",
          "[api]") {
  ApiServerOptions options;
  options.max_connections = 3;
  Fixture fixture(options);
  // fresh: never sends a byte. midway: half a request head. kept: one
  // answered request, then idle on its kept-alive connection.
  Client fresh(fixture.port());
  REQUIRE(eventually([&] { return fixture.server->active_connections() == 1; }));
  Client midway(fixture.port());
  midway.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  Client kept(fixture.port());
  CHECK(kept.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);
  REQUIRE(fixture.server->active_connections() == 3);

  // The cap is reached: the newcomer is served, the fresh one (waiting
  // since it connected, before `kept` was answered) is closed.
  Client fourth(fixture.port());
  CHECK(fourth.exchange(make_request(http::verb::get, "/v1/verdicts")).result_int() == 200);
  CHECK(fresh.closed());
  // Next in line: `kept`, idle since its answer (`fourth` since a later one).
  Client fifth(fixture.port());
  CHECK(fifth.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);
  CHECK(kept.closed());

  // The connection that was mid-request all along finishes it.
  midway.send_raw("\r\n");
  CHECK(midway.read().result_int() == 200);
  const ApiCounters counters = fixture.server->counters();
  CHECK(counters.connections_evicted == 2);
  CHECK(counters.connections_rejected == 0);
  CHECK(counters.connections_accepted == 5);
  CHECK(fixture.server->active_connections() == 3);
}

TEST_CASE("a connection over the cap is answered 503 only when none is evictable", "[api]") {
  ApiServerOptions options;
  options.max_connections = 2;
  Fixture fixture(options);
  // Both slots busy: one mid-request, one waiting on a long-poll (mid-answer).
  auto midway = std::make_unique<Client>(fixture.port());
  midway->send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  Client watching(fixture.port());
  watching.send(make_request(http::verb::get, "/v1/watch?since=1"));
  REQUIRE(eventually([&] { return fixture.hub.waiter_count() == 1; }));

  Client third(fixture.port());
  third.send(make_request(http::verb::get, "/healthz"));
  const Response refused = third.read();
  CHECK(refused.result_int() == 503);
  CHECK(refused[http::field::retry_after] == "1");
  CHECK(error_of(refused) == "overloaded");
  CHECK(third.closed());
  CHECK(fixture.server->counters().connections_rejected == 1);
  CHECK(fixture.server->counters().connections_evicted == 0);

  // Neither busy connection was harmed.
  fixture.hub.publish(snapshot_at(2));
  CHECK(watching.read().result_int() == 200);
  midway->send_raw("\r\n");
  CHECK(midway->read().result_int() == 200);

  midway.reset();  // a slot frees up
  REQUIRE(eventually([&] { return fixture.server->active_connections() == 1; }));
  Client fourth(fixture.port());
  CHECK(fourth.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);
  CHECK(fixture.server->counters().connections_rejected == 1);
}

TEST_CASE("the connection cap stays within the open-files limit minus a reserve", "[api]") {
  const auto [requested, open_files, expected] =
      GENERATE(table<std::size_t, std::uint64_t, std::size_t>({
          {4096, 65'536, 4096},
          {4096, 20'000, 4096},
          {4096, 4096 + k_api_fd_reserve, 4096},
          {4096, 4095 + k_api_fd_reserve, 4095},
          {4096, 1024, 1024 - k_api_fd_reserve},
          {4096, 256, 128},  // a small limit: half of it is the reserve
          {4096, 1, 1},
          {8, 20'000, 8},
      }));
  CAPTURE(requested, open_files);
  CHECK(api_connection_cap(requested, open_files) == expected);
}

TEST_CASE("a server takes the default cap bounded by this process's open-files limit", "[api]") {
  Fixture fixture;
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  CHECK(fixture.server->max_connections() ==
        api_connection_cap(k_default_max_connections, limit.rlim_cur));
}

TEST_CASE("a slow-loris client is cut at the request deadline while others are served at once",
          "[api]") {
  ApiServerOptions options;
  options.request_timeout = 400ms;
  Fixture fixture(options);

  // One byte every 50 ms of a header block that would take 10 s: each read
  // gets a byte well within any per-read timeout; only a deadline for the
  // whole request ends it.
  std::atomic<bool> cut{false};
  std::chrono::milliseconds cut_after{0};
  std::thread slow_loris([&] {
    asio::io_context io;
    tcp::socket socket(io);
    error_code ec;
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), fixture.port()), ec);
    if (ec) {
      return;
    }
    const std::string head = "GET /v1/verdicts HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
    const auto started = SteadyClock::now();
    for (const char byte : head) {
      asio::write(socket, asio::buffer(&byte, 1), ec);
      // Closed by the server: a write fails, or a read sees the end.
      std::array<char, 64> scratch{};
      socket.non_blocking(true);
      const std::size_t got = socket.read_some(asio::buffer(scratch), ec);
      socket.non_blocking(false);
      if ((ec && ec != asio::error::would_block) || got > 0) {
        cut_after =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
        cut = true;
        return;
      }
      if (SteadyClock::now() - started > 3s) {
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
  });

  // Meanwhile another client is answered promptly, request after request.
  Client other(fixture.port());
  auto slowest = SteadyClock::duration::zero();
  for (int i = 0; i < 20 && !cut; ++i) {
    const auto started = SteadyClock::now();
    CHECK(other.exchange(make_request(http::verb::get, "/v1/verdicts")).result_int() == 200);
    slowest = std::max(slowest, SteadyClock::now() - started);
    std::this_thread::sleep_for(25ms);
  }
  slow_loris.join();
  CHECK(cut);
  CAPTURE(cut_after.count());
  CHECK(cut_after >= 350ms);
  CHECK(cut_after < 1500ms);
  CHECK(slowest < 200ms);
  CHECK(fixture.server->counters().timeouts == 1);
}

TEST_CASE("an idle or dribbling connection is closed after the idle timeout", "[api]") {
  ApiServerOptions options;
  options.idle_timeout = 150ms;
  options.request_timeout = 150ms;
  Fixture fixture(options);
  Client idle(fixture.port());
  CHECK(idle.closed());
  Client dribbling(fixture.port());
  dribbling.send_raw("GET /v1/verdicts HTTP/1.1\r\nHost: x\r\n");
  CHECK(dribbling.closed());
  CHECK(eventually([&] { return fixture.server->counters().timeouts == 2; }));
  CHECK(eventually([&] { return fixture.server->active_connections() == 0; }));
}

TEST_CASE("tokens swapped while serving take effect at once and refusals are counted by reason",
          "[api][scopes]") {
  using crosscheck::config::ApiScope;
  crosscheck::config::ScopeSet read_only;
  read_only.add(ApiScope::Read);
  ApiServerOptions options;
  // A token with recheck exists, so the reader's recheck is 403 insufficient_scope.
  options.auth = ApiAuth{{{"reader", "old-secret", read_only},
                          {"operator", "op-secret", crosscheck::config::ScopeSet::all()}},
                         true};
  Fixture fixture(options);
  Client client(fixture.port());
  const auto get = [&](const std::string& authorization) {
    return client.exchange(make_request(http::verb::get, "/v1/verdicts", {}, authorization))
        .result_int();
  };
  CHECK(get("") == 401);
  CHECK(get("Bearer old-secret") == 200);
  CHECK(get("Bearer wrong") == 401);
  const Response refused = client.exchange(make_request(
      http::verb::post, "/v1/verdicts/dynamodb-use1/recheck", {}, "Bearer old-secret"));
  CHECK(refused.result_int() == 403);
  CHECK(error_of(refused) == "insufficient_scope");
  CHECK(refused[http::field::www_authenticate] ==
        R"(Bearer realm="crosscheck", error="insufficient_scope", scope="recheck")");
  fixture.server->set_auth(ApiAuth{{{"reader", "new-secret", read_only}}, true});
  // Now no token holds recheck: 403 disabled, whatever is presented.
  CHECK(client
            .exchange(make_request(http::verb::post, "/v1/verdicts/dynamodb-use1/recheck", {},
                                   "Bearer new-secret"))
            .result_int() == 403);
  CHECK(get("Bearer old-secret") == 401);
  CHECK(get("Bearer new-secret") == 200);
  const ApiCounters counters = fixture.server->counters();
  CHECK(counters.auth_missing == 1);
  CHECK(counters.auth_invalid == 2);
  CHECK(counters.auth_insufficient_scope == 1);
  CHECK(counters.auth_disabled == 1);
  CHECK(fixture.actions.calls().empty());
}

TEST_CASE("writes need the configured bearer token", "[api]") {
  const auto recheck = [](const std::string& authorization) {
    return make_request(http::verb::post, "/v1/verdicts/dynamodb-use1/recheck", {}, authorization);
  };
  SECTION("no token configured: 403, whatever is presented") {
    Fixture fixture;
    Client client(fixture.port());
    const Response response = client.exchange(recheck("Bearer " + k_token));
    CHECK(response.result_int() == 403);
    CHECK(error_of(response) == "writes_disabled");
    CHECK(fixture.actions.calls().empty());
  }
  SECTION("no or a wrong token: 401 with a Bearer challenge") {
    Fixture fixture(with_token());
    Client client(fixture.port());
    Response response = client.exchange(recheck(""));
    CHECK(response.result_int() == 401);
    CHECK(response[http::field::www_authenticate] == R"(Bearer realm="crosscheck")");
    response = client.exchange(recheck("Bearer " + k_token + "x"));
    CHECK(response.result_int() == 401);
    CHECK(error_of(response) == "unauthorized");
    response = client.exchange(recheck("Basic " + k_token));
    CHECK(response.result_int() == 401);
    CHECK(fixture.actions.calls().empty());
  }
  SECTION("the right token: ApiActions runs and its answer comes back from its thread") {
    Fixture fixture(with_token());
    Client client(fixture.port());
    const Response response = client.exchange(recheck("Bearer " + k_token));
    CHECK(response.result_int() == 200);
    CHECK(body_of(response).at("target").as_string() == "dynamodb-use1");
    CHECK(fixture.actions.calls() == std::vector<std::string>{"recheck dynamodb-use1 5s"});
    // The audit log's who and from where.
    CHECK(fixture.actions.last_caller().principal == "default");
    CHECK_THAT(fixture.actions.last_caller().client, Catch::StartsWith("127.0.0.1:"));
    const auto [caller, completer] = fixture.actions.threads();
    CHECK(caller != completer);
    CHECK(caller != std::this_thread::get_id());
  }
}

TEST_CASE("overrides and acknowledgements go through ApiActions and answer its result", "[api]") {
  Fixture fixture(with_token());
  Client client(fixture.port());
  const std::string bearer = "Bearer " + k_token;
  Response response = client.exchange(make_request(
      http::verb::put, "/v1/overrides/dynamodb-use1",
      R"({"verdict": "unhealthy", "reason": "drill", "ttl": "30m", "by": "alice"})", bearer));
  CHECK(response.result_int() == 200);
  response = client.exchange(
      make_request(http::verb::post, "/v1/escalations/12/ack", R"({"by": "bob"})", bearer));
  CHECK(response.result_int() == 200);
  CHECK(body_of(response).at("acknowledged").as_bool());
  response =
      client.exchange(make_request(http::verb::delete_, "/v1/overrides/dynamodb-use1", {}, bearer));
  CHECK(response.result_int() == 200);
  fixture.actions.set_result(ActionResult{429, "rate_limited", "rechecked 1s ago", nullptr,
                                          std::nullopt, std::nullopt, std::nullopt});
  response = client.exchange(
      make_request(http::verb::post, "/v1/verdicts/dynamodb-use1/recheck?timeout=2s", {}, bearer));
  CHECK(response.result_int() == 429);
  CHECK(response[http::field::retry_after] == "1");
  CHECK(fixture.actions.calls() ==
        std::vector<std::string>{"override dynamodb-use1 unhealthy drill 30m alice", "ack 12 bob",
                                 "clear dynamodb-use1", "recheck dynamodb-use1 2s"});
}

TEST_CASE("a write the service never completes is answered 504 after its deadline", "[api]") {
  Fixture fixture(with_token());
  fixture.actions.hold();
  Client client(fixture.port());
  const Response response = client.exchange(
      make_request(http::verb::post, "/v1/verdicts/dynamodb-use1/recheck?timeout=100ms", {},
                   "Bearer " + k_token));
  CHECK(response.result_int() == 504);
  CHECK(fixture.server->counters().action_timeouts == 1);
  fixture.actions.release();  // too late: dropped, the connection serves on
  CHECK(client.exchange(make_request(http::verb::get, "/healthz")).result_int() == 200);
}

TEST_CASE("a watch returns as soon as a newer snapshot is published from another thread", "[api]") {
  Fixture fixture;
  Client client(fixture.port());
  client.send(make_request(http::verb::get, "/v1/watch?since=1"));
  std::thread publisher([&] {
    if (eventually([&] { return fixture.hub.waiter_count() == 1; })) {
      fixture.hub.publish(snapshot_at(2));
    }
  });
  const auto started = SteadyClock::now();
  const Response response = client.read();
  publisher.join();
  CHECK(response.result_int() == 200);
  CHECK(body_of(response).at("revision").as_int64() == 2);
  CHECK(SteadyClock::now() - started < k_wait);
}

TEST_CASE("a watch with nothing newer answers 204 when its wait is over", "[api]") {
  ApiServerOptions options;
  options.max_watch_wait = 100ms;  // caps the 20s asked for below
  Fixture fixture(options);
  Client client(fixture.port());
  const auto started = SteadyClock::now();
  Response response =
      client.exchange(make_request(http::verb::get, "/v1/watch?since=1&timeout=20s"));
  CHECK(response.result_int() == 204);
  CHECK(SteadyClock::now() - started >= 100ms);
  response = client.exchange(make_request(http::verb::get, "/v1/watch?since=0"));
  CHECK(response.result_int() == 200);  // already newer: at once
  CHECK(fixture.hub.waiter_count() == 0);
}

TEST_CASE("stop closes connections, forgets watches and drops late completions", "[api]") {
  Fixture fixture(with_token());
  fixture.actions.hold();
  Client writer(fixture.port());
  writer.send(make_request(http::verb::post, "/v1/verdicts/dynamodb-use1/recheck", {},
                           "Bearer " + k_token));
  Client watcher(fixture.port());
  watcher.send(make_request(http::verb::get, "/v1/watch?since=1"));
  REQUIRE(eventually([&] { return fixture.actions.calls().size() == 1; }));
  REQUIRE(eventually([&] { return fixture.hub.waiter_count() == 1; }));
  fixture.server->stop();
  CHECK(fixture.hub.waiter_count() == 0);
  CHECK(writer.closed());
  CHECK(watcher.closed());
  fixture.actions.release();            // after stop: must be dropped safely
  fixture.hub.publish(snapshot_at(2));  // no waiter left to wake
  fixture.server->stop();               // idempotent
}

TEST_CASE("the hub refuses waiters past its cap and wakes the rest on publish", "[api]") {
  asio::io_context io;
  SnapshotHub hub;
  std::size_t woken = 0;
  std::size_t refused = 0;
  for (std::size_t i = 0; i < SnapshotHub::k_max_waiters; ++i) {
    hub.wait_newer(0, io.get_executor(), 10s, [&](SnapshotPtr snapshot) {
      if (snapshot && snapshot->revision == 3) {
        ++woken;
      }
    });
  }
  hub.wait_newer(0, io.get_executor(), 10s, [&](SnapshotPtr snapshot) {
    if (!snapshot) {
      ++refused;
    }
  });
  io.poll();
  CHECK(refused == 1);
  CHECK(hub.waiter_count() == SnapshotHub::k_max_waiters);
  hub.publish(snapshot_at(3));
  io.run();  // completions and timer cancellations only: returns at once
  CHECK(woken == SnapshotHub::k_max_waiters);
  CHECK(hub.waiter_count() == 0);

  std::optional<std::uint64_t> timed_out;
  hub.wait_newer(3, io.get_executor(), 20ms,
                 [&](SnapshotPtr snapshot) { timed_out = snapshot ? snapshot->revision : 0; });
  io.restart();
  io.run();  // the 20 ms timer is the only work
  CHECK(timed_out == 3u);

  bool called = false;
  hub.wait_newer(3, io.get_executor(), 10s, [&](SnapshotPtr) { called = true; });
  hub.forget_waiters(io);
  io.restart();
  io.run();
  CHECK_FALSE(called);
  CHECK(hub.waiter_count() == 0);
}

TEST_CASE("bearer tokens match only exactly and only with the Bearer scheme", "[api]") {
  CHECK(bearer_token_matches("Bearer s3cret", "s3cret"));
  CHECK(bearer_token_matches("bearer s3cret", "s3cret"));
  CHECK(bearer_token_matches("Bearer  s3cret ", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Bearer s3cre", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Bearer s3cretx", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Basic s3cret", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Bearers3cret", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Bearer ", "s3cret"));
  CHECK_FALSE(bearer_token_matches("", "s3cret"));
  CHECK_FALSE(bearer_token_matches("Bearer ", ""));
}

namespace {

// The signature header of `response` verified with `key` against
// `target`: the oracle name, or the error.
std::string verified(const Response& response, const crosscheck::config::Ed25519Key& key,
                     const std::string& target) {
  const auto oracle = crosscheck::net::verify_verdict(
      std::string(response[crosscheck::net::k_verdict_signature_header]), key, target,
      response.body());
  return oracle ? "ok " + *oracle : oracle.error();
}

}  // namespace

TEST_CASE("with a signer every /v1/verdicts answer is signed over its target and body", "[api]") {
  const auto key_pair = [](unsigned char seed) {
    crosscheck::config::SigningKey key;
    key.private_key.fill(seed);
    // The public half as OpenSSL derives it from the seed.
    std::size_t size = key.public_key.size();
    EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.private_key.data(),
                                                  key.private_key.size());
    REQUIRE(pkey != nullptr);
    REQUIRE(EVP_PKEY_get_raw_public_key(pkey, key.public_key.data(), &size) == 1);
    EVP_PKEY_free(pkey);
    return key;
  };
  const auto first = key_pair(1);
  const auto second = key_pair(2);
  ApiServerOptions options = with_token();
  options.signer = std::make_shared<crosscheck::net::VerdictSigner>(first, "oracle-a");
  Fixture fixture(options);
  Client client(fixture.port());
  for (const std::string target :
       {"/v1/verdicts/dynamodb-use1?expect=healthy", "/v1/verdicts/dynamodb-use1", "/v1/verdicts",
        "/v1/verdicts?x=1", "/v1/verdicts/nope?expect=healthy"}) {
    const Response response = client.exchange(make_request(http::verb::get, target));
    INFO(target);
    CHECK(verified(response, first.public_key, target) == "ok oracle-a");
    // Another target's question is not this answer's.
    CHECK(verified(response, first.public_key, target + "&") != "ok oracle-a");
  }
  const std::string recheck = "/v1/verdicts/dynamodb-use1/recheck";
  Response response =
      client.exchange(make_request(http::verb::post, recheck, {}, "Bearer " + k_token));
  CHECK(response.result_int() == 200);
  CHECK(verified(response, first.public_key, recheck) == "ok oracle-a");
  // Other routes are not signed.
  response = client.exchange(make_request(http::verb::get, "/v1/vantages"));
  CHECK(response[crosscheck::net::k_verdict_signature_header].empty());
  response = client.exchange(make_request(http::verb::get, "/v1/verdictsx"));
  CHECK(response[crosscheck::net::k_verdict_signature_header].empty());
  // A reload rotates the key; without one the answers are unsigned.
  fixture.server->set_signer(std::make_shared<crosscheck::net::VerdictSigner>(second, "oracle-a"));
  response = client.exchange(make_request(http::verb::get, "/v1/verdicts"));
  CHECK(verified(response, second.public_key, "/v1/verdicts") == "ok oracle-a");
  CHECK(verified(response, first.public_key, "/v1/verdicts").starts_with("signed by key "));
  // A malformed request after a signed one: its 400 is not signed as the
  // answer to the request before it.
  client.send_raw("this is not http\r\n\r\n");
  response = client.read();
  CHECK(response.result_int() == 400);
  CHECK(response[crosscheck::net::k_verdict_signature_header].empty());
  Client again(fixture.port());
  fixture.server->set_signer(nullptr);
  response = again.exchange(make_request(http::verb::get, "/v1/verdicts"));
  CHECK(verified(response, second.public_key, "/v1/verdicts") ==
        "no X-Crosscheck-Verdict-Signature header");
}
