// The `crosscheck` command line (DESIGN.md "CLI contract"): parses the
// subcommand and its options and runs it. Exit status 2 means usage or
// config error for every subcommand.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace crosscheck::cli {

constexpr int k_exit_ok = 0;
constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;

// Runs `crosscheck ARGS...` (args excludes the program name). `colour`
// allows ANSI colours in terminal output.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            bool colour = false);

// `crosscheck check-config FILE`: 0 and a summary line, or 2 and every error.
int run_check_config(const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace crosscheck::cli
