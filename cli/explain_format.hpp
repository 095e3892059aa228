// What `crosscheck explain TARGET` prints: one verdict spelled out in words,
// vote by vote (why each counts or not), with divergence, last-known-good,
// an override in force and what a gate would decide. Pure: a verdict read
// off the REST API and `now` in, text out; no I/O, no clock.
#pragma once

#include "cli/status_format.hpp"
#include "snapshot/snapshot.hpp"

#include <string>

namespace crosscheck::cli {

// The whole explanation, ending with a newline. Example headline: "db is
// DISPUTED, holding its last confirmed verdict HEALTHY, since
// 2025-10-20T06:01:10Z (3m ago, generation 3): 1 of 3 failure domains down
// (quad9), 2 needed".
std::string format_explain(const snapshot::TargetView& view, consensus::WallTime now,
                           const FormatOptions& options);

// "quad9 (domain quad9) resolved an EMPTY answer while cloudflare and google
// resolved 192.0.2.10" (a failed resolution: "resolved no addresses (dns:
// SERVFAIL)"); empty when every domain agrees.
std::string describe_divergence(const snapshot::TargetView& view);

}  // namespace crosscheck::cli
