// libFuzzer target: bytes as `replay` input, one JSON object per line, each
// through daemon::parse_replay_line. A bad line is refused with a one-line
// reason; no line throws or crashes.
#include "daemon/replay_input.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace crosscheck::daemon;

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    std::string error;
    const auto record = parse_replay_line(line, error);
    if (!record && error.empty()) {
      std::abort();  // a refusal always says why
    }
  }
  return 0;
}
