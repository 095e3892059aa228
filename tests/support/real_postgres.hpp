// A real PostgreSQL for system tests (Debian's postgresql-15 or newer): a
// primary with a password user, streaming replicas made by pg_basebackup,
// promotion, a switch that makes a primary refuse writes, and stops. Loopback
// only (127.0.0.1, a free port), data and sockets in the test's own
// directory. Postgres refuses to run as root: as root (CI) every program
// runs as `nobody` through setpriv. Every wait is bounded; a failure throws
// with the server's log, so a test that cannot run fails loudly.
#pragma once

#include "support/child_process.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace crosscheck::testing {

// The newest /usr/lib/postgresql/<major>/bin that holds `postgres`; empty
// when none does.
inline std::filesystem::path postgres_bin_dir() {
  std::filesystem::path best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos ||
        !std::filesystem::exists(entry.path() / "bin" / "postgres")) {
      continue;
    }
    if (const int major = std::stoi(name); major > best_major) {
      best_major = major;
      best = entry.path() / "bin";
    }
  }
  return best;
}

class RealPostgres {
 public:
  // The login role the checks use: a password (SCRAM) over TCP, pg_monitor
  // (it may read pg_stat_wal_receiver's status), and a database of its name.
  static constexpr const char* k_user = "crosscheck";
  static constexpr const char* k_password = "crosscheck-test-password";
  // Bounds for a program the fixture runs and for a state it waits for.
  static constexpr std::chrono::milliseconds k_command_limit{20'000};
  static constexpr std::chrono::milliseconds k_wait_limit{5'000};

  // initdb in `dir` (created), then a primary on 127.0.0.1 with k_user;
  // `settings` are more `-c name=value` ("ssl=on").
  static std::unique_ptr<RealPostgres> start_primary(const std::filesystem::path& dir,
                                                     std::vector<std::string> settings = {}) {
    std::unique_ptr<RealPostgres> server(new RealPostgres(dir));
    server->settings_ = std::move(settings);
    server->run({"initdb", "-D", server->data_.string(), "-U", "postgres", "--auth=trust",
                 "--no-sync", "--no-instructions", "--encoding=UTF8", "--locale=C"});
    // Trust on the socket and for replication from loopback (pg_basebackup,
    // the replica's WAL receiver); a password for every login over TCP.
    std::ofstream(server->data_ / "pg_hba.conf", std::ios::trunc)
        << "local all all trust\n"
        << "local replication all trust\n"
        << "host replication all 127.0.0.1/32 trust\n"
        << "host all all 127.0.0.1/32 scram-sha-256\n";
    server->start();
    server->run({server->bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                 server->data_.string(), "-p", std::to_string(server->port_), "-U", "postgres",
                 "-d", "postgres", "-c",
                 std::string("CREATE ROLE ") + k_user + " LOGIN PASSWORD '" + k_password + "'",
                 "-c", std::string("GRANT pg_monitor TO ") + k_user, "-c",
                 std::string("CREATE DATABASE ") + k_user + " OWNER " + k_user});
    return server;
  }

  // A hot standby of `primary` in `dir` (pg_basebackup -R), streaming.
  static std::unique_ptr<RealPostgres> start_replica(const RealPostgres& primary,
                                                     const std::filesystem::path& dir) {
    std::unique_ptr<RealPostgres> server(new RealPostgres(dir));
    server->run({"pg_basebackup", "-h", "127.0.0.1", "-p", std::to_string(primary.port_), "-U",
                 "postgres", "-D", server->data_.string(), "-R", "-X", "stream", "-c", "fast",
                 "--no-sync"});
    server->start();
    server->wait_for("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'", "1");
    return server;
  }

  RealPostgres(const RealPostgres&) = delete;
  RealPostgres& operator=(const RealPostgres&) = delete;
  RealPostgres(RealPostgres&&) = delete;
  RealPostgres& operator=(RealPostgres&&) = delete;
  ~RealPostgres() { stop(); }

  unsigned short port() const { return port_; }

  // Makes `file` (a TLS key) private to the server's user, as postgres
  // demands: owned by it, mode 0600.
  static void hand_over(const std::filesystem::path& file) {
    std::filesystem::permissions(
        file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    if (as_nobody() && chown(file.c_str(), nobody_uid(), nobody_gid()) != 0) {
      throw std::runtime_error("cannot hand " + file.string() + " to nobody");
    }
  }

  // Runs `query` as the superuser over the socket; its rows, unaligned.
  std::string sql(const std::string& query) {
    auto output =
        run({bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", data_.string(),
             "-p", std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", query});
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
      output.pop_back();
    }
    return output;
  }

  // New sessions default to read-only transactions (a fenced primary).
  void refuse_writes() {
    sql("ALTER SYSTEM SET default_transaction_read_only = on");
    sql("SELECT pg_reload_conf()");
    // The postmaster rereads its configuration asynchronously.
    wait_for("SHOW default_transaction_read_only", "on");
  }

  // Ends recovery: the replica becomes a primary.
  void promote() {
    if (sql("SELECT pg_promote(true, 5)") != "t") {
      throw std::runtime_error("postgres: promotion did not finish\n" + log());
    }
  }

  // Until the replica's WAL receiver no longer streams (its primary stopped).
  void wait_until_not_streaming() {
    wait_for("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'", "0");
  }

  // Fast shutdown (SIGINT): sessions are ended, not waited for.
  void stop() {
    if (server_ && server_->running()) {
      kill(server_->pid(), SIGINT);
      server_->wait(k_wait_limit);
    }
  }

  std::string log() const { return server_ ? server_->log() : std::string(); }

 private:
  explicit RealPostgres(const std::filesystem::path& dir)
      : bin_(postgres_bin_dir()), dir_(dir), data_(dir / "data") {
    if (bin_.empty()) {
      throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql/*/bin");
    }
    std::filesystem::create_directories(data_);
    // Postgres wants its data directory private; as nobody it must also
    // pass through this server's directory and the test's (a TempDir).
    for (const auto& at : {dir_, dir_.parent_path()}) {
      std::filesystem::permissions(at, std::filesystem::perms::others_exec,
                                   std::filesystem::perm_options::add);
    }
    std::filesystem::permissions(data_, std::filesystem::perms::owner_all);
    if (as_nobody() && chown(data_.c_str(), nobody_uid(), nobody_gid()) != 0) {
      throw std::runtime_error("cannot hand " + data_.string() + " to nobody");
    }
    port_ = free_port("127.0.0.1");
  }

  static bool as_nobody() { return geteuid() == 0; }
  static uid_t nobody_uid() {
    const passwd* user = getpwnam("nobody");
    return user == nullptr ? 65534 : user->pw_uid;
  }
  static gid_t nobody_gid() {
    const group* found = getgrnam("nogroup");
    return found == nullptr ? 65534 : found->gr_gid;
  }

  std::string bin(const std::string& program) const { return (bin_ / program).string(); }

  // The command line, as nobody when we are root.
  std::vector<std::string> command(std::vector<std::string> argv) const {
    if (argv[0].find('/') == std::string::npos) {
      argv[0] = bin(argv[0]);
    }
    if (!as_nobody()) {
      return argv;
    }
    std::vector<std::string> line{"setpriv", "--reuid=" + std::to_string(nobody_uid()),
                                  "--regid=" + std::to_string(nobody_gid()), "--clear-groups",
                                  "--"};
    line.insert(line.end(), argv.begin(), argv.end());
    return line;
  }

  // Runs a program to its end (bounded); its output, or throws with it.
  std::string run(std::vector<std::string> argv) {
    const auto name = std::filesystem::path(argv[0]).filename().string();
    const auto log = dir_ / (name + "-" + std::to_string(++runs_) + ".log");
    ChildProcess child(command(std::move(argv)), log);
    const int status = child.wait(k_command_limit);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error(name + " failed (status " + std::to_string(status) + "):\n" +
                               child.log());
    }
    return child.log();
  }

  void start() {
    std::vector<std::string> argv{"postgres",
                                  "-D",
                                  data_.string(),
                                  "-c",
                                  "listen_addresses=127.0.0.1",
                                  "-c",
                                  "port=" + std::to_string(port_),
                                  "-c",
                                  "unix_socket_directories=" + data_.string(),
                                  "-c",
                                  "fsync=off",
                                  "-c",
                                  "shared_buffers=16MB",
                                  "-c",
                                  "max_connections=20"};
    for (const auto& setting : settings_) {
      argv.insert(argv.end(), {"-c", setting});
    }
    server_ = std::make_unique<ChildProcess>(command(std::move(argv)), dir_ / "postgres.log");
    const auto deadline = std::chrono::steady_clock::now() + k_wait_limit;
    while (std::chrono::steady_clock::now() < deadline && server_->running()) {
      ChildProcess ready(
          command({"pg_isready", "-q", "-h", data_.string(), "-p", std::to_string(port_)}),
          dir_ / "pg_isready.log");
      const int status = ready.wait(k_wait_limit);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("postgres did not start accepting connections:\n" + log());
  }

  // Polls `query` until it prints `expected`, up to k_wait_limit.
  void wait_for(const std::string& query, const std::string& expected) {
    const auto deadline = std::chrono::steady_clock::now() + k_wait_limit;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = sql(query);
      if (last == expected) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("postgres: `" + query + "` printed '" + last + "', not '" + expected +
                             "', within the limit\n" + log());
  }

  std::filesystem::path bin_;
  std::filesystem::path dir_;
  std::filesystem::path data_;
  unsigned short port_ = 0;
  std::vector<std::string> settings_;
  int runs_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace crosscheck::testing
