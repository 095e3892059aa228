// The API's bearer tokens as the daemon serves them: api.token_file (named
// "default", every scope) and each api.tokens entry, read with the one
// secret-file reader. check-config, start-up and reload all read them here.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"

#include <string>
#include <vector>

namespace crosscheck::config {

// The name api.token_file's token goes by (what the audit log records).
inline constexpr std::string_view k_default_token_name = "default";

// One token with its secret, as the API server matches it.
struct ApiToken {
  std::string name;
  std::string secret;
  ScopeSet scopes;
};

// Every configured token, api.token_file's first; an Error naming the file
// when one cannot be read or is empty, or when two hold the same secret
// (the caller could not be told apart).
Expected<std::vector<ApiToken>> read_api_tokens(const ApiConfig& api);

}  // namespace crosscheck::config
