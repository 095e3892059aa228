// The route -> scope table of docs/api.md ("Tokens and scopes"), cell by
// cell: every endpoint x every token x {no token, bad token, token without
// the scope, token with it}, with read_requires_token off and on.
#include "api/router.hpp"
#include "api/server.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace {

using namespace crosscheck::api;
namespace cs = crosscheck::consensus;
namespace config = crosscheck::config;
using config::ApiScope;

config::ScopeSet scopes_of(std::initializer_list<ApiScope> list) {
  config::ScopeSet set;
  for (const ApiScope scope : list) {
    set.add(scope);
  }
  return set;
}

// The tokens of docs/configuration.md's example, and two narrower ones.
const std::vector<config::ApiToken> k_tokens{
    {"failover-script", "f41l0v3r", scopes_of({ApiScope::Read, ApiScope::Recheck})},
    {"oncall", "0nc4ll",
     scopes_of({ApiScope::Read, ApiScope::Ack, ApiScope::Override, ApiScope::Recheck})},
    {"reader", "r34d3r", scopes_of({ApiScope::Read})},
    {"acker", "4ck3r", scopes_of({ApiScope::Ack})},
};

struct Endpoint {
  std::string method;
  std::string target;
  std::string body;
  std::optional<ApiScope> scope;  // nullopt: a read (read only when required) or a probe
  bool probe = false;             // /healthz, /readyz: never a token
};

const std::vector<Endpoint> k_endpoints{
    {"GET", "/v1/verdicts", "", std::nullopt},
    {"GET", "/v1/verdicts/web", "", std::nullopt},
    {"GET", "/v1/verdicts/web?expect=healthy", "", std::nullopt},
    {"GET", "/v1/verdicts/web/history", "", std::nullopt},
    {"GET", "/v1/watch?since=0", "", std::nullopt},
    {"GET", "/v1/vantages", "", std::nullopt},
    {"GET", "/v1/escalations", "", std::nullopt},
    {"GET", "/metrics", "", std::nullopt},
    {"GET", "/v1/audit", "", ApiScope::Read},  // always behind a token
    {"GET", "/healthz", "", std::nullopt, true},
    {"GET", "/readyz", "", std::nullopt, true},
    {"POST", "/v1/verdicts/web/recheck", "", ApiScope::Recheck},
    {"POST", "/v1/escalations/12/ack", R"({"by": "alice"})", ApiScope::Ack},
    {"PUT", "/v1/overrides/web", R"({"verdict": "healthy", "reason": "drill", "ttl": "10m"})",
     ApiScope::Override},
    {"DELETE", "/v1/overrides/web", "", ApiScope::Override},
};

crosscheck::snapshot::Snapshot one_target() {
  crosscheck::snapshot::Snapshot snapshot;
  snapshot.revision = 3;
  snapshot.ready = true;
  crosscheck::snapshot::TargetView web;
  web.verdict.target = "web";
  web.verdict.kind = cs::VerdictKind::Healthy;
  snapshot.targets.push_back(web);
  return snapshot;
}

// The request as the session builds it: the header matched against every
// token (the real, constant-time matcher), and the server's token setup.
ApiRequest as_sent(const Endpoint& endpoint, const std::string& authorization,
                   const ApiAuth& auth) {
  ApiRequest request;
  request.method = endpoint.method;
  request.target = endpoint.target;
  request.body = endpoint.body;
  request.authorization = authorization;
  request.configured = auth.configured();
  request.read_requires_token = auth.read_requires_token;
  if (const auto index = match_bearer_token(authorization, auth.tokens)) {
    request.principal = auth.tokens[*index].name;
    request.granted = auth.tokens[*index].scopes;
  }
  return request;
}

ApiOutcome route(const Endpoint& endpoint, const std::string& authorization, const ApiAuth& auth) {
  const auto now = cs::Instant{cs::MonoTime{}, cs::WallTime{std::chrono::seconds{1'760'940'000}}};
  return handle_request(as_sent(endpoint, authorization, auth), one_target(), now);
}

// Allowed: a write comes back to be carried out, a read is answered 200
// (423 for the gate form: the bare verdict here is not fresh, so it holds).
bool allowed(const ApiOutcome& outcome) {
  if (const auto* response = std::get_if<ApiResponse>(&outcome)) {
    return (response->status == 200 || response->status == 423) &&
           response->refusal == AuthRefusal::None;
  }
  return true;
}

std::string error_of(const ApiResponse& response) {
  return std::string(boost::json::parse(response.body).at("error").as_string());
}

void check_refused(const ApiOutcome& outcome, int status, AuthRefusal refusal,
                   const std::string& error, const std::string& challenge) {
  REQUIRE(std::holds_alternative<ApiResponse>(outcome));
  const auto& response = std::get<ApiResponse>(outcome);
  CHECK(response.status == status);
  CHECK(response.refusal == refusal);
  CHECK(error_of(response) == error);
  CHECK(response.header("WWW-Authenticate") == challenge);
}

}  // namespace

TEST_CASE("each endpoint answers each token exactly as the scope table says", "[api][scopes]") {
  const bool read_requires_token = GENERATE(false, true);
  const ApiAuth auth{k_tokens, read_requires_token};
  const Endpoint endpoint = GENERATE(from_range(k_endpoints));
  const auto needed = endpoint.scope                             ? endpoint.scope
                      : (read_requires_token && !endpoint.probe) ? std::optional{ApiScope::Read}
                                                                 : std::nullopt;
  CAPTURE(read_requires_token, endpoint.method, endpoint.target);

  if (!needed) {
    // No scope needed: whatever is presented, or nothing, is served.
    for (const std::string header : {"", "Bearer wrong", "Bearer 4ck3r", "Basic x"}) {
      CHECK(allowed(route(endpoint, header, auth)));
    }
    return;
  }
  const std::string scope(config::to_string(*needed));
  check_refused(route(endpoint, "", auth), 401, AuthRefusal::Missing, "unauthorized",
                R"(Bearer realm="crosscheck")");
  for (const std::string bad : {"Bearer wrong", "Bearer 0nc4l", "Bearer 0nc4ll0", "Basic 0nc4ll"}) {
    CAPTURE(bad);
    check_refused(route(endpoint, bad, auth), 401, AuthRefusal::Invalid, "unauthorized",
                  R"(Bearer realm="crosscheck", error="invalid_token")");
  }
  for (const config::ApiToken& token : k_tokens) {
    CAPTURE(token.name);
    const ApiOutcome outcome = route(endpoint, "Bearer " + token.secret, auth);
    if (token.scopes.has(*needed)) {
      CHECK(allowed(outcome));
    } else {
      check_refused(
          outcome, 403, AuthRefusal::InsufficientScope, "insufficient_scope",
          R"(Bearer realm="crosscheck", error="insufficient_scope", scope=")" + scope + "\"");
      CHECK(std::get<ApiResponse>(outcome).body.find("token '" + token.name + "' lacks scope " +
                                                     scope) != std::string::npos);
    }
  }
}

TEST_CASE("a scope no configured token holds answers 403 writes_disabled, naming the scope",
          "[api][scopes]") {
  const ApiAuth none{};
  const ApiAuth readers_only{{k_tokens[2]}, false};
  for (const Endpoint& endpoint : k_endpoints) {
    if (!endpoint.scope) {
      CHECK(allowed(route(endpoint, "", none)));
      continue;
    }
    CAPTURE(endpoint.method, endpoint.target);
    const std::string scope(config::to_string(*endpoint.scope));
    for (const ApiAuth* auth : {&none, &readers_only}) {
      if (auth->configured().has(*endpoint.scope)) {
        continue;  // the reader holds read: /v1/audit is not disabled then
      }
      // Before 401: with no token holding the scope, no credential could work.
      for (const std::string header : {"", "Bearer r34d3r", "Bearer wrong"}) {
        const ApiOutcome outcome = route(endpoint, header, *auth);
        check_refused(outcome, 403, AuthRefusal::Disabled,
                      *endpoint.scope == ApiScope::Read ? "reads_disabled" : "writes_disabled", "");
        CHECK(std::get<ApiResponse>(outcome).body.find("has scope " + scope) != std::string::npos);
      }
    }
  }
}

TEST_CASE("the matched token's name is the request's principal, and only an exact match counts",
          "[api][scopes]") {
  CHECK(match_bearer_token("Bearer 0nc4ll", k_tokens) == std::optional<std::size_t>{1});
  CHECK(match_bearer_token("bearer  4ck3r ", k_tokens) == std::optional<std::size_t>{3});
  CHECK_FALSE(match_bearer_token("Bearer 0nc4l", k_tokens));
  CHECK_FALSE(match_bearer_token("Bearer ", k_tokens));
  CHECK_FALSE(match_bearer_token("", k_tokens));
  CHECK_FALSE(match_bearer_token("Bearer 0nc4ll", {}));
  const ApiAuth auth{k_tokens, true};
  CHECK(as_sent(k_endpoints[0], "Bearer f41l0v3r", auth).principal == "failover-script");
  CHECK(as_sent(k_endpoints[0], "Bearer nope", auth).principal.empty());
}
