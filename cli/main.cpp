// The crosscheck executable: hands the command line to run_cli().
#include "cli/cli.hpp"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    // Colour only for a terminal, and never when NO_COLOR is set (no-color.org).
    const bool colour = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    return crosscheck::cli::run_cli(args, std::cout, std::cerr, colour);
  } catch (const std::exception& error) {
    std::cerr << "crosscheck: fatal: " << error.what() << '\n';
    return 1;
  }
}
