// Bounding human-readable text (details, reasons) to a byte limit without
// cutting a UTF-8 character in half: a server's words may be in any
// language, and a JSON parser refuses a document with a broken sequence.
#pragma once

#include <algorithm>
#include <cstddef>
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

}  // namespace crosscheck::text
