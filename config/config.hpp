// The validated, immutable configuration (DESIGN.md "Config contract").
// load_config() turns a YAML file into a Config or into a list of every
// problem found, each with file:line:column. Nothing outside config/ parses
// YAML or re-validates these values.
#pragma once

#include "config/types.hpp"
#include "consensus/hysteresis.hpp"
#include "consensus/maintenance.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crosscheck::config {

// Where a value came from, for messages ("crosscheck.yaml:12:5").
struct SourcePos {
  int line = 0;    // 1-based; 0 when not from a file
  int column = 0;  // 1-based
};

// "majority" of the known failure domains, or an explicit count.
struct QuorumSpec {
  std::optional<int> count;  // nullopt means majority
  bool is_majority() const { return !count.has_value(); }
  // Majority of n known domains, and at least 2 where 2 or more exist.
  int resolve(int known_domains) const;
  std::string to_string() const;  // "majority" or "2"
};

struct NodeConfig {
  std::string name;  // default: the host name
  std::filesystem::path data_dir = "/var/lib/crosscheck";
};

// A certificate's SHA-256 digest (of its DER encoding), as
// `openssl x509 -noout -fingerprint -sha256` prints it.
using CertFingerprint = std::array<std::uint8_t, 32>;

// `api.tls`: the API serves HTTPS; docs/tls.md. Either client_ca_file or
// client_fingerprints (or both: both must hold) requires a client
// certificate (mTLS).
struct ApiTlsConfig {
  std::filesystem::path cert_file;  // PEM chain, leaf first
  std::filesystem::path key_file;   // PEM private key of the leaf
  std::optional<std::filesystem::path> client_ca_file;
  std::vector<CertFingerprint> client_fingerprints;

  bool requires_client_certificate() const {
    return client_ca_file.has_value() || !client_fingerprints.empty();
  }
  friend bool operator==(const ApiTlsConfig&, const ApiTlsConfig&) = default;
};

// What an API token may do (docs/api.md has the route -> scope table).
enum class ApiScope : std::uint8_t { Read, Recheck, Ack, Override, Act };

// "read", "recheck", "ack", "override", "act".
std::string_view to_string(ApiScope scope);
// The inverse of to_string(); nullopt for any other spelling.
std::optional<ApiScope> parse_api_scope(std::string_view text);
// "read, recheck, ack, override, act": what an error message offers.
std::string api_scope_names();

// A set of ApiScope values (a small bit set).
class ScopeSet {
 public:
  constexpr ScopeSet() = default;
  static ScopeSet all();
  bool has(ApiScope scope) const { return (bits_ & bit(scope)) != 0; }
  void add(ApiScope scope) { bits_ = static_cast<std::uint8_t>(bits_ | bit(scope)); }
  void add(ScopeSet other) { bits_ = static_cast<std::uint8_t>(bits_ | other.bits_); }
  bool empty() const { return bits_ == 0; }
  bool operator==(const ScopeSet&) const = default;
  // "read, recheck" in ApiScope order.
  std::string to_string() const;

 private:
  static constexpr std::uint8_t bit(ApiScope scope) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(scope));
  }
  std::uint8_t bits_ = 0;
};

// One entry of api.tokens: a named bearer token read from `file`.
struct ApiTokenConfig {
  std::string name;
  std::filesystem::path file;
  ScopeSet scopes;
  SourcePos pos;  // the entry, for messages
};

struct ApiConfig {
  Endpoint listen{IpAddress{IpAddress::Family::V4, {127, 0, 0, 1}}, 9470};
  // One token named "default" with every scope (the original setting).
  std::optional<std::filesystem::path> token_file;
  // Ed25519 private key (PEM) that signs verdict answers; none: unsigned.
  std::optional<std::filesystem::path> signing_key;
  std::optional<ApiTlsConfig> tls;  // absent: plain HTTP
  // True: every GET but /healthz and /readyz needs a token with scope read.
  bool read_requires_token = false;
  std::vector<ApiTokenConfig> tokens;
};

// Probe timing and hysteresis; `defaults:` and every target carry one.
struct Timing {
  Duration interval{10'000};
  Duration timeout{2'000};
  int rise = 2;
  int fall = 3;
  Duration stale_after{30'000};
  // The first down of an episode brings every domain's next probe of the
  // target forward, about a second apart, until each has seen `fall`
  // (docs/configuration.md "Fast confirmation").
  bool fast_confirm = true;
  // `latency: { p90: 300ms, window: 1m }`: a vantage whose window breaks it
  // votes degraded (docs/degraded.md); `latency: off` (or none) has none.
  std::optional<consensus::LatencyObjective> latency;
  // `tls: { min_days: 14 }`: a certificate a vantage sees expire sooner opens
  // a cert_expiring escalation (docs/checks.md "Certificates"); 0 or none:
  // none. Only targets whose checks complete a TLS handshake use it.
  int cert_min_days = 0;
};

// The quantiles `latency:` accepts, as the key names them.
struct LatencyQuantile {
  std::string_view key;  // "p90"
  double quantile;       // 0.9
};
inline constexpr std::array<LatencyQuantile, 6> k_latency_quantiles{
    {{"p50", 0.5}, {"p75", 0.75}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}}};
// "p90" for 0.9 ("p?" for one not in k_latency_quantiles).
std::string_view latency_quantile_name(double quantile);

// How far apart the scheduler may start two turns of one (target, vantage),
// which validation needs to bound stale_after. The scheduler
// (probes/scheduler.cpp, Scheduler::schedule_next) puts turn k at
// start + phase + k * interval + j_k, with j_k drawn uniformly from whole
// milliseconds in [0, jitter_window(interval)). It does not include this
// header; tests/config pins these values and drives the real scheduler against
// them, so a change to one side fails there. Waits for probing.max_in_flight
// or max_per_second are overload, not jitter: they show as start lateness.
inline constexpr std::int64_t k_jitter_window_divisor = 10;  // a tenth of the interval
// The scheduler's jitter window: interval / 10 in whole ms, at least 1 ms.
Duration jitter_window(Duration interval);
// The most two consecutive scheduled starts can be apart beyond `interval`:
// one turn at the start of its window, the next at its window's last
// millisecond (10s -> 999ms, 300ms -> 29ms, under 20ms -> 0).
Duration max_start_jitter(Duration interval);
// The smallest stale_after that keeps a vote fresh from one observation to the
// next: interval + max_start_jitter(interval) + timeout (10s, 2s -> 12999ms).
Duration min_stale_after(const Timing& timing);

struct QuorumConfig {
  QuorumSpec down;
  QuorumSpec up;
  double suspect_fraction = 0.5;
  std::optional<Duration> dispute_grace;  // default: the target's interval
  int flap_limit = 4;                     // changes allowed inside flap_window
  Duration flap_window{600'000};          // 10m
  double max_unhealthy_fraction = 0.5;
  int blast_radius_min_targets = 4;
};

// Bounds on what the daemon sends (`probing:`).
struct ProbingConfig {
  int max_in_flight = 256;                      // probes in flight at once, all targets
  int max_per_second = 500;                     // probe starts per second, all targets
  Duration last_known_good_max_age{3'600'000};  // 1h
};

// DNS over TLS to a vantage's resolver (`resolver: tls://IP[:PORT]`,
// docs/configuration.md): every query goes over TCP+TLS, never UDP. At
// least one of name and pins is set (unauthenticated TLS would let whoever
// intercepts the path pose as the resolver); with both, both must hold.
struct DotConfig {
  // tls_name: sent as SNI, and the certificate must chain to a trusted CA
  // and name it.
  std::optional<std::string> name;
  // tls_ca (only with tls_name): trust only these CAs; absent: the system store.
  std::optional<std::filesystem::path> ca_file;
  std::vector<SpkiPin> pins;  // tls_pins: the leaf's key must be one of them
  friend bool operator==(const DotConfig&, const DotConfig&) = default;
};

struct VantageConfig {
  SourcePos pos;
  std::string name;
  std::string domain;                // failure domain
  std::optional<Endpoint> resolver;  // nullopt means "system" (resolv.conf)
  std::optional<IpAddress> source;   // bind probes to this address
  std::optional<DotConfig> tls;      // set exactly when the resolver is tls://

  // The resolver as users write it: "1.1.1.1:53", "tls://1.1.1.1:853",
  // "system".
  std::string resolver_label() const;
};

struct DnsCheck {
  std::string name;  // the name to resolve, "." allowed
  RrType type = RrType::A;
  int min_answers = 1;
  std::vector<Cidr> expect_addresses;  // empty: any address is acceptable
  // `dnssec: true`: queries set DO; a SERVFAIL that the resolver's own
  // Extended DNS Error or a retry with checking disabled (CD) shows to be a
  // validation failure is a dnssec_bogus down vote (docs/checks.md "DNSSEC").
  bool dnssec = false;
  // With dnssec: RRSIGs over the answer expiring sooner than this open an
  // rrsig_expiring escalation (never a vote).
  std::optional<Duration> rrsig_min_remaining{};
  // `authoritative: true`: every server of the zone's NS set is asked the
  // question itself (RD=0); SOA serial skew and NS-set drift are reported.
  bool authoritative = false;
  friend bool operator==(const DnsCheck&, const DnsCheck&) = default;
};

// How a tcp check upgrades a plain connection to TLS (docs/checks.md).
enum class StartTls : std::uint8_t { None, Smtp, Imap, Postgres };
std::string_view to_string(StartTls protocol);

struct TcpCheck {
  std::uint16_t port = 0;
  std::optional<std::string> host;  // default: the target's dns.name
  // A dialogue instead of a bare connect (docs/checks.md "send and expect"):
  std::optional<std::string> send{};    // bytes written once connected (and after TLS)
  std::optional<std::string> expect{};  // an ECMAScript regex the answer must match
  bool tls = false;                     // TLS right after connecting
  StartTls starttls = StartTls::None;   // TLS after the protocol's STARTTLS exchange
  bool tls_verify = true;               // the chain and the host name, for tls or starttls
  bool dialogue() const { return send || expect || tls || starttls != StartTls::None; }
  friend bool operator==(const TcpCheck&, const TcpCheck&) = default;
};

struct HttpCheck {
  Url url;
  std::string method = "GET";
  std::vector<int> expect_status;          // empty: any 2xx
  std::optional<std::string> expect_body;  // substring, or regex when body_regex
  bool body_regex = false;
  std::vector<std::pair<std::string, std::string>> headers;
  bool tls_verify = true;
  bool follow_redirects = false;
  std::uint32_t max_body_bytes = 65'536;
  friend bool operator==(const HttpCheck&, const HttpCheck&) = default;
};

// Protocol-aware checks (layer `app`, docs/checks.md): each speaks the
// service's own protocol to every resolved address and asks whether it
// serves in the role the failover needs. Credentials come only from files,
// read at each check (a rotated password needs no reload).
enum class ServerRole : std::uint8_t {
  Any,      // answering is enough
  Primary,  // redis `master`, postgres not in recovery, mysql not a replica
  Replica,  // redis `slave`, postgres in recovery, mysql with replication configured
};
std::string_view to_string(ServerRole role);

struct RedisCheck {
  std::uint16_t port = 6379;
  std::optional<std::string> host;  // default: the target's host name
  ServerRole role = ServerRole::Any;
  std::optional<std::string> username;                 // AUTH username password (ACL)
  std::optional<std::filesystem::path> password_file;  // AUTH password
  friend bool operator==(const RedisCheck&, const RedisCheck&) = default;
};

// The TLS of a postgres check, libpq's sslmode names.
enum class PgSslMode : std::uint8_t { Disable, Prefer, Require, VerifyCa, VerifyFull };
std::string_view to_string(PgSslMode mode);

struct PostgresCheck {
  std::uint16_t port = 5432;
  std::optional<std::string> host;
  ServerRole role = ServerRole::Any;
  bool writable = false;                    // a write probe in a temporary table must commit
  std::optional<Duration> max_replica_lag;  // role: replica only
  std::string user;
  std::string database;  // default: the user's name
  std::optional<std::filesystem::path> password_file;
  PgSslMode sslmode = PgSslMode::Prefer;
  std::optional<std::filesystem::path> ca_file;  // sslrootcert
  friend bool operator==(const PostgresCheck&, const PostgresCheck&) = default;
};

struct MysqlCheck {
  std::uint16_t port = 3306;
  std::optional<std::string> host;
  ServerRole role = ServerRole::Any;
  bool writable = false;                    // @@global.read_only must be 0
  std::optional<Duration> max_replica_lag;  // role: replica only
  std::string user;
  std::optional<std::filesystem::path> password_file;
  friend bool operator==(const MysqlCheck&, const MysqlCheck&) = default;
};

enum class ReachMode : std::uint8_t { Any, All };

struct TargetConfig {
  SourcePos pos;
  std::string name;
  bool canary = false;
  std::optional<DnsCheck> dns;
  std::optional<TcpCheck> tcp;
  std::optional<HttpCheck> http;
  std::optional<RedisCheck> redis;
  std::optional<PostgresCheck> postgres;
  std::optional<MysqlCheck> mysql;
  ReachMode reach = ReachMode::Any;
  Timing timing;           // defaults merged with overrides
  QuorumSpec down_quorum;  // quorum.* merged with target quorum
  QuorumSpec up_quorum;
  // Resolved: the target's own, else quorum.dispute_grace, else its interval.
  Duration dispute_grace{10'000};
  // `depends_on:` names of other targets (distinct, none a canary, no
  // cycles): while one is confirmed unhealthy this target, failing too, is
  // `unreachable` rather than unhealthy (docs/verdicts.md).
  std::vector<std::string> depends_on;
  // The target's `cooldown:`, else gate.cooldown (docs/gate.md "Cooldown").
  Duration cooldown{3'600'000};
  // `priority:` -1000..1000: when the blast-radius guard must choose among
  // new confirmations, higher first (docs/groups.md).
  int priority = 0;
  // The host name every vantage resolves: dns.name, else the first of
  // tcp.host, redis.host, postgres.host, mysql.host, else the URL's host.
  std::string host_name() const;
  // A check that reaches addresses (tcp, http, redis, postgres, mysql).
  bool reaches() const;
  // A check whose handshake shows us the certificate: an https URL, or a
  // tcp check with tls or starttls.
  bool sees_certificate() const;
};

// A `tls:` block on an https link to another crosscheck or a sink: the CAs
// to trust instead of the system store, and a client certificate for mTLS.
// Paths are absolute; config/tls_files.hpp reads them.
struct TlsClientConfig {
  std::optional<std::filesystem::path> ca_file;    // pin: only these CAs; absent: system store
  std::optional<std::filesystem::path> cert_file;  // client certificate (with key_file)
  std::optional<std::filesystem::path> key_file;
  friend bool operator==(const TlsClientConfig&, const TlsClientConfig&) = default;
};

struct PeerConfig {
  SourcePos pos;
  std::string name;
  Url url;
  std::filesystem::path key_file;
  // Unanswered pulls for this long raise a peer_unreachable escalation.
  Duration unreachable_after{120'000};
  // The failure domains this peer may speak for (`domains:`, distinct names);
  // its votes claiming any other are dropped. Absent: all of its votes count
  // as one domain, named after the peer.
  std::optional<std::vector<std::string>> domains;
  // The vantages this peer may report (`vantages:`, its own names for them,
  // distinct); votes of any other are dropped. Absent: any vantage.
  std::optional<std::vector<std::string>> vantages;
  std::optional<TlsClientConfig> tls;  // https only
};

struct WebhookSink {
  Url url;
  std::optional<std::filesystem::path> secret_file;
  std::optional<TlsClientConfig> tls;  // https only
  friend bool operator==(const WebhookSink&, const WebhookSink&) = default;
};
struct AlertmanagerSink {
  Url url;
  // Alertmanager drops a firing alert not re-sent within its resolve_timeout (5m).
  Duration resend_interval{60'000};
  std::optional<TlsClientConfig> tls;  // https only
  friend bool operator==(const AlertmanagerSink&, const AlertmanagerSink&) = default;
};
struct ExecSink {
  std::vector<std::string> command;  // argv, no shell
  friend bool operator==(const ExecSink&, const ExecSink&) = default;
};
struct EscalationConfig {
  std::optional<WebhookSink> webhook;
  std::optional<AlertmanagerSink> alertmanager;
  std::optional<ExecSink> exec;
  friend bool operator==(const EscalationConfig&, const EscalationConfig&) = default;
};

// `gate:`: what gates share across targets.
struct GateConfig {
  // After an action is recorded on a target (`gate --record`, POST
  // /v1/actions), a gate on it holds instead of proceeding for this long,
  // unless the action is acknowledged (orchestrators block recoveries the
  // same way). 0s records actions without holding. A target may override it.
  Duration cooldown{3'600'000};
};

// `groups:` a named set of targets with a verdict and gate of its own
// (docs/groups.md): healthy while healthy_at_least members are healthy.
struct GroupConfig {
  SourcePos pos;
  std::string name;                  // spelt "group:NAME" in the API and the CLI
  std::vector<std::string> members;  // targets of `targets:`, distinct, at least one
  int healthy_at_least = 1;          // 1..members
  // The guard inside the group; absent: only the global one.
  std::optional<double> max_unhealthy_fraction;
  // The group's flap limit, also applied to its members (the strictest of
  // their groups); absent: quorum.flap_limit / flap_window.
  std::optional<int> flap_limit;
  std::optional<Duration> flap_window;
  // The group's `cooldown:`, else gate.cooldown.
  Duration cooldown{3'600'000};
};

struct StorageConfig {
  Duration retention{7LL * 24 * 3'600'000};
  // How long verdict changes (verdict_log) and resolved escalations are
  // kept; absent: always. A target's newest change and open escalations
  // always stay.
  std::optional<Duration> history_retention;
  // The length of one observation summary (a pair's counts and latency
  // quantiles), wall clock aligned; 1m..24h. Each period writes a row per
  // (target, vantage) pair: at 2,000 targets x 5 vantages the disk is
  // written 33 MB a day with an hour, 401 MB with 5 minutes (bench row 9).
  Duration summary_period{3'600'000};
};

struct Config {
  std::filesystem::path source;  // the file it was loaded from
  NodeConfig node;
  ApiConfig api;
  Timing defaults;
  QuorumConfig quorum;
  ProbingConfig probing;
  std::vector<VantageConfig> vantages;
  std::vector<TargetConfig> targets;
  std::vector<PeerConfig> peers;
  EscalationConfig escalation;
  StorageConfig storage;
  GateConfig gate;
  // Recurring maintenance windows (`maintenance:`): gates hold and new
  // escalations are silenced while a listed target is inside one.
  std::vector<consensus::RecurringWindow> maintenance;
  std::vector<GroupConfig> groups;

  // Distinct failure domains of the local vantages, in first-seen order.
  std::vector<std::string> local_domains() const;
  // The failure domains the quorum counts once every peer has answered:
  // the local ones, each peer without `domains:` under its name, and the
  // domains peers declare (a declared local domain merges with it).
  std::vector<std::string> counted_domains() const;
  int known_domain_count() const;
  const TargetConfig* find_target(std::string_view name) const;
  const GroupConfig* find_group(std::string_view name) const;  // NAME, without "group:"
  // Whether `name` is a target, or a group spelt "group:NAME".
  bool names(std::string_view name) const;
  // What an action on `name` holds with it: a target's groups ("group:NAME"),
  // a group's members.
  std::vector<std::string> related_names(std::string_view name) const;
  // The cooldown of a target, or of a group spelt "group:NAME".
  std::optional<Duration> cooldown_of(std::string_view name) const;
  const VantageConfig* find_vantage(std::string_view name) const;
};

enum class Severity : std::uint8_t { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;
  SourcePos pos;
  std::string message;
  // "file:line:column: error: message"
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;         // set when there are no errors
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order
  bool ok() const { return config.has_value(); }
};

// Reads and validates the file; never throws for bad input.
LoadResult load_config(const std::filesystem::path& file);
// Validates YAML text as if it came from `file_name` (file checks such as
// key_file readability are still made against the real file system).
LoadResult load_config_text(std::string_view yaml, const std::string& file_name);

// One-line summary for check-config, e.g. "3 targets, 4 vantages, 3 failure
// domains (a, b, c), 0 peers; quorum down 2 (majority), up 2 (majority)".
// Peers are listed among the domains as "peer NAME".
std::string summarize(const Config& config);

}  // namespace crosscheck::config
