#include "daemon/reload.hpp"

#include "config/api_tokens.hpp"
#include "config/signing_key.hpp"
#include "net/verdict_signature.hpp"

#include <algorithm>

namespace crosscheck::daemon {

namespace {

bool same_check(const config::TargetConfig& a, const config::TargetConfig& b) {
  return a.canary == b.canary && a.dns == b.dns && a.tcp == b.tcp && a.http == b.http &&
         a.reach == b.reach;
}

bool same_observer(const config::VantageConfig& a, const config::VantageConfig& b) {
  return a.resolver == b.resolver && a.source == b.source;
}

template <typename Item>
const Item* find_named(const std::vector<Item>& items, const std::string& name) {
  for (const auto& item : items) {
    if (item.name == name) {
      return &item;
    }
  }
  return nullptr;
}

void compare(std::vector<std::string>& out, const char* key, const std::string& was,
             const std::string& now) {
  if (was != now) {
    out.push_back(std::string(key) + ": " + was + " -> " + now);
  }
}

}  // namespace

ReloadPlan plan_reload(const config::Config& running, const config::Config& next) {
  ReloadPlan plan;
  compare(plan.needs_restart, "node.name", running.node.name, next.node.name);
  compare(plan.needs_restart, "node.data_dir", running.node.data_dir.string(),
          next.node.data_dir.string());
  compare(plan.needs_restart, "api.listen", running.api.listen.to_string(),
          next.api.listen.to_string());
  // Why restart: turning TLS off by a reload would quietly serve plain HTTP
  // on a port clients trust; its certificates and pins do apply on reload.
  const auto tls_state = [](const config::Config& config) {
    return std::string(config.api.tls ? "tls" : "plain http");
  };
  compare(plan.needs_restart, "api.tls", tls_state(running), tls_state(next));
  plan.token_changed =
      running.api.token_file != next.api.token_file ||
      running.api.read_requires_token != next.api.read_requires_token ||
      !std::equal(running.api.tokens.begin(), running.api.tokens.end(), next.api.tokens.begin(),
                  next.api.tokens.end(), [](const auto& a, const auto& b) {
                    return a.name == b.name && a.file == b.file && a.scopes == b.scopes;
                  });
  for (const auto& target : next.targets) {
    const auto* before = find_named(running.targets, target.name);
    if (before != nullptr && !same_check(*before, target)) {
      plan.resets.targets.push_back(target.name);
    }
  }
  for (const auto& vantage : next.vantages) {
    const auto* before = find_named(running.vantages, vantage.name);
    if (before != nullptr && !same_observer(*before, vantage)) {
      plan.resets.vantages.push_back(vantage.name);
    }
  }
  return plan;
}

Expected<api::ApiAuth> read_api_auth(const config::ApiConfig& api) {
  auto tokens = config::read_api_tokens(api);
  if (!tokens) {
    return fail(tokens.error());
  }
  return api::ApiAuth{std::move(*tokens), api.read_requires_token};
}

Expected<std::shared_ptr<const net::VerdictSigner>> make_verdict_signer(
    const config::Config& config) {
  if (!config.api.signing_key) {
    return std::shared_ptr<const net::VerdictSigner>{};
  }
  auto key = config::read_signing_key("api.signing_key", *config.api.signing_key);
  if (!key) {
    return fail(key.error());
  }
  return std::shared_ptr<const net::VerdictSigner>(
      std::make_shared<net::VerdictSigner>(*key, config.node.name));
}

}  // namespace crosscheck::daemon
