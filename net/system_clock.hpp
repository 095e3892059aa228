// The real clock: the only place crosscheck reads time for decisions.
#pragma once

#include "consensus/clock.hpp"

namespace crosscheck::net {

class SystemClock final : public consensus::Clock {
 public:
  consensus::MonoTime monotonic() const override;
  consensus::WallTime system() const override;
  std::chrono::nanoseconds monotonic_fine() const override;
};

}  // namespace crosscheck::net
