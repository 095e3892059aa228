// Walks yaml-cpp nodes and turns them into typed values or diagnostics.
#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>
#include <numeric>

namespace crosscheck::config::detail {

namespace {

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// from_chars over the whole of `text`: trailing characters are an error too.
template <typename Number>
std::errc parse_all(std::string_view text, Number& value) {
  const char* end = std::to_address(text.end());
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc{} && ptr != end) {
    return std::errc::invalid_argument;
  }
  return ec;
}

// The message for a value of the wrong kind: "defaults.rise: expected an
// integer, got 'two'".
void wrong_type(const Field& field, std::string_view expected, Diagnostics& diags) {
  diags.error(field.pos,
              field.path + ": expected " + std::string(expected) + ", got " + describe(field.node));
}

}  // namespace

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

void Diagnostics::error(SourcePos pos, std::string message) {
  items_.push_back(Diagnostic{Severity::Error, file_, pos, std::move(message)});
  ++errors_;
}

void Diagnostics::warning(SourcePos pos, std::string message) {
  items_.push_back(Diagnostic{Severity::Warning, file_, pos, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
  });
  return out;
}

SourcePos pos_of(const YAML::Node& node, SourcePos fallback) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return fallback;
  }
  return SourcePos{mark.line + 1, mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_valid_name(std::string_view name) {
  return !name.empty() && name.size() <= k_max_name_bytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                  c == '-';
         });
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

Field element(const Field& sequence, std::size_t index, const YAML::Node& node) {
  return Field{node, sequence.path + "[" + std::to_string(index) + "]", pos_of(node, sequence.pos)};
}

std::optional<std::string> read_string(const Field& field, Diagnostics& diags) {
  if (!field.node.IsScalar()) {
    wrong_type(field, "a string", diags);
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::optional<std::int64_t> read_integer(const Field& field, std::int64_t min, std::int64_t max,
                                         Diagnostics& diags) {
  if (!field.node.IsScalar()) {
    wrong_type(field, "an integer", diags);
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  const bool negative = !text.empty() && text.front() == '-';
  if (!is_digits(negative ? std::string_view(text).substr(1) : std::string_view(text))) {
    wrong_type(field, "an integer", diags);
    return std::nullopt;
  }
  std::int64_t value = 0;
  const std::errc ec = parse_all(text, value);
  if (ec != std::errc{} || value < min || value > max) {
    if (max == k_no_max && ec == std::errc{} && value < min) {
      diags.error(field.pos,
                  field.path + " must be at least " + std::to_string(min) + ", got " + text);
    } else {
      diags.error(field.pos, field.path + " must be between " + std::to_string(min) + " and " +
                                 std::to_string(max) + ", got " + text);
    }
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(const Field& field, Diagnostics& diags) {
  // YAML 1.2 core schema only: "yes", "on" and friends are typos, not booleans.
  if (field.node.IsScalar()) {
    const std::string& text = field.node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      return false;
    }
  }
  wrong_type(field, "true or false", diags);
  return std::nullopt;
}

std::optional<Duration> read_duration(const Field& field, ZeroDuration zero, Diagnostics& diags) {
  if (!field.node.IsScalar()) {
    wrong_type(field, "a duration", diags);
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  auto duration = parse_duration(text);
  if (!duration) {
    const auto digits = text.find_first_not_of("0123456789");
    const std::string_view unit =
        digits == std::string::npos ? std::string_view{} : std::string_view(text).substr(digits);
    const bool well_formed =
        digits != 0 && (unit == "ms" || unit == "s" || unit == "m" || unit == "h" || unit == "d");
    if (well_formed) {
      diags.error(field.pos, "duration " + quote(text) + " for " + field.path +
                                 " is too long: the maximum is 36500d");
    } else {
      diags.error(field.pos, "invalid duration " + quote(text) + " for " + field.path +
                                 ": expected a whole number and a unit (ms, s, m, h, d), e.g. 10s");
    }
    return std::nullopt;
  }
  if (zero == ZeroDuration::Rejected && duration->count() == 0) {
    diags.error(field.pos, field.path + " must be greater than zero, got " + quote(text));
    return std::nullopt;
  }
  return duration;
}

std::optional<double> read_fraction(const Field& field, Diagnostics& diags) {
  if (!field.node.IsScalar()) {
    wrong_type(field, "a number", diags);
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  double value = 0;
  if (text.empty() || parse_all(text, value) != std::errc{} || !std::isfinite(value)) {
    wrong_type(field, "a number", diags);
    return std::nullopt;
  }
  if (!(value > 0.0 && value <= 1.0)) {
    diags.error(field.pos, field.path + " must be greater than 0 and at most 1, got " + text);
    return std::nullopt;
  }
  return value;
}

bool expect_sequence(const Field& field, Diagnostics& diags) {
  if (field.node.IsSequence()) {
    return true;
  }
  wrong_type(field, "a sequence", diags);
  return false;
}

MapReader::MapReader(Field field, std::span<const std::string_view> known_keys, Diagnostics& diags)
    : field_(std::move(field)), diags_(&diags) {
  // An empty section ("quorum:" with every key commented out) reads as an
  // empty mapping, so its keys take their defaults.
  if (!field_.node.IsMap() && !field_.node.IsNull()) {
    if (field_.path.empty()) {
      diags.error(field_.pos, "expected a mapping at the top level, got " + describe(field_.node));
    } else {
      wrong_type(field_, "a mapping", diags);
    }
    return;
  }
  is_mapping_ = true;
  if (field_.node.IsNull()) {
    return;
  }
  for (auto it = field_.node.begin(); it != field_.node.end(); ++it) {
    if (!check_key(it->first, known_keys)) {
      continue;
    }
    const std::string& key = it->first.Scalar();
    const SourcePos key_pos = pos_of(it->first, field_.pos);
    auto first = std::find_if(entries_.begin(), entries_.end(),
                              [&key](const Entry& entry) { return entry.key == key; });
    if (first != entries_.end()) {
      // yaml-cpp keeps both pairs of "interval: 5s / interval: 10s"; YAML says
      // keys are unique, and silently picking one would hide a mistake.
      diags.error(key_pos, "duplicate key " + quote(key) + " (first at line " +
                               std::to_string(first->key_pos.line) + ")");
      continue;
    }
    // An empty value ("interval:") gets the mark of the next token, which may
    // be on another line; point at the key instead.
    const SourcePos value_pos = it->second.IsNull() ? key_pos : pos_of(it->second, key_pos);
    entries_.push_back(
        Entry{key, key_pos, Field{it->second, child_path(field_.path, key), value_pos}});
  }
}

bool MapReader::check_key(const YAML::Node& key_node,
                          std::span<const std::string_view> known_keys) {
  const SourcePos key_pos = pos_of(key_node, field_.pos);
  const std::string where = field_.path.empty() ? "" : " in " + field_.path;
  if (!key_node.IsScalar()) {
    diags_->error(key_pos, "expected a key name" + where + ", got " + describe(key_node));
    return false;
  }
  const std::string& key = key_node.Scalar();
  if (std::find(known_keys.begin(), known_keys.end(), key) != known_keys.end()) {
    return true;
  }
  std::string message = "unknown key " + quote(key) + where;
  // Suggest the closest known key within two edits, unless the "closeness" is
  // only that both are short: 'ab' is two edits from 'up' but shares nothing.
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;
  for (const std::string_view known : known_keys) {
    const std::size_t distance = edit_distance(key, known);
    if (distance < best_distance && distance < key.size()) {
      best = known;
      best_distance = distance;
    }
  }
  if (best) {
    message += " (did you mean " + quote(*best) + "?)";
  }
  diags_->error(key_pos, std::move(message));
  return false;
}

std::optional<Field> MapReader::get(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) {
      return entry.value;
    }
  }
  return std::nullopt;
}

std::optional<Field> MapReader::require(std::string_view key) const {
  auto found = get(key);
  if (!found && is_mapping_) {
    const std::string where = field_.path.empty() ? "" : " in " + field_.path;
    diags_->error(field_.pos, "missing required key " + quote(key) + where);
  }
  return found;
}

std::optional<std::string> MapReader::string(std::string_view key) const {
  auto found = get(key);
  return found ? read_string(*found, *diags_) : std::nullopt;
}

std::optional<std::int64_t> MapReader::integer(std::string_view key, std::int64_t min,
                                               std::int64_t max) const {
  auto found = get(key);
  return found ? read_integer(*found, min, max, *diags_) : std::nullopt;
}

std::optional<bool> MapReader::boolean(std::string_view key) const {
  auto found = get(key);
  return found ? read_bool(*found, *diags_) : std::nullopt;
}

std::optional<Duration> MapReader::duration(std::string_view key, ZeroDuration zero) const {
  auto found = get(key);
  return found ? read_duration(*found, zero, *diags_) : std::nullopt;
}

std::optional<double> MapReader::fraction(std::string_view key) const {
  auto found = get(key);
  return found ? read_fraction(*found, *diags_) : std::nullopt;
}

}  // namespace crosscheck::config::detail
