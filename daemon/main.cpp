// The crosscheck executable: hands the command line to run_cli().
#include "daemon/cli.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return crosscheck::daemon::run_cli(args, std::cout, std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "crosscheck: fatal: " << error.what() << '\n';
    return 1;
  }
}
