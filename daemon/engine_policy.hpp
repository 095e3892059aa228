// Translates the validated config into the quorum engine's policy. The one
// place where config/ meets consensus/; no I/O.
#pragma once

#include "config/config.hpp"
#include "consensus/action_ledger.hpp"
#include "consensus/engine.hpp"
#include "consensus/policy.hpp"

#include <string_view>

namespace crosscheck::daemon {

// Every target, local vantage and peer of `config`, with defaults merged.
consensus::Policy make_policy(const config::Config& config);

// Sets in `engine` the cooldown of `name` (a target or "group:NAME") and of
// the names an action on it holds with it (config::Config::related_names):
// each gets the latest-ending unacknowledged cooldown among its own actions
// and its related names' (docs/groups.md). The daemon and `replay` share it.
void apply_cooldowns(consensus::Engine& engine, const consensus::ActionLedger& ledger,
                     const config::Config& config, std::string_view name, consensus::WallTime now);

}  // namespace crosscheck::daemon
