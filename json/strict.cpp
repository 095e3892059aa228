#include "json/strict.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/system/errc.hpp>

#include <set>
#include <vector>

namespace crosscheck::json_text {
namespace json = boost::json;

namespace {

// Builds a json::value as json::parse does, but refuses an object that names
// a key twice. Why: json::parse keeps one of them silently, so
// {"outcome": "up", "outcome": "down"} would be replayed as whichever it
// kept while a reviewer of the file may read the other. Boost 1.81 has no
// parse option for this (allow_duplicate_keys came later), so the handler
// tracks the keys of every open object.
class StrictHandler {
 public:
  // NOLINTBEGIN(readability-identifier-naming): names basic_parser requires
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  // NOLINTEND(readability-identifier-naming)

  using error_code = boost::system::error_code;
  using string_view = json::string_view;

  StrictHandler() { stack_.reset(); }  // a value_stack builds nothing before reset()

  static bool on_document_begin(error_code& /*ec*/) { return true; }
  static bool on_document_end(error_code& /*ec*/) { return true; }
  bool on_object_begin(error_code& /*ec*/) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, error_code& /*ec*/) {
    keys_.pop_back();
    stack_.push_object(n);
    return true;
  }
  static bool on_array_begin(error_code& /*ec*/) { return true; }
  bool on_array_end(std::size_t n, error_code& /*ec*/) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t /*n*/, error_code& /*ec*/) {
    key_.append(s.data(), s.size());
    stack_.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t /*n*/, error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second) {
      duplicate_ = std::move(key_);
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    key_.clear();
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t /*n*/, error_code& /*ec*/) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t /*n*/, error_code& /*ec*/) {
    stack_.push_string(s);
    return true;
  }
  static bool on_number_part(string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_int64(std::int64_t i, string_view /*s*/, error_code& /*ec*/) {
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view /*s*/, error_code& /*ec*/) {
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view /*s*/, error_code& /*ec*/) {
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code& /*ec*/) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(error_code& /*ec*/) {
    stack_.push_null();
    return true;
  }
  static bool on_comment_part(string_view /*s*/, error_code& /*ec*/) { return true; }
  static bool on_comment(string_view /*s*/, error_code& /*ec*/) { return true; }

  json::value release() { return stack_.release(); }
  // The first key an object named twice; empty when none did.
  const std::string& duplicate() const { return duplicate_; }

 private:
  json::value_stack stack_;
  std::vector<std::set<std::string, std::less<>>> keys_;  // one per open object
  std::string key_;                                       // the key being read
  std::string duplicate_;
};

}  // namespace

StrictJson parse_strict_json(std::string_view text) {
  json::basic_parser<StrictHandler> parser{json::parse_options{}};
  StrictJson out;
  const auto used = parser.write_some(false, text.data(), text.size(), out.error);
  if (!parser.handler().duplicate().empty()) {
    out.duplicate = parser.handler().duplicate();
    return out;
  }
  if (!out.error && used < text.size()) {
    out.error = json::error::extra_data;
  }
  if (!out.error) {
    out.value = parser.handler().release();
  }
  return out;
}

}  // namespace crosscheck::json_text
