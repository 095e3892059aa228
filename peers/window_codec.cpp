#include "peers/window_codec.hpp"

#include "consensus/time_format.hpp"
#include "snapshot/json_views.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace crosscheck::peers {
namespace {

namespace json = boost::json;
namespace cs = crosscheck::consensus;

constexpr std::array<std::string_view, 7> k_window_keys{"target", "node", "set_at",    "expires_at",
                                                        "reason", "by",   "cleared_at"};

const json::string* string_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_string() : nullptr;
}

bool text(const json::object& object, std::string_view key, std::size_t limit, std::string& out,
          std::string& why) {
  const json::string* value = string_at(object, key);
  if (value == nullptr || value->empty() || value->size() > limit ||
      std::any_of(value->begin(), value->end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; })) {
    why = std::string(key) + " must be a string of 1 to " + std::to_string(limit) +
          " bytes without control characters";
    return false;
  }
  out = std::string(*value);
  return true;
}

bool time(const json::object& object, std::string_view key, cs::WallTime& out, std::string& why) {
  const json::string* value = string_at(object, key);
  const auto at = value != nullptr ? cs::parse_rfc3339(*value) : std::nullopt;
  if (!at) {
    why = std::string(key) + " must be an RFC 3339 time";
    return false;
  }
  out = *at;
  return true;
}

bool decode_window(const json::value& value, cs::SharedWindow& out, std::string& why) {
  const json::object* object = value.if_object();
  if (object == nullptr) {
    why = "a window must be an object";
    return false;
  }
  for (const auto& [key, item] : *object) {
    if (std::find(k_window_keys.begin(), k_window_keys.end(), std::string_view(key)) ==
        k_window_keys.end()) {
      why = unknown_field(std::string_view(key));
      return false;
    }
  }
  auto& window = out.window;
  if (!text(*object, "target", k_peer_max_name_bytes + cs::k_group_prefix.size(), out.target,
            why) ||
      !is_window_target(out.target)) {
    why = "target must be a target's name or group:NAME";
    return false;
  }
  if (!text(*object, "node", k_peer_max_name_bytes, window.node, why) ||
      !is_peer_name(window.node)) {
    why = "node must be a name of 1 to 128 [A-Za-z0-9._-]";
    return false;
  }
  if (!time(*object, "set_at", window.set_at, why) ||
      !time(*object, "expires_at", window.expires_at, why) ||
      !text(*object, "reason", snapshot::k_max_reason_bytes, window.reason, why) ||
      !text(*object, "by", snapshot::k_max_by_bytes, window.by, why)) {
    return false;
  }
  const json::value* cleared = object->if_contains("cleared_at");
  if (cleared == nullptr || cleared->is_null()) {
    out.cleared_at.reset();
    return true;
  }
  cs::WallTime at;
  if (!time(*object, "cleared_at", at, why)) {
    why = "cleared_at must be null or an RFC 3339 time";
    return false;
  }
  out.cleared_at = at;
  return true;
}

}  // namespace

bool is_window_target(std::string_view name) {
  if (name.starts_with(cs::k_group_prefix)) {
    name.remove_prefix(cs::k_group_prefix.size());
  }
  return is_peer_name(name);
}

json::array windows_json(const std::vector<cs::SharedWindow>& windows, cs::WallTime now) {
  json::array out;
  for (const auto& entry : windows) {
    if (out.size() >= k_peer_max_windows) {
      break;
    }
    if (entry.window.expires_at <= now) {
      continue;  // over everywhere: nothing to hold, nothing to end
    }
    json::object item;
    item["target"] = entry.target;
    item["node"] = entry.window.node;
    item["set_at"] = cs::format_rfc3339(entry.window.set_at);
    item["expires_at"] = cs::format_rfc3339(entry.window.expires_at);
    item["reason"] = entry.window.reason;
    item["by"] = entry.window.by;
    item["cleared_at"] = nullptr;
    if (entry.cleared_at) {
      item["cleared_at"] = cs::format_rfc3339(*entry.cleared_at);
    }
    out.emplace_back(std::move(item));
  }
  return out;
}

bool decode_windows(const json::object& object, PeerExport& out, std::string& why) {
  const json::value* list = object.if_contains("windows");
  if (list == nullptr) {
    return true;  // an older peer: no windows
  }
  const json::array* windows = list->if_array();
  if (windows == nullptr) {
    why = "windows must be an array";
    return false;
  }
  const auto kept = keep_first(out, "windows", windows->size(), k_peer_max_windows);
  out.windows.reserve(kept);
  for (std::size_t i = 0; i < kept; ++i) {
    cs::SharedWindow window;
    std::string entry_why;
    if (decode_window((*windows)[i], window, entry_why)) {
      out.windows.push_back(std::move(window));
    } else {
      leave_out(out, "windows[" + std::to_string(i) + "]: " + entry_why);
    }
  }
  return true;
}

}  // namespace crosscheck::peers
