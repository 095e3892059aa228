// GET /v1/audit: the audit log the service keeps in the snapshot (the
// latest lines; storage holds them all within the retention window).
#include "api/route.hpp"

#include "consensus/time_format.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <vector>

namespace crosscheck::api::detail {

namespace json = boost::json;

std::optional<ApiResponse> read_limit(const std::optional<std::string>& text, std::size_t max,
                                      std::size_t& limit) {
  if (!text) {
    return std::nullopt;
  }
  const auto parsed = net::parse_count(*text);
  if (!parsed || *parsed == 0 || *parsed > max) {
    return bad_query("limit must be an integer from 1 to " + std::to_string(max) + ", not '" +
                     *text + "'");
  }
  limit = static_cast<std::size_t>(*parsed);
  return std::nullopt;
}

namespace {

// The actions an audit line can carry (storage::AuditAction's spellings).
constexpr std::array<std::string_view, 11> k_audit_actions{"recheck",
                                                           "ack",
                                                           "override_set",
                                                           "override_cleared",
                                                           "reload",
                                                           "maintenance_set",
                                                           "maintenance_cleared",
                                                           "maintenance_started",
                                                           "maintenance_ended",
                                                           "action_recorded",
                                                           "action_acked"};

// `action=a,b`: the actions asked for, or why the list is refused.
std::optional<ApiResponse> read_actions(const std::optional<std::string>& text,
                                        std::vector<std::string>& actions) {
  if (!text) {
    return std::nullopt;
  }
  std::string_view rest = *text;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view action = rest.substr(0, comma);
    if (std::find(k_audit_actions.begin(), k_audit_actions.end(), action) ==
        k_audit_actions.end()) {
      std::string known;
      for (const auto name : k_audit_actions) {
        known += std::string(name) + ", ";
      }
      return bad_query("action must be a comma-separated list of " + known + "not '" + *text + "'");
    }
    actions.emplace_back(action);
    if (comma == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace

ApiResponse audit_read(net::QueryParams& query, const snapshot::Snapshot& snapshot) {
  const auto limit_text = query.take("limit");
  const auto since_text = query.take("since");
  const auto target = query.take("target");
  const auto action_text = query.take("action");
  if (auto why = query.leftover("limit, since, target, action"); !why.empty()) {
    return bad_query(why);
  }
  // Why a filter on actions: `crosscheck explain` asks for a target's
  // override lines; with only `target=`, 20 rechecks of that target (a
  // failover script's, or refused ones, which cost nothing) pushed the line
  // that says who set the override out of its answer (hostile review).
  std::vector<std::string> actions;
  if (auto refused = read_actions(action_text, actions)) {
    return *std::move(refused);
  }
  std::size_t limit = k_default_audit_limit;
  if (auto refused = read_limit(limit_text, k_max_audit_limit, limit)) {
    return *std::move(refused);
  }
  std::optional<consensus::WallTime> since;
  if (since_text) {
    since = consensus::parse_rfc3339(*since_text);
    if (!since) {
      return bad_query("since must be an RFC 3339 time such as 2025-10-20T06:00:00Z, not '" +
                       *since_text + "'");
    }
  }
  json::array items;
  for (const auto& line : snapshot.audit) {
    if (items.size() >= limit) {
      break;
    }
    if ((since && line.at < *since) || (target && line.target != *target) ||
        (!actions.empty() &&
         std::find(actions.begin(), actions.end(), line.action) == actions.end())) {
      continue;  // not break: a wall clock stepped back leaves older lines above newer ones
    }
    json::object item;
    item["at"] = consensus::format_rfc3339(line.at);
    item["action"] = line.action;
    item["principal"] = line.principal;
    item["client"] = line.client;
    item["target"] = line.target;
    if (line.escalation_id != 0) {
      item["escalation_id"] = line.escalation_id;
    }
    item["detail"] = line.detail;
    item["outcome"] = line.outcome;
    item["why"] = line.why;
    items.emplace_back(std::move(item));
  }
  json::object out;
  out["audit"] = std::move(items);
  return json_response(out);
}

}  // namespace crosscheck::api::detail
