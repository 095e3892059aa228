#include "net/random.hpp"

#include <sys/random.h>

#include <random>

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

}  // namespace crosscheck::net
