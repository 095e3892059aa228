// Unpredictable numbers for the network: DNS query ids must not be guessable
// by an off-path spoofer, so they come from the kernel (getrandom), not from
// a seeded PRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace crosscheck::net {

std::uint16_t random_u16();

// `bytes` unpredictable bytes (getrandom) as lower-case hex: request nonces.
std::string random_hex(std::size_t bytes);

}  // namespace crosscheck::net
