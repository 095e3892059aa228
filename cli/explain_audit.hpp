// `crosscheck explain`'s audit lines: who set or cleared the override in
// force, from where, as GET /v1/audit?target= tells. Pure: text in, text out.
#pragma once

#include <string>
#include <string_view>

namespace crosscheck::cli {

// "override audit (newest first):\n  <at> override_set by oncall from
// 127.0.0.1:50312: verdict=... (done)\n" for the override lines of a
// GET /v1/audit answer; "" when it holds none or is unusable.
std::string format_override_audit(std::string_view body);

// The request target that asks for `target`'s latest override lines only
// (GET /v1/audit?...&action=override_set,override_cleared), so rechecks of
// the same target cannot crowd them out of the answer.
std::string override_audit_target(std::string_view target);

}  // namespace crosscheck::cli
