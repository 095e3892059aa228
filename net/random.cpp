#include "net/random.hpp"

#include "net/hmac.hpp"

#include <sys/random.h>

#include <random>
#include <vector>

namespace crosscheck::net {

std::uint16_t random_u16() {
  std::uint16_t value = 0;
  if (getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value)) {
    return value;
  }
  // getrandom cannot fail for 2 bytes once the pool is initialised; fall
  // back to random_device rather than abort a probe.
  static thread_local std::random_device device;
  return static_cast<std::uint16_t>(device());
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> random(bytes);
  std::size_t filled = 0;
  while (filled < random.size()) {
    const auto got = getrandom(random.data() + filled, random.size() - filled, 0);
    if (got <= 0) {
      break;  // not seen for a few bytes; random_device fills the rest
    }
    filled += static_cast<std::size_t>(got);
  }
  if (filled < random.size()) {
    static thread_local std::random_device device;
    for (; filled < random.size(); ++filled) {
      random[filled] = static_cast<unsigned char>(device());
    }
  }
  return to_hex(random);
}

}  // namespace crosscheck::net
