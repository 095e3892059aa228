// The CLI's bearer token for the API: --token-file FILE, else the file
// named by $CROSSCHECK_TOKEN_FILE, read with the daemon's secret-file reader
// (config/secret_file.hpp). Only reads a file; no network here.
#pragma once

#include "base/expected.hpp"

#include <optional>
#include <string>

namespace crosscheck::cli {

// The environment variable naming a token file when --token-file is absent.
inline constexpr const char* k_token_file_env = "CROSSCHECK_TOKEN_FILE";

// The token from `flag` (--token-file's value, nullopt when not given),
// else from $CROSSCHECK_TOKEN_FILE when set and non-empty; "" when neither
// names a file (no Authorization header is sent). An Error naming the
// source when the file cannot be used.
Expected<std::string> read_cli_token(const std::optional<std::string>& flag);

}  // namespace crosscheck::cli
