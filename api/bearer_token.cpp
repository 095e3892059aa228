// The API's bearer-token check (server.hpp declares it).
#include "api/server.hpp"

#include "base/ascii.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace crosscheck::api {

namespace {

struct Digest {
  std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
  unsigned int size = 0;
};

// SHA-256 of `text`; size 0 when OpenSSL fails (never equal to a real one).
Digest digest_of(std::string_view text) {
  Digest digest;
  if (EVP_Digest(text.data(), text.size(), digest.bytes.data(), &digest.size, EVP_sha256(),
                 nullptr) != 1) {
    digest.size = 0;
  }
  return digest;
}

// The credentials of "Bearer <token>" (scheme case-insensitive, spaces
// around the token ignored), or nullopt for anything else.
std::optional<std::string_view> presented_token(std::string_view authorization) {
  constexpr std::string_view k_scheme = "Bearer";
  if (authorization.size() <= k_scheme.size() ||
      !ascii::iequals(authorization.substr(0, k_scheme.size()), k_scheme) ||
      authorization[k_scheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view presented = authorization.substr(k_scheme.size() + 1);
  while (!presented.empty() && presented.front() == ' ') {
    presented.remove_prefix(1);
  }
  while (!presented.empty() && presented.back() == ' ') {
    presented.remove_suffix(1);
  }
  if (presented.empty()) {
    return std::nullopt;
  }
  return presented;
}

// Why digests: CRYPTO_memcmp needs equal lengths, and comparing digests
// says nothing about the token's length or how much of it a guess got right.
bool same_digest(const Digest& a, const Digest& b) {
  return a.size != 0 && a.size == b.size &&
         CRYPTO_memcmp(a.bytes.data(), b.bytes.data(), a.size) == 0;
}

}  // namespace

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  const auto presented = presented_token(authorization);
  return presented && !token.empty() && same_digest(digest_of(*presented), digest_of(token));
}

std::optional<std::size_t> match_bearer_token(std::string_view authorization,
                                              const std::vector<config::ApiToken>& tokens) {
  const auto presented = presented_token(authorization);
  if (!presented) {
    return std::nullopt;
  }
  const Digest digest = digest_of(*presented);
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    // Every token is compared, matched or not: no early exit.
    const bool match =
        !tokens[i].secret.empty() && same_digest(digest, digest_of(tokens[i].secret));
    if (match) {
      found = i;
    }
  }
  return found;
}

config::ScopeSet ApiAuth::configured() const {
  config::ScopeSet scopes;
  for (const auto& token : tokens) {
    scopes.add(token.scopes);
  }
  return scopes;
}

}  // namespace crosscheck::api
