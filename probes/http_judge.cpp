#include "probes/http_judge.hpp"

#include <boost/regex.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

namespace crosscheck::probes {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

namespace {

constexpr int k_max_redirects = 5;
constexpr std::size_t k_max_quoted = 200;  // URLs and expectations quoted in a detail

// Long texts from config or the network are cut in details: a detail is one line.
std::string clip(std::string_view text) {
  if (text.size() <= k_max_quoted) {
    return std::string(text);
  }
  return std::string(text.substr(0, k_max_quoted)) + "...";
}

std::uint16_t default_port(const config::Url& url) {
  return url.is_https() ? 443 : 80;
}

bool same_origin(const config::Url& a, const config::Url& b) {
  return a.scheme == b.scheme && equals_ignoring_case(a.host, b.host) && a.port == b.port;
}

// Resolves a Location header against the URL that answered it: absolute,
// scheme-relative ("//host/x"), path-absolute ("/x"), query ("?q") or
// path-relative ("x" from "/a/b" is "/a/x"). Fragments are dropped.
std::optional<config::Url> resolve_location(const config::Url& base, std::string_view location) {
  location = location.substr(0, location.find('#'));
  if (location.empty()) {
    return std::nullopt;
  }
  if (location.starts_with("//")) {
    return config::Url::parse(base.scheme + ":" + std::string(location), nullptr);
  }
  const auto colon = location.find(':');
  if (colon != std::string_view::npos && location.find_first_of("/?") > colon) {
    return config::Url::parse(location, nullptr);
  }
  config::Url next = base;
  const std::string path = base.target.substr(0, base.target.find('?'));
  if (location.front() == '/') {
    next.target = std::string(location);
  } else if (location.front() == '?') {
    next.target = path + std::string(location);
  } else {
    next.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  next.text = next.scheme + "://" + authority(next) + next.target;
  return next;
}

bool is_followable_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// "expected 200", "expected 200 or 400", "expected 2xx".
std::string expected_text(const std::vector<int>& statuses) {
  if (statuses.empty()) {
    return "expected 2xx";
  }
  std::string out = "expected ";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (i > 0) {
      out += i + 1 == statuses.size() ? " or " : ", ";
    }
    out += std::to_string(statuses[i]);
  }
  return out;
}

bool status_expected(const std::vector<int>& statuses, int status) {
  if (statuses.empty()) {
    return status >= 200 && status < 300;
  }
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

std::string plural_days(long days) {
  return std::to_string(days) + (days == 1 || days == -1 ? " day" : " days");
}

// ", TLSv1.3, certificate expires in 89 days" for the success detail.
std::string tls_summary(std::string_view version, std::optional<int> days_left) {
  std::string out = ", " + std::string(version);
  if (days_left) {
    const long days = *days_left;
    out += days >= 0 ? ", certificate expires in " + plural_days(days)
                     : ", certificate expired " + plural_days(-days) + " ago";
  }
  return out;
}

struct BodyJudgement {
  bool matches = false;
  bool evaluated = true;  // false: the pattern could not run, which says nothing of the target
  std::string why;        // "body does not contain 'ready'"
};

// Substring, or ECMAScript regex search. Boost.Regex rather than std::regex:
// libstdc++ recurses per character and overflows the stack on ".*x" over a
// 64 KiB one-line body; Boost.Regex gives up with an exception instead.
BodyJudgement judge_body(std::string_view body, const std::string& expect, bool is_regex) {
  if (!is_regex) {
    const bool found = body.find(expect) != std::string_view::npos;
    return {found, true, found ? "" : "body does not contain '" + clip(expect) + "'"};
  }
  boost::regex pattern;
  try {
    pattern.assign(expect, boost::regex::ECMAScript);
  } catch (const std::exception&) {
    // Config validation rejects bad patterns; this is the "should not happen" path.
    return {false, false, "body regex '" + clip(expect) + "' is invalid"};
  }
  try {
    const bool found = boost::regex_search(body.begin(), body.end(), pattern);
    return {found, true, found ? "" : "body does not match '" + clip(expect) + "'"};
  } catch (const std::exception&) {
    return {false, false, "body regex '" + clip(expect) + "' is too complex for this body"};
  }
}

ReachResult judged(ReachFailure failure, std::string detail, const HttpResponseFacts& response) {
  ReachResult result = reach_result(failure, std::move(detail));
  result.http_status = response.status;
  result.body_bytes = response.body.size();
  return result;
}

// A followable redirect: the next URL when it may be followed, else why not.
HttpJudgement judge_redirect(const config::Url& url, const HttpResponseFacts& response,
                             std::string_view location, int redirects,
                             const std::string& status_line) {
  auto next = resolve_location(url, location);
  if (!next) {
    return {judged(ReachFailure::HttpRedirect,
                   status_line + ", invalid Location '" + clip(location) + "'", response),
            std::nullopt};
  }
  // Another origin would be another host this vantage never resolved.
  if (!same_origin(*next, url)) {
    return {
        judged(ReachFailure::HttpRedirect,
               "http: redirect to other origin " + clip(next->text) + " not followed", response),
        std::nullopt};
  }
  if (redirects == k_max_redirects) {
    return {judged(ReachFailure::HttpRedirect,
                   status_line + ", more than " + std::to_string(k_max_redirects) + " redirects",
                   response),
            std::nullopt};
  }
  return {judged(ReachFailure::HttpRedirect, status_line, response), std::move(next)};
}

}  // namespace

// "example.com", "example.com:8443", "[2001:db8::1]:8443".
std::string authority(const config::Url& url) {
  std::string out = url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  if (url.port != default_port(url)) {
    out += ":" + std::to_string(url.port);
  }
  return out;
}

HttpJudgement judge_response(const config::HttpCheck& check, const config::Url& url,
                             const HttpResponseFacts& response, int redirects,
                             const std::optional<TlsInfo>& tls) {
  const std::string status_line = "http: " + std::to_string(response.status) +
                                  (response.reason.empty() ? "" : " " + clip(response.reason));
  const std::string truncation =
      response.body_truncated
          ? ", body truncated at " + std::to_string(check.max_body_bytes) + " bytes"
          : "";
  if (check.follow_redirects && is_followable_redirect(response.status) && response.location) {
    return judge_redirect(url, response, *response.location, redirects, status_line);
  }
  if (!status_expected(check.expect_status, response.status)) {
    return {judged(ReachFailure::HttpStatus,
                   status_line + ", " + expected_text(check.expect_status), response),
            std::nullopt};
  }
  if (check.expect_body) {
    const auto body = judge_body(response.body, *check.expect_body, check.body_regex);
    if (!body.matches) {
      // A pattern that could not run says nothing of the target.
      const auto failure =
          body.evaluated ? ReachFailure::HttpBody : ReachFailure::ObserverBodyCheck;
      return {judged(failure, status_line + ", " + body.why + truncation, response), std::nullopt};
    }
  }
  return {
      judged(ReachFailure::None,
             status_line + truncation + (tls ? tls_summary(tls->version, tls->cert_days_left) : ""),
             response),
      std::nullopt};
}

}  // namespace crosscheck::probes
