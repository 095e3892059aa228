#include "daemon/reload.hpp"

#include "config/api_tokens.hpp"
#include "config/signing_key.hpp"
#include "config/tls_files.hpp"
#include "consensus/time_format.hpp"
#include "net/verdict_signature.hpp"

#include <algorithm>

namespace crosscheck::daemon {

namespace {

// The same question, whatever escalation threshold rides on it: tuning
// dns.rrsig_min_remaining (like tls.min_days) keeps the votes.
bool same_dns(const std::optional<config::DnsCheck>& a, const std::optional<config::DnsCheck>& b) {
  if (!a || !b) {
    return a.has_value() == b.has_value();
  }
  auto asked = *a;
  asked.rrsig_min_remaining = b->rrsig_min_remaining;
  return asked == *b;
}

bool same_check(const config::TargetConfig& a, const config::TargetConfig& b) {
  return a.canary == b.canary && same_dns(a.dns, b.dns) && a.tcp == b.tcp && a.http == b.http &&
         a.reach == b.reach;
}

// A vantage's DoT settings (tls_name, tls_pins, tls_ca) decide what it can
// observe as much as its resolver does: changing them is a vantage change.
bool same_observer(const config::VantageConfig& a, const config::VantageConfig& b) {
  return a.resolver == b.resolver && a.source == b.source && a.tls == b.tls;
}

// A vantage's tls_ca content as read; none when it has no tls_ca.
const std::vector<config::CertFingerprint>* ca_held(const DotCaContents& cas,
                                                    const std::string& vantage) {
  const auto found = cas.find(vantage);
  return found == cas.end() ? nullptr : &found->second;
}

bool same_ca_content(const DotCaContents& a, const DotCaContents& b, const std::string& vantage) {
  const auto* before = ca_held(a, vantage);
  const auto* after = ca_held(b, vantage);
  return before == nullptr || after == nullptr ? before == after : *before == *after;
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

DotCaContents read_dot_cas(const config::Config& config) {
  DotCaContents out;
  for (const auto& vantage : config.vantages) {
    if (!vantage.tls || !vantage.tls->ca_file) {
      continue;
    }
    auto& held = out[vantage.name];
    // Unreadable: held stays empty (the vantage's transport reports why).
    if (const auto material =
            config::read_tls_files(config::TlsClientConfig{vantage.tls->ca_file, {}, {}})) {
      for (const auto& certificate : material->trusted) {
        held.push_back(config::certificate_fingerprint(certificate.get()));
      }
    }
  }
  return out;
}

ReloadPlan plan_reload(const config::Config& running, const config::Config& next,
                       const DotCaContents& running_cas, const DotCaContents& next_cas) {
  ReloadPlan plan;
  compare(plan.needs_restart, "node.name", running.node.name, next.node.name);
  compare(plan.needs_restart, "node.data_dir", running.node.data_dir.string(),
          next.node.data_dir.string());
  compare(plan.needs_restart, "api.listen", running.api.listen.to_string(),
          next.api.listen.to_string());
  // The writer tallies the period in progress of every pair in its length.
  compare(plan.needs_restart, "storage.summary_period",
          consensus::format_duration(running.storage.summary_period),
          consensus::format_duration(next.storage.summary_period));
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
    // Why the content too: a CA rotated in place changes whom the vantage
    // trusts as much as a new tls_ca path does (its prober, rebuilt on
    // every reload, reads the file anew either way).
    if (before != nullptr && (!same_observer(*before, vantage) ||
                              !same_ca_content(running_cas, next_cas, vantage.name))) {
      plan.resets.vantages.push_back(vantage.name);
    }
  }
  return plan;
}

ApiTlsChange compare_api_tls(const config::ServerTlsFiles& before,
                             const config::ServerTlsFiles& after) {
  ApiTlsChange change;
  std::vector<std::string> items;
  if (before.leaf_fingerprint != after.leaf_fingerprint ||
      before.certificate_chain != after.certificate_chain) {
    items.emplace_back("certificate replaced");
  }
  const bool had_ca = !before.client_ca.empty();
  const bool has_ca = !after.client_ca.empty();
  if (!had_ca && has_ca) {
    items.emplace_back("client_ca_file set");
  } else if (had_ca && !has_ca) {
    items.emplace_back("client_ca_file removed");
  } else if (before.client_ca != after.client_ca) {
    items.emplace_back("client_ca_file changed");
  }
  const auto count_missing = [](const auto& from, const auto& in) {
    return std::count_if(from.begin(), from.end(), [&](const auto& pin) {
      return std::find(in.begin(), in.end(), pin) == in.end();
    });
  };
  const auto removed = count_missing(before.client_fingerprints, after.client_fingerprints);
  const auto added = count_missing(after.client_fingerprints, before.client_fingerprints);
  if (removed > 0) {
    items.push_back("client_fingerprints " + std::to_string(removed) + " removed");
  }
  if (added > 0) {
    items.push_back("client_fingerprints " + std::to_string(added) + " added");
  }
  change.client_checks_changed = before.client_ca != after.client_ca || removed > 0 || added > 0;
  const bool had_pins = !before.client_fingerprints.empty();
  const bool has_pins = !after.client_fingerprints.empty();
  const bool was_mtls = had_ca || had_pins;
  const bool is_mtls = has_ca || has_pins;
  // Why each is a warning: a reload is how a revocation is done, so one
  // that opens the API instead must not pass as routine.
  if (was_mtls && !is_mtls) {
    items.emplace_back("mTLS off");
    change.loosened.emplace_back(
        "mTLS turned off (client_ca_file and client_fingerprints removed): the API no longer "
        "asks for a client certificate; anyone who can reach it is served");
  } else if (!was_mtls && is_mtls) {
    items.emplace_back("mTLS on");
  } else if (had_ca && !has_ca) {
    change.loosened.emplace_back(
        "client_ca_file removed: client certificates are checked by client_fingerprints only "
        "(a pinned certificate is admitted whoever issued it)");
  } else if (had_pins && !has_pins) {
    change.loosened.emplace_back(
        "client_fingerprints removed: any certificate that chains to client_ca_file is admitted");
  }
  for (const auto& item : items) {
    change.summary += (change.summary.empty() ? "" : ", ") + item;
  }
  return change;
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
