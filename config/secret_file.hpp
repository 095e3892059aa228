// The one reader for secret files: the API bearer token (api.token_file),
// peer keys (peers[].key_file) and the webhook signing secret
// (escalation.webhook.secret_file). check-config, start-up, reload and
// `crosscheck gate --token-file` all read them here, so a file that one
// accepts the others accept, and an unreadable one is the same clear error
// everywhere (never a daemon that answers every write with 401).
#pragma once

#include "base/expected.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace crosscheck::config {

enum class SecretKind : std::uint8_t {
  Key,          // any bytes but NUL (an HMAC key)
  BearerToken,  // printable ASCII without white space (it goes in a header)
};

// A secret file holds at most this many bytes (after trimming).
constexpr std::size_t k_secret_file_limit = 4096;

// The file's content without leading or trailing white space (an editor's
// final newline is not part of the secret). An Error when it cannot be
// read, is a directory, is empty, is over k_secret_file_limit, or does not
// fit `kind`; it names the setting (`key`, e.g. "token_file") and the path:
// "cannot read token_file '/etc/x': No such file or directory".
Expected<std::string> read_secret_file(std::string_view key, const std::filesystem::path& file,
                                       SecretKind kind);

}  // namespace crosscheck::config
