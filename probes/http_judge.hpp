// Judging one HTTP response against a target's http: check: redirect, status
// and body rules, and the detail each verdict renders. Pure and
// transport-independent: whatever reads the response hands over its facts.
#pragma once

#include "config/config.hpp"
#include "probes/reach_result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::probes {

// What judging needs of a response, as the transport read it.
struct HttpResponseFacts {
  int status = 0;
  std::string_view reason;  // the server's phrase, or the standard one, or empty
  std::string_view body;    // at most max_body_bytes
  bool body_truncated = false;
  std::optional<std::string_view> location;  // the Location header, when sent
};

struct HttpJudgement {
  ReachResult result;                 // final unless `follow` is set
  std::optional<config::Url> follow;  // a same-origin redirect to request next
};

// Judges `response` to a request for `url`, `redirects` hops into the check:
// a followable redirect yields `follow` (or HttpRedirect when it cannot be
// followed), then expect_status (HttpStatus), then expect_body (HttpBody, or
// ObserverBodyCheck when the pattern cannot run). `tls` is set for HTTPS and
// goes into the success detail ("http: 200 OK, TLSv1.3, certificate expires
// in 89 days").
HttpJudgement judge_response(const config::HttpCheck& check, const config::Url& url,
                             const HttpResponseFacts& response, int redirects,
                             const std::optional<TlsInfo>& tls);

// "example.com", "example.com:8443", "[2001:db8::1]:8443": the Host header.
std::string authority(const config::Url& url);

// ASCII case-insensitive equality (methods, host names).
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace crosscheck::probes
