// GET /v1/audit: the audit log the service keeps in the snapshot (the
// latest lines; storage holds them all within the retention window).
#include "api/route.hpp"

#include "consensus/time_format.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

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

ApiResponse audit_read(net::QueryParams& query, const snapshot::Snapshot& snapshot) {
  const auto limit_text = query.take("limit");
  const auto since_text = query.take("since");
  const auto target = query.take("target");
  if (auto why = query.leftover("limit, since, target"); !why.empty()) {
    return bad_query(why);
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
    if ((since && line.at < *since) || (target && line.target != *target)) {
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
