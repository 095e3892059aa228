// libFuzzer target: bytes as YAML config text through config::load_config_text.
// Bad input must come back as diagnostics (each with file:line), never as a
// crash, an exception or a sanitizer report.
#include "config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = crosscheck::config::load_config_text(text, "fuzz.yaml");
  // The contract: a config exactly when no diagnostic is an error.
  bool has_error = false;
  for (const auto& diagnostic : result.diagnostics) {
    has_error = has_error || diagnostic.severity == crosscheck::config::Severity::Error;
    (void)diagnostic.to_string();
  }
  if (result.ok() == has_error) {
    std::abort();
  }
  if (result.ok()) {
    (void)crosscheck::config::summarize(*result.config);
  }
  return 0;
}
