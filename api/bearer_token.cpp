// The API's bearer-token check (server.hpp declares it).
#include "api/server.hpp"

#include "base/ascii.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace crosscheck::api {

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view k_scheme = "Bearer";
  if (token.empty() || authorization.size() <= k_scheme.size() ||
      !ascii::iequals(authorization.substr(0, k_scheme.size()), k_scheme) ||
      authorization[k_scheme.size()] != ' ') {
    return false;
  }
  std::string_view presented = authorization.substr(k_scheme.size() + 1);
  while (!presented.empty() && presented.front() == ' ') {
    presented.remove_prefix(1);
  }
  while (!presented.empty() && presented.back() == ' ') {
    presented.remove_suffix(1);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> presented_digest{};
  std::array<unsigned char, EVP_MAX_MD_SIZE> token_digest{};
  unsigned int presented_size = 0;
  unsigned int token_size = 0;
  if (EVP_Digest(presented.data(), presented.size(), presented_digest.data(), &presented_size,
                 EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(token.data(), token.size(), token_digest.data(), &token_size, EVP_sha256(),
                 nullptr) != 1 ||
      presented_size != token_size) {
    return false;
  }
  return CRYPTO_memcmp(presented_digest.data(), token_digest.data(), token_size) == 0;
}

}  // namespace crosscheck::api
