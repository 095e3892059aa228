// An in-process HTTP/HTTPS server for the lab and the tests: it listens on a
// loopback address (port 0) on its own thread, answers each path as told and
// records what clients sent. Certificates are made at run time; nothing here reads files.
#pragma once

#include "config/types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crosscheck::lab {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What the server does with a request for one path.
struct FakeResponse {
  enum class Action : std::uint8_t {
    Respond,   // status, headers and body at once
    Stall,     // read the request, never answer (the connection stays open)
    Reset,     // read the request, then close with SO_LINGER 0 (RST)
    SlowBody,  // send the head at once, then one body byte per `byte_interval`
  };
  Action action = Action::Respond;
  int status = 200;
  std::string body = "ok";
  HeaderList headers;
  std::chrono::milliseconds byte_interval{0};
  std::string reason{};  // the status line's reason phrase; empty: the standard one

  // `status` with `body`, e.g. with_status(503, "down").
  static FakeResponse with_status(int status, std::string body = {});
  // `status` (3xx) with a Location header and no body.
  static FakeResponse redirect(std::string location, int status = 302);
  static FakeResponse stall();
  static FakeResponse reset();
  // 200 whose body trickles one byte every `interval`.
  static FakeResponse slow_body(std::string body, std::chrono::milliseconds interval);
  // 200 with a Content-Length body of `bytes` bytes ('x').
  static FakeResponse huge_body(std::size_t bytes);
};

// The certificate an HTTPS fake serves.
enum class FakeCertificate : std::uint8_t {
  SelfSigned,       // its own issuer: no trust store accepts it
  CaSigned,         // issued by the server's test CA (see ca_pem())
  ExpiredCaSigned,  // issued by the test CA, notAfter yesterday
};

struct FakeTlsOptions {
  FakeCertificate certificate = FakeCertificate::SelfSigned;
  std::string host = "service.test";  // subjectAltName DNS name; the listen IP is added
  int valid_days = 90;                // from now (ignored when expired)
};

struct FakeHttpServerOptions {
  std::string address = "127.0.0.1";  // a loopback address
  std::optional<FakeTlsOptions> tls;  // plain HTTP when empty
};

// One request as the server saw it.
struct RecordedRequest {
  std::string method;
  std::string target;
  std::string host;          // the Host header
  std::string sni;           // the TLS server name, empty for plain HTTP or none sent
  std::string peer_address;  // the client's source address
  HeaderList headers;
  std::string body;  // up to the server's request body limit
  int status = 0;    // the status it was answered with (0: stalled or reset)

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
};

class FakeHttpServer {
 public:
  // Binds options.address:0, listens and starts serving; throws on failure.
  explicit FakeHttpServer(FakeHttpServerOptions options = {});
  // Stops the io_context and joins the server thread.
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;
  FakeHttpServer(FakeHttpServer&&) = delete;
  FakeHttpServer& operator=(FakeHttpServer&&) = delete;

  // The listening address and port.
  config::IpAddress address() const;
  std::uint16_t port() const;
  // "<scheme>://<host>:<port><path>", e.g. url("service.test", "/health").
  std::string url(std::string_view host, std::string_view path) const;

  // Answers requests for `path` (the target without its query) with `response`
  // from now on. "/" answers 200 "ok" until told otherwise; other paths 404.
  void set(std::string path, FakeResponse response);
  // Answers requests for `path` with what `responder` makes of each one (a
  // peer signing its reply to the request's nonce). It runs on the server's
  // thread, one request at a time per connection.
  using Responder = std::function<FakeResponse(const RecordedRequest&)>;
  void respond_with(std::string path, Responder responder);

  // Requests read so far (at most the last k_max_recorded are kept).
  std::size_t request_count() const;
  std::optional<RecordedRequest> last_request() const;
  // Every kept request, oldest first.
  std::vector<RecordedRequest> requests() const;

  // PEM of the CA that issued the served certificate; empty for SelfSigned
  // and plain HTTP. A client trusts it with add_certificate_authority().
  std::string ca_pem() const;

  static constexpr std::size_t k_max_recorded = 256;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crosscheck::lab
