#include "net/system_clock.hpp"

#include "net/http_client.hpp"

#include <chrono>

namespace crosscheck::net {

consensus::MonoTime SystemClock::monotonic() const {
  return std::chrono::time_point_cast<consensus::Duration>(std::chrono::steady_clock::now());
}

std::chrono::nanoseconds SystemClock::monotonic_fine() const {
  return std::chrono::steady_clock::now().time_since_epoch();
}

consensus::WallTime SystemClock::system() const {
  return std::chrono::time_point_cast<consensus::Duration>(std::chrono::system_clock::now());
}

}  // namespace crosscheck::net

namespace crosscheck::net {

HttpClock real_http_clock() {
  return HttpClock{[] { return std::chrono::steady_clock::now(); },
                   [] { return std::chrono::system_clock::now(); }};
}

}  // namespace crosscheck::net
