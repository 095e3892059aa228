#include "support/test_pki.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace crosscheck::testing {
namespace {

using namespace std::chrono_literals;

bool accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

TestPki::TestPki(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_ / "issued");
  std::ofstream(dir_ / "index.txt").close();
  // `openssl ca` (expired leaves) needs a config; it copies the CSR's
  // subjectAltName into the certificate.
  std::ofstream config(dir_ / "ca.cnf");
  config << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << (dir_ / "index.txt").string()
         << "\nnew_certs_dir = " << (dir_ / "issued").string()
         << "\nserial = " << (dir_ / "serial").string()
         << "\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n"
         << "[any]\ncommonName = supplied\n";
}

void TestPki::openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  const auto log = dir_ / "openssl.log";
  ChildProcess process(args, log);
  const int status = process.wait(20s);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const auto& arg : args) {
      command += arg + " ";
    }
    throw std::runtime_error("failed: " + command + "\n" + process.log());
  }
}

TestCertificate TestPki::ca(const std::string& name) {
  TestCertificate ca{dir_ / (name + ".crt"), dir_ / (name + ".key")};
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", ca.key.string(), "-out", ca.cert.string(), "-days", "30", "-subj",
           "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
  return ca;
}

TestCertificate TestPki::leaf(const std::string& name, const TestCertificate& issuer,
                              const std::string& san, bool expired) {
  TestCertificate leaf{dir_ / (name + ".crt"), dir_ / (name + ".key")};
  const auto csr = dir_ / (name + ".csr");
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", leaf.key.string(), "-out", csr.string(), "-subj", "/CN=" + name, "-addext",
           "subjectAltName=" + san});
  if (!expired) {
    openssl({"x509", "-req", "-in", csr.string(), "-CA", issuer.cert.string(), "-CAkey",
             issuer.key.string(), "-set_serial", std::to_string(serial_++), "-days", "30",
             "-copy_extensions", "copy", "-out", leaf.cert.string()});
    return leaf;
  }
  std::ofstream(dir_ / "serial") << "0" << serial_++ << "\n";
  openssl({"ca", "-batch", "-notext", "-config", (dir_ / "ca.cnf").string(), "-cert",
           issuer.cert.string(), "-keyfile", issuer.key.string(), "-in", csr.string(), "-out",
           leaf.cert.string(), "-startdate", "20200101000000Z", "-enddate", "20200102000000Z"});
  return leaf;
}

TlsTestServer::TlsTestServer(const TestCertificate& server, const std::filesystem::path& log,
                             const std::filesystem::path& client_ca,
                             const std::filesystem::path& www_root) {
  port_ = free_port("127.0.0.1");
  std::vector<std::string> argv{"openssl",
                                "s_server",
                                "-accept",
                                "127.0.0.1:" + std::to_string(port_),
                                "-cert",
                                server.cert.string(),
                                "-key",
                                server.key.string(),
                                "-naccept",
                                "50",
                                www_root.empty() ? "-www" : "-WWW"};
  if (!client_ca.empty()) {
    argv.insert(argv.end(),
                {"-Verify", "2", "-verify_return_error", "-CAfile", client_ca.string()});
  }
  if (!www_root.empty()) {
    // -WWW serves paths relative to its working directory.
    std::string command = "cd '" + www_root.string() + "' && exec";
    for (const auto& arg : argv) {
      command += " '" + arg + "'";
    }
    argv = {"sh", "-c", command};
  }
  process_ = std::make_unique<ChildProcess>(argv, log);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!accepts(port_)) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("openssl s_server did not start: " + process_->log());
    }
    std::this_thread::sleep_for(20ms);  // polling a condition with a deadline
  }
}

std::string TlsTestServer::url(const std::string& host) const {
  return "https://" + host + ":" + std::to_string(port_) + "/";
}

}  // namespace crosscheck::testing
