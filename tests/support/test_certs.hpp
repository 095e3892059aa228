// Certificates for TLS tests, made by the `openssl` command line tool (and
// `faketime` for certificates expired before they are made) in a directory
// the test owns. Throws when a tool fails: a test must not pass on a
// certificate it could not make.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace crosscheck::testing {

class TestCerts {
 public:
  explicit TestCerts(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // A CA: NAME.crt and NAME.key (P-256, self-signed).
  void make_ca(const std::string& name) {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -keyout " +
        path(name + ".key") + " -out " + path(name + ".crt") + " -subj /CN=" + name +
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
  }

  // NAME.crt / NAME.key issued by CA for `subject` ("/O=ops/CN=bot") with
  // subjectAltName IP:127.0.0.1. `made_at` (faketime's "2020-01-01
  // 00:00:00") backdates it, valid for 30 days from then.
  void issue(const std::string& ca, const std::string& name, const std::string& subject,
             const std::string& made_at = {}) {
    std::ofstream(path(name + ".ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                       << "basicConstraints=CA:FALSE\n";
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
        path(name + ".key") + " -out " + path(name + ".csr") + " -subj " + subject);
    const std::string clock = made_at.empty() ? "" : "faketime '" + made_at + "' ";
    run(clock + "openssl x509 -req -in " + path(name + ".csr") + " -CA " + path(ca + ".crt") +
        " -CAkey " + path(ca + ".key") + " -CAcreateserial -days 30 -extfile " +
        path(name + ".ext") + " -out " + path(name + ".crt"));
  }

  // A self-signed NAME.crt / NAME.key (no CA), for fingerprint pins;
  // `made_at` as for issue().
  void self_signed(const std::string& name, const std::string& subject,
                   const std::string& made_at = {}) {
    const std::string clock = made_at.empty() ? "" : "faketime '" + made_at + "' ";
    run(clock +
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -keyout " +
        path(name + ".key") + " -out " + path(name + ".crt") + " -subj " + subject);
  }

  // "sha256:AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it.
  std::string fingerprint(const std::string& name) const {
    const std::string out = path(name + ".fp");
    run("openssl x509 -noout -fingerprint -sha256 -in " + path(name + ".crt"), out);
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
      throw std::runtime_error("no fingerprint in: " + line);
    }
    return "sha256:" + line.substr(equals + 1);
  }

  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  // Runs `command`; its output goes to `output`, or to openssl.log.
  void run(const std::string& command, const std::string& output = {}) const {
    const std::string log_file = path("openssl.log");
    const std::string logged =
        command + " >" + (output.empty() ? ">" + log_file : output) + " 2>>" + log_file;
    if (std::system(logged.c_str()) != 0) {  // NOLINT(cert-env33-c): the test's own tools
      std::ifstream log(path("openssl.log"));
      std::stringstream text;
      text << log.rdbuf();
      throw std::runtime_error("failed: " + command + "\n" + text.str());
    }
  }

  std::filesystem::path dir_;
};

}  // namespace crosscheck::testing
