// HMAC-SHA256 and lower-case hex, the one implementation behind peer request
// signatures and webhook signatures.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace crosscheck::net {

constexpr std::size_t k_hmac_sha256_bytes = 32;

std::array<unsigned char, k_hmac_sha256_bytes> hmac_sha256(std::string_view key,
                                                           std::string_view message);
std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace crosscheck::net
