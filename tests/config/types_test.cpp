// Tests config/types.cpp: durations, addresses, endpoints, CIDRs, RR types, URLs.
#include "config/types.hpp"

#include <catch2/catch.hpp>

#include <string>

using crosscheck::config::Cidr;
using crosscheck::config::Duration;
using crosscheck::config::Endpoint;
using crosscheck::config::format_duration;
using crosscheck::config::IpAddress;
using crosscheck::config::parse_duration;
using crosscheck::config::parse_rr_type;
using crosscheck::config::RrType;
using crosscheck::config::Url;

namespace {

IpAddress ip(const char* text) {
  auto address = IpAddress::parse(text);
  REQUIRE(address);
  return *address;
}

Cidr cidr(const char* text) {
  auto parsed = Cidr::parse(text);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("durations accept a whole number with every unit", "[types][duration]") {
  auto [text, ms] = GENERATE(table<std::string, long long>({
      {"500ms", 500},
      {"10s", 10'000},
      {"5m", 300'000},
      {"2h", 7'200'000},
      {"7d", 604'800'000},
      {"0s", 0},
      {"0ms", 0},
      {"010s", 10'000},
      {"36500d", 36'500LL * 86'400'000},
  }));
  CAPTURE(text);
  const auto parsed = parse_duration(text);
  REQUIRE(parsed);
  CHECK(parsed->count() == ms);
}

TEST_CASE("durations without exactly one whole number and one unit are rejected",
          "[types][duration]") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "10", "s", "ms", "ten", "1.5s", "-5s", "+5s", "10 s", " 10s",
               "10s ", "10S", "10sec", "10ms5", "5mm", "1m30s", "0x10s", "10y");
  CAPTURE(text);
  CHECK_FALSE(parse_duration(text));
}

TEST_CASE("durations past 100 years are rejected instead of overflowing", "[types][duration]") {
  const std::string text =
      GENERATE(as<std::string>{}, "36501d", "876001h", "9223372036854775807ms",
               "9223372036854775808s", "99999999999999999999s", "18446744073709551616ms");
  CAPTURE(text);
  CHECK_FALSE(parse_duration(text));
}

TEST_CASE("format_duration picks the largest unit that divides exactly", "[types][duration]") {
  auto [ms, text] = GENERATE(table<long long, std::string>({
      {0, "0s"},
      {1, "1ms"},
      {500, "500ms"},
      {1'500, "1500ms"},
      {10'000, "10s"},
      {90'000, "90s"},
      {60'000, "1m"},
      {3'600'000, "1h"},
      {5'400'000, "90m"},
      {86'400'000, "1d"},
      {604'800'000, "7d"},
  }));
  CHECK(format_duration(Duration{ms}) == text);
  CHECK(parse_duration(text) == Duration{ms});
}

TEST_CASE("IPv4 addresses parse and print in dotted quad form", "[types][ip]") {
  const IpAddress address = ip("192.0.2.10");
  CHECK(address.family == IpAddress::Family::V4);
  CHECK(address.bytes[0] == 192);
  CHECK(address.bytes[3] == 10);
  CHECK(address.to_string() == "192.0.2.10");
}

TEST_CASE("IPv6 addresses parse and print in canonical form", "[types][ip]") {
  auto [text, canonical] = GENERATE(table<std::string, std::string>({
      {"::1", "::1"},
      {"2001:DB8:0:0::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"::", "::"},
  }));
  const IpAddress address = ip(text.c_str());
  CHECK(address.family == IpAddress::Family::V6);
  CHECK(address.to_string() == canonical);
}

TEST_CASE("text that is not an IP literal is rejected", "[types][ip]") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",
               "host.example", "fe80::1%eth0", "::1::2", "[::1]", std::string("1.2.3.4\0", 8));
  CAPTURE(text);
  CHECK_FALSE(IpAddress::parse(text));
}

TEST_CASE("loopback addresses are recognised in both families", "[types][ip]") {
  CHECK(ip("127.0.0.1").is_loopback());
  CHECK(ip("127.255.0.9").is_loopback());
  CHECK(ip("::1").is_loopback());
  CHECK(ip("::ffff:127.0.0.1").is_loopback());
  CHECK_FALSE(ip("10.0.0.1").is_loopback());
  CHECK_FALSE(ip("::2").is_loopback());
}

TEST_CASE("endpoints accept ip, ip:port, [v6]:port and bare v6 with a default port",
          "[types][endpoint]") {
  auto [text, printed] = GENERATE(table<std::string, std::string>({
      {"1.1.1.1", "1.1.1.1:53"},
      {"1.1.1.1:53", "1.1.1.1:53"},
      {"1.1.1.1:5353", "1.1.1.1:5353"},
      {"[::1]:53", "[::1]:53"},
      {"[2001:db8::1]:8053", "[2001:db8::1]:8053"},
      {"::1", "[::1]:53"},
      {"[::1]", "[::1]:53"},
      {"9.9.9.9:65535", "9.9.9.9:65535"},
      {"9.9.9.9:1", "9.9.9.9:1"},
  }));
  CAPTURE(text);
  const auto endpoint = Endpoint::parse(text, 53);
  REQUIRE(endpoint);
  CHECK(endpoint->to_string() == printed);
}

TEST_CASE("endpoints with a bad port or host are rejected", "[types][endpoint]") {
  const std::string text =
      GENERATE(as<std::string>{}, "1.1.1.1:0", "1.1.1.1:65536", "1.1.1.1:", "1.1.1.1:abc",
               "1.1.1.1:-1", "1.1.1.1:+53", "[::1]:0", "[::1]:65536", "[::1", "[::1]x",
               "[::1]:", "[1.1.1.1]:53", "dns.example:53", "", ":53");
  CAPTURE(text);
  CHECK_FALSE(Endpoint::parse(text, 53));
}

TEST_CASE("an endpoint without a port is rejected when the port is required", "[types][endpoint]") {
  CHECK_FALSE(Endpoint::parse("127.0.0.1", std::nullopt));
  CHECK_FALSE(Endpoint::parse("::1", std::nullopt));
  CHECK_FALSE(Endpoint::parse("[::1]", std::nullopt));
  const auto with_port = Endpoint::parse("[::1]:9470", std::nullopt);
  REQUIRE(with_port);
  CHECK(with_port->port == 9470);
  CHECK(with_port->address == ip("::1"));
}

TEST_CASE("a CIDR contains exactly the addresses under its prefix", "[types][cidr]") {
  const Cidr v4 = cidr("192.0.2.0/24");
  CHECK(v4.contains(ip("192.0.2.0")));
  CHECK(v4.contains(ip("192.0.2.255")));
  CHECK_FALSE(v4.contains(ip("192.0.3.0")));
  CHECK_FALSE(v4.contains(ip("::ffff:192.0.2.1")));

  const Cidr odd = cidr("10.128.0.0/9");  // a prefix that ends inside a byte
  CHECK(odd.contains(ip("10.255.1.1")));
  CHECK_FALSE(odd.contains(ip("10.127.255.255")));

  const Cidr v6 = cidr("2001:db8::/32");
  CHECK(v6.contains(ip("2001:db8:ffff::1")));
  CHECK_FALSE(v6.contains(ip("2001:db9::")));
  CHECK_FALSE(v6.contains(ip("192.0.2.1")));
}

TEST_CASE("a /0 contains its whole family and a host route only itself", "[types][cidr]") {
  CHECK(cidr("0.0.0.0/0").contains(ip("203.0.113.7")));
  CHECK_FALSE(cidr("0.0.0.0/0").contains(ip("::1")));
  CHECK(cidr("::/0").contains(ip("2001:db8::1")));
  const Cidr host = cidr("192.0.2.7/32");
  CHECK(host.contains(ip("192.0.2.7")));
  CHECK_FALSE(host.contains(ip("192.0.2.6")));
  CHECK(cidr("192.0.2.7") == host);
  CHECK(cidr("2001:db8::7").prefix_length == 128);
  CHECK(cidr("2001:db8::7/128").contains(ip("2001:db8::7")));
}

TEST_CASE("a CIDR with host bits set or a bad prefix is rejected", "[types][cidr]") {
  const std::string text =
      GENERATE(as<std::string>{}, "192.0.2.1/24", "10.0.0.1/8", "2001:db8::1/32", "10.0.0.0/33",
               "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0/8", "/8", "");
  CAPTURE(text);
  CHECK_FALSE(Cidr::parse(text));
}

TEST_CASE("a CIDR prints as network/prefix", "[types][cidr]") {
  CHECK(cidr("192.0.2.0/24").to_string() == "192.0.2.0/24");
  CHECK(cidr("2001:DB8::/32").to_string() == "2001:db8::/32");
  CHECK(cidr("192.0.2.7").to_string() == "192.0.2.7/32");
}

TEST_CASE("record types parse case-insensitively and print upper-case", "[types][rrtype]") {
  auto [text, type] = GENERATE(table<std::string, RrType>({
      {"A", RrType::A},
      {"a", RrType::A},
      {"aaaa", RrType::AAAA},
      {"Ns", RrType::NS},
      {"cname", RrType::CNAME},
      {"SOA", RrType::SOA},
      {"ptr", RrType::PTR},
      {"mx", RrType::MX},
      {"txt", RrType::TXT},
      {"Srv", RrType::SRV},
      {"caa", RrType::CAA},
  }));
  CHECK(parse_rr_type(text) == type);
  CHECK(parse_rr_type(crosscheck::config::to_string(type)) == type);
  CHECK_FALSE(parse_rr_type("AAA"));
  CHECK_FALSE(parse_rr_type("ANY"));
  CHECK_FALSE(parse_rr_type(""));
  CHECK(crosscheck::config::to_string(RrType::AAAA) == "AAAA");
}

TEST_CASE("http and https URLs get their host, default port and target", "[types][url]") {
  std::string why;
  const auto https = Url::parse("https://example.com", &why);
  REQUIRE(https);
  CHECK(https->scheme == "https");
  CHECK(https->is_https());
  CHECK(https->host == "example.com");
  CHECK(https->port == 443);
  CHECK(https->target == "/");
  CHECK(https->text == "https://example.com");

  const auto http = Url::parse("http://example.com:8080/x/y?q=1#fragment", &why);
  REQUIRE(http);
  CHECK_FALSE(http->is_https());
  CHECK(http->port == 8080);
  CHECK(http->target == "/x/y?q=1");

  const auto plain = Url::parse("http://example.com/healthz", &why);
  REQUIRE(plain);
  CHECK(plain->port == 80);
  CHECK(plain->target == "/healthz");

  const auto upper = Url::parse("HTTPS://example.com/", &why);
  REQUIRE(upper);
  CHECK(upper->scheme == "https");
}

TEST_CASE("a URL with an IP literal host keeps the address without brackets", "[types][url]") {
  std::string why;
  const auto v6 = Url::parse("http://[::1]:9470/v1/verdicts", &why);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 9470);
  CHECK(v6->target == "/v1/verdicts");
  const auto v4 = Url::parse("https://192.0.2.1/", &why);
  REQUIRE(v4);
  CHECK(v4->host == "192.0.2.1");
}

TEST_CASE("URLs that are not absolute http(s) with a host are rejected with a reason",
          "[types][url]") {
  auto [text, reason] = GENERATE(table<std::string, std::string>({
      {"ftp://example.com/", "unsupported scheme 'ftp', expected http or https"},
      {"mailto:ops@example.com", "unsupported scheme 'mailto', expected http or https"},
      {"http:///path", "missing host"},
      {"http://", "missing host"},
      {"https:example.com", "missing host"},
      {"http://example.com:99999/", "invalid port '99999'"},
      {"http://example.com:0/", "invalid port '0'"},
  }));
  CAPTURE(text);
  std::string why;
  CHECK_FALSE(Url::parse(text, &why));
  CHECK(why == reason);
}

TEST_CASE("a relative reference is not an absolute URL", "[types][url]") {
  std::string why;
  CHECK_FALSE(Url::parse("example.com/healthz", &why));
  CHECK(why.rfind("not an absolute URL (", 0) == 0);
  CHECK_FALSE(Url::parse("/healthz", nullptr));
}
