#include "cli/explain_audit.hpp"

#include "net/http_target.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace crosscheck::cli {

namespace {

namespace json = boost::json;

std::string text_of(const json::object& line, std::string_view key) {
  const auto* value = line.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

std::string format_override_audit(std::string_view body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  const json::object* root = ec ? nullptr : parsed.if_object();
  const json::value* lines = root != nullptr ? root->if_contains("audit") : nullptr;
  if (lines == nullptr || !lines->is_array()) {
    return {};
  }
  std::string out;
  for (const auto& item : lines->as_array()) {
    if (!item.is_object()) {
      continue;
    }
    const auto& line = item.as_object();
    const std::string action = text_of(line, "action");
    if (!action.starts_with("override_")) {
      continue;
    }
    const std::string principal = text_of(line, "principal");
    const std::string why = text_of(line, "why");
    out += "  " + text_of(line, "at") + " " + action + " by " +
           (principal.empty() ? "(no token)" : principal) + " from " + text_of(line, "client") +
           (text_of(line, "detail").empty() ? "" : ": " + text_of(line, "detail")) + " (" +
           text_of(line, "outcome") + (why.empty() ? "" : ": " + why) + ")\n";
  }
  return out.empty() ? out : "override audit (newest first):\n" + out;
}

std::string override_audit_target(std::string_view target) {
  return "/v1/audit?limit=20&action=override_set,override_cleared&target=" +
         net::percent_encode(target);
}

}  // namespace crosscheck::cli
