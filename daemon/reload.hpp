// What a config reload (SIGHUP) changes, decided before anything is applied.
// Pure: two validated configs in, a plan out (the files they name are read
// by the helpers below, never by plan_reload).
#pragma once

#include "api/server.hpp"
#include "base/expected.hpp"
#include "config/config.hpp"
#include "consensus/engine.hpp"

#include <filesystem>
#include <map>
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

// What each DoT vantage's tls_ca file held when it was read (vantage name ->
// its certificates' SHA-256 fingerprints; empty when unreadable). Vantages
// without tls_ca are absent.
using DotCaContents = std::map<std::string, std::vector<config::CertFingerprint>>;

// Reads every DoT vantage's tls_ca (start-up, and the next config at every
// reload): a CA rotated in place, under the same path, is only seen here.
DotCaContents read_dot_cas(const config::Config& config);

// `running_cas` and `next_cas`: read_dot_cas() of each config; a vantage
// whose tls_ca content differs is a vantage change, like a new path.
ReloadPlan plan_reload(const config::Config& running, const config::Config& next,
                       const DotCaContents& running_cas = {}, const DotCaContents& next_cas = {});

// What a reload changes in the API's TLS (api.tls's files, old and new).
struct ApiTlsChange {
  // Client checks a reload turned off, each a warning for the log: "mTLS
  // turned off: ...", "client_ca_file removed: ...", "client_fingerprints
  // removed: ...". Empty when nothing was loosened.
  std::vector<std::string> loosened;
  // client_ca_file or client_fingerprints changed (mTLS on or off too):
  // open connections' certificates are checked again (ApiServer::set_tls).
  bool client_checks_changed = false;
  // For the reload's audit line: "certificate replaced, client_fingerprints
  // 1 removed, mTLS off"; empty when nothing changed.
  std::string summary;
};

// Compares the API's TLS before and after a reload. Pure.
ApiTlsChange compare_api_tls(const config::ServerTlsFiles& before,
                             const config::ServerTlsFiles& after);

// The API's tokens (config::read_api_tokens) and read_requires_token; an
// error when a configured file cannot be used.
Expected<api::ApiAuth> read_api_auth(const config::ApiConfig& api);

// The verdict signer for api.signing_key, as node.name: nullptr when none is
// configured; an error when the key file cannot be used. Read at start-up
// and at every reload (a rotated key takes effect on SIGHUP).
Expected<std::shared_ptr<const net::VerdictSigner>> make_verdict_signer(
    const config::Config& config);

}  // namespace crosscheck::daemon
