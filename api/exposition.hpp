// The Prometheus text format (0.0.4) as a writer: families with # HELP and
// # TYPE, samples with escaped labels, numbers as client libraries print
// them. What is published is api/metrics.cpp's business, not this one's.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace crosscheck::api::prom {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

struct Family {
  std::string_view name;
  std::string_view type;  // gauge, counter, histogram
  std::string_view help;  // constant text without backslashes or newlines
};

// A family with one unlabelled sample, and its value as printed.
struct Single {
  Family family;
  std::string value;
};

template <typename T>
std::string number(T value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "1" : "0";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else {
    std::array<char, 32> text{};
    const auto result = std::to_chars(text.data(), text.data() + text.size(), double{value});
    return {text.data(), result.ptr};
  }
}

// A bucket bound as `le`: fixed notation, as client libraries print it
// ("0.0005", never "5e-04"), so a series keeps one name.
std::string bound(double value);

// A label value as the text format wants it: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(std::string_view value);

class Exposition {
 public:
  // `expected`: the bytes to reserve at once.
  explicit Exposition(std::size_t expected = 0) { out_.reserve(expected); }

  void family(const Family& family);
  void sample(std::string_view name, Labels labels, std::string_view value);

  template <typename T>
  void single(const Family& family, T value) {
    singles({{family, number(value)}});
  }

  void singles(std::initializer_list<Single> list);

  std::size_t size() const { return out_.size(); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace crosscheck::api::prom
