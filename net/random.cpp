#include "net/random.hpp"

#include "net/hmac.hpp"

#include <sys/random.h>

#include <array>
#include <random>
#include <vector>

namespace crosscheck::net {
namespace {

// `size` bytes from the kernel (getrandom). It cannot fail for a few bytes
// once the pool is initialised; should it, random_device fills the rest
// rather than abort a probe or a request.
void fill_random(unsigned char* out, std::size_t size) {
  std::size_t filled = 0;
  while (filled < size) {
    const auto got = getrandom(out + filled, size - filled, 0);
    if (got <= 0) {
      break;
    }
    filled += static_cast<std::size_t>(got);
  }
  if (filled < size) {
    static thread_local std::random_device device;
    for (; filled < size; ++filled) {
      out[filled] = static_cast<unsigned char>(device());
    }
  }
}

}  // namespace

std::uint16_t random_u16() {
  std::array<unsigned char, 2> bytes{};
  fill_random(bytes.data(), bytes.size());
  return static_cast<std::uint16_t>((bytes[0] << 8U) | bytes[1]);
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> random(bytes);
  fill_random(random.data(), random.size());
  return to_hex(random);
}

}  // namespace crosscheck::net
