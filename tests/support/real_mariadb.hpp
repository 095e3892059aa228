// Real MariaDB servers for system tests (Debian's mariadb-server): each one
// bootstrapped into its own datadir in a TempDir, listening only on
// 127.0.0.1 and a free port (plus its own socket), run as `nobody` when the
// tests run as root. A primary with a binary log and a replica that follows
// it; SQL runs as root with the `mariadb` client over the server's socket.
// Every wait is bounded; a server that does not come up throws with its log.
#pragma once

#include "support/child_process.hpp"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pwd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace crosscheck::testing {

// The account the checks log in with, on every server: it may run SHOW
// REPLICA STATUS (REPLICA MONITOR) and nothing else.
inline const std::string k_mariadb_user = "crosscheck";
inline const std::string k_mariadb_password = "crosscheck-secret";

namespace mariadb_detail {

using namespace std::chrono_literals;

constexpr auto k_bootstrap_limit = std::chrono::seconds(20);  // a slow CI disk
constexpr auto k_start_limit = std::chrono::seconds(15);
constexpr auto k_sql_limit = std::chrono::seconds(5);
constexpr auto k_state_limit = std::chrono::seconds(5);  // replication up or down
constexpr auto k_poll = 20ms;

inline std::string find_program(const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  throw std::runtime_error("MariaDB is not installed (none of " + candidates.front() +
                           ", ...): apt-get install mariadb-server mariadb-client");
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool running_as_root() {
  return ::geteuid() == 0;
}

// As root the server runs as `nobody`: it must own its directories and
// reach them through every parent.
inline void hand_to_nobody(const std::filesystem::path& dir) {
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) {
    throw std::runtime_error("no user nobody to run mariadbd as");
  }
  for (auto parent = dir.parent_path(); !parent.empty() && parent != parent.root_path();
       parent = parent.parent_path()) {
    struct stat info {};
    if (::stat(parent.c_str(), &info) != 0 || (info.st_mode & S_IXOTH) == 0) {
      throw std::runtime_error("mariadbd runs as nobody and cannot reach " + dir.string() +
                               " through " + parent.string() + "; set TMPDIR to /tmp");
    }
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (::chown(entry.path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      throw std::runtime_error("cannot chown " + entry.path().string());
    }
  }
  if (::chown(dir.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
    throw std::runtime_error("cannot chown " + dir.string());
  }
}

// The system tables only: no help tables, no sys schema (a second to
// bootstrap instead of five). Root has no password (the `normal` method of
// mariadb-install-db): the client connects over the socket as any user.
inline std::string bootstrap_sql() {
  for (const std::filesystem::path share : {"/usr/share/mysql", "/usr/share/mariadb"}) {
    if (std::filesystem::exists(share / "mysql_system_tables.sql")) {
      return "create database if not exists mysql;\nuse mysql;\nSET @auth_root_socket=NULL;\n" +
             read_file(share / "mysql_system_tables.sql") +
             read_file(share / "mysql_system_tables_data.sql");
    }
  }
  throw std::runtime_error("mysql_system_tables.sql not found (mariadb-server not installed?)");
}

// Small and careless about durability: a test server starts in well under
// a second and holds a few rows. Its own tmpdir: servers that share /tmp
// have lost each other's temporary tables during the bootstrap.
inline std::vector<std::string> storage_options(const std::filesystem::path& dir) {
  std::vector<std::string> options{"--no-defaults",
                                   "--datadir=" + (dir / "data").string(),
                                   "--tmpdir=" + (dir / "tmp").string(),
                                   "--innodb-buffer-pool-size=8M",
                                   "--innodb-log-file-size=4M",
                                   "--innodb-data-file-path=ibdata1:4M:autoextend",
                                   "--innodb-autoextend-increment=8",
                                   "--innodb-flush-log-at-trx-commit=0",
                                   "--innodb-doublewrite=0",
                                   "--innodb-use-native-aio=0",
                                   "--key-buffer-size=1M",
                                   "--aria-pagecache-buffer-size=8M"};
  if (running_as_root()) {
    options.emplace_back("--user=nobody");
  }
  return options;
}

}  // namespace mariadb_detail

// One mariadbd. The constructor starts bootstrapping its datadir and returns
// at once, so that two servers bootstrap side by side; start() waits for it.
class MariadbServer {
 public:
  MariadbServer(const std::filesystem::path& parent, const std::string& name, int server_id,
                bool binlog)
      : dir_(parent / name),
        mariadbd_(mariadb_detail::find_program(
            {"/usr/sbin/mariadbd", "/usr/sbin/mysqld", "/usr/libexec/mariadbd"})),
        client_(mariadb_detail::find_program({"/usr/bin/mariadb", "/usr/bin/mysql"})),
        server_id_(server_id),
        binlog_(binlog),
        port_(free_port("127.0.0.1")) {
    std::filesystem::create_directories(dir_ / "data");
    std::filesystem::create_directories(dir_ / "tmp");
    std::ofstream(dir_ / "bootstrap.sql") << mariadb_detail::bootstrap_sql();
    if (mariadb_detail::running_as_root()) {
      mariadb_detail::hand_to_nobody(dir_);
    }
    // `mariadbd --bootstrap` reads its SQL on stdin, which ChildProcess ties
    // to /dev/null: a shell redirects it.
    std::vector<std::string> argv{"/bin/sh",
                                  "-c",
                                  R"(f=$1; shift; exec "$@" < "$f")",
                                  "sh",
                                  (dir_ / "bootstrap.sql").string(),
                                  mariadbd_};
    for (auto& option : mariadb_detail::storage_options(dir_)) {
      argv.push_back(std::move(option));
    }
    argv.insert(argv.end(), {"--bootstrap", "--skip-log-bin", "--log-warnings=0"});
    bootstrap_ = std::make_unique<ChildProcess>(argv, dir_ / "bootstrap.log");
  }

  // Waits for the bootstrap, starts mariadbd, waits until it answers SQL and
  // creates the crosscheck account. Throws with the logs when any step fails.
  void start() {
    const int status = bootstrap_->wait(mariadb_detail::k_bootstrap_limit);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("mariadbd --bootstrap failed:\n" + bootstrap_->log());
    }
    auto argv = std::vector<std::string>{mariadbd_};
    for (auto& option : mariadb_detail::storage_options(dir_)) {
      argv.push_back(std::move(option));
    }
    argv.insert(argv.end(),
                {"--bind-address=127.0.0.1", "--port=" + std::to_string(port_),
                 "--socket=" + socket_path(), "--pid-file=" + (dir_ / "mariadbd.pid").string(),
                 "--skip-networking=0", "--skip-name-resolve", "--max-connections=30",
                 "--skip-slave-start", "--server-id=" + std::to_string(server_id_),
                 "--log-basename=server" + std::to_string(server_id_)});
    argv.emplace_back(binlog_ ? "--log-bin" : "--skip-log-bin");
    server_ = std::make_unique<ChildProcess>(argv, dir_ / "mariadbd.log");
    const auto deadline = std::chrono::steady_clock::now() + mariadb_detail::k_start_limit;
    std::string last_error;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!server_->running()) {
        throw std::runtime_error("mariadbd exited at start:\n" + server_->log());
      }
      if (std::filesystem::exists(socket_path())) {
        std::string output;
        if (try_sql("SELECT 1", false, output)) {
          break;
        }
        last_error = output;
      }
      std::this_thread::sleep_for(mariadb_detail::k_poll);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("mariadbd did not answer within 15 s (" + last_error + "):\n" +
                               server_->log());
    }
    // Not in the binary log: a replica must not replay its primary's users.
    sql("SET sql_log_bin=0; CREATE USER '" + k_mariadb_user + "'@'127.0.0.1' IDENTIFIED BY '" +
        k_mariadb_password + "'; GRANT REPLICA MONITOR ON *.* TO '" + k_mariadb_user +
        "'@'127.0.0.1';");
  }

  std::uint16_t port() const { return port_; }
  std::string socket_path() const { return (dir_ / "mariadbd.sock").string(); }

  // Runs `statements` as root over the socket and returns what the client
  // printed (tab-separated; column names first when `headers`). Throws with
  // the output when the client fails or takes longer than 5 s.
  std::string sql(const std::string& statements, bool headers = false) {
    std::string output;
    if (!try_sql(statements, headers, output)) {
      throw std::runtime_error("mariadb -e \"" + statements + "\" failed: " + output);
    }
    return output;
  }

  // SHOW REPLICA STATUS as column -> value ("NULL" for NULL); empty on a primary.
  std::map<std::string, std::string> replica_status() {
    std::istringstream lines(sql("SHOW REPLICA STATUS", true));
    std::string names;
    std::string values;
    std::getline(lines, names);
    std::getline(lines, values);
    std::map<std::string, std::string> status;
    std::istringstream name_cells(names);
    std::istringstream value_cells(values);
    std::string name;
    std::string value;
    while (std::getline(name_cells, name, '\t')) {
      std::getline(value_cells, value, '\t');
      status[name] = value;
    }
    return status;
  }

  void set_read_only(bool on) { sql(std::string("SET GLOBAL read_only=") + (on ? "ON" : "OFF")); }

  bool running() { return server_ && server_->running(); }
  void stop() {
    if (server_) {
      server_->stop();
    }
  }
  std::string log() const { return server_ ? server_->log() : bootstrap_->log(); }

 private:
  bool try_sql(const std::string& statements, bool headers, std::string& output) {
    const auto log = dir_ / ("client-" + std::to_string(++client_runs_) + ".log");
    std::vector<std::string> argv{
        client_,       "--no-defaults", "--protocol=socket",  "--socket=" + socket_path(),
        "--user=root", "--batch",       "--connect-timeout=2"};
    if (!headers) {
      argv.emplace_back("--skip-column-names");
    }
    argv.insert(argv.end(), {"-e", statements});
    ChildProcess client(argv, log);
    const int status = client.wait(mariadb_detail::k_sql_limit);
    output = client.log();
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  std::filesystem::path dir_;
  std::string mariadbd_;
  std::string client_;
  int server_id_;
  bool binlog_;
  std::uint16_t port_;
  int client_runs_ = 0;
  std::unique_ptr<ChildProcess> bootstrap_;
  std::unique_ptr<ChildProcess> server_;
};

// A primary (server-id 1, binary log) and a replica (server-id 2) that
// replicates from it by GTID, both with the crosscheck account. Stops both
// and removes their files when it goes.
class MariadbReplication {
 public:
  MariadbReplication()
      : primary_(std::make_unique<MariadbServer>(dir_.path(), "primary", 1, true)),
        replica_(std::make_unique<MariadbServer>(dir_.path(), "replica", 2, false)) {
    primary_->start();
    replica_->start();
    primary_->sql("SET sql_log_bin=0; CREATE USER 'replication'@'127.0.0.1' IDENTIFIED BY '" +
                  k_mariadb_password + "'; GRANT REPLICATION SLAVE ON *.* TO " +
                  "'replication'@'127.0.0.1';");
    replica_->sql("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" +
                  std::to_string(primary_->port()) +
                  ", MASTER_USER='replication', MASTER_PASSWORD='" + k_mariadb_password +
                  "', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos");
    // As replicas are run: only replication writes.
    replica_->set_read_only(true);
    start_replication();
  }
  MariadbReplication(const MariadbReplication&) = delete;
  MariadbReplication& operator=(const MariadbReplication&) = delete;
  MariadbReplication(MariadbReplication&&) = delete;
  MariadbReplication& operator=(MariadbReplication&&) = delete;
  ~MariadbReplication() {
    // Replica first: a replica whose primary went away retries to connect.
    replica_->stop();
    primary_->stop();
  }

  MariadbServer& primary() { return *primary_; }
  MariadbServer& replica() { return *replica_; }

  // START SLAVE, then waits (up to 5 s) until both replication threads run.
  void start_replication() {
    replica_->sql("START SLAVE");
    wait_for_replication("Yes", "replication did not start");
  }

  // STOP SLAVE, then waits (up to 5 s) until neither thread runs.
  void stop_replication() {
    replica_->sql("STOP SLAVE");
    wait_for_replication("No", "replication did not stop");
  }

 private:
  void wait_for_replication(const std::string& running, const std::string& problem) {
    const auto deadline = std::chrono::steady_clock::now() + mariadb_detail::k_state_limit;
    std::map<std::string, std::string> status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = replica_->replica_status();
      if (status["Slave_IO_Running"] == running && status["Slave_SQL_Running"] == running) {
        return;
      }
      std::this_thread::sleep_for(mariadb_detail::k_poll);
    }
    throw std::runtime_error(problem + " within 5 s: io " + status["Slave_IO_Running"] + ", sql " +
                             status["Slave_SQL_Running"] + ", " + status["Last_IO_Error"] +
                             status["Last_SQL_Error"] + "\nreplica log:\n" + replica_->log());
  }

  TempDir dir_;
  std::unique_ptr<MariadbServer> primary_;
  std::unique_ptr<MariadbServer> replica_;
};

}  // namespace crosscheck::testing
