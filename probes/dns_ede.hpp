// Extended DNS Errors (RFC 8914): why a resolver failed or answered as it
// did ("SERVFAIL (EDE 6: DNSSEC Bogus)", "NOERROR ... (EDE 3: Stale
// Answer)"). Pure: the option's bytes in, a typed error and a detail out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::probes {

// The EDNS option code of an Extended DNS Error.
constexpr std::uint16_t k_edns_option_ede = 15;

struct ExtendedDnsError {
  std::uint16_t code = 0;  // INFO-CODE
  // EXTRA-TEXT as the resolver wrote it, reduced to printable ASCII (other
  // bytes become '?') and cut at k_max_extra_text: it goes into log lines,
  // JSON and terminals, and a resolver is not trusted with them.
  std::string text;
  friend bool operator==(const ExtendedDnsError&, const ExtendedDnsError&) = default;
};

constexpr std::size_t k_max_extra_text = 120;
// At most this many are kept from one reply (more are ignored).
constexpr std::size_t k_max_extended_errors = 4;

// Whether an INFO-CODE says DNSSEC validation failed (1 Unsupported DNSKEY
// Algorithm through 12 NSEC Missing, RFC 8914 section 4; not 4 Forged Answer).
bool is_dnssec_failure(std::uint16_t code);

// An EDE option's data (INFO-CODE, then EXTRA-TEXT); nullopt when shorter
// than the 2-byte INFO-CODE.
std::optional<ExtendedDnsError> parse_extended_error(std::span<const std::uint8_t> data);

// RFC 8914's name for `code` ("DNSSEC Bogus"); "" for a code it does not name.
std::string_view extended_error_name(std::uint16_t code);

// " (EDE 6: DNSSEC Bogus: no signature for example.com; EDE 22: No
// Reachable Authority)" to append to a detail; "" for none.
std::string describe_extended_errors(const std::vector<ExtendedDnsError>& errors);

}  // namespace crosscheck::probes
