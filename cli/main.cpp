// The crosscheck executable: hands the command line to run_cli().
#include "cli/cli.hpp"
#include "cli/malloc_tuning.hpp"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace {

// libpq reads PG* variables as defaults for every connection (PGSERVICE,
// PGTARGETSESSIONATTRS, PGPASSWORD, PGSSLMAXPROTOCOLVERSION...): a postgres
// check must ask what its config says, and credentials come only from files
// (docs/checks.md). Nothing else in crosscheck reads them.
void clear_libpq_environment() {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("PG")) {
      names.emplace_back(text.substr(0, text.find('=')));
    }
  }
  for (const auto& name : names) {
    ::unsetenv(name.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  crosscheck::cli::tune_malloc();  // first: before anything large is allocated and freed
  clear_libpq_environment();
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
