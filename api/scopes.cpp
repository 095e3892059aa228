// Which scope each route needs, and the 401/403 answers when the request's
// token does not grant it (docs/api.md "Tokens and scopes" is this table).
// Pure like the router: the server matched the token, this only decides.
#include "api/route.hpp"

namespace crosscheck::api::detail {

namespace {

using config::ApiScope;

ApiResponse refusal(int status, AuthRefusal why, std::string_view error, std::string_view detail,
                    std::string challenge) {
  ApiResponse response = error_response(status, error, detail);
  response.refusal = why;
  if (!challenge.empty()) {
    response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  }
  return response;
}

}  // namespace

std::optional<ApiScope> required_scope(const ApiRequest& request, const Route& route) {
  switch (route.kind) {
    case RouteKind::Healthz:
    case RouteKind::Readyz:
      return std::nullopt;  // liveness probes carry no credentials
    case RouteKind::Recheck:
      return ApiScope::Recheck;
    case RouteKind::Ack:
    case RouteKind::ActionAck:
      return ApiScope::Ack;
    case RouteKind::GateRecord:
      return ApiScope::Act;
    case RouteKind::Actions:
      // Reading the ledger shows who acted, like the audit log: a token.
      return request.method == "GET" ? ApiScope::Read : ApiScope::Act;
    case RouteKind::Override:
    case RouteKind::Maintenance:
      return ApiScope::Override;
    case RouteKind::Audit:
      return ApiScope::Read;  // who did what from where: always behind a token
    case RouteKind::Verdicts:
    case RouteKind::Verdict:
    case RouteKind::History:
    case RouteKind::Watch:
    case RouteKind::Vantages:
    case RouteKind::Escalations:
    case RouteKind::Metrics:
      break;
  }
  return request.read_requires_token ? std::optional{ApiScope::Read} : std::nullopt;
}

std::optional<ApiResponse> refuse_access(const ApiRequest& request, const Route& route) {
  const auto scope = required_scope(request, route);
  if (!scope) {
    return std::nullopt;
  }
  const std::string name(config::to_string(*scope));
  // 403 before 401: when no configured token holds the scope, no credential
  // can ever work, and 401 ("try another token") would mislead.
  if (!request.configured.has(*scope)) {
    return refusal(403, AuthRefusal::Disabled,
                   *scope == ApiScope::Read ? "reads_disabled" : "writes_disabled",
                   "no API token of this server has scope " + name +
                       " (api.token_file, api.tokens): this endpoint is disabled",
                   "");
  }
  if (request.principal.empty()) {
    const bool missing = request.authorization.empty();
    return refusal(401, missing ? AuthRefusal::Missing : AuthRefusal::Invalid, "unauthorized",
                   missing ? "a bearer token is required" : "invalid bearer token",
                   missing ? R"(Bearer realm="crosscheck")"
                           : R"(Bearer realm="crosscheck", error="invalid_token")");
  }
  if (!request.granted.has(*scope)) {
    return refusal(
        403, AuthRefusal::InsufficientScope, "insufficient_scope",
        "token '" + request.principal + "' lacks scope " + name,
        R"(Bearer realm="crosscheck", error="insufficient_scope", scope=")" + name + "\"");
  }
  return std::nullopt;
}

}  // namespace crosscheck::api::detail
