// Prometheus' own checker for what /metrics serves: `promtool check metrics`
// (Debian's prometheus package, installed by scripts/install-deps.sh). A
// missing promtool is a failure, never a skip.
#pragma once

#include <string>

namespace crosscheck::testing {

struct PromtoolResult {
  int exit_status = -1;  // 0: parsed and no lint problem; 127: promtool not found
  std::string output;    // stdout and stderr: parse errors and lint problems
};

// Feeds `exposition` to `promtool check metrics` on stdin.
PromtoolResult promtool_check_metrics(const std::string& exposition);

}  // namespace crosscheck::testing
