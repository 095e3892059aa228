#include "support/promtool.hpp"

#include "support/child_process.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace crosscheck::testing {

PromtoolResult promtool_check_metrics(const std::string& exposition) {
  const TempFile input("metrics.txt", exposition);
  const std::string output_path = input.path() + ".out";
  const std::string command =
      "promtool check metrics < '" + input.path() + "' > '" + output_path + "' 2>&1";
  const int status = std::system(command.c_str());
  PromtoolResult result;
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(output_path);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

}  // namespace crosscheck::testing
