// load_config(): reads the file, parses YAML, walks every section except
// `targets:` (target_reader.cpp), then runs the cross-field rules.
#include "base/text.hpp"
#include "config/sections.hpp"
#include "config/tls_files.hpp"
#include "consensus/time_format.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace crosscheck::config {

namespace detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 13> k_top_keys{
    "node",  "api",        "defaults", "quorum",      "probing", "vantages", "targets",
    "peers", "escalation", "storage",  "maintenance", "gate",    "groups"};
constexpr std::array<std::string_view, 2> k_node_keys{"name", "data_dir"};
constexpr std::array<std::string_view, 6> k_api_keys{"listen", "token_file",          "signing_key",
                                                     "tls",    "read_requires_token", "tokens"};
constexpr std::array<std::string_view, 4> k_api_tls_keys{"cert_file", "key_file", "client_ca_file",
                                                         "client_fingerprints"};
constexpr std::array<std::string_view, 8> k_defaults_keys{
    "interval", "timeout", "rise", "fall", "stale_after", "fast_confirm", "latency", "tls"};
// `tls: { min_days }` bounds: past a year it is a renewal calendar, not an alert.
constexpr std::int64_t k_max_cert_min_days = 365;
constexpr std::array<std::string_view, 1> k_tls_keys{"min_days"};
// The longest latency window: a quantile over an hour is already a trend.
constexpr Duration k_max_latency_window{3'600'000};
constexpr Duration k_default_latency_window{60'000};
constexpr std::array<std::string_view, 8> k_quorum_keys{
    "down",       "up",          "suspect_fraction",       "dispute_grace",
    "flap_limit", "flap_window", "max_unhealthy_fraction", "blast_radius_min_targets"};
constexpr std::array<std::string_view, 3> k_probing_keys{"max_in_flight", "max_per_second",
                                                         "last_known_good_max_age"};
constexpr std::array<std::string_view, 7> k_vantage_keys{
    "name", "domain", "resolver", "source", "tls_name", "tls_pins", "tls_ca"};
constexpr std::array<std::string_view, 3> k_storage_keys{"retention", "history_retention",
                                                         "summary_period"};
constexpr Duration k_min_summary_period{60'000};
constexpr Duration k_max_summary_period{24LL * 3'600'000};
constexpr std::array<std::string_view, 1> k_gate_keys{"cooldown"};
// A cooldown longer than this is a typo (30d for 30s), not a policy.
constexpr Duration k_max_cooldown{30LL * 24 * 3'600'000};

constexpr std::uint16_t k_dns_port = 53;
constexpr std::uint16_t k_dot_port = 853;  // RFC 7858
constexpr std::string_view k_tls_scheme = "tls://";

std::string host_name() {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
    return "localhost";
  }
  return buffer.data();
}

void read_node(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_node_keys), ctx.diags);
  NodeConfig& node = ctx.config.node;
  if (map.has("name")) {
    EntrySource ignored;
    if (auto name = read_entry_name(map, ignored, ctx.diags)) {
      node.name = *name;
    }
  }
  if (auto dir = map.string("data_dir")) {
    if (dir->empty()) {
      ctx.diags.error(map.get("data_dir")->pos, "node.data_dir must not be empty");
    } else {
      node.data_dir = ctx.base_dir / *dir;
    }
  }
}

// `api.tls`; its files are read (once, whole) by validate().
void read_api_tls(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_api_tls_keys), ctx.diags);
  if (!map.is_mapping()) {
    return;
  }
  ApiTlsConfig tls;
  ApiTlsSource source{map.pos(), {}, {}, {}, true};
  const auto cert = map.require("cert_file");
  const auto key = map.require("key_file");
  if (auto path = read_path(map, "cert_file", ctx)) {
    tls.cert_file = *path;
    source.cert_file = cert->pos;
  }
  if (auto path = read_path(map, "key_file", ctx)) {
    tls.key_file = *path;
    source.key_file = key->pos;
  }
  if (auto ca = map.get("client_ca_file")) {
    tls.client_ca_file = read_path(map, "client_ca_file", ctx);
    source.client_ca_file = ca->pos;
    source.clean = source.clean && tls.client_ca_file.has_value();
  }
  if (auto list = map.get("client_fingerprints"); list && expect_sequence(*list, ctx.diags)) {
    for (std::size_t i = 0; i < list->node.size(); ++i) {
      const Field item = element(*list, i, list->node[i]);
      const auto text = read_string(item, ctx.diags);
      if (!text) {
        continue;
      }
      if (auto fingerprint = parse_fingerprint(*text)) {
        tls.client_fingerprints.push_back(*fingerprint);
      } else {
        ctx.diags.error(item.pos, "invalid fingerprint " + quote(*text) + " for " + item.path +
                                      ": expected sha256:<64 hex digits, colons allowed>, as "
                                      "`openssl x509 -noout -fingerprint -sha256` prints it");
      }
    }
  }
  source.clean = source.clean && source.cert_file && source.key_file;
  ctx.config.api.tls = std::move(tls);
  ctx.sources.api_tls = source;
}

void read_api(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_api_keys), ctx.diags);
  if (auto listen = map.string("listen")) {
    if (auto endpoint = Endpoint::parse(*listen, std::nullopt)) {
      ctx.config.api.listen = *endpoint;
      ctx.sources.api_listen = map.get("listen")->pos;
    } else {
      ctx.diags.error(map.get("listen")->pos,
                      "invalid listen address " + quote(*listen) +
                          " for api: expected ip:port or [ipv6]:port, e.g. 127.0.0.1:9470");
    }
  }
  ctx.config.api.token_file = read_file_path(map, "token_file", ctx);
  ctx.config.api.signing_key = read_file_path(map, "signing_key", ctx);
  if (auto tls = map.get("tls")) {
    read_api_tls(*tls, ctx);
  }
  if (auto flag = map.get("read_requires_token")) {
    ctx.sources.read_requires_token = flag->pos;
    ctx.config.api.read_requires_token = map.boolean("read_requires_token").value_or(false);
  }
  if (auto tokens = map.get("tokens")) {
    read_api_token_list(*tokens, ctx);
  }
}

void read_quorum(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_quorum_keys), ctx.diags);
  QuorumConfig& quorum = ctx.config.quorum;
  if (auto down = map.get("down")) {
    ctx.sources.quorum_down = down->pos;
    quorum.down = read_quorum_spec(*down, ctx.diags).value_or(quorum.down);
  }
  if (auto up = map.get("up")) {
    ctx.sources.quorum_up = up->pos;
    quorum.up = read_quorum_spec(*up, ctx.diags).value_or(quorum.up);
  }
  quorum.suspect_fraction = map.fraction("suspect_fraction").value_or(quorum.suspect_fraction);
  if (auto grace = map.duration("dispute_grace", ZeroDuration::Allowed)) {
    quorum.dispute_grace = *grace;
  }
  quorum.flap_limit = static_cast<int>(map.integer("flap_limit", 1).value_or(quorum.flap_limit));
  quorum.flap_window =
      map.duration("flap_window", ZeroDuration::Rejected).value_or(quorum.flap_window);
  quorum.max_unhealthy_fraction =
      map.fraction("max_unhealthy_fraction").value_or(quorum.max_unhealthy_fraction);
  quorum.blast_radius_min_targets = static_cast<int>(
      map.integer("blast_radius_min_targets", 1).value_or(quorum.blast_radius_min_targets));
}

void read_probing(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_probing_keys), ctx.diags);
  ProbingConfig& probing = ctx.config.probing;
  probing.max_in_flight =
      static_cast<int>(map.integer("max_in_flight", 1).value_or(probing.max_in_flight));
  probing.max_per_second =
      static_cast<int>(map.integer("max_per_second", 1).value_or(probing.max_per_second));
  probing.last_known_good_max_age = map.duration("last_known_good_max_age", ZeroDuration::Rejected)
                                        .value_or(probing.last_known_good_max_age);
}

// A vantage's tls_name, tls_pins and tls_ca: nullopt unless the resolver is
// tls://, where at least one of tls_name and tls_pins is required (why:
// unauthenticated TLS lets whoever intercepts port 853 pose as the resolver,
// the very thing a DoT vantage is there to rule out).
std::optional<DotConfig> read_dot(const MapReader& map, const std::string& name, bool over_tls,
                                  LoadContext& ctx) {
  if (!over_tls) {
    for (const std::string_view key : {"tls_name", "tls_pins", "tls_ca"}) {
      if (const auto field = map.get(key)) {
        ctx.diags.error(field->pos, field->path +
                                        " applies only to a DNS over TLS resolver "
                                        "(resolver: tls://IP[:PORT])");
      }
    }
    return std::nullopt;
  }
  DotConfig dot;
  if (const auto field = map.get("tls_name")) {
    if (auto host = read_string(*field, ctx.diags)) {
      // Why drop one trailing dot: certificates carry "one.one.one.one", and
      // OpenSSL compares the name as written, so "one.one.one.one." would
      // fail every handshake (and go out as no SNI at all). "." and "a.."
      // name nothing a certificate can carry.
      std::string_view carried = *host;
      if (carried.ends_with('.')) {
        carried.remove_suffix(1);
      }
      if (!carried.empty() && !carried.ends_with('.') && is_valid_host(carried)) {
        dot.name = std::string(carried);
      } else {
        ctx.diags.error(field->pos, "invalid " + field->path + " " + quote(*host) +
                                        ": expected the DNS name (or IP address) the "
                                        "resolver's certificate carries");
      }
    }
  }
  if (const auto list = map.get("tls_pins"); list && expect_sequence(*list, ctx.diags)) {
    if (list->node.size() == 0) {
      ctx.diags.error(list->pos, list->path + " must list at least one pin");
    }
    std::vector<SourcePos> first_seen;  // of each pin in dot.pins
    for (std::size_t i = 0; i < list->node.size(); ++i) {
      const Field item = element(*list, i, list->node[i]);
      const auto text = read_string(item, ctx.diags);
      if (!text) {
        continue;
      }
      if (auto pin = SpkiPin::parse(*text)) {
        // A pin pasted twice looks like a key and its backup but is one key:
        // the rotation the backup is for would fail every handshake.
        const auto same = std::find(dot.pins.begin(), dot.pins.end(), *pin);
        if (same != dot.pins.end()) {
          const auto first = first_seen[static_cast<std::size_t>(same - dot.pins.begin())];
          ctx.diags.error(item.pos, item.path + " repeats pin " + quote(*text) +
                                        " (first at line " + std::to_string(first.line) +
                                        ", column " + std::to_string(first.column) +
                                        "): a duplicate is no backup pin");
          continue;
        }
        dot.pins.push_back(*pin);
        first_seen.push_back(item.pos);
      } else {
        ctx.diags.error(item.pos, "invalid pin " + quote(*text) + " for " + item.path +
                                      ": expected sha256/<base64 of the SHA-256 of the "
                                      "certificate's SubjectPublicKeyInfo>");
      }
    }
  }
  if (const auto field = map.get("tls_ca")) {
    dot.ca_file = read_path(map, "tls_ca", ctx);
    if (!map.has("tls_name")) {
      ctx.diags.error(field->pos, field->path +
                                      " needs tls_name: the CA vouches for a name, and "
                                      "without one only tls_pins are checked");
    }
    if (dot.ca_file) {
      ctx.sources.tls.push_back(TlsReference{field->path, field->pos, {dot.ca_file, {}, {}}});
    }
  }
  if (!map.has("tls_name") && !map.has("tls_pins")) {
    const std::string who = map.path() + (name.empty() ? "" : " (" + quote(name) + ")");
    ctx.diags.error(map.get("resolver")->pos,
                    who +
                        " resolves over TLS but sets neither tls_name nor tls_pins: "
                        "without them anyone intercepting the path could pose as "
                        "the resolver");
  }
  return dot;
}

void read_vantage(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_vantage_keys), ctx.diags);
  VantageConfig vantage;
  EntrySource source{field.pos, std::nullopt};
  vantage.pos = field.pos;
  vantage.name = read_entry_name(map, source, ctx.diags).value_or("");
  if (auto domain_field = map.require("domain")) {
    if (auto domain = read_string(*domain_field, ctx.diags)) {
      if (domain->empty()) {
        ctx.diags.error(domain_field->pos, domain_field->path + " must not be empty");
      } else if (domain->size() > k_max_name_bytes || !text::is_printable_line(*domain)) {
        // A domain is shown in logs, the API and the status page: a newline
        // there forges a log line, a bidi override reverses what follows.
        ctx.diags.error(domain_field->pos,
                        "invalid failure domain " + quote(text::printable_line(*domain)) + " for " +
                            domain_field->path +
                            ": at most 128 bytes, without control characters or bidi overrides");
      } else if (!is_valid_name(*domain)) {
        ctx.diags.warning(domain_field->pos,
                          domain_field->path + " " + quote(*domain) +
                              " is not a name of letters, digits, '.', '_' and '-': a peer "
                              "drops this domain's votes (peers.md), and no peer's domains: "
                              "can list it");
      }
      vantage.domain = *domain;
    }
  }
  if (vantage.domain.empty()) {
    ctx.sources.domains_known = false;
  }
  bool over_tls = false;
  if (auto resolver = map.string("resolver"); resolver && *resolver != "system") {
    const std::string_view text = *resolver;
    over_tls = text.starts_with(k_tls_scheme);
    vantage.resolver = over_tls ? Endpoint::parse(text.substr(k_tls_scheme.size()), k_dot_port)
                                : Endpoint::parse(text, k_dns_port);
    if (!vantage.resolver) {
      ctx.diags.error(map.get("resolver")->pos,
                      "invalid resolver " + quote(*resolver) + " for " + field.path +
                          (over_tls ? ": expected tls://ip, tls://ip:port or tls://[ipv6]:port"
                                    : ": expected system, an IP address, ip:port or [ipv6]:port"));
    }
  }
  vantage.tls = read_dot(map, vantage.name, over_tls, ctx);
  if (auto source_address = map.string("source")) {
    vantage.source = IpAddress::parse(*source_address);
    if (!vantage.source) {
      ctx.diags.error(map.get("source")->pos, "invalid source address " + quote(*source_address) +
                                                  " for " + field.path +
                                                  ": expected an IP address");
    }
  }
  ctx.config.vantages.push_back(std::move(vantage));
  ctx.sources.vantages.push_back(source);
}

void read_vantages(const Field& field, LoadContext& ctx) {
  if (!expect_sequence(field, ctx.diags)) {
    ctx.sources.domains_known = false;
    return;
  }
  if (field.node.size() == 0) {
    ctx.diags.error(field.pos, "vantages must list at least one vantage");
    ctx.sources.domains_known = false;
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    read_vantage(element(field, i, field.node[i]), ctx);
  }
}

void read_storage(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_storage_keys), ctx.diags);
  ctx.config.storage.retention =
      map.duration("retention", ZeroDuration::Rejected).value_or(ctx.config.storage.retention);
  ctx.config.storage.history_retention = map.duration("history_retention", ZeroDuration::Rejected);
  const auto period = map.duration("summary_period", ZeroDuration::Rejected);
  if (!period) {
    return;
  }
  if (*period < k_min_summary_period || *period > k_max_summary_period) {
    const auto value = map.get("summary_period");
    ctx.diags.error(value->pos, "summary_period " + consensus::format_duration(*period) + " for " +
                                    value->path +
                                    " is outside 1m..24h: each period writes one row per "
                                    "(target, vantage) pair");
    return;
  }
  ctx.config.storage.summary_period = *period;
}

void read_gate(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_gate_keys), ctx.diags);
  ctx.config.gate.cooldown = read_cooldown(map, ctx.diags).value_or(ctx.config.gate.cooldown);
}

void read_root(const YAML::Node& root, LoadContext& ctx) {
  const MapReader map(Field{root, "", pos_of(root, SourcePos{1, 1})}, Keys(k_top_keys), ctx.diags);
  if (!map.is_mapping()) {
    return;
  }
  // Order matters where values inherit: defaults and quorum before targets.
  if (auto field = map.get("node")) {
    read_node(*field, ctx);
  }
  if (auto field = map.get("api")) {
    read_api(*field, ctx);
  }
  if (auto field = map.get("defaults")) {
    const MapReader defaults(*field, Keys(k_defaults_keys), ctx.diags);
    read_timing(defaults, ctx.config.defaults, ctx.sources.defaults, ctx.diags);
  }
  if (auto field = map.get("quorum")) {
    read_quorum(*field, ctx);
  }
  if (auto field = map.get("probing")) {
    read_probing(*field, ctx);
  }
  if (auto field = map.get("gate")) {
    read_gate(*field, ctx);
  }
  if (auto field = map.require("vantages")) {
    ctx.sources.vantages_pos = field->pos;
    read_vantages(*field, ctx);
  } else {
    ctx.sources.domains_known = false;
  }
  if (auto field = map.require("targets")) {
    read_targets(*field, ctx);
  }
  if (auto field = map.get("peers")) {
    read_peers(*field, ctx);
  }
  if (auto field = map.get("escalation")) {
    read_escalation(*field, ctx);
  }
  if (auto field = map.get("storage")) {
    read_storage(*field, ctx);
  }
  if (auto field = map.get("groups")) {
    read_groups(*field, ctx);  // after targets (members), before maintenance (names groups)
  }
  if (auto field = map.get("maintenance")) {
    read_maintenance(*field, ctx);
  }
}

SourcePos pos_of_mark(const YAML::Mark& mark) {
  if (mark.is_null()) {
    return SourcePos{1, 1};
  }
  return SourcePos{mark.line + 1, mark.column + 1};
}

}  // namespace

std::optional<Duration> read_cooldown(const MapReader& map, Diagnostics& diags) {
  const auto cooldown = map.duration("cooldown", ZeroDuration::Allowed);
  if (cooldown && *cooldown > k_max_cooldown) {
    const auto field = map.get("cooldown");
    diags.error(field->pos, "cooldown " + consensus::format_duration(*cooldown) + " for " +
                                field->path +
                                " is longer than 30d: a cooldown holds every gate on the target");
    return std::nullopt;
  }
  return cooldown;
}

void read_timing(const MapReader& map, Timing& timing, TimingSource& source, Diagnostics& diags) {
  const std::size_t errors_before = diags.error_count();
  if (auto interval = map.duration("interval", ZeroDuration::Rejected)) {
    timing.interval = *interval;
    source.interval = map.get("interval")->pos;
  }
  if (auto timeout = map.duration("timeout", ZeroDuration::Rejected)) {
    timing.timeout = *timeout;
    source.timeout = map.get("timeout")->pos;
  }
  if (auto stale_after = map.duration("stale_after", ZeroDuration::Rejected)) {
    timing.stale_after = *stale_after;
    source.stale_after = map.get("stale_after")->pos;
  }
  source.clean = diags.error_count() == errors_before;
  timing.rise = static_cast<int>(map.integer("rise", 1).value_or(timing.rise));
  timing.fall = static_cast<int>(map.integer("fall", 1).value_or(timing.fall));
  timing.fast_confirm = map.boolean("fast_confirm").value_or(timing.fast_confirm);
  if (auto field = map.get("latency")) {
    source.latency = field->pos;
    read_latency(*field, timing, diags);
  }
  if (auto field = map.get("tls")) {
    const std::size_t before = diags.error_count();
    const MapReader tls(*field, Keys(k_tls_keys), diags);
    const auto days = tls.integer("min_days", 0, k_max_cert_min_days);
    if (!tls.has("min_days") && diags.error_count() == before) {
      diags.error(field->pos, field->path + " needs min_days, like { min_days: 14 }");
    }
    if (days && diags.error_count() == before) {
      timing.cert_min_days = static_cast<int>(*days);
      source.tls = field->pos;
    }
  }
}

void read_latency(const Field& field, Timing& timing, Diagnostics& diags) {
  if (field.node.IsScalar() && field.node.Scalar() == "off") {
    timing.latency.reset();
    return;
  }
  std::vector<std::string_view> keys{"window"};
  for (const auto& item : k_latency_quantiles) {
    keys.push_back(item.key);
  }
  if (!field.node.IsMap()) {
    diags.error(field.pos, "invalid latency " + describe(field.node) + " for " + field.path +
                               ": expected off or a mapping like { p90: 300ms, window: 1m }");
    return;
  }
  const std::size_t errors_before = diags.error_count();
  const MapReader map(field, Keys(keys), diags);
  const bool known_keys = diags.error_count() == errors_before;
  consensus::LatencyObjective objective;
  objective.window = k_default_latency_window;
  int quantiles = 0;
  bool clean = true;
  for (const auto& item : k_latency_quantiles) {
    if (!map.has(item.key)) {
      continue;
    }
    ++quantiles;
    const auto threshold = map.duration(item.key, ZeroDuration::Rejected);
    clean = clean && threshold.has_value();
    objective.quantile = item.quantile;
    objective.threshold = threshold.value_or(objective.threshold);
  }
  if (quantiles != 1 && known_keys) {
    diags.error(field.pos, field.path +
                               " needs exactly one quantile (p50, p75, p90, p95, p99 or "
                               "p999) with its threshold, like { p90: 300ms }");
    return;
  }
  if (quantiles != 1) {
    return;  // an unknown key (a misspelt quantile) was reported
  }
  if (map.has("window")) {
    const auto window = map.duration("window", ZeroDuration::Rejected);
    clean = clean && window.has_value();
    if (window && *window > k_max_latency_window) {
      diags.error(map.get("window")->pos, "latency window " + format_duration(*window) + " for " +
                                              field.path + " is longer than 1h");
      clean = false;
    }
    objective.window = window.value_or(objective.window);
  }
  if (clean) {
    timing.latency = objective;
  }
}

std::optional<QuorumSpec> read_quorum_spec(const Field& field, Diagnostics& diags) {
  if (field.node.IsScalar()) {
    const std::string& text = field.node.Scalar();
    if (text == "majority") {
      return QuorumSpec{};
    }
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
        text.size() <= 9 && std::stoi(text) >= 1) {
      return QuorumSpec{std::stoi(text)};
    }
  }
  diags.error(field.pos, "invalid quorum " + describe(field.node) + " for " + field.path +
                             ": expected majority or a positive integer");
  return std::nullopt;
}

std::optional<std::string> read_entry_name(const MapReader& map, EntrySource& source,
                                           Diagnostics& diags) {
  auto field = map.require("name");
  if (!field) {
    return std::nullopt;
  }
  auto name = read_string(*field, diags);
  if (!name) {
    return std::nullopt;
  }
  if (name->empty()) {
    diags.error(field->pos, field->path + " must not be empty");
    return std::nullopt;
  }
  if (!is_valid_name(*name)) {
    diags.error(field->pos, "invalid name " + quote(*name) + " for " + map.path() +
                                ": use only letters, digits, '.', '_' and '-', at most 128");
    return std::nullopt;
  }
  source.name_pos = field->pos;
  return name;
}

std::optional<Url> read_url(const Field& field, Diagnostics& diags) {
  auto text = read_string(field, diags);
  if (!text) {
    return std::nullopt;
  }
  std::string why;
  auto url = Url::parse(*text, &why);
  if (!url) {
    diags.error(field.pos, "invalid URL " + quote(*text) + " for " + field.path + ": " + why);
  }
  return url;
}

std::optional<std::filesystem::path> read_file_path(const MapReader& map, std::string_view key,
                                                    LoadContext& ctx) {
  auto path = read_path(map, key, ctx);
  if (path) {
    ctx.sources.files.push_back(FileReference{std::string(key), *path, map.get(key)->pos});
  }
  return path;
}

std::optional<std::filesystem::path> read_path(const MapReader& map, std::string_view key,
                                               LoadContext& ctx) {
  auto field = map.get(key);
  if (!field) {
    return std::nullopt;
  }
  auto text = read_string(*field, ctx.diags);
  if (!text) {
    return std::nullopt;
  }
  if (text->empty()) {
    ctx.diags.error(field->pos, field->path + " must not be empty");
    return std::nullopt;
  }
  // Relative to the config file, not to wherever the daemon was started.
  return ctx.base_dir / *text;
}

std::string entry_label(std::string_view path, std::string_view name) {
  if (name.empty()) {
    return std::string(path);
  }
  return std::string(path) + " " + quote(name);
}

}  // namespace detail

LoadResult load_config_text(std::string_view yaml, const std::string& file_name) {
  detail::Diagnostics diags(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    diags.error(detail::pos_of_mark(e.mark), "yaml syntax: " + e.msg);
    return LoadResult{std::nullopt, diags.sorted()};
  }

  Config config;
  config.source = file_name;
  config.node.name = detail::host_name();
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file_name, ec);
  detail::SourceMap sources;
  detail::LoadContext ctx{diags, ec ? std::filesystem::path{} : absolute.parent_path(), config,
                          sources};
  try {
    detail::read_root(root, ctx);
  } catch (const YAML::Exception& e) {
    // Not expected: the readers only touch nodes they have type-checked.
    diags.error(detail::pos_of_mark(e.mark), "yaml: " + e.msg);
  }
  // Cross-field rules run even after other errors (every problem at once);
  // they skip whatever did not read cleanly, so one typo is one message.
  detail::validate(config, sources, diags);
  // Why check the host's name: it is the oracle's name in peer replies and
  // signature headers, where a space or ';' would break the framing.
  if (!detail::is_valid_name(config.node.name)) {
    diags.error(SourcePos{1, 1},
                "node.name is not set and this host's name " + detail::quote(config.node.name) +
                    " is not a valid name (letters, digits, '.', '_' and '-', at most 128): set "
                    "node.name");
  }
  LoadResult result;
  result.diagnostics = diags.sorted();
  if (diags.error_count() == 0) {
    result.config = std::move(config);
  }
  return result;
}

LoadResult load_config(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int read_errno = 0;
  if (fd < 0) {
    read_errno = errno;
  } else {
    std::array<char, 65'536> buffer{};
    for (;;) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        read_errno = errno;
        break;
      }
      if (n == 0) {
        break;
      }
      text.append(buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
  if (read_errno != 0) {
    detail::Diagnostics diags(file.string());
    diags.error(SourcePos{}, std::string("cannot read config file: ") + std::strerror(read_errno));
    return LoadResult{std::nullopt, diags.sorted()};
  }
  return load_config_text(text, file.string());
}

}  // namespace crosscheck::config
