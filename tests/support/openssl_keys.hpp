// Keys for signing tests, made by the openssl command line tool exactly as
// docs/api.md tells operators to make them (scripts/install-deps.sh installs it).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace crosscheck::testing {

// Runs `openssl <args>` quietly; throws when it fails.
inline void openssl(const std::string& args) {
  const std::string command = "openssl " + args + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {  // NOLINT(cert-env33-c): the test's own tool
    throw std::runtime_error("failed: " + command);
  }
}

// An Ed25519 key pair: dir/<name>.pem (private) and dir/<name>.pub.pem.
struct KeyFiles {
  std::filesystem::path private_pem;
  std::filesystem::path public_pem;
};

inline KeyFiles make_ed25519_keys(const std::filesystem::path& dir, const std::string& name) {
  KeyFiles keys{dir / (name + ".pem"), dir / (name + ".pub.pem")};
  openssl("genpkey -algorithm ed25519 -out '" + keys.private_pem.string() + "'");
  openssl("pkey -in '" + keys.private_pem.string() + "' -pubout -out '" + keys.public_pem.string() +
          "'");
  return keys;
}

}  // namespace crosscheck::testing
