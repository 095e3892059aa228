// The status page's files, compiled into the binary (cmake/embed_web.cmake
// generates the definition from api/web/): served by the router under "/"
// and /ui/<hash>/ (ui_routes.cpp).
#pragma once

#include <span>
#include <string_view>

namespace crosscheck::api {

struct WebFile {
  std::string_view name;          // "app.js": served as /ui/<hash>/app.js
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

struct WebBundle {
  std::string_view hash;   // 16 hex digits over every file's content
  std::string_view index;  // index.html with its asset base set to ui/<hash>/ (relative)
  std::span<const WebFile> files;
};

const WebBundle& web_bundle();

}  // namespace crosscheck::api
