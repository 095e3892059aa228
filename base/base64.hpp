// Standard base64 (RFC 4648, with padding), for signatures and key pins.
// Pure functions on bytes; no I/O.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck {

namespace base64_detail {
inline constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace base64_detail

// `bytes` in base64 with padding.
inline std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t chunk = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      chunk = (chunk << 8U) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0U);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? base64_detail::k_alphabet[(chunk >> (18 - 6 * j)) & 0x3FU] : '=';
    }
  }
  return out;
}

// Strict: nullopt on any other byte, a bad length or bad padding, or
// left-over bits that are not zero (one encoding per byte string).
inline std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t chunk = 0;
    std::size_t pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=') {
        // Padding only ends the last group: "xx==" or "xxx=".
        if (i + 4 != text.size() || j < 2 || (j == 2 && text[i + 3] != '=')) {
          return std::nullopt;
        }
        ++pad;
        chunk <<= 6U;
        continue;
      }
      const auto at = base64_detail::k_alphabet.find(c);
      if (at == std::string_view::npos || pad > 0) {
        return std::nullopt;
      }
      chunk = (chunk << 6U) | static_cast<std::uint32_t>(at);
    }
    // The bits the padding leaves over must be zero: one encoding per byte string.
    const std::uint32_t left_over = pad == 2 ? 0xFFFFU : pad == 1 ? 0xFFU : 0U;
    if ((chunk & left_over) != 0) {
      return std::nullopt;
    }
    for (std::size_t j = 0; j < 3 - pad; ++j) {
      out += static_cast<char>((chunk >> (16 - 8 * j)) & 0xFFU);
    }
  }
  return out;
}

}  // namespace crosscheck
