// A throwaway PKI for TLS tests, made with the `openssl` command line into a
// directory the test owns (CAs, leaves with a subjectAltName, expired ones),
// and `openssl s_server -www` as a real TLS server on loopback. Throws
// std::runtime_error with openssl's output when a command fails.
#pragma once

#include "support/child_process.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace crosscheck::testing {

struct TestCertificate {
  std::filesystem::path cert;
  std::filesystem::path key;
};

class TestPki {
 public:
  explicit TestPki(std::filesystem::path dir);
  // A self-signed CA: dir/NAME.crt and dir/NAME.key.
  TestCertificate ca(const std::string& name);
  // A leaf signed by `issuer` (from ca()) naming `san`
  // ("IP:127.0.0.1,DNS:oracle-b.test"); an expired one was valid for one
  // day in 2020.
  TestCertificate leaf(const std::string& name, const TestCertificate& issuer,
                       const std::string& san, bool expired = false);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void openssl(std::vector<std::string> args);
  std::filesystem::path dir_;
  int serial_ = 1;
};

// `openssl s_server -www` on 127.0.0.1 presenting `server`: it answers any
// GET with 200 and a status page. With `client_ca`, it requires a client
// certificate issued by it. With `www_root`, it serves the files below it
// instead (-WWW: GET /v1/verdicts answers www_root/v1/verdicts). Ready
// (accepting) when constructed.
class TlsTestServer {
 public:
  TlsTestServer(const TestCertificate& server, const std::filesystem::path& log,
                const std::filesystem::path& client_ca = {},
                const std::filesystem::path& www_root = {});
  unsigned short port() const { return port_; }
  std::string url(const std::string& host = "127.0.0.1") const;

 private:
  unsigned short port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace crosscheck::testing
