// Runs `crosscheck ARGS...` in-process and keeps what a user would see: the
// exit status, stdout and stderr. For CLI tests only.
#pragma once

#include "cli/cli.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace crosscheck::testing {

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

inline CliRun run_cli_captured(const std::vector<std::string>& args, bool colour = false) {
  std::ostringstream out;
  std::ostringstream err;
  CliRun run;
  run.status = cli::run_cli(args, out, err, colour);
  run.out = out.str();
  run.err = err.str();
  return run;
}

}  // namespace crosscheck::testing
