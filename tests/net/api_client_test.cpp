// The CLI's synchronous façade over net::HttpClient: a signal ends a wait.
#include "net/api_client.hpp"

#include "support/fake_http_server.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

using crosscheck::net::ApiClient;
using crosscheck::net::ApiClientOptions;
using crosscheck::net::ApiFailure;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeResponse;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE("SIGINT ends a wait on a silent API as interrupted, long before the timeout",
          "[api_client]") {
  FakeHttpServer server;
  server.set("/v1/verdicts", FakeResponse::stall());
  std::string why;
  ApiClient client(*crosscheck::config::Url::parse(server.url("127.0.0.1", ""), &why),
                   ApiClientOptions{10s, {}, true, crosscheck::net::k_client_body_limit, {}});
  std::thread interrupter([&server] {
    for (int step = 0; step < 500 && server.request_count() == 0; ++step) {
      std::this_thread::sleep_for(10ms);  // polling a condition, bounded at 5 s
    }
    ::kill(::getpid(), SIGINT);
  });
  const auto started = std::chrono::steady_clock::now();
  const auto result = client.get("/v1/verdicts");
  interrupter.join();
  CHECK(result.failure == ApiFailure::Interrupted);
  CHECK(result.error == "interrupted");
  CHECK(client.interrupted());
  CHECK(std::chrono::steady_clock::now() - started < 8s);
  CHECK_FALSE(client.pause(10s));  // at once: the signal already came
  CHECK(client.get("/v1/verdicts").failure == ApiFailure::Interrupted);
}

TEST_CASE("an answer over the body limit is a protocol failure naming the limit", "[api_client]") {
  FakeHttpServer server;
  server.set("/big", FakeResponse::huge_body(5000));
  std::string why;
  const auto base = *crosscheck::config::Url::parse(server.url("127.0.0.1", ""), &why);
  ApiClient client(base, ApiClientOptions{3s, {}, false, 1000, {}});
  const auto result = client.get("/big");
  CHECK(result.failure == ApiFailure::Protocol);
  CHECK(result.error == "the answer from " + base.text + " is larger than 1000 bytes");
  const auto small = client.get("/");
  CHECK(small.ok());
  CHECK(small.body == "ok");
}
