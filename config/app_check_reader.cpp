// Reads a target's protocol checks (docs/checks.md): `redis:`, `postgres:`
// and `mysql:`, each a role question put to every resolved address.
#include "config/sections.hpp"

#include <unistd.h>
#include <algorithm>
#include <array>

namespace crosscheck::config::detail {
namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 5> k_redis_keys{"port", "host", "role", "username",
                                                       "password_file"};
constexpr std::array<std::string_view, 10> k_postgres_keys{
    "port", "host",          "role",    "writable", "max_replica_lag",
    "user", "password_file", "sslmode", "ca_file",  "database"};
constexpr std::array<std::string_view, 7> k_mysql_keys{
    "port", "host", "role", "writable", "max_replica_lag", "user", "password_file"};

// A user or database name: printable, no white space, at most 63 bytes
// (PostgreSQL's NAMEDATALEN - 1; MariaDB allows 80 for users).
constexpr std::size_t k_max_name = 63;

bool is_name(std::string_view text) {
  return !text.empty() && text.size() <= k_max_name &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// `role:` primary, replica or any; `redis_words` also takes Redis' own
// names (master, slave) so that a Redis user's config reads as theirs.
ServerRole read_role(const MapReader& map, bool redis_words, Diagnostics& diags) {
  const auto text = map.string("role");
  if (!text) {
    return ServerRole::Any;
  }
  if (*text == "primary" || (redis_words && *text == "master")) {
    return ServerRole::Primary;
  }
  if (*text == "replica" || (redis_words && *text == "slave")) {
    return ServerRole::Replica;
  }
  if (*text == "any") {
    return ServerRole::Any;
  }
  diags.error(map.get("role")->pos, "invalid role " + quote(*text) + " for " +
                                        map.get("role")->path + ": expected primary, replica" +
                                        (redis_words ? ", master" : "") + " or any");
  return ServerRole::Any;
}

std::optional<std::string> read_name(const MapReader& map, std::string_view key, bool required,
                                     Diagnostics& diags) {
  const auto field = required ? map.require(key) : map.get(key);
  if (!field) {
    return std::nullopt;
  }
  auto text = read_string(*field, diags);
  if (text && !is_name(*text)) {
    diags.error(field->pos, "invalid " + std::string(key) + " " + quote(*text) + " for " +
                                field->path +
                                ": expected 1 to 63 printable characters without spaces");
    return std::nullopt;
  }
  return text;
}

std::uint16_t read_port(const MapReader& map, std::uint16_t fallback) {
  return static_cast<std::uint16_t>(map.integer("port", 1, 65'535).value_or(fallback));
}

// The role rules a database check shares: writes and lag are questions
// for one role each.
template <typename Check>
void read_database_role(const MapReader& map, Check& check, Diagnostics& diags) {
  check.role = read_role(map, false, diags);
  check.writable = map.boolean("writable").value_or(false);
  check.max_replica_lag = map.duration("max_replica_lag", ZeroDuration::Allowed);
  if (check.writable && check.role == ServerRole::Replica) {
    diags.error(map.get("writable")->pos, map.get("writable")->path +
                                              ": a replica refuses writes by design; writable: "
                                              "true needs role primary or any");
  }
  if (check.max_replica_lag && check.role != ServerRole::Replica) {
    diags.error(map.get("max_replica_lag")->pos,
                map.get("max_replica_lag")->path + " needs role: replica (a primary has no lag)");
  }
}

}  // namespace

std::optional<std::string> read_host(const MapReader& map, Diagnostics& diags) {
  auto host = map.string("host");
  if (host && !is_valid_host(*host)) {
    diags.error(map.get("host")->pos, "invalid host " + quote(*host) + " for " +
                                          map.get("host")->path +
                                          ": expected a host name or an IP address");
    return std::nullopt;
  }
  return host;
}

void read_redis(const Field& field, RedisCheck& redis, LoadContext& ctx) {
  const MapReader map(field, Keys(k_redis_keys), ctx.diags);
  redis.port = read_port(map, redis.port);
  redis.host = read_host(map, ctx.diags);
  redis.role = read_role(map, true, ctx.diags);
  redis.username = read_name(map, "username", false, ctx.diags);
  redis.password_file = read_file_path(map, "password_file", ctx);
  if (redis.username && !redis.password_file) {
    ctx.diags.error(map.get("username")->pos,
                    map.get("username")->path + " needs password_file (AUTH sends both)");
  }
}

void read_postgres(const Field& field, PostgresCheck& postgres, LoadContext& ctx) {
  const MapReader map(field, Keys(k_postgres_keys), ctx.diags);
  postgres.port = read_port(map, postgres.port);
  postgres.host = read_host(map, ctx.diags);
  read_database_role(map, postgres, ctx.diags);
  postgres.user = read_name(map, "user", true, ctx.diags).value_or("");
  postgres.database = read_name(map, "database", false, ctx.diags).value_or(postgres.user);
  postgres.password_file = read_file_path(map, "password_file", ctx);
  if (const auto mode = map.string("sslmode")) {
    constexpr std::array<PgSslMode, 5> k_modes{PgSslMode::Disable, PgSslMode::Prefer,
                                               PgSslMode::Require, PgSslMode::VerifyCa,
                                               PgSslMode::VerifyFull};
    const auto* found = std::find_if(k_modes.begin(), k_modes.end(),
                                     [&](PgSslMode m) { return to_string(m) == *mode; });
    if (found == k_modes.end()) {
      ctx.diags.error(map.get("sslmode")->pos,
                      "invalid sslmode " + quote(*mode) + " for " + map.get("sslmode")->path +
                          ": expected disable, prefer, require, verify-ca or verify-full");
    } else {
      postgres.sslmode = *found;
    }
  }
  // Not a secret: a CA bundle may be large and world-readable; it only
  // needs to be there for libpq to read at each check.
  postgres.ca_file = read_path(map, "ca_file", ctx);
  const bool verifies =
      postgres.sslmode == PgSslMode::VerifyCa || postgres.sslmode == PgSslMode::VerifyFull;
  if (verifies && !postgres.ca_file) {
    // Without it libpq reads ~/.postgresql/root.crt of whoever runs the
    // daemon: a file this config does not name and check-config cannot see.
    ctx.diags.error(map.get("sslmode")->pos,
                    map.get("sslmode")->path + " " + std::string(to_string(postgres.sslmode)) +
                        " needs ca_file (the CA bundle that signs the server's certificate)");
  }
  if (postgres.ca_file) {
    const auto pos = map.get("ca_file")->pos;
    if (::access(postgres.ca_file->c_str(), R_OK) != 0) {
      ctx.diags.error(pos, "cannot read ca_file '" + postgres.ca_file->string() + "'");
    } else if (postgres.sslmode != PgSslMode::VerifyCa &&
               postgres.sslmode != PgSslMode::VerifyFull) {
      ctx.diags.error(
          pos, map.get("ca_file")->path + " is only read with sslmode verify-ca or verify-full");
    }
  }
}

void read_mysql(const Field& field, MysqlCheck& mysql, LoadContext& ctx) {
  const MapReader map(field, Keys(k_mysql_keys), ctx.diags);
  mysql.port = read_port(map, mysql.port);
  mysql.host = read_host(map, ctx.diags);
  read_database_role(map, mysql, ctx.diags);
  mysql.user = read_name(map, "user", true, ctx.diags).value_or("");
  mysql.password_file = read_file_path(map, "password_file", ctx);
}

}  // namespace crosscheck::config::detail
