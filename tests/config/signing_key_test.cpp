// Ed25519 key files: api.signing_key (the oracle's private key) and the
// public keys `crosscheck gate --pubkey` reads. Keys are made by the openssl
// command line tool, as docs/api.md tells operators to make them.
#include "config/signing_key.hpp"

#include "config_test_helpers.hpp"
#include "support/openssl_keys.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::config::read_public_key;
using crosscheck::config::read_signing_key;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_tail;
using crosscheck::config::test::TempDir;

using crosscheck::testing::make_ed25519_keys;
using crosscheck::testing::openssl;

namespace {

std::string path_of(const TempDir& dir, const std::string& name) {
  return (dir.path() / name).string();
}

}  // namespace

TEST_CASE("an Ed25519 key pair made by openssl reads as the same key", "[signing_key]") {
  TempDir dir;
  const auto files = make_ed25519_keys(dir.path(), "key");
  const auto key = read_signing_key("signing_key", files.private_pem);
  REQUIRE(key);
  const auto pub = read_public_key("--pubkey", files.public_pem);
  REQUIRE(pub);
  CHECK(key->public_key == *pub);
  CHECK(key->private_key != key->public_key);
  const auto other =
      read_signing_key("signing_key", make_ed25519_keys(dir.path(), "other").private_pem);
  REQUIRE(other);
  CHECK_FALSE(other->public_key == key->public_key);
}

TEST_CASE("an unusable key file is refused with the setting, the path and the reason",
          "[signing_key]") {
  TempDir dir;
  const auto file = [&](const std::string& name) { return dir.path() / name; };
  const auto error_of = [](const auto& result) { return result ? std::string() : result.error(); };
  openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path_of(dir, "ec.pem"));
  openssl("pkey -in " + path_of(dir, "ec.pem") + " -pubout -out " + path_of(dir, "ec-pub.pem"));
  openssl("genpkey -algorithm ed25519 -aes-256-cbc -pass pass:secret -out " +
          path_of(dir, "encrypted.pem"));
  make_ed25519_keys(dir.path(), "key");
  dir.write("garbled.pem",
            "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");

  const std::string wanted_private = "does not hold an Ed25519 private key";
  CHECK(error_of(read_signing_key("signing_key", file("absent.pem"))) ==
        "cannot read signing_key '" + file("absent.pem").string() + "': No such file or directory");
  CHECK(error_of(read_signing_key("signing_key", file("ec.pem"))) ==
        "signing_key '" + file("ec.pem").string() + "' " + wanted_private +
            " (openssl genpkey -algorithm ed25519): it is a EC key");
  CHECK(error_of(read_signing_key("signing_key", file("garbled.pem"))).find(wanted_private) !=
        std::string::npos);
  // Encrypted: refused at once, never a passphrase prompt on the terminal.
  CHECK(error_of(read_signing_key("signing_key", file("encrypted.pem"))).find("encrypted") !=
        std::string::npos);
  // A public key is not a signing key, and a private key is not a --pubkey.
  CHECK(error_of(read_signing_key("signing_key", file("key.pub.pem"))).find(wanted_private) !=
        std::string::npos);
  CHECK(error_of(read_public_key("--pubkey", file("key.pem")))
            .find("does not hold an Ed25519 public key (openssl pkey -in KEY -pubout)") !=
        std::string::npos);
  CHECK(error_of(read_public_key("--pubkey", file("ec-pub.pem"))).find("it is a EC key") !=
        std::string::npos);
  CHECK(error_of(read_public_key("--pubkey", file("garbled.pem"))).starts_with("--pubkey '"));
}

TEST_CASE("api.signing_key is checked with the config: file:line:column and why", "[signing_key]") {
  TempDir dir;
  openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path_of(dir, "ec.pem"));
  make_ed25519_keys(dir.path(), "key");
  const auto lines = diagnostics_of("api:\n  signing_key: " + path_of(dir, "ec.pem") + "\n" +
                                    std::string(k_valid_tail));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("test.yaml:2:16: error: signing_key '" + path_of(dir, "ec.pem") +
                             "' does not hold an Ed25519 private key"));
  std::filesystem::permissions(dir.path() / "key.pem", std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_write |
                                                           std::filesystem::perms::group_read);
  CHECK(diagnostics_of("api:\n  signing_key: " + path_of(dir, "key.pem") + "\n" +
                       std::string(k_valid_tail))
            .empty());
  // Readable by every user: a warning (the daemon still starts).
  std::filesystem::permissions(dir.path() / "key.pem", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  CHECK(diagnostics_of("api:\n  signing_key: " + path_of(dir, "key.pem") + "\n" +
                       std::string(k_valid_tail)) ==
        std::vector<std::string>{"test.yaml:2:16: warning: signing_key '" +
                                 path_of(dir, "key.pem") +
                                 "' is readable by every user: chmod o-r it (anyone who reads it "
                                 "can sign verdicts as this oracle)"});
  CHECK(diagnostics_of("api:\n  signing_key: \"\"\n" + std::string(k_valid_tail)) ==
        std::vector<std::string>{"test.yaml:2:16: error: api.signing_key must not be empty"});
}
