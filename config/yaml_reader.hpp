// Internal to config/: reads a yaml-cpp tree into typed values, checks keys and
// types, and records every problem as a Diagnostic instead of throwing. Only
// config/*.cpp include this, so yaml-cpp never leaks into public headers.
#pragma once

#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::config::detail {

// Collects the diagnostics of one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(SourcePos pos, std::string message);
  void warning(SourcePos pos, std::string message);
  std::size_t error_count() const { return errors_; }
  // Every diagnostic, stably sorted by line then column.
  std::vector<Diagnostic> sorted() const;

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
  std::size_t errors_ = 0;
};

// A value in the tree and where it is: the path names it in messages
// ("targets[1].http.url"), pos points at the value (at its key when empty).
struct Field {
  YAML::Node node;
  std::string path;
  SourcePos pos;
};

// The 1-based position of `node`, or `fallback` when yaml-cpp gave it none.
SourcePos pos_of(const YAML::Node& node, SourcePos fallback);
// 'text' in single quotes, as messages show what the user wrote.
std::string quote(std::string_view text);
// What a message says it got: "'text'", "a mapping", "a sequence", "nothing".
std::string describe(const YAML::Node& node);
// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// Names of vantages, targets, peers and nodes: 1 to k_max_name_bytes of
// [A-Za-z0-9._-]: what a peer's export can carry (peers/protocol.hpp).
constexpr std::size_t k_max_name_bytes = 128;
bool is_valid_name(std::string_view name);
// "parent.key", or "key" at the top level.
std::string child_path(std::string_view parent, std::string_view key);
// The element `index` of a sequence field, with path "parent[index]".
Field element(const Field& sequence, std::size_t index, const YAML::Node& node);

// The default upper bound of integer values: whatever fits an int.
constexpr std::int64_t k_no_max = std::numeric_limits<int>::max();
enum class ZeroDuration : std::uint8_t { Allowed, Rejected };

// Typed readers of one value: nullopt after adding an error when it is bad.
std::optional<std::string> read_string(const Field& field, Diagnostics& diags);
std::optional<std::int64_t> read_integer(const Field& field, std::int64_t min, std::int64_t max,
                                         Diagnostics& diags);
std::optional<bool> read_bool(const Field& field, Diagnostics& diags);
std::optional<Duration> read_duration(const Field& field, ZeroDuration zero, Diagnostics& diags);
// A number in (0, 1].
std::optional<double> read_fraction(const Field& field, Diagnostics& diags);
// True when the field is a sequence; adds "expected a sequence" otherwise.
bool expect_sequence(const Field& field, Diagnostics& diags);

// One YAML mapping. Construction reports a non-mapping, unknown keys (with a
// suggestion) and duplicate keys; afterwards values are handed out by key.
class MapReader {
 public:
  MapReader(Field field, std::span<const std::string_view> known_keys, Diagnostics& diags);

  bool is_mapping() const { return is_mapping_; }
  const std::string& path() const { return field_.path; }
  SourcePos pos() const { return field_.pos; }
  bool has(std::string_view key) const { return get(key).has_value(); }
  // The first occurrence of `key`, or nullopt when absent.
  std::optional<Field> get(std::string_view key) const;
  // Like get(), but adds "missing required key" when absent.
  std::optional<Field> require(std::string_view key) const;

  // get() followed by the matching read_*(); nullopt when absent or bad.
  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min,
                                      std::int64_t max = k_no_max) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<Duration> duration(std::string_view key, ZeroDuration zero) const;
  std::optional<double> fraction(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    SourcePos key_pos;
    Field value;
  };
  // False (after adding an error) when the key is not one of known_keys.
  bool check_key(const YAML::Node& key_node, std::span<const std::string_view> known_keys);

  Field field_;
  Diagnostics* diags_;
  bool is_mapping_ = false;
  std::vector<Entry> entries_;  // first occurrences only, in file order
};

}  // namespace crosscheck::config::detail
