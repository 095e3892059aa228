// The sections that link this node to others: `peers:` (who to pull votes
// from, and which failure domains each may speak for) and `escalation:`
// (webhook, Alertmanager, exec). Part of load_config() (loader.cpp).
#include "config/sections.hpp"

#include <algorithm>
#include <array>

namespace crosscheck::config::detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 7> k_peer_keys{
    "name", "url", "key_file", "unreachable_after", "domains", "vantages", "tls"};
constexpr std::array<std::string_view, 3> k_escalation_keys{"webhook", "alertmanager", "exec"};
constexpr std::array<std::string_view, 3> k_webhook_keys{"url", "secret_file", "tls"};
constexpr std::array<std::string_view, 3> k_alertmanager_keys{"url", "resend_interval", "tls"};
constexpr std::array<std::string_view, 3> k_tls_keys{"ca_file", "cert_file", "key_file"};

constexpr std::array<std::string_view, 1> k_exec_keys{"command"};

// A peer's `domains:` or `vantages:`: a non-empty list of distinct names (a
// peer's export carries no other spelling) of `what` ("failure domain",
// "vantage"). Every element is checked; nullopt on any error. `without`
// says what leaving the key out means.
std::optional<std::vector<std::string>> read_peer_names(const Field& field, std::string_view what,
                                                        std::string_view without,
                                                        std::vector<SourcePos>& positions,
                                                        Diagnostics& diags) {
  if (!expect_sequence(field, diags)) {
    return std::nullopt;
  }
  if (field.node.size() == 0) {
    diags.error(field.pos, field.path + " must list at least one " + std::string(what) +
                               "; without the key, " + std::string(without));
    return std::nullopt;
  }
  const std::size_t errors_before = diags.error_count();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const auto name = read_string(item, diags);
    if (!name) {
      continue;
    }
    if (!is_valid_name(*name)) {
      diags.error(item.pos, "invalid " + std::string(what) + " " + quote(*name) + " for " +
                                item.path +
                                ": expected a name of 1 to 128 letters, digits, '.', '_' and "
                                "'-' (what a peer's export can carry)");
    } else if (std::find(names.begin(), names.end(), *name) != names.end()) {
      diags.error(item.pos, item.path + " " + quote(*name) + " is listed twice in " + field.path);
    } else {
      names.push_back(*name);
      positions.push_back(item.pos);
    }
  }
  if (diags.error_count() != errors_before) {
    return std::nullopt;
  }
  return names;
}

void read_exec(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_exec_keys), ctx.diags);
  auto command = map.require("command");
  if (!command || !expect_sequence(*command, ctx.diags)) {
    return;
  }
  ExecSink sink;
  if (command->node.size() == 0) {
    ctx.diags.error(command->pos, command->path + " must not be empty");
  }
  for (std::size_t i = 0; i < command->node.size(); ++i) {
    const Field argument = element(*command, i, command->node[i]);
    if (auto text = read_string(argument, ctx.diags)) {
      if (i == 0 && text->empty()) {
        ctx.diags.error(argument.pos, argument.path + " must not be empty");
      }
      sink.command.push_back(*text);
    }
  }
  ctx.config.escalation.exec = std::move(sink);
}

}  // namespace

void read_peers(const Field& field, LoadContext& ctx) {
  if (field.node.IsNull()) {
    return;  // "peers:" with every entry commented out
  }
  if (!expect_sequence(field, ctx.diags)) {
    ctx.sources.domains_known = false;
    return;
  }
  // Each peer is one failure domain whatever else is wrong with its entry.
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const MapReader map(item, Keys(k_peer_keys), ctx.diags);
    PeerConfig peer;
    EntrySource source{item.pos, std::nullopt};
    peer.pos = item.pos;
    peer.name = read_entry_name(map, source, ctx.diags).value_or("");
    if (auto url = map.require("url")) {
      peer.url = read_url(*url, ctx.diags).value_or(Url{});
    }
    if (map.require("key_file")) {
      peer.key_file = read_file_path(map, "key_file", ctx).value_or("");
    }
    peer.tls =
        read_tls_block(map, peer.url.text.empty() ? std::nullopt : std::optional(peer.url), ctx);
    peer.unreachable_after =
        map.duration("unreachable_after", ZeroDuration::Rejected).value_or(peer.unreachable_after);
    std::vector<SourcePos> domain_positions;
    if (auto domains = map.get("domains")) {
      peer.domains = read_peer_names(*domains, "failure domain",
                                     "the peer's votes count as one domain named after it",
                                     domain_positions, ctx.diags);
      if (!peer.domains) {
        ctx.sources.domains_known = false;
      }
    }
    if (auto vantages = map.get("vantages")) {
      std::vector<SourcePos> unused;
      peer.vantages = read_peer_names(*vantages, "vantage", "the peer may report any vantage",
                                      unused, ctx.diags);
    }
    ctx.config.peers.push_back(std::move(peer));
    ctx.sources.peers.push_back(source);
    ctx.sources.peer_domains.push_back(std::move(domain_positions));
  }
}

std::optional<TlsClientConfig> read_tls_block(const MapReader& map, const std::optional<Url>& url,
                                              LoadContext& ctx) {
  const auto field = map.get("tls");
  if (!field) {
    return std::nullopt;
  }
  const MapReader block(*field, Keys(k_tls_keys), ctx.diags);
  TlsClientConfig tls;
  // Not FileReferences: validate() reads them as PEM (tls_files.hpp), not as secrets.
  tls.ca_file = read_path(block, "ca_file", ctx);
  tls.cert_file = read_path(block, "cert_file", ctx);
  tls.key_file = read_path(block, "key_file", ctx);
  if (url && !url->is_https()) {
    // Why an error: the block would be silently unused, and the operator
    // believes the link is pinned while it goes out in clear text.
    ctx.diags.error(field->pos, field->path + " is set but " + map.path() + ".url " +
                                    quote(url->text) +
                                    " is http://: TLS settings apply only to https URLs");
  }
  // Every problem at once: the files are read whatever else is wrong, all
  // but an unpaired cert_file or key_file.
  TlsClientConfig checked = tls;
  const bool has_cert = block.has("cert_file");
  const bool has_key = block.has("key_file");
  if (has_cert != has_key) {
    ctx.diags.error(
        field->pos,
        field->path +
            (has_cert ? ".cert_file needs " + field->path + ".key_file (its private key)"
                      : ".key_file needs " + field->path + ".cert_file (the client certificate)"));
    checked.cert_file.reset();
    checked.key_file.reset();
  }
  if (block.is_mapping() && !block.has("ca_file") && !has_cert && !has_key) {
    ctx.diags.error(field->pos, field->path +
                                    " sets none of ca_file, cert_file, key_file; remove it to "
                                    "trust the system store without a client certificate");
  }
  if (checked.ca_file || checked.cert_file) {
    ctx.sources.tls.push_back(TlsReference{field->path, field->pos, checked});
  }
  return tls;
}

void read_escalation(const Field& field, LoadContext& ctx) {
  const MapReader map(field, Keys(k_escalation_keys), ctx.diags);
  EscalationConfig& escalation = ctx.config.escalation;
  if (auto webhook_field = map.get("webhook")) {
    const MapReader webhook(*webhook_field, Keys(k_webhook_keys), ctx.diags);
    WebhookSink sink;
    if (auto url = webhook.require("url")) {
      sink.url = read_url(*url, ctx.diags).value_or(Url{});
    }
    sink.secret_file = read_file_path(webhook, "secret_file", ctx);
    sink.tls = read_tls_block(webhook,
                              sink.url.text.empty() ? std::nullopt : std::optional(sink.url), ctx);
    escalation.webhook = std::move(sink);
  }
  if (auto alertmanager_field = map.get("alertmanager")) {
    const MapReader alertmanager(*alertmanager_field, Keys(k_alertmanager_keys), ctx.diags);
    AlertmanagerSink sink;
    if (auto url = alertmanager.require("url")) {
      sink.url = read_url(*url, ctx.diags).value_or(Url{});
    }
    sink.resend_interval = alertmanager.duration("resend_interval", ZeroDuration::Rejected)
                               .value_or(sink.resend_interval);
    sink.tls = read_tls_block(alertmanager,
                              sink.url.text.empty() ? std::nullopt : std::optional(sink.url), ctx);
    escalation.alertmanager = std::move(sink);
  }
  if (auto exec = map.get("exec")) {
    read_exec(*exec, ctx);
  }
}

}  // namespace crosscheck::config::detail
