// Translates the validated config into the quorum engine's policy. The one
// place where config/ meets consensus/; no I/O.
#pragma once

#include "config/config.hpp"
#include "consensus/policy.hpp"

namespace crosscheck::daemon {

// Every target, local vantage and peer of `config`, with defaults merged.
consensus::Policy make_policy(const config::Config& config);

}  // namespace crosscheck::daemon
