// `crosscheck probe TARGET [--vantage V] --config FILE`: runs the target's
// check chain once from each (or one) vantage and prints every step.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace crosscheck::cli {

// Exit 0 when every vantage saw the target up, 1 when any did not, 2 on
// usage or config errors.
int run_probe_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                      bool colour);

}  // namespace crosscheck::cli
