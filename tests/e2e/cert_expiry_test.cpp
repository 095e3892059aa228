// Certificate expiry end to end (docs/checks.md "Certificates"): an https
// target whose certificate ends in 5 days, under tls.min_days 14, opens a
// cert_expiring escalation while the verdict stays healthy; the notAfter is
// in /metrics, the verdict, `crosscheck status` and `explain`; a renewed
// certificate (a server restarted with a new one) resolves it.
#include "oracle_harness.hpp"
#include "support/cli_run.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace crosscheck;
using crosscheck::testing::FakeCertificate;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeHttpServerOptions;
using crosscheck::testing::FakeResponse;
using crosscheck::testing::FakeTlsOptions;
using crosscheck::testing::OracleHarness;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<FakeHttpServer> shop_server(int valid_days) {
  FakeHttpServerOptions options;
  options.tls = FakeTlsOptions{FakeCertificate::SelfSigned, "shop.test", valid_days};
  auto server = std::make_unique<FakeHttpServer>(options);
  server->set("/", FakeResponse::with_status(200, "ok"));
  return server;
}

// The escalations of `kind` about shop, open (true) or resolved.
std::vector<json::object> escalations(const OracleHarness& oracle, const std::string& kind) {
  std::vector<json::object> out;
  boost::system::error_code ec;
  const auto body = json::parse(oracle.get("/v1/escalations").body, ec);
  if (ec || !body.is_object() || !body.as_object().contains("escalations")) {
    return out;
  }
  for (const auto& item : body.at("escalations").as_array()) {
    if (item.at("kind") == kind.c_str() && item.at("target") == "shop") {
      out.push_back(item.as_object());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a certificate under tls.min_days opens cert_expiring, never a vote, and renewal ends it",
          "[e2e][cert]") {
  auto shop = shop_server(5);
  OracleHarness oracle;
  // A second target after `web` (the harness writes it last): https to the
  // fake on an IP, verification off (a self-signed certificate), 14 days.
  oracle.append_config(
      "  - name: shop\n"
      "    http: { url: \"" +
      shop->url("127.0.0.1", "/") +
      "\", tls_verify: false }\n"
      "    tls: { min_days: 14 }\n");
  oracle.start();
  REQUIRE(oracle.wait_for_verdict("healthy", "shop"));
  REQUIRE(OracleHarness::wait_for([&] { return !escalations(oracle, "cert_expiring").empty(); }));
  const auto opened = escalations(oracle, "cert_expiring").front();
  CHECK_THAT(std::string(opened.at("reason").as_string()),
             Catch::StartsWith("the TLS certificate expires in 4 days (notAfter "));
  CHECK_THAT(std::string(opened.at("reason").as_string()), Catch::EndsWith("; tls.min_days is 14"));
  // Not a vote: shop stays healthy, every domain up; web has no certificate.
  const auto verdict = oracle.verdict("shop");
  CHECK(verdict.at("verdict") == "healthy");
  CHECK(verdict.at("votes").at("up").to_number<int>() == 3);
  CHECK(verdict.at("cert_not_after").is_string());
  CHECK(oracle.verdict("web").at("cert_not_after").is_null());
  for (const auto& item : verdict.at("evidence").as_array()) {
    CHECK(item.at("cert_not_after") == verdict.at("cert_not_after"));
  }

  const auto metrics = oracle.get("/metrics").body;
  const auto not_after = testing::metric_sample(
      metrics, R"(crosscheck_tls_cert_expiry_seconds{target="shop",vantage="alpha"})");
  REQUIRE(not_after);
  const auto now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(*not_after - now > 5 * 86400 - 600);
  CHECK(*not_after - now <= 5 * 86400);
  CHECK(metrics.find(R"(crosscheck_tls_cert_expiry_seconds{target="web")") == std::string::npos);
  CHECK(testing::metric_sample(metrics, R"(crosscheck_escalations_open{kind="cert_expiring"})") ==
        1);

  const auto status = testing::run_cli_captured({"status", "--api", oracle.oracle_url()});
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("LAYER  CERT  REASON"));
  CHECK_THAT(status.out, Catch::Matches("(.|\n)*\nshop +healthy +- +.+ +3/0/0 +- +4d +3 of 3 "
                                        "domains up(.|\n)*"));
  const auto explain = testing::run_cli_captured({"explain", "shop", "--api", oracle.oracle_url()});
  CHECK_THAT(explain.out, Catch::Contains("      cert      expires in 4 days (notAfter "));

  // The server restarts with a renewed certificate, on another port, and
  // the config follows it (a reload, which starts the target's votes
  // afresh): the escalation stays the one open episode (an hour of renewed
  // certificates resolves it), and the metric follows the new certificate.
  const auto key = std::string(opened.at("key").as_string());
  auto renewed = shop_server(90);
  const auto rewrite = [&](const std::string& from, const std::string& to) {
    std::ifstream in(oracle.config_path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(oracle.config_path()) << text;
  };
  rewrite(shop->url("127.0.0.1", "/"), renewed->url("127.0.0.1", "/"));
  shop.reset();
  oracle.reload();
  REQUIRE(OracleHarness::wait_for([&] {
    const auto sample = testing::metric_sample(
        oracle.get("/metrics").body,
        R"(crosscheck_tls_cert_expiry_seconds{target="shop",vantage="alpha"})");
    return sample && *sample - now > 80 * 86400;
  }));
  auto open = escalations(oracle, "cert_expiring");
  REQUIRE(open.size() == 1);
  CHECK(open.front().at("key") == key.c_str());

  // tls.min_days removed by a reload: resolved at once, and the reason says why.
  rewrite("    tls: { min_days: 14 }\n", "");
  oracle.reload();
  REQUIRE(OracleHarness::wait_for([&] { return escalations(oracle, "cert_expiring").empty(); }));
  CHECK(oracle.verdict("shop").at("verdict") == "healthy");
  const auto later = oracle.get("/metrics").body;
  CHECK(testing::metric_sample(later, R"(crosscheck_escalations_open{kind="cert_expiring"})") == 0);
}
