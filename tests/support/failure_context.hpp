#pragma once

#include <functional>
#include <string>

namespace crosscheck::testing {

// What a failing assertion prints beside its own message: the logs of the
// programs the test started, read when the failure happens. (An INFO is
// built where it is written, before the program has logged anything.)
// `owner` names the entry for its removal; the first failure of each test
// case prints every entry in place then.
void add_failure_context(const void* owner, std::function<std::string()> describe);
void remove_failure_context(const void* owner);

}  // namespace crosscheck::testing
