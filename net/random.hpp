// Unpredictable numbers for the network: DNS query ids must not be guessable
// by an off-path spoofer, so they come from the kernel (getrandom), not from
// a seeded PRNG.
#pragma once

#include <cstdint>

namespace crosscheck::net {

std::uint16_t random_u16();

}  // namespace crosscheck::net
