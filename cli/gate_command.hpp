// `crosscheck gate TARGET --expect healthy|unhealthy ...`: the failover
// scripts' client. Asks one or more oracles over REST and turns their
// answers into an exit status a script can trust: 0 proceed, 1 confirmed
// otherwise, 3 hold, 4 no oracle reachable, 2 usage error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace crosscheck::cli {

constexpr int k_gate_proceed = 0;
constexpr int k_gate_otherwise = 1;
constexpr int k_gate_usage = 2;
constexpr int k_gate_hold = 3;
constexpr int k_gate_unreachable = 4;

// Runs the gate; never throws. Prints one line per oracle and the decision.
int run_gate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace crosscheck::cli
