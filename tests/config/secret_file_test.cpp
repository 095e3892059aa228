// The one reader for secret files: what check-config, start-up, reload and
// `gate --token-file` accept, and the error each refusal gives.
#include "config/secret_file.hpp"

#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

using crosscheck::config::k_secret_file_limit;
using crosscheck::config::read_secret_file;
using crosscheck::config::SecretKind;
using crosscheck::config::test::TempDir;

TEST_CASE("a secret file gives its content without surrounding white space", "[secret]") {
  TempDir dir;
  const auto token = read_secret_file("token_file", dir.write("token", "  s3cr3t-token\r\n\n"),
                                      SecretKind::BearerToken);
  REQUIRE(token);
  CHECK(*token == "s3cr3t-token");
  const auto key =
      read_secret_file("key_file", dir.write("key", "a key with spaces inside\n"), SecretKind::Key);
  REQUIRE(key);
  CHECK(*key == "a key with spaces inside");
  const std::string largest(k_secret_file_limit, 'k');
  const auto whole =
      read_secret_file("key_file", dir.write("largest", largest + "\n"), SecretKind::Key);
  REQUIRE(whole);
  CHECK(*whole == largest);
}

TEST_CASE("an unusable secret file is refused with the setting, the path and the reason",
          "[secret]") {
  TempDir dir;
  const auto path = [&](const std::string& name) { return (dir.path() / name).string(); };
  dir.write("empty", " \n\t\n");
  dir.write("spaced", "two words\n");
  dir.write("control", std::string("tok\x01") + "en");
  dir.write("nul", std::string("key\0key", 7));
  dir.write("huge", std::string(k_secret_file_limit + 1, 'x'));
  dir.write("endless", std::string(1 << 20, 'x'));
  const auto [name, kind, expected] = GENERATE_COPY(table<std::string, SecretKind, std::string>({
      {"missing", SecretKind::Key, "cannot read key_file '{}': No such file or directory"},
      {"", SecretKind::Key, "cannot read key_file '{}': Is a directory"},
      {"empty", SecretKind::Key, "key_file '{}' is empty"},
      {"spaced", SecretKind::BearerToken,
       "key_file '{}' does not hold one bearer token (printable ASCII, no white space)"},
      {"control", SecretKind::BearerToken,
       "key_file '{}' does not hold one bearer token (printable ASCII, no white space)"},
      {"nul", SecretKind::Key, "key_file '{}' holds a NUL byte"},
      {"huge", SecretKind::Key, "key_file '{}' holds more than 4096 bytes"},
      {"endless", SecretKind::Key, "key_file '{}' holds more than 4096 bytes"},
  }));
  const auto file = name.empty() ? dir.path().string() : path(name);
  const auto secret = read_secret_file("key_file", file, kind);
  REQUIRE_FALSE(secret);
  auto message = expected;
  message.replace(message.find("{}"), 2, file);
  CHECK(secret.error() == message);
}

TEST_CASE("check-config refuses an empty token file with the same words", "[secret][loader]") {
  TempDir dir;
  dir.write("token", "\n");
  const auto config = dir.write("c.yaml",
                                "api:\n"
                                "  token_file: " +
                                    (dir.path() / "token").string() +
                                    "\n"
                                    "vantages:\n"
                                    "  - { name: a, domain: a, resolver: 127.0.0.1 }\n"
                                    "targets:\n"
                                    "  - { name: t, tcp: { host: 127.0.0.1, port: 1 } }\n");
  const auto result = crosscheck::config::load_config(config);
  CHECK_FALSE(result.ok());
  bool found = false;
  for (const auto& diagnostic : result.diagnostics) {
    found = found || diagnostic.to_string().find("token_file '" + (dir.path() / "token").string() +
                                                 "' is empty") != std::string::npos;
  }
  CHECK(found);
}

TEST_CASE("a secret path that is a FIFO or a device is refused at once, never waited on",
          "[secret][hostile]") {
  // Found by a hostile review: open(O_RDONLY) on a FIFO blocks until a
  // writer comes; reload reads the token on the daemon's only I/O thread,
  // so a token_file pointing at a FIFO froze probing, the API and the
  // watchdog (and check-config and gate hung).
  TempDir dir;
  const auto fifo = dir.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto reading = std::async(std::launch::async, [&] {
    const auto secret = read_secret_file("token_file", fifo, SecretKind::BearerToken);
    return std::make_pair(secret.ok(), secret.ok() ? std::string() : secret.error());
  });
  const bool finished = reading.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
  if (!finished) {
    // Unblock the reader so the test ends.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    ::close(fd);
  }
  CHECK(finished);
  const auto [read, why] = reading.get();
  CHECK_FALSE(read);
  CHECK(why.find("not a regular file") != std::string::npos);

  const auto device = read_secret_file("key_file", "/dev/zero", SecretKind::Key);
  REQUIRE_FALSE(device);
  CHECK(device.error().find("not a regular file") != std::string::npos);
}
