// Helpers on the validated Config: quorum resolution, lookups, diagnostics
// text and the one-line summary printed by check-config.
#include "config/config.hpp"

#include <algorithm>

namespace crosscheck::config {

namespace {

std::string counted(std::size_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

std::string describe_quorum(const QuorumSpec& spec, int known_domains) {
  std::string text = std::to_string(spec.resolve(known_domains));
  if (spec.is_majority()) {
    text += " (majority)";
  }
  return text;
}

}  // namespace

int QuorumSpec::resolve(int known_domains) const {
  if (count) {
    return *count;
  }
  // Majority, and never a lone domain where two exist: with 2 domains
  // 2/2+1 = 2, with 3 it is 2, with 4 it is 3.
  return std::max(known_domains / 2 + 1, std::min(2, known_domains));
}

std::string QuorumSpec::to_string() const {
  return count ? std::to_string(*count) : std::string("majority");
}

Duration jitter_window(Duration interval) {
  return std::max(Duration{1}, interval / k_jitter_window_divisor);
}

Duration max_start_jitter(Duration interval) {
  // Turn k starts at grid_k + j_k with j_k in [0, window - 1 ms], so
  // start_{k+1} - start_k = interval + j_{k+1} - j_k <= interval + window - 1 ms.
  return jitter_window(interval) - Duration{1};
}

Duration min_stale_after(const Timing& timing) {
  // Observations are dated when the probe ends, up to `timeout` after its
  // start. The worst gap between two of them: an instant answer at the start
  // of one window, then a timeout started at the end of the next. A turn
  // skipped because its probe still ran does not widen it: that probe ended
  // late by at least what the skip adds.
  return timing.interval + max_start_jitter(timing.interval) + timing.timeout;
}

std::string TargetConfig::host_name() const {
  if (dns) {
    return dns->name;
  }
  for (const auto* host : {tcp ? &tcp->host : nullptr, redis ? &redis->host : nullptr,
                           postgres ? &postgres->host : nullptr, mysql ? &mysql->host : nullptr}) {
    if (host != nullptr && *host) {
      return **host;
    }
  }
  if (http) {
    return http->url.host;
  }
  return {};
}

bool TargetConfig::reaches() const {
  return tcp || http || redis || postgres || mysql;
}

bool TargetConfig::sees_certificate() const {
  return (http && http->url.is_https()) || (tcp && (tcp->tls || tcp->starttls != StartTls::None));
}

std::string_view to_string(ServerRole role) {
  switch (role) {
    case ServerRole::Primary:
      return "primary";
    case ServerRole::Replica:
      return "replica";
    case ServerRole::Any:
      break;
  }
  return "any";
}

std::string_view to_string(StartTls protocol) {
  switch (protocol) {
    case StartTls::Smtp:
      return "smtp";
    case StartTls::Imap:
      return "imap";
    case StartTls::Postgres:
      return "postgres";
    case StartTls::None:
      break;
  }
  return "none";
}

std::string_view to_string(PgSslMode mode) {
  switch (mode) {
    case PgSslMode::Disable:
      return "disable";
    case PgSslMode::Require:
      return "require";
    case PgSslMode::VerifyCa:
      return "verify-ca";
    case PgSslMode::VerifyFull:
      return "verify-full";
    case PgSslMode::Prefer:
      break;
  }
  return "prefer";
}

std::vector<std::string> Config::local_domains() const {
  std::vector<std::string> domains;
  for (const VantageConfig& vantage : vantages) {
    if (std::find(domains.begin(), domains.end(), vantage.domain) == domains.end()) {
      domains.push_back(vantage.domain);
    }
  }
  return domains;
}

std::vector<std::string> Config::counted_domains() const {
  std::vector<std::string> domains = local_domains();
  const auto add = [&domains](const std::string& domain) {
    if (std::find(domains.begin(), domains.end(), domain) == domains.end()) {
      domains.push_back(domain);
    }
  };
  for (const PeerConfig& peer : peers) {
    if (!peer.domains) {
      add(peer.name);
      continue;
    }
    for (const std::string& domain : *peer.domains) {
      add(domain);
    }
  }
  return domains;
}

int Config::known_domain_count() const {
  return static_cast<int>(counted_domains().size());
}

const TargetConfig* Config::find_target(std::string_view name) const {
  auto it = std::find_if(targets.begin(), targets.end(),
                         [name](const TargetConfig& target) { return target.name == name; });
  return it == targets.end() ? nullptr : &*it;
}

const GroupConfig* Config::find_group(std::string_view name) const {
  auto it = std::find_if(groups.begin(), groups.end(),
                         [name](const GroupConfig& group) { return group.name == name; });
  return it == groups.end() ? nullptr : &*it;
}

bool Config::names(std::string_view name) const {
  if (name.starts_with(consensus::k_group_prefix)) {
    return find_group(name.substr(consensus::k_group_prefix.size())) != nullptr;
  }
  return find_target(name) != nullptr;
}

std::vector<std::string> Config::related_names(std::string_view name) const {
  if (name.starts_with(consensus::k_group_prefix)) {
    const auto* group = find_group(name.substr(consensus::k_group_prefix.size()));
    if (group == nullptr) {
      return {};
    }
    // Its members, and the other groups of its members: an action on
    // db-cluster holds a group sharing a node with it, and so the reverse.
    auto out = group->members;
    for (const auto& other : groups) {
      const auto shared =
          std::any_of(other.members.begin(), other.members.end(), [&](const std::string& m) {
            return std::find(group->members.begin(), group->members.end(), m) !=
                   group->members.end();
          });
      if (&other != group && shared) {
        out.push_back(consensus::group_name(other.name));
      }
    }
    return out;
  }
  std::vector<std::string> out;
  for (const auto& group : groups) {
    if (std::find(group.members.begin(), group.members.end(), name) != group.members.end()) {
      out.push_back(consensus::group_name(group.name));
    }
  }
  return out;
}

std::optional<Duration> Config::cooldown_of(std::string_view name) const {
  if (name.starts_with(consensus::k_group_prefix)) {
    const auto* group = find_group(name.substr(consensus::k_group_prefix.size()));
    return group ? std::optional(group->cooldown) : std::nullopt;
  }
  const auto* target = find_target(name);
  return target ? std::optional(target->cooldown) : std::nullopt;
}

std::string VantageConfig::resolver_label() const {
  if (!resolver) {
    return "system";
  }
  return (tls ? "tls://" : "") + resolver->to_string();
}

const VantageConfig* Config::find_vantage(std::string_view name) const {
  auto it = std::find_if(vantages.begin(), vantages.end(),
                         [name](const VantageConfig& vantage) { return vantage.name == name; });
  return it == vantages.end() ? nullptr : &*it;
}

std::string Diagnostic::to_string() const {
  std::string text = file;
  // Line 0: not about a place in the file (e.g. the file cannot be read).
  if (pos.line > 0) {
    text += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  }
  text += severity == Severity::Error ? ": error: " : ": warning: ";
  return text + message;
}

std::string summarize(const Config& config) {
  std::vector<std::string> domains = config.counted_domains();
  const int known = static_cast<int>(domains.size());
  for (std::string& domain : domains) {
    const bool peer_name =
        std::any_of(config.peers.begin(), config.peers.end(),
                    [&](const auto& peer) { return !peer.domains && peer.name == domain; });
    domain = peer_name ? "peer " + domain : domain;
  }
  std::string domain_list;
  for (const std::string& domain : domains) {
    domain_list += (domain_list.empty() ? "" : ", ") + domain;
  }
  return counted(config.targets.size(), "target", "targets") + ", " +
         counted(config.vantages.size(), "vantage", "vantages") + ", " +
         counted(static_cast<std::size_t>(known), "failure domain", "failure domains") + " (" +
         domain_list + "), " + counted(config.peers.size(), "peer", "peers") + "; quorum down " +
         describe_quorum(config.quorum.down, known) + ", up " +
         describe_quorum(config.quorum.up, known);
}

std::string_view latency_quantile_name(double quantile) {
  for (const auto& item : k_latency_quantiles) {
    if (item.quantile == quantile) {
      return item.key;
    }
  }
  return "p?";
}

}  // namespace crosscheck::config
