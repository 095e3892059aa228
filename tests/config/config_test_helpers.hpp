// Helpers shared by the config tests: load YAML text and get the diagnostics as
// the exact lines a user sees, a valid tail to complete partial configs, and a
// temporary directory that removes itself.
#pragma once

#include "config/config.hpp"

#include <cstdlib>  // mkdtemp (POSIX, declared by <stdlib.h>)
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::config::test {

// Every config test reports against this file name.
inline constexpr const char* k_file = "test.yaml";

// Appended after a row's own lines, so the row's line numbers stay its own:
// three failure domains and one target, no diagnostics by itself.
inline constexpr std::string_view k_valid_tail =
    "vantages:\n"
    "  - {name: a, domain: one}\n"
    "  - {name: b, domain: two}\n"
    "  - {name: c, domain: three}\n"
    "targets:\n"
    "  - {name: t, dns: {name: t.example}}\n";

// The three vantages of k_valid_tail, for rows that write their own targets.
inline constexpr std::string_view k_valid_vantages =
    "vantages:\n"
    "  - {name: a, domain: one}\n"
    "  - {name: b, domain: two}\n"
    "  - {name: c, domain: three}\n";

// Diagnostics of `yaml` as "test.yaml:L:C: error: message" lines, in order.
inline std::vector<std::string> diagnostics_of(std::string_view yaml) {
  std::vector<std::string> lines;
  for (const Diagnostic& diagnostic : load_config_text(yaml, k_file).diagnostics) {
    lines.push_back(diagnostic.to_string());
  }
  return lines;
}

// Loads text that must be valid; the diagnostics are in the failure message.
inline Config load_valid(std::string_view yaml) {
  LoadResult result = load_config_text(yaml, k_file);
  if (!result.config || !result.diagnostics.empty()) {
    std::string text = "expected a clean config, got:";
    for (const Diagnostic& diagnostic : result.diagnostics) {
      text += "\n" + diagnostic.to_string();
    }
    throw std::runtime_error(text);
  }
  return *result.config;
}

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "crosscheck-config-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, std::string_view text) const {
    std::filesystem::path file = path_ / name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// The path of a file under tests/ (CROSSCHECK_TEST_DATA_DIR).
inline std::filesystem::path test_data(std::string_view relative) {
  return std::filesystem::path(CROSSCHECK_TEST_DATA_DIR) / relative;
}

}  // namespace crosscheck::config::test
