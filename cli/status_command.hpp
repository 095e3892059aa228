// `crosscheck status [--watch]` and `crosscheck explain TARGET`: terminal
// clients of the REST API. The I/O lives here; what they print is built by
// status_format / explain_format from the API's answers.
#pragma once

#include "config/types.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::cli {

// The API root when no --api, CROSSCHECK_API or --config names one.
constexpr const char* k_default_api = "http://127.0.0.1:9470";

// Where the API is: `api_flag` (--api), else the CROSSCHECK_API environment
// variable, else `config_file`'s api.listen (a wildcard address means this
// host's loopback), else k_default_api. nullopt with `why` when the chosen
// source is unusable.
std::optional<config::Url> locate_api(const std::string& api_flag, const std::string& config_file,
                                      std::string& why);

// Exit 0 with an answer (whatever the verdicts), 1 when the API cannot be
// reached or answers with an error, 2 usage. With --watch: 0 after --count
// changes, at the end of --for (without --count) or on SIGINT/SIGTERM; 1
// when the API is unreachable at start or --for ends before --count changes.
int run_status_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                       bool colour);

// Exit 0 with the explanation, 1 for an unknown target or an unreachable or
// failing API, 2 usage.
int run_explain_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                        bool colour);

}  // namespace crosscheck::cli
