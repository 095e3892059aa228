// base/text.hpp: bounding text to a byte limit, never half a UTF-8 character.
#include "base/text.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::text::cut_end;
using crosscheck::text::cut_middle;

namespace {

// Every multi-byte sequence in `text` is whole (a lead byte followed by
// exactly its continuation bytes).
bool whole_utf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if ((lead & 0xC0U) == 0x80U || i + length > text.size()) {
      return false;
    }
    for (std::size_t j = 1; j < length; ++j) {
      if ((static_cast<unsigned char>(text[i + j]) & 0xC0U) != 0x80U) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

}  // namespace

TEST_CASE("text within the limit is kept as it is", "[text]") {
  CHECK(cut_end("dns: NXDOMAIN", 13) == "dns: NXDOMAIN");
  CHECK(cut_middle("dns: NXDOMAIN", 100) == "dns: NXDOMAIN");
  CHECK(cut_end("", 0).empty());
}

TEST_CASE("cut_end keeps the start and marks the cut", "[text]") {
  CHECK(cut_end("abcdefghij", 8) == "abcde...");
  CHECK(cut_end("abcdefghij", 2) == "..");
  CHECK(cut_end("abcdefghij", 0).empty());
}

TEST_CASE("cut_middle keeps the start and the end", "[text]") {
  const auto cut = cut_middle(
      "none of 2 servers for " + std::string(300, 'z') + ". gave an AA answer to judge (2 silent)",
      100);
  CHECK(cut.size() <= 100);
  CHECK_THAT(cut, Catch::StartsWith("none of 2 servers for zz") && Catch::Contains("...") &&
                      Catch::EndsWith("(2 silent)"));
  CHECK(cut_middle("abcdefghij", 5) == "ab...");  // too short for both ends
}

TEST_CASE("no cut splits a UTF-8 character, whatever the limit", "[text]") {
  // 2-, 3- and 4-byte characters: ü, €, 𝄞.
  const std::string text = "a\xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e" + std::string("b") +
                           "\xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e\xc3\xbc";
  for (std::size_t limit = 0; limit <= text.size() + 1; ++limit) {
    CAPTURE(limit);
    const auto end = cut_end(text, limit);
    const auto middle = cut_middle(text, limit);
    CHECK(end.size() <= limit);
    CHECK(middle.size() <= limit);
    CHECK(whole_utf8(end));
    CHECK(whole_utf8(middle));
  }
}

TEST_CASE("printable_line keeps characters and marks control bytes and broken UTF-8", "[text]") {
  using crosscheck::text::printable_line;
  CHECK(printable_line("dns: NXDOMAIN \xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e") ==
        "dns: NXDOMAIN \xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e");
  CHECK(printable_line("two\nlines\r\t\x1b[31m\x7f") == "two?lines???[31m?");
  CHECK(printable_line(std::string("a\0b", 3)) == "a?b");
  // A stray continuation byte, a cut sequence, an overlong '/', a
  // surrogate, past U+10FFFF: each byte that is not a character is one '?'.
  CHECK(printable_line("\x80x") == "?x");
  CHECK(printable_line("x\xe2\x82") == "x??");
  CHECK(printable_line("\xc0\xaf") == "??");
  CHECK(printable_line("\xed\xa0\x80") == "???");
  CHECK(printable_line("\xf4\x90\x80\x80") == "????");
  for (int byte = 0; byte < 256; ++byte) {
    const std::string one(1, static_cast<char>(byte));
    CAPTURE(byte);
    CHECK(printable_line(one).size() == 1);
    CHECK(whole_utf8(printable_line("ab" + one + "\xc3\xbc")));
  }
}

TEST_CASE("printable_line marks C1 controls and bidi overrides and isolates byte by byte",
          "[text]") {
  using crosscheck::text::is_printable_line;
  using crosscheck::text::printable_line;
  // U+0080, U+009B (an 8-bit CSI), U+009F: every C1 control.
  CHECK(printable_line("a\xc2\x80"
                       "b\xc2\x9b"
                       "31m\xc2\x9f") == "a??b??31m??");
  // U+202A..U+202E (embeddings, overrides) and U+2066..U+2069 (isolates).
  for (const char last : {'\xaa', '\xab', '\xac', '\xad', '\xae'}) {
    CHECK(printable_line(std::string("ok\xe2\x80") + last + "gnp.exe") == "ok???gnp.exe");
  }
  for (const char last : {'\xa6', '\xa7', '\xa8', '\xa9'}) {
    CHECK(printable_line(std::string("x\xe2\x81") + last) == "x???");
  }
  // Their neighbours are ordinary characters: U+00A0 (no-break space),
  // U+2029 (paragraph separator is not an override), U+202F, U+2065, U+206A.
  for (const std::string kept :
       {"\xc2\xa0", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\xa5", "\xe2\x81\xaa"}) {
    CAPTURE(kept);
    CHECK(printable_line(kept) == kept);
    CHECK(is_printable_line(kept));
  }
  CHECK_FALSE(is_printable_line("evil\xc2\x9b"));
  CHECK_FALSE(is_printable_line("line\n"));
  CHECK(is_printable_line("dns: NXDOMAIN \xc3\xbc"));
}
