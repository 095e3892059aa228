// `crosscheck run --config FILE [--log-level L] [--log-format F]`: loads and
// validates the config, then runs the oracle (daemon/service) until SIGTERM
// or SIGINT, logging to stderr (daemon/logging).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace crosscheck::cli {

// Exit 0 after a clean stop, 1 when the service cannot start (e.g. the API
// address is taken), 2 on usage or config errors.
int run_service_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace crosscheck::cli
