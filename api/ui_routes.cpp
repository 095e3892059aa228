// The status page: GET / (index.html) and GET /ui/<hash>/<file>, from the
// files compiled into the binary (web_bundle.hpp). Pure like the router.
// Why no token: the files are the same for everyone and hold no state;
// where reads need a token, the page asks for one and sends it with every
// API request it makes.
#include "api/route.hpp"
#include "api/web_bundle.hpp"

#include <algorithm>

namespace crosscheck::api::detail {

namespace {

// The page runs only its own files: no inline script or style, no other
// origin, no framing (docs/status-page.md).
constexpr std::string_view k_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The policy's headers on an error too: every answer under the page's
// paths carries them, whatever its status.
ApiResponse with_policy(ApiResponse response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(k_content_security_policy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

ApiResponse page_response(int status, std::string_view content_type, std::string body,
                          std::string_view cache_control) {
  ApiResponse response;
  response.status = status;
  response.content_type = std::string(content_type);
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", std::string(cache_control));
  return with_policy(std::move(response));
}

ApiResponse not_found(std::string_view path) {
  return with_policy(error_response(404, "not_found", "no such file: " + std::string(path)));
}

}  // namespace

std::optional<ApiResponse> ui_response(const ApiRequest& request, std::string_view path) {
  constexpr std::string_view k_prefix = "/ui/";
  if (path != "/" && !path.starts_with(k_prefix)) {
    return std::nullopt;
  }
  if (request.method != "GET") {
    ApiResponse response =
        with_policy(error_response(405, "method_not_allowed", std::string(path) + " takes GET"));
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  const WebBundle& bundle = web_bundle();
  if (path == "/") {
    // Revalidated on every load (a new binary is a new page), and cheap
    // when unchanged: the ETag is the content hash.
    const std::string etag = "\"" + std::string(bundle.hash) + "\"";
    if (!request.if_none_match.empty() && etag_matches(request.if_none_match, etag)) {
      ApiResponse response = page_response(304, "text/html; charset=utf-8", {}, "no-cache");
      response.headers.emplace_back("ETag", etag);
      return response;
    }
    ApiResponse response =
        page_response(200, "text/html; charset=utf-8", std::string(bundle.index), "no-cache");
    response.headers.emplace_back("ETag", etag);
    return response;
  }
  // /ui/<hash>/<file>: another hash is another build's page (a tab open
  // across an upgrade), which this binary cannot serve.
  const std::string_view rest = path.substr(k_prefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || rest.substr(0, slash) != bundle.hash) {
    return not_found(path);
  }
  const std::string_view name = rest.substr(slash + 1);
  const auto file = std::find_if(bundle.files.begin(), bundle.files.end(),
                                 [&](const WebFile& item) { return item.name == name; });
  if (file == bundle.files.end()) {
    return not_found(path);
  }
  // The directory is the content hash: the bytes under it never change.
  return page_response(200, file->content_type, std::string(file->body),
                       "public, max-age=31536000, immutable");
}

}  // namespace crosscheck::api::detail
