// Bounding human-readable text (details, reasons) to a byte limit without
// cutting a UTF-8 character in half, and making it one line of valid UTF-8:
// a server's words may be in any language, and a JSON parser refuses a
// document with a broken sequence.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crosscheck::text {

inline constexpr std::string_view k_cut_mark = "...";

// The largest n <= `at` such that text[0, n) ends on a character boundary
// (text[n] is not a UTF-8 continuation byte 10xxxxxx).
constexpr std::size_t char_boundary(std::string_view text, std::size_t at) {
  at = std::min(at, text.size());
  while (at > 0 && at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0U) == 0x80U) {
    --at;
  }
  return at;
}

// `text` at most `limit` bytes: when longer, its start and "...".
inline std::string cut_end(std::string text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  const auto mark = std::min(limit, k_cut_mark.size());
  text.resize(char_boundary(text, limit - mark));
  text += k_cut_mark.substr(0, mark);
  return text;
}

// `text` at most `limit` bytes: when longer, its start, "..." and its end,
// for text whose end says why ("none of 2 servers for <a long zone> gave an
// AA answer to judge (2 silent)").
inline std::string cut_middle(std::string text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  if (limit <= 2 * k_cut_mark.size()) {
    return cut_end(std::move(text), limit);
  }
  const auto keep = limit - k_cut_mark.size();
  const auto head = char_boundary(text, keep / 2);
  auto tail_from = text.size() - (keep - head);
  while (tail_from < text.size() &&
         (static_cast<unsigned char>(text[tail_from]) & 0xC0U) == 0x80U) {
    ++tail_from;  // forward to a character's first byte: never over the limit
  }
  return text.substr(0, head) + std::string(k_cut_mark) + text.substr(tail_from);
}

// The length of the well-formed UTF-8 character starting at text[at], or 0
// when the bytes there are not one (a stray continuation byte, a truncated
// sequence, an overlong form, a surrogate, past U+10FFFF).
constexpr std::size_t utf8_char_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t lead = byte(at);
  if (lead < 0x80U) {
    return 1;
  }
  std::size_t length = 0;
  std::uint8_t low = 0x80U;  // the second byte's range (RFC 3629's table)
  std::uint8_t high = 0xBFU;
  if (lead >= 0xC2U && lead <= 0xDFU) {
    length = 2;
  } else if (lead >= 0xE0U && lead <= 0xEFU) {
    length = 3;
    low = lead == 0xE0U ? 0xA0U : low;    // no overlong form
    high = lead == 0xEDU ? 0x9FU : high;  // no surrogate
  } else if (lead >= 0xF0U && lead <= 0xF4U) {
    length = 4;
    low = lead == 0xF0U ? 0x90U : low;    // no overlong form
    high = lead == 0xF4U ? 0x8FU : high;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (at + length > text.size() || byte(at + 1) < low || byte(at + 1) > high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if ((byte(at + i) & 0xC0U) != 0x80U) {
      return 0;
    }
  }
  return length;
}

// Whether the well-formed character of `length` bytes at text[at] is one
// that changes how a terminal or a viewer shows what follows it: a C1
// control (U+0080..U+009F; U+009B is an 8-bit CSI to a terminal that
// honours it) or a bidi embedding, override or isolate (U+202A..U+202E,
// U+2066..U+2069: "ok\u202egnp.exe" shows as "okexe.png").
constexpr bool is_hidden_control(std::string_view text, std::size_t at, std::size_t length) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[at + i]); };
  if (length == 2) {
    return byte(0) == 0xC2U && byte(1) <= 0x9FU;
  }
  if (length == 3 && byte(0) == 0xE2U) {
    return (byte(1) == 0x80U && byte(2) >= 0xAAU && byte(2) <= 0xAEU) ||
           (byte(1) == 0x81U && byte(2) >= 0xA6U && byte(2) <= 0xA9U);
  }
  return false;
}

// `text` as one line of valid UTF-8: every control byte (NUL..US, DEL: a
// newline would start a forged log line, and a peer refuses a detail with
// one) and every byte that is not part of a well-formed character becomes
// '?', and so does each byte of a C1 control or a bidi override or isolate
// (is_hidden_control()); other characters, in any language, are kept.
// Same length in bytes.
inline std::string printable_line(std::string text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto length = utf8_char_length(text, at);
    const auto lead = static_cast<std::uint8_t>(text[at]);
    if (length == 0 || lead < 0x20U || lead == 0x7FU) {
      text[at] = '?';
      ++at;
    } else if (is_hidden_control(text, at, length)) {
      std::fill_n(text.begin() + static_cast<std::ptrdiff_t>(at), length, '?');
      at += length;
    } else {
      at += length;
    }
  }
  return text;
}

// Whether printable_line() leaves `text` as it is.
inline bool is_printable_line(std::string_view text) {
  return printable_line(std::string(text)) == text;
}

}  // namespace crosscheck::text
