// `redis:`, `postgres:` and `mysql:` checks (docs/checks.md): defaults, every
// key read, and every error with its position.
#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using crosscheck::config::PgSslMode;
using crosscheck::config::ServerRole;
using crosscheck::config::test::diagnostics_of;
using crosscheck::config::test::k_valid_vantages;
using crosscheck::config::test::load_valid;
using Lines = std::vector<std::string>;
using namespace std::chrono_literals;

namespace {

// A readable secret file for password_file keys, removed at the end.
class PasswordFile {
 public:
  PasswordFile()
      : path_(std::filesystem::temp_directory_path() /
              ("crosscheck-app-config-" + std::to_string(::getpid()) + ".pass")) {
    std::ofstream(path_) << "s3cret\n";
  }
  PasswordFile(const PasswordFile&) = delete;
  PasswordFile& operator=(const PasswordFile&) = delete;
  PasswordFile(PasswordFile&&) = delete;
  PasswordFile& operator=(PasswordFile&&) = delete;
  ~PasswordFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("protocol checks read every key, with their defaults", "[config][app]") {
  const PasswordFile password;
  const auto config = load_valid(
      std::string(k_valid_vantages) +
      "targets:\n"
      "  - {name: cache, redis: {host: cache.internal}}\n"
      "  - name: orders-db\n"
      "    dns: {name: db.internal}\n"
      "    postgres: {role: primary, writable: true, user: crosscheck, password_file: " +
      password.path() +
      ", sslmode: require}\n"
      "  - name: orders-replica\n"
      "    postgres: {host: 10.0.0.7, port: 6432, role: replica, max_replica_lag: 5s, user: "
      "probe, database: orders}\n"
      "  - name: shop-db\n"
      "    mysql: {host: shop.internal, role: primary, writable: true, user: crosscheck}\n"
      "  - name: session-cache\n"
      "    redis: {host: 127.0.0.1, port: 6380, role: master, username: probe, password_file: " +
      password.path() + "}\n");
  REQUIRE(config.targets.size() == 5);
  const auto& cache = config.targets[0];
  REQUIRE(cache.redis);
  CHECK(cache.redis->port == 6379);
  CHECK(cache.redis->role == ServerRole::Any);
  CHECK(cache.host_name() == "cache.internal");
  CHECK(cache.reaches());

  const auto& orders = config.targets[1];
  REQUIRE(orders.postgres);
  CHECK(orders.postgres->port == 5432);
  CHECK(orders.postgres->role == ServerRole::Primary);
  CHECK(orders.postgres->writable);
  CHECK(orders.postgres->user == "crosscheck");
  CHECK(orders.postgres->database == "crosscheck");  // the user's name by default
  CHECK(orders.postgres->password_file == password.path());
  CHECK(orders.postgres->sslmode == PgSslMode::Require);
  CHECK(orders.host_name() == "db.internal");

  const auto& replica = config.targets[2];
  REQUIRE(replica.postgres);
  CHECK(replica.postgres->port == 6432);
  CHECK(replica.postgres->role == ServerRole::Replica);
  CHECK(replica.postgres->max_replica_lag == 5s);
  CHECK(replica.postgres->database == "orders");
  CHECK(replica.postgres->sslmode == PgSslMode::Prefer);
  CHECK(replica.host_name() == "10.0.0.7");

  const auto& shop = config.targets[3];
  REQUIRE(shop.mysql);
  CHECK(shop.mysql->port == 3306);
  CHECK(shop.mysql->role == ServerRole::Primary);
  CHECK(shop.mysql->writable);

  const auto& session = config.targets[4];
  REQUIRE(session.redis);
  CHECK(session.redis->role == ServerRole::Primary);  // Redis' own word, master
  CHECK(session.redis->username == "probe");
  CHECK(session.redis->port == 6380);
}

TEST_CASE("every protocol check error says what is wrong and where", "[config][app]") {
  auto [lines, expected] = GENERATE(table<std::string, std::string>({
      {"    redis: {role: leader}\n",
       "test.yaml:8:19: error: invalid role 'leader' for targets[0].redis.role: expected "
       "primary, replica, master or any"},
      {"    postgres: {role: master, user: probe}\n",
       "test.yaml:8:22: error: invalid role 'master' for targets[0].postgres.role: expected "
       "primary, replica or any"},
      {"    postgres: {role: primary}\n",
       "test.yaml:8:15: error: missing required key 'user' in targets[0].postgres"},
      {"    mysql: {}\n", "test.yaml:8:12: error: missing required key 'user' in targets[0].mysql"},
      {"    postgres: {user: probe, role: replica, writable: true}\n",
       "test.yaml:8:54: error: targets[0].postgres.writable: a replica refuses writes by design; "
       "writable: true needs role primary or any"},
      {"    mysql: {user: probe, role: primary, max_replica_lag: 5s}\n",
       "test.yaml:8:58: error: targets[0].mysql.max_replica_lag needs role: replica (a primary "
       "has no lag)"},
      {"    postgres: {user: probe, sslmode: strict}\n",
       "test.yaml:8:38: error: invalid sslmode 'strict' for targets[0].postgres.sslmode: "
       "expected disable, prefer, require, verify-ca or verify-full"},
      {"    postgres: {user: 'pro be'}\n",
       "test.yaml:8:22: error: invalid user 'pro be' for targets[0].postgres.user: expected 1 to "
       "63 printable characters without spaces"},
      {"    redis: {port: 0}\n",
       "test.yaml:8:19: error: targets[0].redis.port must be between 1 and 65535, got 0"},
      {"    redis: {username: probe}\n",
       "test.yaml:8:23: error: targets[0].redis.username needs password_file (AUTH sends both)"},
      {"    redis: {password_file: /nonexistent/crosscheck.pass}\n",
       "test.yaml:8:28: error: cannot read password_file '/nonexistent/crosscheck.pass': No such "
       "file or directory"},
      {"    redis: {host: 'bad host'}\n",
       "test.yaml:8:19: error: invalid host 'bad host' for targets[0].redis.host: expected a host "
       "name or an IP address"},
      {"    redis: {host: other.example}\n",
       "test.yaml:8:12: error: targets[0] 'db': redis.host 'other.example' differs from "
       "'db.example': the checks of one target reach one host"},
      {"    mysql: {user: probe, colour: blue}\n",
       "test.yaml:8:26: error: unknown key 'colour' in targets[0].mysql"},
      {"    postgres: {user: probe, ca_file: /nonexistent/ca.pem, sslmode: verify-full}\n",
       "test.yaml:8:38: error: cannot read ca_file '/nonexistent/ca.pem'"},
  }));
  const std::string yaml = std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - name: db\n"
                           "    dns: {name: db.example}\n" +
                           lines;
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("a protocol check needs a host to reach", "[config][app]") {
  const std::string yaml = std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - {name: db, postgres: {user: probe}}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:6:26: error: targets[0] 'db': the postgres check needs a host "
              "(postgres.host or dns.name)"});
}

TEST_CASE("a postgres check under a vantage with a source address is warned about",
          "[config][app]") {
  const std::string yaml =
      "vantages:\n"
      "  - {name: a, domain: one, source: 127.0.0.1}\n"
      "  - {name: b, domain: two}\n"
      "  - {name: c, domain: three}\n"
      "targets:\n"
      "  - {name: db, postgres: {host: 127.0.0.1, user: probe}}\n";
  CHECK(diagnostics_of(yaml) ==
        Lines{"test.yaml:6:5: warning: targets[0] 'db': the postgres check cannot bind vantage "
              "'a''s source address (libpq has no such option); it connects from the address "
              "the kernel routes it from"});
}

TEST_CASE("a tcp check's dialogue keys: send, expect, tls, starttls, tls_verify", "[config][app]") {
  const auto config = load_valid(
      std::string(k_valid_vantages) +
      "targets:\n"
      "  - name: mail\n"
      "    dns: {name: mail.internal}\n"
      "    tcp: {port: 25, starttls: smtp, send: \"NOOP\\r\\n\", expect: '^250'}\n"
      "  - name: imaps\n"
      "    tcp: {host: imap.internal, port: 993, tls: true, tls_verify: false, expect: '^\\* OK'}\n"
      "  - {name: plain, tcp: {host: 10.0.0.1, port: 22}}\n");
  const auto& mail = *config.targets[0].tcp;
  CHECK(mail.starttls == crosscheck::config::StartTls::Smtp);
  CHECK(mail.send == "NOOP\r\n");
  CHECK(mail.expect == "^250");
  CHECK(mail.tls_verify);
  CHECK(mail.dialogue());
  const auto& imaps = *config.targets[1].tcp;
  CHECK(imaps.tls);
  CHECK_FALSE(imaps.tls_verify);
  CHECK_FALSE(config.targets[2].tcp->dialogue());  // a bare connect, as before
}

TEST_CASE("every tcp dialogue error says what is wrong and where", "[config][app]") {
  auto [lines, expected] = GENERATE(table<std::string, std::string>({
      {"    tcp: {port: 25, expect: '(unclosed'}\n",
       "test.yaml:8:29: error: invalid regex '(unclosed' for targets[0].tcp.expect: Unmatched "
       "marking parenthesis ( or \\(.  The error occurred while parsing the regular expression: "
       "'(unclosed>>>HERE>>>'."},
      {"    tcp: {port: 25, starttls: pop3}\n",
       "test.yaml:8:31: error: invalid starttls 'pop3' for targets[0].tcp.starttls: expected "
       "smtp, imap or postgres"},
      {"    tcp: {port: 25, tls: true, starttls: smtp}\n",
       "test.yaml:8:42: error: targets[0].tcp.starttls and tls: true exclude each other (TLS at "
       "once, or after STARTTLS)"},
      {"    tcp: {port: 25, tls_verify: false}\n",
       "test.yaml:8:33: error: targets[0].tcp.tls_verify needs tls: true or starttls"},
      {"    tcp: {port: 25, send: ''}\n",
       "test.yaml:8:27: error: targets[0].tcp.send must hold 1 to 4096 bytes"},
  }));
  const std::string yaml = std::string(k_valid_vantages) +
                           "targets:\n"
                           "  - name: db\n"
                           "    dns: {name: db.example}\n" +
                           lines;
  CAPTURE(yaml);
  CHECK(diagnostics_of(yaml) == Lines{expected});
}

TEST_CASE("one target's checks reach one host: names compare as DNS does, URLs too",
          "[config][app]") {
  // Case and a trailing dot do not make another host.
  CHECK(diagnostics_of(std::string(k_valid_vantages) +
                       "targets:\n"
                       "  - {name: db, dns: {name: DB.example}, postgres: {host: db.example., "
                       "user: probe}}\n")
            .empty());
  CHECK(diagnostics_of(std::string(k_valid_vantages) +
                       "targets:\n"
                       "  - {name: db, http: {url: 'http://127.0.0.2:8080/'}, redis: {host: "
                       "127.0.0.1}}\n") ==
        Lines{"test.yaml:6:22: error: targets[0] 'db': the http URL's host '127.0.0.2' differs "
              "from '127.0.0.1': the checks of one target reach one host"});
  CHECK(diagnostics_of(std::string(k_valid_vantages) +
                       "targets:\n"
                       "  - name: db\n"
                       "    dns: {name: db.example}\n"
                       "    postgres: {user: probe, sslmode: verify-full}\n") ==
        Lines{"test.yaml:8:38: error: targets[0].postgres.sslmode verify-full needs ca_file (the "
              "CA bundle that signs the server's certificate)"});
}
