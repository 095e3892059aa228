// Internal to config/: the readers of the YAML sections, and the SourceMap that
// records where values were found so that cross-field rules (validate.cpp) can
// point at them. Shared by loader.cpp, target_reader.cpp and validate.cpp.
#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::config::detail {

// A `cooldown:` key (gate.cooldown or a target's): 0s to 30d.
std::optional<Duration> read_cooldown(const MapReader& map, Diagnostics& diags);

// Which timing keys one section (defaults, or a target) set, and where.
struct TimingSource {
  std::optional<SourcePos> interval;
  std::optional<SourcePos> timeout;
  std::optional<SourcePos> stale_after;
  std::optional<SourcePos> latency;
  std::optional<SourcePos> tls;  // `tls:`, set when it read cleanly
  bool clean = true;             // interval, timeout and stale_after read without error
};

// Where a vantage, target or peer was defined; name_pos is set when its name
// read cleanly (so duplicate checks never compare half-read entries).
struct EntrySource {
  SourcePos pos;
  std::optional<SourcePos> name_pos;
};

struct TargetSource {
  EntrySource entry;
  TimingSource timing;
  std::optional<SourcePos> down_quorum;  // set when the target overrides it
  std::optional<SourcePos> up_quorum;
  std::vector<SourcePos> depends_on;  // parallel to TargetConfig::depends_on
};

// A file the daemon will read (token_file, key_file, secret_file), resolved.
struct FileReference {
  std::string key;
  std::filesystem::path path;
  SourcePos pos;
};

// Where `api.tls` and its file keys are; clean when every key read.
struct ApiTlsSource {
  SourcePos pos;
  std::optional<SourcePos> cert_file;
  std::optional<SourcePos> key_file;
  std::optional<SourcePos> client_ca_file;
  bool clean = true;
};

// A `tls:` block, for validate() to read its files once every key is known.
struct TlsReference {
  std::string path;  // "peers[0].tls"
  SourcePos pos;
  TlsClientConfig tls;
};

struct SourceMap {
  std::optional<SourcePos> vantages_pos;  // the `vantages` list
  // Every vantage's domain and the peer list read cleanly, so the number of
  // failure domains is known and quorum counts can be judged against it.
  bool domains_known = true;
  TimingSource defaults;
  std::optional<SourcePos> quorum_down;
  std::optional<SourcePos> quorum_up;
  std::vector<EntrySource> vantages;  // parallel to Config::vantages
  std::vector<TargetSource> targets;  // parallel to Config::targets
  std::vector<EntrySource> peers;     // parallel to Config::peers
  // Parallel to Config::peers: where each name of a peer's `domains:` is.
  std::vector<std::vector<SourcePos>> peer_domains;
  std::vector<FileReference> files;
  std::optional<ApiTlsSource> api_tls;
  std::optional<SourcePos> api_listen;  // set when it read cleanly
  std::vector<EntrySource> api_tokens;  // parallel to Config::api.tokens
  std::optional<SourcePos> read_requires_token;
  std::vector<TlsReference> tls;
};

// What every section reader works on.
struct LoadContext {
  Diagnostics& diags;
  std::filesystem::path base_dir;  // relative file paths resolve against it
  Config& config;
  SourceMap& sources;
};

// `targets:`; needs config.defaults and config.quorum read first (inheritance).
void read_targets(const Field& field, LoadContext& ctx);
// `peers:` and `escalation:` (link_reader.cpp).
void read_peers(const Field& field, LoadContext& ctx);
void read_escalation(const Field& field, LoadContext& ctx);
// `maintenance:` (maintenance_reader.cpp); needs `targets:` and `groups:` read first.
void read_maintenance(const Field& field, LoadContext& ctx);
// `groups:` (group_reader.cpp); needs `targets:` read first.
void read_groups(const Field& field, LoadContext& ctx);

// `api.tokens:` (api_tokens.cpp).
void read_api_token_list(const Field& field, LoadContext& ctx);
// The api rules that need the whole section: 'default' is token_file's
// name, read_requires_token needs a token with scope read, no two token
// files hold one secret (names are checked with the other entries').
void check_api_tokens(const Config& config, const SourceMap& sources, Diagnostics& diags);
// A bearer token file (api.token_file or an api.tokens entry's), not a key.
bool is_api_token_file(const FileReference& file);

// `interval, timeout, rise, fall, stale_after` of `defaults:` or a target.
void read_timing(const MapReader& map, Timing& timing, TimingSource& source, Diagnostics& diags);
// `latency:` of defaults or a target (read_timing's): off, or one quantile
// and an optional window; sets or clears timing.latency when it reads cleanly.
void read_latency(const Field& field, Timing& timing, Diagnostics& diags);
// "majority" or a positive integer.
std::optional<QuorumSpec> read_quorum_spec(const Field& field, Diagnostics& diags);
// The required `name` key of a vantage, target, peer: set on success.
std::optional<std::string> read_entry_name(const MapReader& map, EntrySource& source,
                                           Diagnostics& diags);
// An http(s) URL.
std::optional<Url> read_url(const Field& field, Diagnostics& diags);
// The optional `tls:` block of a link whose URL is `url` (link_reader.cpp):
// an error on an http:// URL (it would go unused) or with cert_file and
// key_file not both set; recorded for validate() to read its files.
std::optional<TlsClientConfig> read_tls_block(const MapReader& map, const std::optional<Url>& url,
                                              LoadContext& ctx);
// A non-empty path, made absolute against ctx.base_dir (not recorded).
std::optional<std::filesystem::path> read_path(const MapReader& map, std::string_view key,
                                               LoadContext& ctx);
// A non-empty path, made absolute against ctx.base_dir and recorded so that
// validate() checks the daemon can read it.
std::optional<std::filesystem::path> read_file_path(const MapReader& map, std::string_view key,
                                                    LoadContext& ctx);
// The same path, not recorded: files read by their own reader (api.tls).
std::optional<std::filesystem::path> read_path(const MapReader& map, std::string_view key,
                                               LoadContext& ctx);
// A check's `host:` (tcp, redis, postgres, mysql): a DNS name or an IP
// address, else an error.
std::optional<std::string> read_host(const MapReader& map, Diagnostics& diags);
// A DNS name ("." and a trailing dot allowed) or an IP address.
bool is_valid_host(std::string_view host);
// A target's protocol checks (app_check_reader.cpp, docs/checks.md).
void read_redis(const Field& field, RedisCheck& redis, LoadContext& ctx);
void read_postgres(const Field& field, PostgresCheck& postgres, LoadContext& ctx);
void read_mysql(const Field& field, MysqlCheck& mysql, LoadContext& ctx);
// "targets[2] 'db'", or "targets[2]" when the name is unknown: message prefixes.
std::string entry_label(std::string_view path, std::string_view name);

// `depends_on:` across targets (dependencies.cpp): unknown names, a target
// naming itself, canaries on either end, cycles (each named once).
void check_dependencies(const Config& config, const SourceMap& sources, Diagnostics& diags);

// Adds the errors and warnings that need more than one value to see.
void validate(const Config& config, const SourceMap& sources, Diagnostics& diags);

}  // namespace crosscheck::config::detail
