#include "net/http_wire.hpp"

#include "base/ascii.hpp"
#include "net/beast_names.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace crosscheck::net {

using namespace beast_names;

Expected<WireRequest> build_wire_request(const HttpRequest& spec,
                                         const HttpClientOptions& options) {
  WireRequest wire;
  const auto verb = http::string_to_verb(spec.method);
  if (verb == http::verb::unknown) {
    // A method Beast has no name for is sent when it is a token: a probe's own.
    if (!ascii::is_token(spec.method)) {
      return crosscheck::fail("unknown method '" + spec.method + "'");
    }
    wire.method_string(spec.method);
  } else {
    wire.method(verb);
  }
  wire.target(spec.target.empty() ? spec.url.target : spec.target);
  if (wire.target().empty()) {
    wire.target("/");
  }
  wire.version(11);
  wire.set(http::field::host, authority(spec.url));
  wire.set(http::field::user_agent, options.user_agent);
  if (!options.keep_alive) {
    wire.set(http::field::connection, "close");
  }
  for (const auto& [name, value] : spec.headers) {
    wire.set(name, value);
  }
  if (!spec.body.empty() || verb != http::verb::get) {
    wire.body() = spec.body;
    wire.prepare_payload();
  }
  return wire;
}

std::string origin_of(const HttpRequest& spec) {
  return spec.url.scheme + "://" + authority(spec.url) + "@" +
         (spec.address ? spec.address->to_string() : std::string()) + "/" +
         (spec.source ? spec.source->to_string() : std::string()) +
         (spec.verify_tls ? "" : "/noverify");
}

}  // namespace crosscheck::net
