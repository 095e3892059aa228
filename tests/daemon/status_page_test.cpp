// The status page as the router serves it (api/ui_routes.cpp) and as the
// build compiled it in (cmake/embed_web.cmake): caching by content hash, a
// strict Content-Security-Policy, and files that keep to that policy.
#include "api/router.hpp"
#include "api/web_bundle.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <string>

namespace {

using namespace crosscheck::api;
namespace cs = crosscheck::consensus;
using Catch::Matchers::Contains;

const std::string k_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

ApiResponse answer(ApiRequest request) {
  crosscheck::snapshot::Snapshot snapshot;
  snapshot.node = "oracle-a";
  snapshot.ready = true;
  const auto now = cs::parse_rfc3339("2025-10-20T06:00:45Z").value_or(cs::WallTime{});
  ApiOutcome outcome = handle_request(request, snapshot, cs::Instant{cs::MonoTime{}, now});
  REQUIRE(std::holds_alternative<ApiResponse>(outcome));
  return std::get<ApiResponse>(std::move(outcome));
}

ApiResponse get(std::string target) {
  ApiRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return answer(std::move(request));
}

std::string base() {
  return "/ui/" + std::string(web_bundle().hash) + "/";
}

const WebFile* find_file(std::string_view name) {
  const auto& files = web_bundle().files;
  const auto found =
      std::find_if(files.begin(), files.end(), [&](const WebFile& f) { return f.name == name; });
  return found == files.end() ? nullptr : &*found;
}

// Every match of `pattern`'s first group in `text`.
std::set<std::string> captures(std::string_view text, const std::regex& pattern) {
  std::set<std::string> out;
  const std::string copy(text);
  for (std::sregex_iterator it(copy.begin(), copy.end(), pattern), end; it != end; ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

}  // namespace

TEST_CASE("GET / serves the page with a strict policy and revalidates by content hash",
          "[status-page]") {
  const ApiResponse page = get("/");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.header("Content-Security-Policy") == k_csp);
  CHECK(page.header("X-Content-Type-Options") == "nosniff");
  CHECK(page.header("X-Frame-Options") == "DENY");
  CHECK(page.header("Referrer-Policy") == "no-referrer");
  CHECK(page.header("Cache-Control") == "no-cache");
  CHECK(page.header("ETag") == "\"" + std::string(web_bundle().hash) + "\"");
  // Relative to the page: a reverse proxy may serve it under a prefix.
  CHECK_THAT(page.body, Contains("\"ui/" + std::string(web_bundle().hash) + "/"));
  CHECK_THAT(page.body, !Contains("{{ASSET_BASE}}"));
  CHECK_THAT(page.body, !Contains("\"/ui/"));
  CHECK(web_bundle().hash.size() == 16);

  ApiRequest again;
  again.method = "GET";
  again.target = "/?target=shop";  // a link to one target keeps its query for the page
  again.if_none_match = page.header("ETag");
  const ApiResponse unchanged = answer(again);
  CHECK(unchanged.status == 304);
  CHECK(unchanged.body.empty());
}

TEST_CASE("every file of the page is served under its content hash and cached for good",
          "[status-page]") {
  REQUIRE_FALSE(web_bundle().files.empty());
  for (const WebFile& file : web_bundle().files) {
    INFO(file.name);
    const ApiResponse response = get(base() + std::string(file.name));
    REQUIRE(response.status == 200);
    CHECK(response.body == file.body);
    CHECK(response.content_type == file.content_type);
    CHECK(response.header("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(response.header("Content-Security-Policy") == k_csp);
    CHECK(response.header("X-Content-Type-Options") == "nosniff");
  }
}

TEST_CASE("another build's hash or a file the page does not have answers 404", "[status-page]") {
  const std::string first(web_bundle().files.front().name);
  const ApiResponse other = get("/ui/0000000000000000/" + first);
  CHECK(other.status == 404);
  CHECK(other.header("Content-Security-Policy") == k_csp);  // on errors too
  CHECK(other.header("X-Content-Type-Options") == "nosniff");
  CHECK(get(base() + "nope.js").status == 404);
  CHECK(get(base() + "index.html").status == 404);  // only as / with its asset base set
  CHECK(get(base() + "../" + first).status == 404);
  CHECK(get(base()).status == 404);
  CHECK(get("/ui/").status == 404);
  CHECK(get("/ui/" + std::string(web_bundle().hash)).status == 404);
  CHECK(get("/index.html").status == 404);
}

TEST_CASE("the page takes GET only", "[status-page]") {
  for (const std::string method : {"POST", "PUT", "DELETE"}) {
    ApiRequest request;
    request.method = method;
    request.target = "/";
    const ApiResponse response = answer(request);
    CHECK(response.status == 405);
    CHECK(response.header("Allow") == "GET");
    CHECK(response.header("Content-Security-Policy") == k_csp);
  }
}

TEST_CASE("the page needs no token where reads do: it asks for one and sends it itself",
          "[status-page]") {
  ApiRequest request;
  request.method = "GET";
  request.read_requires_token = true;
  request.configured = crosscheck::config::ScopeSet::all();
  request.target = "/";
  CHECK(answer(request).status == 200);
  request.target = base() + std::string(web_bundle().files.front().name);
  CHECK(answer(request).status == 200);
  request.target = "/v1/verdicts";
  CHECK(answer(request).status == 401);
}

TEST_CASE("every file the page loads or imports is in the bundle", "[status-page]") {
  const std::regex asset(R"re((?:src|href)="ui/[0-9a-f]{16}/([^"]+)")re");
  const auto loaded = captures(web_bundle().index, asset);
  CHECK_FALSE(loaded.empty());
  for (const auto& name : loaded) {
    INFO("index.html loads " << name);
    CHECK(find_file(name) != nullptr);
  }
  const std::regex import(R"re((?:from|import)\s*\(?\s*"\./([^"]+)")re");
  for (const WebFile& file : web_bundle().files) {
    for (const auto& name : captures(file.body, import)) {
      INFO(file.name << " imports " << name);
      CHECK(find_file(name) != nullptr);
    }
  }
}

TEST_CASE("the page keeps to its policy and never renders text as markup", "[status-page]") {
  const std::string index(web_bundle().index);
  // No inline script, no inline style, no inline event handler: the policy
  // would block them, and a page that half works is worse than none.
  CHECK(captures(index, std::regex(R"re(<script(?![^>]*\ssrc=)[^>]*>)re")).empty());
  CHECK(captures(index, std::regex(R"re(\s(style|on[a-z]+)\s*=)re", std::regex::icase)).empty());
  CHECK(captures(index, std::regex(R"re(<style[\s>])re")).empty());
  // No other origin (an SVG's namespace is a name, not a fetch).
  const std::regex other_origin(R"re((https?://(?!www\.w3\.org/)))re");
  CHECK(captures(index, other_origin).empty());
  for (const WebFile& file : web_bundle().files) {
    INFO(file.name);
    // Targets, details and reasons come from configs and peers: text goes
    // in as text (textContent), never parsed as HTML.
    const std::regex markup(
        R"re((innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\s*\(|new\s+Function))re");
    CHECK(captures(file.body, markup).empty());
    CHECK(captures(file.body, other_origin).empty());
  }
}
