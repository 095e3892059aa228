// `crosscheck lab [--scenario NAME]`: the offline demo. Starts the lab's
// simulated world on loopback (lab/world.hpp), runs the real oracle against
// it in this process with its REST API on --listen, and plays a scripted
// incident step by step, saying what the oracle must conclude and when it
// did. Ctrl-C stops everything it started.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace crosscheck::cli {

// 0: every step showed what it should (or Ctrl-C); 1: a step did not, or the
// lab could not start; 2: usage error.
int run_lab_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    bool colour);

}  // namespace crosscheck::cli
