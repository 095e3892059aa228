// net::HttpClient with a context from a `tls:` block (net/tls_client.hpp)
// against `openssl s_server` on 127.0.0.1, certificates made by the test with
// the openssl command line: a pinned CA, expiry, the server's name and a
// client certificate each decide the handshake, and a refusal says why.
#include "net/http_client.hpp"
#include "net/tls_client.hpp"
#include "support/child_process.hpp"
#include "support/test_pki.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace {

using crosscheck::config::IpAddress;
using crosscheck::config::TlsClientConfig;
using crosscheck::config::Url;
using crosscheck::net::HttpClient;
using crosscheck::net::HttpClientOptions;
using crosscheck::net::HttpFailure;
using crosscheck::net::HttpRequest;
using crosscheck::net::HttpResult;
using crosscheck::net::TlsRefusal;
using crosscheck::testing::TempDir;
using crosscheck::testing::TestCertificate;
using crosscheck::testing::TestPki;
using crosscheck::testing::TlsTestServer;
using namespace std::chrono_literals;

// The shared world: a CA the client pins, another CA it does not know, and
// the leaves each test server presents.
struct World {
  TempDir dir;
  TestPki pki{dir.path()};
  TestCertificate ca = pki.ca("peers-ca");
  TestCertificate other_ca = pki.ca("other-ca");
  TestCertificate good = pki.leaf("oracle-b", ca, "IP:127.0.0.1,DNS:oracle-b.test");
  std::filesystem::path log(const std::string& name) const { return dir.path() / (name + ".log"); }
};

// One GET of `url` (connected at 127.0.0.1) through a context built from `tls`.
HttpResult get(const std::string& url, const TlsClientConfig& tls) {
  auto context = crosscheck::net::make_client_tls_context(tls);
  REQUIRE(context);
  boost::asio::io_context io;
  HttpClientOptions options;
  options.tls = *context;
  HttpClient client(io, options);
  HttpRequest request;
  std::string why;
  request.url = *Url::parse(url, &why);
  request.address = *IpAddress::parse("127.0.0.1");
  request.deadline = std::chrono::steady_clock::now() + 5s;
  std::optional<HttpResult> result;
  client.request(std::move(request), [&](HttpResult answer) { result = std::move(answer); });
  io.run();
  REQUIRE(result);
  return *result;
}

TlsClientConfig pinned(const TestCertificate& ca) {
  TlsClientConfig tls;
  tls.ca_file = ca.cert;
  return tls;
}

}  // namespace

TEST_CASE("a server whose chain leads to the pinned CA is accepted", "[tls_pinning]") {
  World world;
  TlsTestServer server(world.good, world.log("server"));
  const auto by_ip = get(server.url(), pinned(world.ca));
  CHECK(by_ip.ok());
  CHECK(by_ip.status == 200);
  CHECK(by_ip.tls_refusal == TlsRefusal::None);
  const auto by_name = get(server.url("oracle-b.test"), pinned(world.ca));
  CHECK(by_name.status == 200);
}

TEST_CASE("a server certificate from another CA is refused as tls_unknown_ca", "[tls_pinning]") {
  World world;
  const auto stranger = world.pki.leaf("stranger", world.other_ca, "IP:127.0.0.1");
  TlsTestServer server(stranger, world.log("server"));
  const auto result = get(server.url(), pinned(world.ca));
  CHECK(result.failure == HttpFailure::Tls);
  CHECK(result.tls_refusal == TlsRefusal::UnknownCa);
  CHECK(crosscheck::net::to_string(result.tls_refusal) == "tls_unknown_ca");
  CHECK(result.error.find("certificate verify failed") != std::string::npos);
  // The pin replaces the system store: the other CA is not trusted either way.
  CHECK(get(server.url(), pinned(world.other_ca)).status == 200);
}

TEST_CASE("an expired server certificate is refused as tls_expired", "[tls_pinning]") {
  World world;
  const auto expired = world.pki.leaf("old", world.ca, "IP:127.0.0.1", true);
  TlsTestServer server(expired, world.log("server"));
  const auto result = get(server.url(), pinned(world.ca));
  CHECK(result.failure == HttpFailure::Tls);
  CHECK(result.tls_refusal == TlsRefusal::Expired);
  CHECK(result.error.find("expired") != std::string::npos);
}

TEST_CASE("a server certificate for another name is refused as tls_wrong_name", "[tls_pinning]") {
  World world;
  TlsTestServer server(world.good, world.log("server"));
  const auto result = get(server.url("oracle-c.test"), pinned(world.ca));
  CHECK(result.failure == HttpFailure::Tls);
  CHECK(result.tls_refusal == TlsRefusal::WrongName);
  const auto wrong_ip = get(server.url("127.0.0.2"), pinned(world.ca));
  CHECK(wrong_ip.tls_refusal == TlsRefusal::WrongName);
}

TEST_CASE("a server requiring a client certificate refuses none and accepts ours",
          "[tls_pinning]") {
  World world;
  const auto client_ca = world.pki.ca("clients-ca");
  TlsTestServer server(world.good, world.log("server"), client_ca.cert);

  const auto without = get(server.url(), pinned(world.ca));
  CHECK(without.failure == HttpFailure::Tls);
  CHECK(without.tls_refusal == TlsRefusal::ClientCert);
  CHECK(without.error.find("refused our client certificate") != std::string::npos);

  auto tls = pinned(world.ca);
  const auto ours = world.pki.leaf("oracle-a", client_ca, "DNS:oracle-a.test");
  tls.cert_file = ours.cert;
  tls.key_file = ours.key;
  const auto with = get(server.url(), tls);
  CHECK(with.ok());
  CHECK(with.status == 200);

  // A certificate the server's CA did not issue is refused too.
  const auto foreign = world.pki.leaf("foreign", world.other_ca, "DNS:oracle-a.test");
  tls.cert_file = foreign.cert;
  tls.key_file = foreign.key;
  CHECK(get(server.url(), tls).tls_refusal == TlsRefusal::ClientCert);
}

TEST_CASE("a tls block whose files are unusable builds no context", "[tls_pinning]") {
  World world;
  TlsClientConfig tls;
  tls.cert_file = world.good.cert;
  tls.key_file = world.ca.key;  // another key
  const auto mismatched = crosscheck::net::make_client_tls_context(tls);
  REQUIRE_FALSE(mismatched);
  CHECK(mismatched.error().find("does not match") != std::string::npos);

  tls = TlsClientConfig{};
  tls.ca_file = world.ca.key;  // a key, no certificate
  const auto no_ca = crosscheck::net::make_client_tls_context(tls);
  REQUIRE_FALSE(no_ca);
  CHECK(no_ca.error().find("holds no PEM certificate") != std::string::npos);
}
