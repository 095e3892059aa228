// Routing: the route table, method checks, errors, and the dispatch to
// reads (reads.cpp) and writes (writes.cpp), with ETags on reads. Every
// path through here returns a value; nothing reads a clock or a socket.
#include "api/router.hpp"

#include "api/route.hpp"
#include "base/ascii.hpp"
#include "net/http_target.hpp"
#include "peers/protocol.hpp"
#include "snapshot/json_views.hpp"

#include <algorithm>
#include <array>

namespace crosscheck::api {

using namespace detail;

namespace {

namespace cs = consensus;

struct RouteShape {
  std::array<std::string_view, 4> parts;  // "" past the end; "*" is the subject
  RouteKind kind;
  std::string_view allow;
};

constexpr std::array<RouteShape, 17> k_routes{{
    {{"v1", "verdicts"}, RouteKind::Verdicts, "GET"},
    {{"v1", "verdicts", "*"}, RouteKind::Verdict, "GET"},
    {{"v1", "verdicts", "*", "history"}, RouteKind::History, "GET"},
    {{"v1", "verdicts", "*", "recheck"}, RouteKind::Recheck, "POST"},
    {{"v1", "watch"}, RouteKind::Watch, "GET"},
    {{"v1", "vantages"}, RouteKind::Vantages, "GET"},
    {{"v1", "escalations"}, RouteKind::Escalations, "GET"},
    {{"v1", "escalations", "*", "ack"}, RouteKind::Ack, "POST"},
    {{"v1", "overrides", "*"}, RouteKind::Override, "PUT, DELETE"},
    {{"v1", "maintenance", "*"}, RouteKind::Maintenance, "PUT, DELETE"},
    {{"healthz"}, RouteKind::Healthz, "GET"},
    {{"readyz"}, RouteKind::Readyz, "GET"},
    {{"metrics"}, RouteKind::Metrics, "GET"},
    {{"v1", "audit"}, RouteKind::Audit, "GET"},
    {{"v1", "verdicts", "*", "gate"}, RouteKind::GateRecord, "POST"},
    {{"v1", "actions"}, RouteKind::Actions, "GET, POST"},
    {{"v1", "actions", "*", "ack"}, RouteKind::ActionAck, "POST"},
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

}  // namespace

namespace detail {

ApiResponse make_response(int status, std::string body) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

ApiResponse json_response(const boost::json::value& value) {
  return make_response(200, snapshot::to_body(value));
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

}  // namespace detail

std::string ApiResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

ApiResponse error_response(int status, std::string_view error, std::string_view detail) {
  ApiResponse response =
      make_response(status, snapshot::to_body(snapshot::error_json(error, detail)));
  if (status == 429 || status == 503) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

bool is_signed_route(std::string_view target) {
  constexpr std::string_view k_verdicts = "/v1/verdicts";
  if (!target.starts_with(k_verdicts)) {
    return false;
  }
  const auto rest = target.substr(k_verdicts.size());
  return rest.empty() || rest.front() == '/' || rest.front() == '?';
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

ApiOutcome handle_request(const ApiRequest& request, const snapshot::Snapshot& snapshot,
                          const cs::Instant& now) {
  auto target = net::parse_request_target(request.target);
  if (!target) {
    return bad_request(target.error());
  }
  const std::string& path = target->path;
  if (auto page = ui_response(request, path)) {
    return *std::move(page);
  }
  if (path == peers::k_peer_votes_path) {
    return peer_votes(request, snapshot, now);
  }
  if (path == peers::k_peer_recheck_path) {
    return peer_recheck(request, snapshot);
  }
  net::QueryParams query;
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
  if (auto refused = refuse_access(request, *route)) {
    return *std::move(refused);
  }
  if (request.method != "GET") {  // POST, PUT, DELETE: the writes
    ApiOutcome outcome = handle_write(request, *route, query, snapshot, now.wall);
    if (auto* write = std::get_if<WriteRequest>(&outcome)) {
      // Under mTLS the certificate names the caller too: "from" is both.
      write->caller = Caller{request.principal,
                             request.client_subject.empty()
                                 ? request.client_address
                                 : request.client_address + " cert=" + request.client_subject};
    }
    return outcome;
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

}  // namespace crosscheck::api
