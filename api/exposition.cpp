#include "api/exposition.hpp"

namespace crosscheck::api::prom {

std::string bound(double value) {
  std::array<char, 32> text{};
  const auto result =
      std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  return {text.data(), result.ptr};
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Exposition::family(const Family& family) {
  out_.append("# HELP ").append(family.name).append(" ").append(family.help).append("\n");
  out_.append("# TYPE ").append(family.name).append(" ").append(family.type).append("\n");
}

void Exposition::sample(std::string_view name, Labels labels, std::string_view value) {
  out_.append(name);
  if (labels.size() > 0) {
    char separator = '{';
    for (const auto& [key, text] : labels) {
      out_.push_back(separator);
      out_.append(key).append("=\"").append(escape_label_value(text)).append("\"");
      separator = ',';
    }
    out_.push_back('}');
  }
  out_.append(" ").append(value).append("\n");
}

void Exposition::singles(std::initializer_list<Single> list) {
  for (const auto& [family, value] : list) {
    this->family(family);
    sample(family.name, {}, value);
  }
}

}  // namespace crosscheck::api::prom
