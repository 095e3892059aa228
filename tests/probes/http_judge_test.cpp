#include "probes/http_judge.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck;
using probes::HttpResponseFacts;
using probes::ReachFailure;

namespace {

config::Url url(const std::string& text) {
  std::string why;
  auto parsed = config::Url::parse(text, &why);
  INFO(why);
  REQUIRE(parsed);
  return *parsed;
}

config::HttpCheck check_of(const std::string& text) {
  config::HttpCheck check;
  check.url = url(text);
  return check;
}

HttpResponseFacts response(int status, std::string_view reason, std::string_view body = "") {
  HttpResponseFacts facts;
  facts.status = status;
  facts.reason = reason;
  facts.body = body;
  return facts;
}

}  // namespace

TEST_CASE("a judged response says its kind, status and body size without any socket", "[http]") {
  auto check = check_of("http://service.test/health");
  check.expect_status = {200, 204};
  auto judged = probes::judge_response(check, check.url, response(503, "Busy", "no"), 0, {});
  CHECK(judged.result.failure == ReachFailure::HttpStatus);
  CHECK(judged.result.outcome() == consensus::Outcome::Down);
  CHECK(judged.result.layer() == consensus::Layer::Http);
  CHECK(judged.result.http_status == 503);
  CHECK(judged.result.body_bytes == 2);
  CHECK(judged.result.detail == "http: 503 Busy, expected 200 or 204");
  CHECK_FALSE(judged.follow);

  judged = probes::judge_response(check, check.url, response(204, "No Content"), 0, {});
  CHECK(judged.result.up());
  CHECK(judged.result.detail == "http: 204 No Content");
}

TEST_CASE("a body expectation fails as HttpBody, or as the observer's when it cannot run",
          "[http]") {
  auto check = check_of("http://service.test/");
  check.expect_body = "ready";
  auto facts = response(200, "OK", "starting");
  facts.body_truncated = true;
  check.max_body_bytes = 8;
  auto judged = probes::judge_response(check, check.url, facts, 0, {});
  CHECK(judged.result.failure == ReachFailure::HttpBody);
  CHECK(judged.result.detail ==
        "http: 200 OK, body does not contain 'ready', body truncated at 8 bytes");

  check.body_regex = true;
  check.expect_body = "(";
  judged = probes::judge_response(check, check.url, facts, 0, {});
  CHECK(judged.result.failure == ReachFailure::ObserverBodyCheck);
  CHECK(judged.result.observer_error());
}

TEST_CASE("a followable redirect is followed within the origin and five hops", "[http]") {
  auto check = check_of("https://service.test/a/b?x=1");
  check.follow_redirects = true;
  auto facts = response(302, "Found");
  facts.location = "c";
  auto judged = probes::judge_response(check, check.url, facts, 0, {});
  REQUIRE(judged.follow);
  CHECK(judged.follow->target == "/a/c");
  CHECK(judged.follow->text == "https://service.test/a/c");

  judged = probes::judge_response(check, check.url, facts, 5, {});
  CHECK_FALSE(judged.follow);
  CHECK(judged.result.failure == ReachFailure::HttpRedirect);
  CHECK(judged.result.detail == "http: 302 Found, more than 5 redirects");

  facts.location = "https://elsewhere.test/";
  judged = probes::judge_response(check, check.url, facts, 0, {});
  CHECK(judged.result.failure == ReachFailure::HttpRedirect);
  CHECK(judged.result.detail ==
        "http: redirect to other origin https://elsewhere.test/ not followed");
}

TEST_CASE("an HTTPS success names the TLS version and the certificate's days left", "[http]") {
  const auto check = check_of("https://service.test/");
  const auto days = GENERATE(table<int, std::string>({
      {89, "http: 200 OK, TLSv1.3, certificate expires in 89 days"},
      {1, "http: 200 OK, TLSv1.3, certificate expires in 1 day"},
      {-2, "http: 200 OK, TLSv1.3, certificate expired 2 days ago"},
  }));
  const probes::TlsInfo tls{"TLSv1.3", std::get<0>(days)};
  const auto judged = probes::judge_response(check, check.url, response(200, "OK"), 0, tls);
  CHECK(judged.result.up());
  CHECK(judged.result.detail == std::get<1>(days));
}
