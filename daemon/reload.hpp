// What a config reload (SIGHUP) changes, decided before anything is applied.
// Pure: two validated configs in, a plan out.
#pragma once

#include "api/server.hpp"
#include "base/expected.hpp"
#include "config/config.hpp"
#include "consensus/engine.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::net {
class VerdictSigner;
}  // namespace crosscheck::net

namespace crosscheck::daemon {

struct ReloadPlan {
  // Settings a running daemon cannot change (its identity, its database,
  // its listening socket): any of them refuses the whole reload, so the
  // running config is never half replaced. "api.listen: 127.0.0.1:9470 ->
  // 127.0.0.1:9471".
  std::vector<std::string> needs_restart;
  // Targets whose check changed (dns, tcp, http, reach, canary) and
  // vantages whose resolver or source changed: their old votes are void.
  consensus::Resets resets;
  bool token_changed = false;  // api.token_file or api.tokens: names, files or scopes

  bool applicable() const { return needs_restart.empty(); }
};

ReloadPlan plan_reload(const config::Config& running, const config::Config& next);

// The API's tokens (config::read_api_tokens) and read_requires_token; an
// error when a configured file cannot be used.
Expected<api::ApiAuth> read_api_auth(const config::ApiConfig& api);

// The verdict signer for api.signing_key, as node.name: nullptr when none is
// configured; an error when the key file cannot be used. Read at start-up
// and at every reload (a rotated key takes effect on SIGHUP).
Expected<std::shared_ptr<const net::VerdictSigner>> make_verdict_signer(
    const config::Config& config);

}  // namespace crosscheck::daemon
