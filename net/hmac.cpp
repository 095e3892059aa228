#include "net/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace crosscheck::net {

std::array<unsigned char, k_hmac_sha256_bytes> hmac_sha256(std::string_view key,
                                                           std::string_view message) {
  std::array<unsigned char, k_hmac_sha256_bytes> digest{};
  unsigned int size = 0;
  // OpenSSL takes bytes as unsigned char; the message's chars are those bytes.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()),  // NOLINT(*-reinterpret-cast)
       message.size(), digest.data(), &size);
  return digest;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr std::string_view k_digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) {
    out.push_back(k_digits[byte >> 4U]);
    out.push_back(k_digits[byte & 0xFU]);
  }
  return out;
}

}  // namespace crosscheck::net
