#include "cli/tls_options.hpp"

#include "config/config.hpp"
#include "net/tls_client.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <filesystem>

namespace crosscheck::cli {

namespace po = boost::program_options;

void add_tls_options(po::options_description& options, TlsFlags& flags) {
  options.add_options()("cacert", po::value(&flags.cacert),
                        "https oracles: trust only the CA certificates in this PEM file")(
      "cert", po::value(&flags.cert), "client certificate (PEM) for an API that requires one")(
      "key", po::value(&flags.key), "the private key (PEM) of --cert");
}

Expected<std::shared_ptr<boost::asio::ssl::context>> tls_context_from(const TlsFlags& flags) {
  if (flags.cacert.empty() && flags.cert.empty() && flags.key.empty()) {
    return std::shared_ptr<boost::asio::ssl::context>{};
  }
  if (flags.cert.empty() != flags.key.empty()) {
    return fail(flags.cert.empty() ? "--key needs --cert" : "--cert needs --key");
  }
  config::TlsClientConfig tls;
  const auto path = [](const std::string& text) {
    return text.empty() ? std::nullopt : std::optional(std::filesystem::absolute(text));
  };
  tls.ca_file = path(flags.cacert);
  tls.cert_file = path(flags.cert);
  tls.key_file = path(flags.key);
  auto context = net::make_client_tls_context(tls);
  if (!context) {
    const auto& why = context.error();
    const char* flag = why.rfind("cannot read ca_file", 0) == 0 || why.rfind("ca_file", 0) == 0
                           ? "--cacert"
                           : "--cert/--key";
    return fail(std::string(flag) + ": " + why);
  }
  return std::move(*context);
}

}  // namespace crosscheck::cli
