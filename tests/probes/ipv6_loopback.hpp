// IPv6 loopback in probe tests: some containers cannot bind ::1. A test case
// that needs it asks ipv6_loopback_usable() first. Under ctest (which sets
// CROSSCHECK_SKIP_RETURN_CODE and SKIP_RETURN_CODE, tests/probes/CMakeLists.txt)
// a missing ::1 ends the test process with that status, so the case is
// reported "Skipped", never "Passed". Run by hand, it warns and returns false.
#pragma once

#include "support/fake_dns_server.hpp"

#include <catch2/catch.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string_view>

namespace crosscheck::testing {

// True when ::1 can be bound here. Call it first in a test case of its own:
// ctest runs one test case per process, and the exit must not hide results
// of an IPv4 case that ran before it in the same process.
inline bool ipv6_loopback_usable() {
  if (FakeDnsServer::can_bind("::1")) {
    return true;
  }
  if (const char* code = std::getenv("CROSSCHECK_SKIP_RETURN_CODE"); code != nullptr) {
    const std::string_view text(code);
    int status = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), status).ec == std::errc{}) {
      std::cout << "SKIPPED: cannot bind ::1 here (no IPv6 loopback)" << std::endl;
      std::exit(status);  // NOLINT(concurrency-mt-unsafe): the test process ends here
    }
  }
  WARN("cannot bind ::1 here; the IPv6 case is not exercised");
  return false;
}

}  // namespace crosscheck::testing
