// Test support: what a failing assertion prints beside its own message (the
// logs of the programs a test started). The registry and the Catch listener
// that prints it live in support/catch_main.cpp, which every test program
// links; support/child_process.cpp registers each ChildProcess.
#pragma once

#include <functional>
#include <string>

namespace crosscheck::testing {

// What a failing assertion prints beside its own message: the logs of the
// programs the test started, read when the failure happens (an INFO holds
// what they had logged where it was written, nothing after).
// `owner` names the entry for its removal; the first failure of each test
// case prints every entry in place then.
void add_failure_context(const void* owner, std::function<std::string()> describe);
void remove_failure_context(const void* owner);

}  // namespace crosscheck::testing
