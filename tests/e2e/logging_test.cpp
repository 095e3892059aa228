// The real `crosscheck run` binary's stderr as journald and log shippers see
// it: --log-format json, and auto under systemd (JOURNAL_STREAM naming the
// file its stderr goes to).
#include "support/child_process.hpp"
#include "support/scoped_env.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace crosscheck::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr auto k_start_deadline = 15s;
const std::string k_started = " vantages; API on ";  // the startup line
const std::string k_verdict = "verdict target=web verdict=unhealthy ";

// One vantage whose resolver never answers, one DNS-only target: enough for
// the oracle to start, probe, judge the target unhealthy and log it.
fs::path write_config(const TempDir& dir) {
  const auto path = dir.path() / "crosscheck.yaml";
  std::ofstream(path) << "node: { name: logs, data_dir: " << dir.path().string() << " }\n"
                      << "api: { listen: 127.0.0.1:" << free_port("127.0.0.1") << " }\n"
                      << "defaults: { interval: 300ms, timeout: 250ms }\n"
                      << "vantages:\n"
                      << "  - { name: alpha, domain: alpha, resolver: \"127.0.0.1:"
                      << free_port("127.0.0.1") << "\" }\n"
                      << "targets:\n"
                      << "  - { name: web, dns: { name: web.test } }\n";
  return path;
}

std::string device_inode(const fs::path& file) {
  struct stat status {};
  REQUIRE(stat(file.c_str(), &status) == 0);
  return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
}

// What JOURNAL_STREAM names: the device:inode of the file that gets the
// oracle's stderr, or of another file.
enum class JournalStream { ThisLog, OtherFile };

struct Stderr {
  int exit_status = -1;
  std::vector<std::string> lines;
};

// Runs `crosscheck run --log-format FORMAT` until it has logged the target's
// unhealthy verdict (bounded; it handles SIGTERM by then), stops it with
// SIGTERM and returns what it wrote. ThisLog is what systemd sets for a unit
// whose stderr is the journal.
Stderr run_oracle(const std::string& format, JournalStream journal) {
  TempDir dir;
  const auto config = write_config(dir);
  const auto log = dir.path() / "stderr.log";
  std::ofstream(log) << "";  // ChildProcess truncates it: same inode
  const ScopedEnv stream("JOURNAL_STREAM",
                         device_inode(journal == JournalStream::ThisLog ? log : config));
  ChildProcess oracle(
      {CROSSCHECK_BINARY, "run", "--config", config.string(), "--log-format", format}, log);
  const auto until = std::chrono::steady_clock::now() + k_start_deadline;
  while (oracle.log().find(k_verdict) == std::string::npos && oracle.running() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(oracle.running());
  Stderr out;
  const int status = oracle.stop();
  out.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream text(oracle.log());
  for (std::string line; std::getline(text, line);) {
    out.lines.push_back(line);
  }
  return out;
}

// The first line that contains `part`; "" when there is none.
std::string line_with(const std::vector<std::string>& lines, const std::string& part) {
  const auto found = std::find_if(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(part) != std::string::npos;
  });
  return found == lines.end() ? "" : *found;
}

}  // namespace

TEST_CASE("crosscheck run --log-format json writes one JSON object per line", "[e2e][logging]") {
  // Even under systemd: an explicit format wins over auto's guess.
  const auto run = run_oracle("json", JournalStream::ThisLog);
  CHECK(run.exit_status == 0);
  std::vector<std::string> messages;
  for (const auto& line : run.lines) {
    INFO(line);
    json::error_code ec;
    const auto value = json::parse(line, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(value.is_object());
    const auto& object = value.as_object();
    CHECK_THAT(std::string(object.at("ts").as_string()),
               Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));
    CHECK(object.at("level").is_string());
    messages.emplace_back(object.at("msg").as_string());
    if (messages.back().starts_with(k_verdict)) {
      // A verdict change is a notice with its key=value fields.
      CHECK(object.at("level") == "notice");
      CHECK(object.at("event") == "verdict");
      CHECK(object.at("target") == "web");
      CHECK(object.at("generation") == "1");
    }
  }
  CHECK_THAT(line_with(messages, k_started), Catch::StartsWith("crosscheck 0."));
  CHECK_THAT(line_with(messages, k_verdict), Catch::StartsWith(k_verdict));
  REQUIRE_FALSE(messages.empty());
  CHECK(messages.back() == "stopped");
}

TEST_CASE("crosscheck run under systemd writes syslog priorities and no timestamps",
          "[e2e][logging]") {
  const auto run = run_oracle("auto", JournalStream::ThisLog);
  CHECK(run.exit_status == 0);
  const std::regex prefixed("<[0-7]>.*");
  const std::regex timestamp(R"(.*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*)");
  for (const auto& line : run.lines) {
    INFO(line);
    CHECK(std::regex_match(line, prefixed));
    CHECK_FALSE(std::regex_match(line, timestamp));
  }
  CHECK_THAT(line_with(run.lines, k_started), Catch::StartsWith("<6>crosscheck 0."));
  CHECK_THAT(line_with(run.lines, k_verdict), Catch::StartsWith("<5>" + k_verdict));
  REQUIRE_FALSE(run.lines.empty());
  // The config warning (one failure domain) has warning priority.
  CHECK_THAT(run.lines.front(), Catch::StartsWith("<4>") && Catch::Contains("warning: only 1"));
  CHECK(run.lines.back() == "<6>stopped");
}

TEST_CASE("crosscheck run with stderr redirected away from the journal writes text",
          "[e2e][logging]") {
  // JOURNAL_STREAM is inherited by whatever a unit starts; here it names
  // another file than the one stderr goes to (`crosscheck run 2>file`).
  const auto run = run_oracle("auto", JournalStream::OtherFile);
  CHECK_THAT(
      line_with(run.lines, k_started),
      Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4} INFO   crosscheck .*)"));
}
