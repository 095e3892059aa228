// --cacert, --cert and --key of the commands that talk to a crosscheck API
// (status, explain, gate): the CAs to trust for https oracles instead of the
// system store, and a client certificate for an API that requires one. The
// files are read as a config's `tls:` block is (config/tls_files.hpp).
#pragma once

#include "base/expected.hpp"

#include <boost/program_options/options_description.hpp>

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::cli {

struct TlsFlags {
  std::string cacert;
  std::string cert;
  std::string key;
};

// Adds the three options to `options`, writing into `flags`.
void add_tls_options(boost::program_options::options_description& options, TlsFlags& flags);

// The client TLS context the flags ask for; null when none is given (the
// default context: the system store, no client certificate). An Error for
// the usage message when a file cannot be used or --cert comes without --key:
// "--cacert: ca_file '/x' holds no PEM certificate".
Expected<std::shared_ptr<boost::asio::ssl::context>> tls_context_from(const TlsFlags& flags);

}  // namespace crosscheck::cli
