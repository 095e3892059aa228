// Parsers and printers for the typed config values declared in types.hpp.
#include "config/types.hpp"

#include "base/ascii.hpp"
#include "base/base64.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <memory>

namespace crosscheck::config {

namespace {

// Parses a whole decimal number with no sign; nullopt on anything else.
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const char* end = std::to_address(text.end());
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  auto value = parse_unsigned(text);
  if (!value || *value == 0 || *value > 65'535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(*value);
}

constexpr std::array<std::pair<std::string_view, RrType>, 10> k_rr_types{{
    {"A", RrType::A},
    {"NS", RrType::NS},
    {"CNAME", RrType::CNAME},
    {"SOA", RrType::SOA},
    {"PTR", RrType::PTR},
    {"MX", RrType::MX},
    {"TXT", RrType::TXT},
    {"AAAA", RrType::AAAA},
    {"SRV", RrType::SRV},
    {"CAA", RrType::CAA},
}};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string terminated(text);
  IpAddress address;
  if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) == 1) {
    address.family = Family::V4;
    return address;
  }
  if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) == 1) {
    address.family = Family::V6;
    return address;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  const int af = family == Family::V4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buffer.data(), buffer.size()) == nullptr) {
    return {};
  }
  return buffer.data();
}

bool IpAddress::is_loopback() const {
  if (family == Family::V4) {
    return bytes[0] == 127;
  }
  constexpr std::array<std::uint8_t, 16> k_v6_loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
  constexpr std::array<std::uint8_t, 12> k_v4_mapped_prefix{0, 0, 0, 0, 0,    0,
                                                            0, 0, 0, 0, 0xff, 0xff};
  if (bytes == k_v6_loopback) {
    return true;
  }
  return std::equal(k_v4_mapped_prefix.begin(), k_v4_mapped_prefix.end(), bytes.begin()) &&
         bytes[12] == 127;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text,
                                        std::optional<std::uint16_t> default_port) {
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    // "[v6]" or "[v6]:port"
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
    bracketed = true;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    // "v4:port"; a bare IPv6 address has two colons or more.
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }

  auto address = IpAddress::parse(host);
  if (!address || (bracketed && address->family != IpAddress::Family::V6)) {
    return std::nullopt;
  }
  Endpoint endpoint{*address, 0};
  if (port_text) {
    auto port = parse_port(*port_text);
    if (!port) {
      return std::nullopt;
    }
    endpoint.port = *port;
  } else if (default_port && *default_port != 0) {
    endpoint.port = *default_port;
  } else {
    return std::nullopt;
  }
  return endpoint;
}

std::string Endpoint::to_string() const {
  if (address.family == IpAddress::Family::V6) {
    return "[" + address.to_string() + "]:" + std::to_string(port);
  }
  return address.to_string() + ":" + std::to_string(port);
}

std::optional<SpkiPin> SpkiPin::parse(std::string_view text) {
  constexpr std::string_view prefix = "sha256/";
  if (!text.starts_with(prefix)) {
    return std::nullopt;
  }
  const auto digest = base64_decode(text.substr(prefix.size()));
  SpkiPin pin;
  if (!digest || digest->size() != pin.sha256.size()) {
    return std::nullopt;
  }
  std::copy(digest->begin(), digest->end(), pin.sha256.begin());
  return pin;
}

std::string SpkiPin::to_string() const {
  return "sha256/" + base64_encode(std::string(sha256.begin(), sha256.end()));
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) {
    return std::nullopt;
  }
  const int max_length = address->family == IpAddress::Family::V4 ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    auto parsed = parse_unsigned(text.substr(slash + 1));
    if (!parsed || *parsed > static_cast<std::uint64_t>(max_length)) {
      return std::nullopt;
    }
    length = static_cast<int>(*parsed);
  }
  Cidr cidr{*address, length};
  // Host bits must be zero: "10.1.2.3/8" is more likely a typo for /32 than a
  // way to write 10.0.0.0/8, so it is rejected rather than silently masked.
  for (int bit = length; bit < max_length; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    if ((address->bytes[byte] & (0x80U >> static_cast<unsigned>(bit % 8))) != 0) {
      return std::nullopt;
    }
  }
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.family != network.family) {
    return false;
  }
  const auto full_bytes = static_cast<std::size_t>(prefix_length / 8);
  if (!std::equal(network.bytes.begin(),
                  network.bytes.begin() + static_cast<std::ptrdiff_t>(full_bytes),
                  address.bytes.begin())) {
    return false;
  }
  const int rest_bits = prefix_length % 8;
  if (rest_bits == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xFFU << static_cast<unsigned>(8 - rest_bits));
  return (network.bytes[full_bytes] & mask) == (address.bytes[full_bytes] & mask);
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix_length);
}

std::optional<RrType> parse_rr_type(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& [name, type] : k_rr_types) {
    if (upper == name) {
      return type;
    }
  }
  return std::nullopt;
}

std::string_view to_string(RrType type) {
  for (const auto& [name, candidate] : k_rr_types) {
    if (candidate == type) {
      return name;
    }
  }
  return "?";
}

std::optional<Url> Url::parse(std::string_view text, std::string* why) {
  auto fail = [why](std::string reason) -> std::optional<Url> {
    if (why != nullptr) {
      *why = std::move(reason);
    }
    return std::nullopt;
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    return fail("not an absolute URL (" + parsed.error().message() + ")");
  }
  const boost::urls::url_view& view = *parsed;
  Url url;
  url.text = std::string(text);
  url.scheme = ascii::lower(view.scheme());
  if (url.scheme != "http" && url.scheme != "https") {
    return fail("unsupported scheme '" + std::string(view.scheme()) + "', expected http or https");
  }
  const auto host_type = view.host_type();
  if (!view.has_authority() || host_type == boost::urls::host_type::none ||
      host_type == boost::urls::host_type::ipvfuture || view.encoded_host_address().empty()) {
    return fail("missing host");
  }
  url.host = view.host_address();
  if (view.has_port() && !view.port().empty()) {
    auto port = parse_port(view.port());
    if (!port) {
      return fail("invalid port '" + std::string(view.port()) + "'");
    }
    url.port = *port;
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  url.target = std::string(view.encoded_target());
  if (url.target.empty()) {
    url.target = "/";
  } else if (url.target.front() == '?') {
    url.target.insert(0, "/");
  }
  return url;
}

}  // namespace crosscheck::config
