#include "cli/token_option.hpp"

#include "config/secret_file.hpp"

#include <cstdlib>

namespace crosscheck::cli {

Expected<std::string> read_cli_token(const std::optional<std::string>& flag) {
  if (flag) {
    return config::read_secret_file("--token-file", *flag, config::SecretKind::BearerToken);
  }
  const char* env = std::getenv(k_token_file_env);
  if (env == nullptr || *env == '\0') {
    return std::string();
  }
  return config::read_secret_file(std::string("$") + k_token_file_env, env,
                                  config::SecretKind::BearerToken);
}

}  // namespace crosscheck::cli
