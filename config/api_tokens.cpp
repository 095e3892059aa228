// api.tokens: reading the list (part of load_config()), the rules that need
// the whole api section, and the reader the daemon serves tokens from.
#include "config/api_tokens.hpp"

#include "config/secret_file.hpp"
#include "config/sections.hpp"

#include <array>

namespace crosscheck::config {

namespace {

constexpr std::array<ApiScope, 5> k_scopes{ApiScope::Read, ApiScope::Recheck, ApiScope::Ack,
                                           ApiScope::Override, ApiScope::Act};

// The first pair (i < j) of equal secrets, or nullopt.
std::optional<std::pair<std::size_t, std::size_t>> same_secret(
    const std::vector<std::string>& secrets) {
  for (std::size_t j = 0; j < secrets.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (!secrets[i].empty() && secrets[i] == secrets[j]) {
        return std::pair{i, j};
      }
    }
  }
  return std::nullopt;
}

std::string token_label(const ApiConfig& api, std::size_t index) {
  // Index 0 is api.token_file's when it is set.
  if (api.token_file) {
    if (index == 0) {
      return "api.token_file";
    }
    --index;
  }
  return detail::entry_label("api.tokens[" + std::to_string(index) + "]", api.tokens[index].name);
}

}  // namespace

std::string_view to_string(ApiScope scope) {
  switch (scope) {
    case ApiScope::Read:
      return "read";
    case ApiScope::Recheck:
      return "recheck";
    case ApiScope::Ack:
      return "ack";
    case ApiScope::Override:
      return "override";
    case ApiScope::Act:
      return "act";
  }
  return "read";
}

std::optional<ApiScope> parse_api_scope(std::string_view text) {
  for (const ApiScope scope : k_scopes) {
    if (to_string(scope) == text) {
      return scope;
    }
  }
  return std::nullopt;
}

std::string api_scope_names() {
  return ScopeSet::all().to_string();
}

ScopeSet ScopeSet::all() {
  ScopeSet set;
  for (const ApiScope scope : k_scopes) {
    set.add(scope);
  }
  return set;
}

std::string ScopeSet::to_string() const {
  std::string text;
  for (const ApiScope scope : k_scopes) {
    if (has(scope)) {
      text += (text.empty() ? "" : ", ") + std::string(config::to_string(scope));
    }
  }
  return text;
}

Expected<std::vector<ApiToken>> read_api_tokens(const ApiConfig& api) {
  std::vector<ApiToken> tokens;
  if (api.token_file) {
    auto secret = read_secret_file("api.token_file", *api.token_file, SecretKind::BearerToken);
    if (!secret) {
      return fail(secret.error());
    }
    tokens.push_back(ApiToken{std::string(k_default_token_name), *secret, ScopeSet::all()});
  }
  for (std::size_t i = 0; i < api.tokens.size(); ++i) {
    const ApiTokenConfig& entry = api.tokens[i];
    auto secret = read_secret_file(
        detail::entry_label("api.tokens[" + std::to_string(i) + "]", entry.name) + " file",
        entry.file, SecretKind::BearerToken);
    if (!secret) {
      return fail(secret.error());
    }
    tokens.push_back(ApiToken{entry.name, *secret, entry.scopes});
  }
  std::vector<std::string> secrets;
  secrets.reserve(tokens.size());
  for (const ApiToken& token : tokens) {
    secrets.push_back(token.secret);
  }
  if (const auto pair = same_secret(secrets)) {
    return fail(token_label(api, pair->second) + " holds the same token as " +
                token_label(api, pair->first) + ": each caller needs its own token");
  }
  return tokens;
}

namespace detail {

namespace {

using Keys = std::span<const std::string_view>;
constexpr std::array<std::string_view, 3> k_token_keys{"name", "file", "scopes"};

ScopeSet read_scopes(const MapReader& map, Diagnostics& diags) {
  ScopeSet scopes;
  const auto field = map.require("scopes");
  if (!field || !expect_sequence(*field, diags)) {
    return scopes;
  }
  if (field->node.size() == 0) {
    diags.error(field->pos, field->path + " must list at least one of " + api_scope_names());
  }
  for (std::size_t i = 0; i < field->node.size(); ++i) {
    const Field item = element(*field, i, field->node[i]);
    const auto text = read_string(item, diags);
    if (!text) {
      continue;
    }
    if (const auto scope = parse_api_scope(*text)) {
      scopes.add(*scope);
    } else {
      diags.error(item.pos, "unknown scope " + quote(*text) + " for " + item.path +
                                ": expected one of " + api_scope_names());
    }
  }
  return scopes;
}

}  // namespace

void read_api_token_list(const Field& field, LoadContext& ctx) {
  if (field.node.IsNull()) {
    return;  // "tokens:" with every entry commented out
  }
  if (!expect_sequence(field, ctx.diags)) {
    return;
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const MapReader map(item, Keys(k_token_keys), ctx.diags);
    ApiTokenConfig token;
    EntrySource source{item.pos, std::nullopt};
    token.pos = item.pos;
    token.name = read_entry_name(map, source, ctx.diags).value_or("");
    if (map.require("file")) {
      token.file = read_file_path(map, "file", ctx).value_or("");
      if (!token.file.empty()) {
        // The reader's messages name the entry: "cannot read api.tokens[1] 'oncall' file ...".
        ctx.sources.files.back().key = entry_label(item.path, token.name) + " file";
      }
    }
    token.scopes = read_scopes(map, ctx.diags);
    ctx.config.api.tokens.push_back(std::move(token));
    ctx.sources.api_tokens.push_back(source);
  }
}

void check_api_tokens(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  const ApiConfig& api = config.api;
  for (std::size_t i = 0; i < api.tokens.size(); ++i) {
    if (api.token_file && sources.api_tokens[i].name_pos &&
        api.tokens[i].name == k_default_token_name) {
      diags.error(*sources.api_tokens[i].name_pos,
                  "api.tokens[" + std::to_string(i) +
                      "]: the name 'default' is api.token_file's token; choose another name");
    }
  }
  if (api.read_requires_token && sources.read_requires_token) {
    bool readable = api.token_file.has_value();
    for (const auto& token : api.tokens) {
      readable = readable || token.scopes.has(ApiScope::Read);
    }
    if (!readable) {
      diags.error(*sources.read_requires_token,
                  "api.read_requires_token is true but no token has scope read (api.token_file, "
                  "or api.tokens with scopes: [read, ...]): every read would be refused");
    }
  }
  // Two tokens with one secret: the server could not tell who called.
  std::vector<std::string> secrets;
  std::vector<SourcePos> positions;
  for (const FileReference& file : sources.files) {
    if (is_api_token_file(file)) {
      auto secret = read_secret_file(file.key, file.path, SecretKind::BearerToken);
      secrets.push_back(secret ? *secret : std::string());  // unreadable: reported already
      positions.push_back(file.pos);
    }
  }
  if (const auto pair = same_secret(secrets)) {
    diags.error(positions[pair->second],
                "this token file holds the same token as the one at line " +
                    std::to_string(positions[pair->first].line) +
                    ": each caller needs its own token (umask 077; openssl rand -hex 32 > FILE)");
  }
}

bool is_api_token_file(const FileReference& file) {
  return file.key == "token_file" || file.key.starts_with("api.tokens[");
}

}  // namespace detail

}  // namespace crosscheck::config
