// Cross-field rules: unique names, timing that makes sense as a whole, quorum
// counts the failure domains can reach, and files the daemon must read.
#include "config/secret_file.hpp"
#include "config/sections.hpp"
#include "config/signing_key.hpp"
#include "config/tls_files.hpp"

#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace crosscheck::config::detail {

namespace {

// Reports the second and later uses of a name: `kind` is "vantage", "target"...
template <typename Entry>
void check_unique_names(std::string_view kind, const std::vector<Entry>& entries,
                        const std::vector<EntrySource>& sources, Diagnostics& diags) {
  // Why a map: comparing every pair of names took minutes at 100,000 targets.
  std::unordered_map<std::string_view, std::size_t> first;  // name -> its first entry
  first.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!sources[i].name_pos) {
      continue;
    }
    const auto [found, inserted] = first.try_emplace(entries[i].name, i);
    if (!inserted) {
      diags.error(*sources[i].name_pos, "duplicate " + std::string(kind) + " name " +
                                            quote(entries[i].name) + " (first defined at line " +
                                            std::to_string(sources[found->second].name_pos->line) +
                                            ")");
    }
  }
}

// `label` prefixes the messages: "defaults" or "targets[0] 'db'". Rules are
// checked only where this section set one of the keys involved, so a target
// that inherits a bad pair from defaults does not repeat the defaults' error.
void check_timing(const std::string& label, const Timing& timing, const TimingSource& source,
                  Diagnostics& diags) {
  if (source.timeout || source.interval) {
    if (timing.timeout >= timing.interval) {
      diags.error(source.timeout ? *source.timeout : *source.interval,
                  label + ": timeout (" + format_duration(timing.timeout) +
                      ") must be shorter than interval (" + format_duration(timing.interval) + ")");
    }
  }
  if (source.stale_after || source.interval || source.timeout) {
    // Why more than one interval: observations are dated when a probe ends.
    // With interval 10s and timeout 2s, a probe that answers at once and the
    // next one, started 10.999 s later (jitter) and timing out after 2 s, land
    // 12.999 s apart: a stale_after of 10s turns the vote unknown in between
    // and resets its fall streak, so an outage every domain sees never
    // becomes unhealthy.
    const Duration needed = min_stale_after(timing);
    if (timing.stale_after < needed) {
      const SourcePos pos = source.stale_after ? *source.stale_after
                            : source.interval  ? *source.interval
                                               : *source.timeout;
      diags.error(pos, label + ": stale_after (" + format_duration(timing.stale_after) +
                           ") must be at least interval + jitter + timeout = " +
                           format_duration(timing.interval) + " + " +
                           format_duration(max_start_jitter(timing.interval)) + " + " +
                           format_duration(timing.timeout) + " = " + format_duration(needed) +
                           ", or a late probe resets the vote");
    }
  }
  if (timing.latency && (source.latency || source.interval || source.timeout)) {
    const auto& objective = *timing.latency;
    const SourcePos pos = source.latency    ? *source.latency
                          : source.interval ? *source.interval
                                            : *source.timeout;
    const std::string quantile(latency_quantile_name(objective.quantile));
    // Why: a check slower than its timeout fails (a down), so the objective
    // would watch latencies that can never exceed it.
    if (objective.threshold >= timing.timeout) {
      diags.error(pos, label + ": latency " + quantile + " (" +
                           format_duration(objective.threshold) + ") must be below timeout (" +
                           format_duration(timing.timeout) +
                           "): a check slower than the timeout is a down, never slow");
    }
    // Why 6 intervals: fewer than LatencyObjective::k_min_samples (5)
    // passing checks in the window give no latency vote at all, and with the
    // scheduler's jitter a window of exactly 5 intervals often holds only 4
    // (a hostile review saw degraded vantages flip to up several times a
    // minute); one interval more holds 5 whenever every check passes.
    const auto needed =
        timing.interval * (static_cast<int>(consensus::LatencyObjective::k_min_samples) + 1);
    if (objective.window < needed) {
      diags.error(pos, label + ": latency window (" + format_duration(objective.window) +
                           ") must hold at least " +
                           std::to_string(consensus::LatencyObjective::k_min_samples) +
                           " checks and the scheduler's jitter: at least 6 x interval = " +
                           format_duration(needed) + ", or the objective seldom votes");
    }
  }
}

// How many failure domains a quorum count can rely on once every peer has
// answered, counted as the engine does (consensus/engine.cpp,
// known_domains): the distinct local domains, plus one per peer without
// `domains:`, plus the distinct domains the others declare. A declared
// domain equal to a local one merges with it into one vote.
struct DomainCount {
  std::vector<std::string> local;
  int peers = 0;
  int from_peers = 0;  // the most domains the peers can add
  int local_count() const { return static_cast<int>(local.size()); }
  int most() const { return local_count() + from_peers; }
};

DomainCount count_domains(const Config& config) {
  DomainCount count{config.local_domains(), static_cast<int>(config.peers.size()), 0};
  std::vector<std::string> declared;
  for (const auto& peer : config.peers) {
    int added = 0;
    for (const auto& domain : peer.domains.value_or(std::vector<std::string>{})) {
      const bool known =
          std::find(count.local.begin(), count.local.end(), domain) != count.local.end() ||
          std::find(declared.begin(), declared.end(), domain) != declared.end();
      if (!known) {
        declared.push_back(domain);
        ++added;
      }
    }
    // Why not at least one: a peer stands for a domain of its own only until
    // it answers; once it does, a peer whose declared domains are all local
    // (or another peer's) adds none, and the quorum is judged on fewer
    // domains than a count with its placeholder said (a hostile review: one
    // local domain and a peer declaring it is one failure domain, quorum 1).
    count.from_peers += peer.domains ? added : 1;
  }
  return count;
}

// A peer domain that is also a local one (or another peer's) merges with it
// into one vote (DESIGN.md): allowed, but rarely what was meant.
void check_peer_domains(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  const auto local = config.local_domains();
  std::vector<std::pair<std::string, std::string>> declared;  // domain, peer
  for (std::size_t i = 0; i < config.peers.size(); ++i) {
    const auto& peer = config.peers[i];
    if (!peer.domains || sources.peer_domains[i].size() != peer.domains->size()) {
      continue;
    }
    for (std::size_t j = 0; j < peer.domains->size(); ++j) {
      const auto& domain = (*peer.domains)[j];
      const std::string label =
          entry_label("peers[" + std::to_string(i) + "]", peer.name) + " domain '" + domain + "'";
      if (std::find(local.begin(), local.end(), domain) != local.end()) {
        diags.warning(sources.peer_domains[i][j],
                      label +
                          " is also a local failure domain: that peer's votes in it merge with "
                          "this node's vantages there into one vote");
      }
      // Why an error: every peer counts as a domain under its own name until
      // it answers (and for good without `domains:`), so a peer declaring
      // another peer's name would merge with it and silence one of them.
      const auto named_peer =
          std::find_if(config.peers.begin(), config.peers.end(),
                       [&](const PeerConfig& other) { return other.name == domain; });
      if (named_peer != config.peers.end()) {
        diags.error(sources.peer_domains[i][j],
                    label + " is the name of peer " + domain +
                        ": a peer counts as a failure domain of its own under its name; "
                        "rename the domain");
        continue;
      }
      const auto other = std::find_if(declared.begin(), declared.end(),
                                      [&](const auto& item) { return item.first == domain; });
      if (other != declared.end()) {
        diags.warning(sources.peer_domains[i][j],
                      label + " is also declared by peer " + other->second +
                          ": both peers' votes in it count as one vote");
      } else {
        declared.emplace_back(domain, peer.name);
      }
    }
  }
}

std::string counted(int n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    text += (text.empty() ? "" : ", ") + item;
  }
  return text;
}

// `path` is "quorum.down" or "targets[2].quorum.up". Only explicit counts are
// judged: a majority is taken of the domains that exist at runtime.
void check_quorum_reachable(const std::string& path, const QuorumSpec& spec, SourcePos pos,
                            const DomainCount& domains, Diagnostics& diags) {
  if (!spec.count) {
    return;
  }
  const int count = *spec.count;
  const std::string named = path + " (" + std::to_string(count) + ")";
  if (count > domains.most()) {
    const std::string peers = domains.from_peers == domains.peers
                                  ? counted(domains.peers, "peer", "peers")
                                  : std::to_string(domains.from_peers) + " from " +
                                        counted(domains.peers, "peer", "peers");
    const std::string most = domains.peers == 0
                                 ? std::to_string(domains.most())
                                 : std::to_string(domains.most()) + ": " +
                                       std::to_string(domains.local_count()) + " local + " + peers;
    diags.error(pos, named + " is larger than the number of failure domains (" + most + ")");
  } else if (count > domains.local_count()) {
    // Why only a warning: each peer counts as a domain of its own (or the
    // ones it declares), so the count is met while the peers answer; a silent peer votes unknown,
    // and then no outage can be confirmed. Example: local domains a, b and one peer, down: 3: an
    // outage is confirmed only while the peer answers.
    diags.warning(pos,
                  named + " counts on peers: only " +
                      counted(domains.local_count(), "failure domain is", "failure domains are") +
                      " local (" + joined(domains.local) + "), so " +
                      std::to_string(count - domains.local_count()) + " more must come from the " +
                      counted(domains.peers, "peer", "peers") +
                      "; while a peer does not answer, its domain votes unknown and no outage "
                      "can be confirmed");
  }
}

void check_failure_domains(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  if (!sources.domains_known || config.vantages.empty()) {
    return;  // the count would be wrong, and the real error is already reported
  }
  check_peer_domains(config, sources, diags);
  const DomainCount domains = count_domains(config);
  // Why: a peer counts as one failure domain named after it (until it
  // reports), so a local domain of the same name would swallow it and the
  // quorum would be judged on fewer domains than this check counted.
  for (std::size_t i = 0; i < config.vantages.size(); ++i) {
    for (const auto& peer : config.peers) {
      if (config.vantages[i].domain == peer.name) {
        diags.error(config.vantages[i].pos,
                    "vantages[" + std::to_string(i) + "].domain '" + peer.name +
                        "' is the name of peer " + peer.name +
                        ": a peer counts as a failure domain of its own under its name; "
                        "rename the domain");
      }
    }
  }
  if (sources.quorum_down) {
    check_quorum_reachable("quorum.down", config.quorum.down, *sources.quorum_down, domains, diags);
  }
  if (sources.quorum_up) {
    check_quorum_reachable("quorum.up", config.quorum.up, *sources.quorum_up, domains, diags);
  }
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    const TargetSource& source = sources.targets[i];
    const std::string path = "targets[" + std::to_string(i) + "].quorum.";
    if (source.down_quorum) {
      check_quorum_reachable(path + "down", config.targets[i].down_quorum, *source.down_quorum,
                             domains, diags);
    }
    if (source.up_quorum) {
      check_quorum_reachable(path + "up", config.targets[i].up_quorum, *source.up_quorum, domains,
                             diags);
    }
  }
  if (domains.most() < 2) {
    diags.warning(
        sources.vantages_pos.value_or(SourcePos{1, 1}),
        "only 1 failure domain (" + domains.local.front() +
            (domains.peers > 0 ? ", with the peers' declared domains merged into it" : "") +
            "): a lone domain cannot tell an observer problem from an outage; add "
            "vantages in other failure domains");
  }
}

bool world_readable(const std::filesystem::path& file) {
  std::error_code ec;
  const auto perms = std::filesystem::status(file, ec).permissions();
  return !ec && (perms & std::filesystem::perms::others_read) != std::filesystem::perms::none;
}

// The files of api.tls, read as the daemon reads them; the error points at
// the key of the file it is about.
void check_api_tls(const ApiTlsConfig& tls, const ApiTlsSource& source, Diagnostics& diags) {
  const auto files = read_server_tls(tls);
  if (files) {
    return;
  }
  std::optional<SourcePos> pos;
  switch (static_cast<TlsFileKind>(files.failure().code)) {
    case TlsFileKind::Cert:
      pos = source.cert_file;
      break;
    case TlsFileKind::Key:
      pos = source.key_file;
      break;
    case TlsFileKind::ClientCa:
      pos = source.client_ca_file;
      break;
  }
  diags.error(pos.value_or(source.pos), files.error());
}

// Two peers signing with one key can each sign as the other: a node holding
// the key for oracle-b can answer a pull sent to oracle-c, and with plain
// http nothing else tells them apart. A warning, not an error: the shared
// key of a small mesh is what earlier docs recommended.
void check_shared_peer_keys(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  std::vector<std::pair<std::size_t, std::string>> keys;
  for (std::size_t i = 0; i < config.peers.size(); ++i) {
    auto key = read_secret_file("key_file", config.peers[i].key_file, SecretKind::Key);
    if (!key) {
      continue;  // reported where the file is read
    }
    for (const auto& [j, other] : keys) {
      if (other == *key) {
        diags.warning(sources.peers[i].pos,
                      entry_label("peers[" + std::to_string(i) + "]", config.peers[i].name) +
                          " signs with the same key as " +
                          entry_label("peers[" + std::to_string(j) + "]", config.peers[j].name) +
                          ": either can sign replies as the other; give each peer link its own "
                          "key (docs/peers.md)");
        break;
      }
    }
    keys.emplace_back(i, std::move(*key));
  }
}

}  // namespace

void validate(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  check_unique_names("vantage", config.vantages, sources.vantages, diags);
  check_unique_names("peer", config.peers, sources.peers, diags);
  std::vector<EntrySource> target_entries;
  target_entries.reserve(sources.targets.size());
  for (const TargetSource& source : sources.targets) {
    target_entries.push_back(source.entry);
  }
  check_unique_names("target", config.targets, target_entries, diags);
  check_dependencies(config, sources, diags);
  check_unique_names("API token", config.api.tokens, sources.api_tokens, diags);
  check_api_tokens(config, sources, diags);

  check_shared_peer_keys(config, sources, diags);
  for (std::size_t i = 0; i < config.peers.size(); ++i) {
    if (sources.peers[i].name_pos && config.peers[i].name == config.node.name) {
      diags.error(*sources.peers[i].name_pos,
                  entry_label("peers[" + std::to_string(i) + "]", config.peers[i].name) +
                      ": a peer cannot have this node's own name");
    }
  }

  // libpq connects from wherever the kernel routes it: a vantage's source
  // address cannot apply to a postgres check (docs/checks.md).
  const auto sourced = std::find_if(config.vantages.begin(), config.vantages.end(),
                                    [](const VantageConfig& v) { return v.source.has_value(); });
  for (std::size_t i = 0; i < config.targets.size() && sourced != config.vantages.end(); ++i) {
    if (config.targets[i].postgres) {
      diags.warning(config.targets[i].pos,
                    entry_label("targets[" + std::to_string(i) + "]", config.targets[i].name) +
                        ": the postgres check cannot bind vantage " + quote(sourced->name) +
                        "'s source address (libpq has no such option); it connects from the "
                        "address the kernel routes it from");
    }
  }

  if (sources.defaults.clean) {
    check_timing("defaults", config.defaults, sources.defaults, diags);
    for (std::size_t i = 0; i < config.targets.size(); ++i) {
      const TargetConfig& target = config.targets[i];
      if (sources.targets[i].timing.clean) {
        check_timing(entry_label("targets[" + std::to_string(i) + "]", target.name), target.timing,
                     sources.targets[i].timing, diags);
      }
      // Why only the target's own key: `defaults.tls` applies to the
      // targets that complete a handshake and quietly skips the others.
      if (const auto& tls = sources.targets[i].timing.tls; tls && !target.sees_certificate()) {
        diags.error(*tls, entry_label("targets[" + std::to_string(i) + "]", target.name) +
                              ": tls.min_days needs a check that completes a TLS handshake "
                              "(an https URL, or tcp with tls: true or starttls)");
      }
    }
  }

  check_failure_domains(config, sources, diags);

  // Why a warning, not an error: a private network or a TLS proxy in front
  // may be fine; it is said at every start and by check-config.
  if (!config.api.tls && sources.api_listen && !config.api.listen.address.is_loopback()) {
    diags.warning(*sources.api_listen,
                  "api.listen " + config.api.listen.to_string() +
                      " is not loopback and api.tls is not set: verdicts, gates and writes "
                      "travel as plain HTTP on the network (see docs/tls.md)");
  }
  if (config.api.tls && sources.api_tls && sources.api_tls->clean) {
    check_api_tls(*config.api.tls, *sources.api_tls, diags);
  }

  for (const FileReference& file : sources.files) {
    // The daemon reads them with this same reader at start-up and reload.
    if (file.key == "signing_key") {
      if (const auto key = read_signing_key(file.key, file.path); !key) {
        diags.error(file.pos, key.error());
      } else if (world_readable(file.path)) {
        // A warning, not an error: secret files are not refused for their
        // mode, and a signing key that anyone can read signs for anyone.
        diags.warning(file.pos, "signing_key '" + file.path.string() +
                                    "' is readable by every user: chmod o-r it (anyone who "
                                    "reads it can sign verdicts as this oracle)");
      }
      continue;
    }
    const auto kind = is_api_token_file(file) ? SecretKind::BearerToken : SecretKind::Key;
    if (const auto secret = read_secret_file(file.key, file.path, kind); !secret) {
      diags.error(file.pos, secret.error());
    }
  }
  for (const TlsReference& block : sources.tls) {
    // The same reader builds the running client contexts (net/tls_client.hpp).
    if (const auto material = read_tls_files(block.tls); !material) {
      diags.error(block.pos, block.path + ": " + material.error());
    }
  }
}

}  // namespace crosscheck::config::detail
