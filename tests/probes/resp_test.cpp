// RESP encoding and the bounded reply parser (probes/resp.hpp): whole
// replies, replies split anywhere, and every malformed or oversized input.
#include "probes/resp.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck::probes;

TEST_CASE("resp commands are arrays of bulk strings, any bytes allowed", "[resp]") {
  CHECK(resp::encode_command({"PING"}) == "*1\r\n$4\r\nPING\r\n");
  CHECK(resp::encode_command({"AUTH", std::string("a\r\nb\0c", 6)}) ==
        std::string("*2\r\n$4\r\nAUTH\r\n$6\r\na\r\nb\0c\r\n", 26));
}

TEST_CASE("resp replies of every type parse, with what they consumed", "[resp]") {
  auto simple = resp::parse("+PONG\r\nrest");
  REQUIRE(simple.value);
  CHECK(simple.value->type == resp::Type::Simple);
  CHECK(simple.value->text == "PONG");
  CHECK(simple.consumed == 7);

  auto error = resp::parse("-LOADING Redis is loading the dataset in memory\r\n");
  REQUIRE(error.value);
  CHECK(error.value->type == resp::Type::Error);
  CHECK(error.value->text == "LOADING Redis is loading the dataset in memory");

  auto integer = resp::parse(":-42\r\n");
  REQUIRE(integer.value);
  CHECK(integer.value->integer == -42);

  auto role = resp::parse(
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:"
      "14\r\n");
  REQUIRE(role.value);
  REQUIRE(role.value->elements.size() == 5);
  CHECK(role.value->elements[0].text == "slave");
  CHECK(role.value->elements[2].integer == 6379);
  CHECK(role.value->elements[3].text == "connected");
  CHECK(resp::describe(*role.value) == "[slave, 127.0.0.1, 6379, connected, 14]");

  auto null_bulk = resp::parse("$-1\r\n");
  REQUIRE(null_bulk.value);
  CHECK(null_bulk.value->type == resp::Type::Null);
  auto resp3_null = resp::parse("_\r\n");
  REQUIRE(resp3_null.value);
  CHECK(resp3_null.value->type == resp::Type::Null);
}

TEST_CASE("a resp reply cut anywhere asks for more bytes, never fails", "[resp]") {
  const std::string whole =
      "*3\r\n$6\r\nmaster\r\n:3129\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n"
      "9001\r\n$4\r\n3129\r\n";
  REQUIRE(resp::parse(whole).value);
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    const auto parsed = resp::parse(std::string_view(whole).substr(0, cut));
    CHECK_FALSE(parsed.value);
    CHECK(parsed.error.empty());
  }
}

TEST_CASE("malformed and oversized resp replies are errors", "[resp]") {
  auto [input, why] = GENERATE(table<std::string, std::string>({
      {"?what\r\n", "unknown reply type '?'"},
      {"\r\n", "empty line"},
      {":12x\r\n", "bad integer"},
      {"$-2\r\n", "bad bulk length"},
      {"$3\r\nabcd\r\n", "bulk string not followed by CRLF"},
      {"$99999999\r\n", "bulk string of 99999999 bytes (over 65536)"},
      {"*100\r\n", "array of 100 elements (over 64)"},
      {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n+deep\r\n", "nested deeper than 4"},
      {"+" + std::string(70'000, 'a'), "line longer than 65536 bytes"},
  }));
  CAPTURE(input.substr(0, 40));
  const auto parsed = resp::parse(input);
  CHECK_FALSE(parsed.value);
  CHECK(parsed.error == why);
}

TEST_CASE("resp replies are described on one printable line, bounded", "[resp]") {
  resp::Value value;
  value.type = resp::Type::Bulk;
  value.text = std::string("a\nb\x1b", 4) + std::string(200, 'x');
  const auto text = resp::describe(value, 20);
  CHECK(text == "a?b?xxxxxxxxxxxxxxxx...");
}
