// The one reader for secret files: what check-config, start-up, reload and
// `gate --token-file` accept, and the error each refusal gives.
#include "config/secret_file.hpp"

#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::config::k_secret_file_limit;
using crosscheck::config::read_secret_file;
using crosscheck::config::SecretKind;
using crosscheck::config::test::TempDir;

TEST_CASE("a secret file gives its content without surrounding white space", "[secret]") {
  TempDir dir;
  std::string why;
  const auto token = read_secret_file("token_file", dir.write("token", "  s3cr3t-token\r\n\n"),
                                      SecretKind::BearerToken, why);
  REQUIRE(token);
  CHECK(*token == "s3cr3t-token");
  const auto key = read_secret_file("key_file", dir.write("key", "a key with spaces inside\n"),
                                    SecretKind::Key, why);
  REQUIRE(key);
  CHECK(*key == "a key with spaces inside");
  const std::string largest(k_secret_file_limit, 'k');
  CHECK(read_secret_file("key_file", dir.write("largest", largest + "\n"), SecretKind::Key, why) ==
        largest);
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
  std::string why;
  CHECK_FALSE(read_secret_file("key_file", file, kind, why));
  auto message = expected;
  message.replace(message.find("{}"), 2, file);
  CHECK(why == message);
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
