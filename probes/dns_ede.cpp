#include "probes/dns_ede.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace crosscheck::probes {

std::optional<ExtendedDnsError> parse_extended_error(std::span<const std::uint8_t> data) {
  if (data.size() < 2) {
    return std::nullopt;
  }
  ExtendedDnsError error;
  error.code = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
  auto extra = data.subspan(2);
  while (!extra.empty() && extra.back() == 0) {
    extra = extra.first(extra.size() - 1);  // a trailing NUL (some resolvers count it)
  }
  constexpr std::uint8_t k_first_printable = 0x20;
  constexpr std::uint8_t k_last_printable = 0x7E;
  for (const auto byte : extra.first(std::min(extra.size(), k_max_extra_text))) {
    error.text +=
        byte >= k_first_printable && byte <= k_last_printable ? static_cast<char>(byte) : '?';
  }
  return error;
}

std::string_view extended_error_name(std::uint16_t code) {
  // RFC 8914 section 4.
  constexpr std::array<std::string_view, 25> k_names{
      "Other Error",
      "Unsupported DNSKEY Algorithm",
      "Unsupported DS Digest Type",
      "Stale Answer",
      "Forged Answer",
      "DNSSEC Indeterminate",
      "DNSSEC Bogus",
      "Signature Expired",
      "Signature Not Yet Valid",
      "DNSKEY Missing",
      "RRSIGs Missing",
      "No Zone Key Bit Set",
      "NSEC Missing",
      "Cached Error",
      "Not Ready",
      "Blocked",
      "Censored",
      "Filtered",
      "Prohibited",
      "Stale NXDOMAIN Answer",
      "Not Authoritative",
      "Not Supported",
      "No Reachable Authority",
      "Network Error",
      "Invalid Data",
  };
  return code < k_names.size() ? k_names[code] : std::string_view();
}

std::string describe_extended_errors(const std::vector<ExtendedDnsError>& errors) {
  std::string out;
  for (const auto& error : errors) {
    out += out.empty() ? " (" : "; ";
    out += "EDE " + std::to_string(error.code);
    if (const auto name = extended_error_name(error.code); !name.empty()) {
      out += ": ";
      out += name;
    }
    if (!error.text.empty()) {
      out += ": " + error.text;
    }
  }
  return out.empty() ? out : out + ")";
}

bool is_dnssec_failure(std::uint16_t code) {
  // 1-2 unsupported algorithms, 5 indeterminate, 6 bogus, 7-8 signature
  // times, 9-12 missing keys, signatures or denial; 3 Stale and 4 Forged
  // Answer are not validation failures.
  return (code >= 1 && code <= 2) || (code >= 5 && code <= 12);
}

}  // namespace crosscheck::probes
