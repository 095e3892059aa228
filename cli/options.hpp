// Command-line parsing shared by the subcommands that take TARGET arguments
// (gate, status, explain). Only their .cpp files include Boost.Program_options.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace crosscheck::cli {

// Parses `args` against `options`; bare words land in `targets`. Option
// names are never guessed from a prefix: in a failover script, a typo must
// be an error, not another option.
boost::program_options::variables_map parse_with_targets(
    const std::vector<std::string>& args,
    const boost::program_options::options_description& options, std::vector<std::string>& targets);

}  // namespace crosscheck::cli
