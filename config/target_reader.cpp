// Reads `targets:`: each target's check chain (dns, tcp, http), its timing
// merged over `defaults:`, and its quorum merged over `quorum:`.
#include "base/ascii.hpp"
#include "config/sections.hpp"
#include "consensus/time_format.hpp"

#include <algorithm>
#include <array>
#include <boost/regex.hpp>
#include <cctype>

namespace crosscheck::config::detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 22> k_target_keys{
    "name",       "canary",       "dns",      "tcp",         "http",          "redis",
    "postgres",   "mysql",        "reach",    "interval",    "timeout",       "rise",
    "fall",       "cooldown",     "priority", "stale_after", "dispute_grace", "quorum",
    "depends_on", "fast_confirm", "latency",  "tls"};
// A target's `priority:` bounds: wide enough to rank, narrow enough to read.
constexpr std::int64_t k_max_priority = 1000;
constexpr std::array<std::string_view, 7> k_dns_keys{
    "name",   "type",          "min_answers",        "expect_addresses",
    "dnssec", "authoritative", "rrsig_min_remaining"};
// `rrsig_min_remaining` bound: signatures are valid for days or weeks.
constexpr Duration k_max_rrsig_min_remaining{std::chrono::days{90}};
constexpr std::array<std::string_view, 7> k_tcp_keys{"port",     "host",       "send", "expect",
                                                     "starttls", "tls_verify", "tls"};
// A tcp check's `send:` is a short probe, not a payload.
constexpr std::size_t k_max_tcp_send = 4096;
constexpr std::array<std::string_view, 9> k_http_keys{
    "url",     "method",     "expect_status",    "expect_body",   "body_regex",
    "headers", "tls_verify", "follow_redirects", "max_body_bytes"};
constexpr std::array<std::string_view, 2> k_target_quorum_keys{"down", "up"};

constexpr std::size_t k_max_dns_name = 253;
constexpr std::size_t k_max_dns_label = 63;

// "." or dot-separated labels of letters, digits, '-' and '_' ("_sip._tcp"),
// each 1..63 characters, 253 in all; one trailing dot allowed.
bool is_valid_dns_name(std::string_view name) {
  if (name == ".") {
    return true;
  }
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > k_max_dns_name) {
    return false;
  }
  std::size_t label_start = 0;
  while (label_start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', label_start), name.size());
    const std::string_view label = name.substr(label_start, dot - label_start);
    if (label.empty() || label.size() > k_max_dns_label ||
        !std::all_of(label.begin(), label.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
        })) {
      return false;
    }
    label_start = dot + 1;
  }
  return true;
}

// RFC 9110 token characters, for header names.
bool is_http_token(std::string_view text) {
  constexpr std::string_view k_extra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           k_extra.find(c) != std::string_view::npos;
  });
}

void read_dns(const Field& field, DnsCheck& dns, Diagnostics& diags) {
  const MapReader map(field, Keys(k_dns_keys), diags);
  if (auto name_field = map.require("name")) {
    if (auto name = read_string(*name_field, diags)) {
      if (!is_valid_dns_name(*name)) {
        diags.error(name_field->pos,
                    "invalid DNS name " + quote(*name) + " for " + name_field->path);
      }
      dns.name = *name;
    }
  }
  if (auto type = map.string("type")) {
    if (auto parsed = parse_rr_type(*type)) {
      dns.type = *parsed;
    } else {
      diags.error(map.get("type")->pos,
                  "invalid record type " + quote(*type) + " for " + map.get("type")->path +
                      ": expected one of A, AAAA, CAA, CNAME, MX, NS, PTR, SOA, SRV, TXT");
    }
  }
  dns.min_answers = static_cast<int>(map.integer("min_answers", 0).value_or(dns.min_answers));
  dns.dnssec = map.boolean("dnssec").value_or(false);
  dns.authoritative = map.boolean("authoritative").value_or(false);
  if (const auto setting = map.get("rrsig_min_remaining")) {
    const auto threshold = map.duration("rrsig_min_remaining", ZeroDuration::Rejected);
    if (threshold && !dns.dnssec) {
      diags.error(setting->pos, setting->path +
                                    " needs dnssec: true (resolvers send RRSIGs only to a query "
                                    "with DO set)");
    } else if (threshold && *threshold > k_max_rrsig_min_remaining) {
      diags.error(setting->pos, setting->path + " " + consensus::format_duration(*threshold) +
                                    " is longer than " +
                                    consensus::format_duration(k_max_rrsig_min_remaining) +
                                    ": signatures are valid for days or weeks");
    } else {
      dns.rrsig_min_remaining = threshold;
    }
  }
  if (auto addresses = map.get("expect_addresses");
      addresses && expect_sequence(*addresses, diags)) {
    for (std::size_t i = 0; i < addresses->node.size(); ++i) {
      const Field item = element(*addresses, i, addresses->node[i]);
      auto text = read_string(item, diags);
      if (!text) {
        continue;
      }
      if (auto cidr = Cidr::parse(*text)) {
        dns.expect_addresses.push_back(*cidr);
      } else {
        diags.error(item.pos, "invalid CIDR " + quote(*text) + " for " + item.path +
                                  ": expected an address or address/prefix without host bits, "
                                  "e.g. 192.0.2.0/24");
      }
    }
  }
}

void read_tcp(const MapReader& map, TcpCheck& tcp, Diagnostics& diags) {
  if (auto port = map.require("port")) {
    tcp.port = static_cast<std::uint16_t>(read_integer(*port, 1, 65'535, diags).value_or(0));
  }
  tcp.host = read_host(map, diags);
  tcp.send = map.string("send");
  if (tcp.send && (tcp.send->empty() || tcp.send->size() > k_max_tcp_send)) {
    diags.error(map.get("send")->pos, map.get("send")->path + " must hold 1 to " +
                                          std::to_string(k_max_tcp_send) + " bytes");
    tcp.send.reset();
  }
  tcp.expect = map.string("expect");
  if (tcp.expect) {
    // Compiled as the check compiles it (Boost.Regex, ECMAScript).
    try {
      const boost::regex compiled(*tcp.expect, boost::regex::ECMAScript);
    } catch (const boost::regex_error& e) {
      diags.error(map.get("expect")->pos, "invalid regex " + quote(*tcp.expect) + " for " +
                                              map.get("expect")->path + ": " + e.what());
    }
  }
  tcp.tls = map.boolean("tls").value_or(false);
  if (auto starttls = map.string("starttls")) {
    constexpr std::array<StartTls, 3> k_protocols{StartTls::Smtp, StartTls::Imap,
                                                  StartTls::Postgres};
    const auto* found = std::find_if(k_protocols.begin(), k_protocols.end(),
                                     [&](StartTls p) { return to_string(p) == *starttls; });
    if (found == k_protocols.end()) {
      diags.error(map.get("starttls")->pos, "invalid starttls " + quote(*starttls) + " for " +
                                                map.get("starttls")->path +
                                                ": expected smtp, imap or postgres");
    } else if (tcp.tls) {
      diags.error(map.get("starttls")->pos,
                  map.get("starttls")->path +
                      " and tls: true exclude each other (TLS at once, or after STARTTLS)");
    } else {
      tcp.starttls = *found;
    }
  }
  tcp.tls_verify = map.boolean("tls_verify").value_or(true);
  if (map.has("tls_verify") && !tcp.tls && tcp.starttls == StartTls::None) {
    diags.error(map.get("tls_verify")->pos,
                map.get("tls_verify")->path + " needs tls: true or starttls");
  }
}

}  // namespace

bool is_valid_host(std::string_view host) {
  return is_valid_dns_name(host) || IpAddress::parse(host).has_value();
}

namespace {

void read_headers(const Field& field, HttpCheck& http, Diagnostics& diags) {
  if (!field.node.IsMap()) {
    diags.error(field.pos, field.path + ": expected a mapping, got " + describe(field.node));
    return;
  }
  std::vector<SourcePos> first_seen;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    const SourcePos key_pos = pos_of(it->first, field.pos);
    const Field name_field{it->first, field.path, key_pos};
    auto name = read_string(name_field, diags);
    if (!name) {
      continue;
    }
    if (!is_http_token(*name)) {
      diags.error(key_pos, "invalid header name " + quote(*name) + " in " + field.path);
      continue;
    }
    auto duplicate = std::find_if(http.headers.begin(), http.headers.end(), [&](const auto& h) {
      return std::equal(h.first.begin(), h.first.end(), name->begin(), name->end(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    });
    if (duplicate != http.headers.end()) {
      const auto index = static_cast<std::size_t>(duplicate - http.headers.begin());
      diags.error(key_pos, "duplicate header " + quote(*name) + " (first at line " +
                               std::to_string(first_seen[index].line) + ")");
      continue;
    }
    const Field value_field{it->second, child_path(field.path, *name),
                            it->second.IsNull() ? key_pos : pos_of(it->second, key_pos)};
    auto value = read_string(value_field, diags);
    if (!value) {
      continue;
    }
    if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      diags.error(value_field.pos, value_field.path + " must not contain line breaks");
      continue;
    }
    http.headers.emplace_back(*name, *value);
    first_seen.push_back(key_pos);
  }
}

void read_http(const Field& field, HttpCheck& http, Diagnostics& diags) {
  const MapReader map(field, Keys(k_http_keys), diags);
  if (auto url = map.require("url")) {
    http.url = read_url(*url, diags).value_or(Url{});
  }
  if (auto method = map.string("method")) {
    if (method->empty() ||
        !std::all_of(method->begin(), method->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      diags.error(map.get("method")->pos,
                  "invalid HTTP method " + quote(*method) + " for " + map.get("method")->path +
                      ": expected an upper-case method such as GET or HEAD");
    } else {
      http.method = *method;
    }
  }
  if (auto codes = map.get("expect_status"); codes && expect_sequence(*codes, diags)) {
    for (std::size_t i = 0; i < codes->node.size(); ++i) {
      if (auto code = read_integer(element(*codes, i, codes->node[i]), 100, 599, diags)) {
        http.expect_status.push_back(static_cast<int>(*code));
      }
    }
  }
  http.expect_body = map.string("expect_body");
  http.body_regex = map.boolean("body_regex").value_or(http.body_regex);
  if (http.body_regex && http.expect_body) {
    // Compiled with Boost.Regex, the engine the HTTP check runs it with
    // (std::regex overflows its stack on large bodies), so the message
    // describes exactly what the probe would reject.
    try {
      const boost::regex compiled(*http.expect_body, boost::regex::ECMAScript);
    } catch (const boost::regex_error& e) {
      diags.error(map.get("expect_body")->pos, "invalid regex " + quote(*http.expect_body) +
                                                   " for " + map.get("expect_body")->path + ": " +
                                                   e.what());
    }
  }
  if (auto headers = map.get("headers")) {
    read_headers(*headers, http, diags);
  }
  http.tls_verify = map.boolean("tls_verify").value_or(http.tls_verify);
  http.follow_redirects = map.boolean("follow_redirects").value_or(http.follow_redirects);
  http.max_body_bytes = static_cast<std::uint32_t>(
      map.integer("max_body_bytes", 1).value_or(static_cast<std::int64_t>(http.max_body_bytes)));
}

void read_target_quorum(const Field& field, TargetConfig& target, TargetSource& source,
                        Diagnostics& diags) {
  const MapReader map(field, Keys(k_target_quorum_keys), diags);
  if (auto down = map.get("down")) {
    if (auto spec = read_quorum_spec(*down, diags)) {
      target.down_quorum = *spec;
      source.down_quorum = down->pos;
    }
  }
  if (auto up = map.get("up")) {
    if (auto spec = read_quorum_spec(*up, diags)) {
      target.up_quorum = *spec;
      source.up_quorum = up->pos;
    }
  }
}

// `depends_on:` a list of target names, each once; whether they name
// targets (and make no cycle) is checked once every target is read.
void read_depends_on(const Field& field, TargetConfig& target, TargetSource& source,
                     Diagnostics& diags) {
  if (!expect_sequence(field, diags)) {
    return;
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const auto name = read_string(item, diags);
    if (!name) {
      continue;
    }
    if (!is_valid_name(*name)) {
      diags.error(item.pos, "invalid target name " + quote(*name) + " for " + item.path +
                                ": expected a target's name (letters, digits, '.', '_', '-', "
                                "at most 128)");
    } else if (std::find(target.depends_on.begin(), target.depends_on.end(), *name) !=
               target.depends_on.end()) {
      diags.error(item.pos, item.path + " " + quote(*name) + " is listed twice in " + field.path);
    } else {
      target.depends_on.push_back(*name);
      source.depends_on.push_back(item.pos);
    }
  }
}

// Every reach check goes to the addresses of one host name: a protocol
// check needs one (its own host, another check's, or dns.name), and two
// checks naming different hosts would probe one of them at the other's
// addresses.
void check_app_hosts(const MapReader& map, const TargetConfig& target, const std::string& label,
                     Diagnostics& diags) {
  const std::string host = target.host_name();
  const std::array<std::pair<std::string_view, const std::optional<std::string>*>, 4> hosts{{
      {"tcp", target.tcp ? &target.tcp->host : nullptr},
      {"redis", target.redis ? &target.redis->host : nullptr},
      {"postgres", target.postgres ? &target.postgres->host : nullptr},
      {"mysql", target.mysql ? &target.mysql->host : nullptr},
  }};
  for (const auto& [key, own] : hosts) {
    if (own == nullptr || key == "tcp") {
      continue;  // tcp has its own message above
    }
    if (!own->has_value() && host.empty()) {
      diags.error(map.get(key)->pos, label + ": the " + std::string(key) + " check needs a host (" +
                                         std::string(key) + ".host or dns.name)");
    }
  }
  // Names compare as DNS compares them: DB.example. is db.example.
  auto same = [](std::string a, std::string b) {
    for (auto* text : {&a, &b}) {
      if (!text->empty() && text->back() == '.') {
        text->pop_back();
      }
      *text = ascii::lower(*text);
    }
    return a == b;
  };
  const bool app = target.redis || target.postgres || target.mysql;
  for (const auto& [key, own] : hosts) {
    if (key != "tcp" && own != nullptr && own->has_value() && !same(**own, host)) {
      diags.error(map.get(key)->pos, label + ": " + std::string(key) + ".host " + quote(**own) +
                                         " differs from " + quote(host) +
                                         ": the checks of one target reach one host");
    }
  }
  // The http check reaches the target's addresses too: its URL's host must
  // be that host, or the request goes to the protocol check's server.
  if (app && target.http && !target.http->url.host.empty() && !same(target.http->url.host, host)) {
    diags.error(map.get("http")->pos,
                label + ": the http URL's host " + quote(target.http->url.host) + " differs from " +
                    quote(host) + ": the checks of one target reach one host");
  }
}

void read_target(const Field& field, LoadContext& ctx) {
  Diagnostics& diags = ctx.diags;
  const MapReader map(field, Keys(k_target_keys), diags);
  TargetConfig target;
  TargetSource source{EntrySource{field.pos, std::nullopt}, {}, std::nullopt, std::nullopt, {}};
  target.pos = field.pos;
  target.name = read_entry_name(map, source.entry, diags).value_or("");
  target.canary = map.boolean("canary").value_or(false);
  if (auto dns = map.get("dns")) {
    read_dns(*dns, target.dns.emplace(), diags);
  }
  std::optional<Field> tcp_field = map.get("tcp");
  bool tcp_clean = false;
  if (tcp_field) {
    const std::size_t errors_before = diags.error_count();
    const MapReader tcp(*tcp_field, Keys(k_tcp_keys), diags);
    read_tcp(tcp, target.tcp.emplace(), diags);
    tcp_clean = diags.error_count() == errors_before;
  }
  if (auto http = map.get("http")) {
    read_http(*http, target.http.emplace(), diags);
  }
  if (auto redis = map.get("redis")) {
    read_redis(*redis, target.redis.emplace(), ctx);
  }
  if (auto postgres = map.get("postgres")) {
    read_postgres(*postgres, target.postgres.emplace(), ctx);
  }
  if (auto mysql = map.get("mysql")) {
    read_mysql(*mysql, target.mysql.emplace(), ctx);
  }
  if (auto reach = map.string("reach")) {
    if (*reach == "any" || *reach == "all") {
      target.reach = *reach == "all" ? ReachMode::All : ReachMode::Any;
    } else {
      diags.error(map.get("reach")->pos, "invalid reach " + quote(*reach) + " for " +
                                             map.get("reach")->path + ": expected any or all");
    }
  }

  // Inheritance: defaults, then the target's own keys.
  target.timing = ctx.config.defaults;
  read_timing(map, target.timing, source.timing, diags);
  target.down_quorum = ctx.config.quorum.down;
  target.up_quorum = ctx.config.quorum.up;
  if (auto quorum = map.get("quorum")) {
    read_target_quorum(*quorum, target, source, diags);
  }
  if (auto depends_on = map.get("depends_on")) {
    read_depends_on(*depends_on, target, source, diags);
  }
  target.cooldown = read_cooldown(map, diags).value_or(ctx.config.gate.cooldown);
  target.priority =
      static_cast<int>(map.integer("priority", -k_max_priority, k_max_priority).value_or(0));
  // dispute_grace: the target's, else quorum.dispute_grace, else one interval
  // (DESIGN.md: "default: one interval"), so a 60s target waits 60s.
  target.dispute_grace =
      map.duration("dispute_grace", ZeroDuration::Allowed)
          .value_or(ctx.config.quorum.dispute_grace.value_or(target.timing.interval));

  const std::string label = entry_label(field.path, target.name);
  if (map.is_mapping() && !map.has("dns") && !tcp_field && !map.has("http") && !map.has("redis") &&
      !map.has("postgres") && !map.has("mysql")) {
    diags.error(field.pos,
                label + ": needs at least one check (dns, tcp, http, redis, postgres or mysql)");
  }
  // Why not the URL's host: a tcp check reaches the addresses resolved for
  // the target, and an http URL's host may differ from the TCP service's.
  if (tcp_clean && !target.tcp->host && !map.has("dns")) {
    diags.error(tcp_field->pos, label + ": the tcp check needs a host (tcp.host or dns.name)");
  }
  check_app_hosts(map, target, label, diags);
  ctx.config.targets.push_back(std::move(target));
  ctx.sources.targets.push_back(source);
}

}  // namespace

void read_targets(const Field& field, LoadContext& ctx) {
  if (!expect_sequence(field, ctx.diags)) {
    return;
  }
  if (field.node.size() == 0) {
    ctx.diags.error(field.pos, "targets must list at least one target");
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    read_target(element(field, i, field.node[i]), ctx);
  }
}

}  // namespace crosscheck::config::detail
