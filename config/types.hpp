// Typed values parsed at the edge: durations, IP addresses, endpoints, CIDRs,
// DNS RR types and URLs. Everything inward takes these, never raw strings.
// Parsing functions are pure and return std::nullopt (or an error string) on
// bad input; they never throw and never touch the network.
#pragma once

#include "consensus/time_format.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::config {

using Duration = consensus::Duration;
// One Duration, spelled one way (consensus/time_format.hpp).
using consensus::format_duration;
using consensus::parse_duration;

// An IPv4 or IPv6 address in network byte order.
struct IpAddress {
  enum class Family : std::uint8_t { V4, V6 };
  Family family = Family::V4;
  std::array<std::uint8_t, 16> bytes{};  // V4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;  // canonical (inet_ntop) form
  bool is_loopback() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// host:port where host is an IP literal: "127.0.0.1:9470", "[::1]:9470".
struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  // default_port applies when the text has no port ("1.1.1.1", "::1");
  // without a default the port is required.
  static std::optional<Endpoint> parse(std::string_view text,
                                       std::optional<std::uint16_t> default_port);
  std::string to_string() const;  // "1.1.1.1:53", "[::1]:53"
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// A public-key pin, `sha256/<base64>` (tls_pins): the SHA-256 of a
// certificate's DER SubjectPublicKeyInfo, so it survives a renewal that keeps
// the key (`openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
// openssl dgst -sha256 -binary | base64` prints the base64 part).
struct SpkiPin {
  std::array<std::uint8_t, 32> sha256{};

  // "sha256/" then exactly 32 bytes of standard base64; nullopt otherwise.
  static std::optional<SpkiPin> parse(std::string_view text);
  std::string to_string() const;  // "sha256/<base64>"
  friend bool operator==(const SpkiPin&, const SpkiPin&) = default;
};

// "192.0.2.0/24", "2001:db8::/32"; a bare address is a host route (/32, /128).
// Host bits must be zero: "10.1.2.3/8" is rejected as a likely typo.
struct Cidr {
  IpAddress network;
  int prefix_length = 0;

  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// DNS record types a target may ask for.
enum class RrType : std::uint16_t {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SRV = 33,
  CAA = 257,
};
std::optional<RrType> parse_rr_type(std::string_view text);  // case-insensitive
std::string_view to_string(RrType type);

// An absolute http(s) URL, validated with Boost.URL.
struct Url {
  std::string text;        // as written
  std::string scheme;      // "http" or "https"
  std::string host;        // name or IP literal, without brackets
  std::uint16_t port = 0;  // explicit or the scheme's default
  std::string target;      // path and query, "/" when empty

  // Returns the URL or a one-line reason it is not acceptable.
  static std::optional<Url> parse(std::string_view text, std::string* why);
  bool is_https() const { return scheme == "https"; }
  friend bool operator==(const Url&, const Url&) = default;
};

}  // namespace crosscheck::config
