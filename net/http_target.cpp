// Request-target parsing for the REST API: one pass over the path, one over
// the query, decoding each piece after splitting so "%2F" stays inside a name.
#include "net/http_target.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crosscheck::net {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  const int lower = std::tolower(static_cast<unsigned char>(c));
  return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0 || (high == 0 && low == 0)) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || stop != end) {
    return std::nullopt;
  }
  return value;
}

Status QueryParams::parse(std::string_view text) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view piece = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (piece.empty()) {
      continue;
    }
    const std::size_t eq = piece.find('=');
    auto name = percent_decode(piece.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? "" : piece.substr(eq + 1));
    if (!name || !value) {
      return fail("bad percent-encoding in the query");
    }
    if (find(*name) != nullptr) {
      return fail("query parameter '" + *name + "' given twice");
    }
    items_.push_back(Item{std::move(*name), std::move(*value), false});
  }
  return {};
}

std::optional<std::string> QueryParams::take(std::string_view name) {
  Item* item = find(name);
  if (item == nullptr) {
    return std::nullopt;
  }
  item->taken = true;
  return item->value;
}

std::string QueryParams::leftover(std::string_view allowed) const {
  for (const auto& item : items_) {
    if (!item.taken) {
      return "unknown query parameter '" + item.name + "'" +
             (allowed.empty() ? std::string(" (none allowed)")
                              : " (allowed: " + std::string(allowed) + ")");
    }
  }
  return {};
}

QueryParams::Item* QueryParams::find(std::string_view name) {
  const auto found = std::find_if(items_.begin(), items_.end(),
                                  [&](const Item& item) { return item.name == name; });
  return found == items_.end() ? nullptr : &*found;
}

Expected<RequestTarget> parse_request_target(std::string_view target) {
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (!path.starts_with('/')) {
    return fail("the request target must be a path");
  }
  RequestTarget out;
  out.path = std::string(path);
  for (std::string_view rest = path.substr(1);;) {
    const std::size_t slash = rest.find('/');
    auto segment = percent_decode(rest.substr(0, slash));
    if (!segment) {
      return fail("bad percent-encoding in the path");
    }
    out.segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) {
      break;
    }
    rest = rest.substr(slash + 1);
  }
  if (question != std::string_view::npos) {
    out.query = std::string(target.substr(question + 1));
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  constexpr std::string_view k_hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += k_hex[byte >> 4U];
      out += k_hex[byte & 0xFU];
    }
  }
  return out;
}

}  // namespace crosscheck::net
