// Routing, strict query parsing, the gate, ETags and write validation. Every
// path through here returns a value; nothing reads a clock or a socket.
#include "api/router.hpp"

#include "api/metrics.hpp"
#include "config/types.hpp"
#include "consensus/time_format.hpp"
#include "net/http_target.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

namespace crosscheck::daemon {
namespace {

namespace cs = consensus;
namespace json = boost::json;
using Kind = WriteRequest::Kind;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

ApiResponse make_response(int status, std::string body) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

ApiResponse json_response(const json::value& value) {
  return make_response(200, to_body(value));
}

enum class RouteKind : std::uint8_t {
  Verdicts,
  Verdict,
  History,
  Recheck,
  Watch,
  Vantages,
  Escalations,
  Ack,
  Override,
  Healthz,
  Readyz,
  Metrics
};

struct Route {
  RouteKind kind = RouteKind::Verdicts;
  std::string_view allow;  // the methods this path takes
  std::string subject;     // the decoded target name or escalation id ("*" in the shape)
};

struct RouteShape {
  std::array<std::string_view, 4> parts;  // "" past the end; "*" is the subject
  RouteKind kind;
  std::string_view allow;
};

constexpr std::array<RouteShape, 12> k_routes{{
    {{"v1", "verdicts"}, RouteKind::Verdicts, "GET"},
    {{"v1", "verdicts", "*"}, RouteKind::Verdict, "GET"},
    {{"v1", "verdicts", "*", "history"}, RouteKind::History, "GET"},
    {{"v1", "verdicts", "*", "recheck"}, RouteKind::Recheck, "POST"},
    {{"v1", "watch"}, RouteKind::Watch, "GET"},
    {{"v1", "vantages"}, RouteKind::Vantages, "GET"},
    {{"v1", "escalations"}, RouteKind::Escalations, "GET"},
    {{"v1", "escalations", "*", "ack"}, RouteKind::Ack, "POST"},
    {{"v1", "overrides", "*"}, RouteKind::Override, "PUT, DELETE"},
    {{"healthz"}, RouteKind::Healthz, "GET"},
    {{"readyz"}, RouteKind::Readyz, "GET"},
    {{"metrics"}, RouteKind::Metrics, "GET"},
}};

// Matches decoded path segments ("/v1/verdicts/x" -> {"v1", "verdicts", "x"}).
std::optional<Route> match_route(const std::vector<std::string>& segments) {
  for (const auto& shape : k_routes) {
    const auto length = static_cast<std::size_t>(
        std::find(shape.parts.begin(), shape.parts.end(), "") - shape.parts.begin());
    if (length != segments.size()) {
      continue;
    }
    Route route{shape.kind, shape.allow, {}};
    bool match = true;
    for (std::size_t i = 0; i < length && match; ++i) {
      match = !segments[i].empty() && (shape.parts[i] == "*" || shape.parts[i] == segments[i]);
      if (shape.parts[i] == "*") {
        route.subject = segments[i];
      }
    }
    if (match) {
      return route;
    }
  }
  return std::nullopt;
}

bool method_allowed(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    const std::size_t comma = allow.find(", ");
    if (allow.substr(0, comma) == method) {
      return true;
    }
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 2);
  }
  return false;
}

ApiResponse bad_query(std::string_view detail) {
  return error_response(400, "bad_query", detail);
}

ApiResponse bad_request(std::string_view detail) {
  return error_response(400, "bad_request", detail);
}

ApiResponse unknown_target(const std::string& target) {
  return error_response(404, "unknown_target", "no target named '" + target + "'");
}

// ---- Reads ---------------------------------------------------------------

json::array summaries(const Snapshot& snapshot) {
  json::array out;
  out.reserve(snapshot.targets.size());
  for (const auto& view : snapshot.targets) {
    out.emplace_back(verdict_summary_json(view.verdict));
  }
  return out;
}

ApiResponse watch_body(const Snapshot& snapshot) {
  json::object out;
  out["revision"] = snapshot.revision;
  out["verdicts"] = summaries(snapshot);
  return json_response(out);
}

ApiResponse verdict_read(QueryParams& query, const Snapshot& snapshot, const std::string& target,
                         const cs::Instant& now) {
  const auto expect_text = query.take("expect");
  const auto generation_text = query.take("generation");
  const auto stable_text = query.take("stable_for");
  if (auto why = query.leftover("expect, generation, stable_for"); !why.empty()) {
    return bad_query(why);
  }
  if (!expect_text && (generation_text || stable_text)) {
    return bad_query("generation and stable_for are gate parameters: they need expect");
  }
  std::optional<cs::VerdictKind> expect;
  if (expect_text) {
    expect = cs::parse_verdict_kind(*expect_text);
    if (!expect || (*expect != cs::VerdictKind::Healthy && *expect != cs::VerdictKind::Unhealthy)) {
      return bad_query("expect must be healthy or unhealthy, not '" + *expect_text + "'");
    }
  }
  std::optional<std::uint64_t> generation;
  if (generation_text && !(generation = parse_count(*generation_text))) {
    return bad_query("generation must be a non-negative integer, not '" + *generation_text + "'");
  }
  std::optional<config::Duration> stable_for;
  if (stable_text && !(stable_for = config::parse_duration(*stable_text))) {
    return bad_query("stable_for must be a duration such as 30s, not '" + *stable_text + "'");
  }
  const TargetView* view = snapshot.find(target);
  if (view == nullptr) {
    return unknown_target(target);
  }
  if (!expect) {
    return make_response(
        200, view->body->get([&] { return to_body(verdict_json(*view, snapshot.node)); }));
  }
  json::object body = verdict_json(*view, snapshot.node);
  const auto gate = cs::decide_gate(view->verdict, *expect, generation,
                                    stable_for.value_or(config::Duration{0}), now);
  json::object gate_json;
  gate_json["expect"] = cs::to_string(*expect);
  gate_json["decision"] = gate.decision();
  gate_json["reason"] = gate.reason;
  body["gate"] = std::move(gate_json);
  return make_response(gate_status(gate), to_body(body));
}

ApiResponse history_read(QueryParams& query, const Snapshot& snapshot, const std::string& target) {
  const auto limit_text = query.take("limit");
  if (auto why = query.leftover("limit"); !why.empty()) {
    return bad_query(why);
  }
  std::size_t limit = k_max_history_limit;
  if (limit_text) {
    const auto parsed = parse_count(*limit_text);
    if (!parsed || *parsed == 0 || *parsed > k_max_history_limit) {
      return bad_query("limit must be an integer from 1 to " + std::to_string(k_max_history_limit) +
                       ", not '" + *limit_text + "'");
    }
    limit = static_cast<std::size_t>(*parsed);
  }
  const TargetView* view = snapshot.find(target);
  if (view == nullptr) {
    return unknown_target(target);
  }
  json::array items;
  for (std::size_t i = 0; i < view->history.size() && i < limit; ++i) {
    items.emplace_back(transition_json(view->history[i]));
  }
  json::object out;
  out["target"] = target;
  out["history"] = std::move(items);
  return json_response(out);
}

ApiOutcome watch_read(QueryParams& query, const Snapshot& snapshot) {
  const auto since_text = query.take("since");
  const auto timeout_text = query.take("timeout");
  if (auto why = query.leftover("since, timeout"); !why.empty()) {
    return bad_query(why);
  }
  WatchRequest watch;
  if (timeout_text) {
    const auto timeout = config::parse_duration(*timeout_text);
    if (!timeout) {
      return bad_query("timeout must be a duration such as 30s, not '" + *timeout_text + "'");
    }
    watch.wait = std::min(*timeout, k_max_watch_wait);
  }
  if (!since_text) {
    return watch_body(snapshot);  // no revision yet: everything, at once
  }
  const auto since = parse_count(*since_text);
  if (!since) {
    return bad_query("since must be a revision number, not '" + *since_text + "'");
  }
  watch.since = *since;
  if (snapshot.revision > watch.since || watch.wait <= config::Duration::zero()) {
    return watch_response(snapshot, watch.since);
  }
  return watch;
}

ApiOutcome read(const Route& route, QueryParams& query, const Snapshot& snapshot,
                const cs::Instant& now) {
  switch (route.kind) {
    case RouteKind::Verdict:
      return verdict_read(query, snapshot, route.subject, now);
    case RouteKind::History:
      return history_read(query, snapshot, route.subject);
    case RouteKind::Watch:
      return watch_read(query, snapshot);
    default:
      break;
  }
  if (auto why = query.leftover(""); !why.empty()) {
    return bad_query(why);
  }
  json::object out;
  switch (route.kind) {
    case RouteKind::Verdicts:
      out["revision"] = snapshot.revision;
      out["node"] = snapshot.node;
      out["verdicts"] = summaries(snapshot);
      break;
    case RouteKind::Vantages: {
      json::array items;
      for (const auto& vantage : snapshot.vantages) {
        items.emplace_back(vantage_json(vantage));
      }
      out["vantages"] = std::move(items);
      break;
    }
    case RouteKind::Escalations: {
      json::array items;
      for (const auto& escalation : snapshot.escalations) {
        items.emplace_back(escalation_json(escalation));
      }
      out["escalations"] = std::move(items);
      break;
    }
    case RouteKind::Healthz:
      // Alive is alive: degraded storage is reported, not a failed probe.
      out["status"] = "ok";
      out["storage"] = snapshot.storage.ok ? "ok" : "degraded";
      if (!snapshot.storage.ok) {
        out["storage_reason"] = snapshot.storage.reason;
      }
      break;
    default:  // Readyz
      if (!snapshot.ready) {
        return error_response(503, "not_ready", "no evaluation has completed yet");
      }
      out["status"] = "ready";
      break;
  }
  return json_response(out);
}

// Prometheus scrapes unconditionally, and the counters move between any two
// scrapes: no ETag. Without server figures (router tests) they read zero.
ApiResponse metrics_read(const ApiRequest& request, QueryParams& query, const Snapshot& snapshot) {
  if (auto why = query.leftover(""); !why.empty()) {
    return bad_query(why);
  }
  const MetricsSources none;
  const MetricsSources& sources = request.metrics != nullptr ? *request.metrics : none;
  ApiResponse response = make_response(200, render_metrics(snapshot, sources.api, sources.process));
  response.content_type = std::string(k_metrics_content_type);
  return response;
}

// FNV-1a 64 over revision, target and body, quoted. The body is in the hash
// because vantages, escalations and gate answers change without the verdict
// revision moving (a gate turns 423 -> 200 as stable_for elapses).
std::string etag_for(std::uint64_t revision, std::string_view target, std::string_view body) {
  std::uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&](std::string_view bytes) {
    for (const char c : bytes) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    hash = (hash ^ 0xffU) * 1099511628211ULL;  // separator
  };
  mix(std::to_string(revision));
  mix(target);
  mix(body);
  std::array<char, 20> text{};
  std::snprintf(text.data(), text.size(), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text.data();
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
      tag.remove_prefix(1);
    }
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
      tag.remove_suffix(1);
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);  // weak comparison, as If-None-Match requires
    }
    if (tag == "*" || tag == etag) {
      return true;
    }
  }
  return false;
}

// ---- Writes --------------------------------------------------------------

ApiOutcome ack_write(const ApiRequest& request, const Route& route) {
  const auto id = parse_count(route.subject);
  if (!id || *id == 0 ||
      *id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad_request("escalation id must be a positive integer");
  }
  std::string why;
  auto by = parse_ack_body(request.body, why);
  if (!by) {
    return bad_request(why);
  }
  WriteRequest write;
  write.kind = Kind::Acknowledge;
  write.escalation_id = static_cast<std::int64_t>(*id);
  write.by = std::move(*by);
  return write;
}

ApiOutcome handle_write(const ApiRequest& request, const Route& route, QueryParams& query,
                        const Snapshot& snapshot, cs::WallTime now) {
  // 403 before 401: without a configured token no credential can ever work.
  if (!request.writes_enabled) {
    return error_response(403, "writes_disabled",
                          "this server has no API token (api.token_file): writes are disabled");
  }
  if (!request.authorized) {
    ApiResponse response = error_response(
        401, "unauthorized",
        request.authorization.empty() ? "a bearer token is required" : "invalid bearer token");
    response.headers.emplace_back("WWW-Authenticate",
                                  request.authorization.empty()
                                      ? R"(Bearer realm="crosscheck")"
                                      : R"(Bearer realm="crosscheck", error="invalid_token")");
    return response;
  }
  WriteRequest write;
  const auto timeout_text = route.kind == RouteKind::Recheck ? query.take("timeout") : std::nullopt;
  if (auto why = query.leftover(route.kind == RouteKind::Recheck ? "timeout" : ""); !why.empty()) {
    return bad_query(why);
  }
  if (route.kind == RouteKind::Ack) {
    return ack_write(request, route);
  }
  if (snapshot.find(route.subject) == nullptr) {
    return unknown_target(route.subject);
  }
  write.target = route.subject;
  if (route.kind == RouteKind::Recheck) {
    write.kind = Kind::Recheck;
    if (timeout_text) {
      const auto timeout = config::parse_duration(*timeout_text);
      if (!timeout || *timeout <= config::Duration::zero()) {
        return bad_query("timeout must be a positive duration such as 5s");
      }
      write.deadline = std::min(*timeout, k_max_recheck_deadline);
    }
    return write;
  }
  if (request.method == "DELETE") {
    write.kind = Kind::ClearOverride;
    return write;
  }
  std::string why;
  auto value = parse_override_body(request.body, now, why);
  if (!value) {
    return bad_request(why);
  }
  write.kind = Kind::SetOverride;
  write.override_value = std::move(*value);
  return write;
}

// GET /v1/peer/votes: the server verified the signature (request.peer); a
// refusal says why but never carries a vote.
ApiResponse peer_votes(const ApiRequest& request, const Snapshot& snapshot,
                       const cs::Instant& now) {
  if (request.method != "GET") {
    ApiResponse response = error_response(405, "method_not_allowed", "/v1/peer/votes takes GET");
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  if (request.peer == nullptr || !request.peer->ok()) {
    ApiResponse response =
        error_response(401, "unauthorized",
                       request.peer == nullptr ? "peering is not configured on this node"
                                               : std::string(to_string(request.peer->status)));
    response.headers.emplace_back("WWW-Authenticate", "Crosscheck-HMAC-SHA256");
    return response;
  }
  return make_response(200, export_votes(snapshot, now));
}

}  // namespace

std::string ApiResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return {};
}

ApiResponse error_response(int status, std::string_view error, std::string_view detail) {
  ApiResponse response = make_response(status, to_body(error_json(error, detail)));
  if (status == 429 || status == 503) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

int gate_status(const cs::GateDecision& decision) {
  switch (decision.answer) {
    case cs::GateAnswer::Proceed:
      return 200;
    case cs::GateAnswer::Otherwise:
    case cs::GateAnswer::GenerationMoved:
      return 409;
    case cs::GateAnswer::Hold:
      return 423;
  }
  return 423;
}

ApiResponse watch_response(const Snapshot& snapshot, std::uint64_t since) {
  if (snapshot.revision <= since) {
    return make_response(204, {});
  }
  return watch_body(snapshot);
}

ApiResponse write_response(const WriteRequest& write, const ActionResult& result) {
  if (result.status < 200 || result.status >= 300) {
    const int status = result.status >= 400 && result.status <= 599 ? result.status : 500;
    return error_response(status, result.error.empty() ? "action_failed" : result.error,
                          result.detail);
  }
  json::object out;
  if (write.kind == Kind::Acknowledge) {
    out["id"] = write.escalation_id;
    out["acknowledged"] = true;
    return make_response(result.status, to_body(out));
  }
  const TargetView* view = result.snapshot ? result.snapshot->find(write.target) : nullptr;
  if (view != nullptr) {
    return make_response(result.status, to_body(verdict_json(*view, result.snapshot->node)));
  }
  out["target"] = write.target;
  out["detail"] = result.detail;
  return make_response(result.status, to_body(out));
}

ApiOutcome handle_request(const ApiRequest& request, const Snapshot& snapshot,
                          const cs::Instant& now) {
  auto target = parse_request_target(request.target);
  if (!target) {
    return bad_request(target.error());
  }
  const std::string& path = target->path;
  if (path == k_peer_votes_path) {
    return peer_votes(request, snapshot, now);
  }
  QueryParams query;
  if (const auto parsed = query.parse(target->query); !parsed) {
    return bad_query(parsed.error());
  }
  const auto route = match_route(target->segments);
  if (!route) {
    return error_response(404, "not_found", "no such endpoint: " + path);
  }
  if (!method_allowed(route->allow, request.method)) {
    ApiResponse response =
        error_response(405, "method_not_allowed", path + " takes " + std::string(route->allow));
    response.headers.emplace_back("Allow", std::string(route->allow));
    return response;
  }
  if (route->allow != "GET") {  // POST, PUT, DELETE: the writes
    return handle_write(request, *route, query, snapshot, now.wall);
  }
  if (route->kind == RouteKind::Metrics) {
    return metrics_read(request, query, snapshot);
  }
  ApiOutcome outcome = read(*route, query, snapshot, now);
  auto* response = std::get_if<ApiResponse>(&outcome);
  if (response == nullptr || response->status != 200 || route->kind == RouteKind::Watch) {
    return outcome;
  }
  std::string etag = etag_for(snapshot.revision, request.target, response->body);
  if (!request.if_none_match.empty() && etag_matches(request.if_none_match, etag)) {
    response->status = 304;
    response->body.clear();
  }
  response->headers.emplace_back("ETag", std::move(etag));
  return outcome;
}

}  // namespace crosscheck::daemon
