#include "storage_test_support.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

namespace crosscheck::storage::testing {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Db open_raw(const std::filesystem::path& database) {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open(database.c_str(), &raw);
  Db db(raw);
  REQUIRE(code == SQLITE_OK);
  sqlite3_busy_timeout(db.get(), 5000);
  return db;
}

struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Row = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

Row first_row(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  INFO(sql);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) == SQLITE_OK);
  Row row(raw);
  REQUIRE(sqlite3_step(row.get()) == SQLITE_ROW);
  return row;
}

}  // namespace

struct WriteLock::Handle {
  Db db;
};

WriteLock::WriteLock(const std::filesystem::path& database)
    : handle_(std::make_unique<Handle>(Handle{open_raw(database)})) {
  REQUIRE(sqlite3_exec(handle_->db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
}

WriteLock::~WriteLock() {
  release();
}

void WriteLock::release() {
  if (handle_) {
    sqlite3_exec(handle_->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    handle_.reset();
  }
}

Options test_options(const std::filesystem::path& data_dir) {
  Options options;
  options.data_dir = data_dir;
  options.retry_min = 10ms;
  options.retry_max = 50ms;
  options.flush_interval = 20ms;
  return options;
}

consensus::Observation observation(const std::string& target, const std::string& vantage,
                                   consensus::WallTime at, consensus::Outcome outcome) {
  consensus::Observation result;
  result.target = target;
  result.vantage = vantage;
  result.at = consensus::Instant{consensus::MonoTime{at.time_since_epoch()}, at};
  result.outcome = outcome;
  result.latency_ms = 12.5;
  result.detail = outcome == consensus::Outcome::Up ? "dns: NOERROR, 2 answers" : "dns: SERVFAIL";
  result.answers = {"192.0.2.1", "192.0.2.2"};
  if (outcome == consensus::Outcome::Down) {
    result.layer = consensus::Layer::Dns;
  }
  return result;
}

consensus::Observation flipping(const std::string& target, const std::string& vantage,
                                consensus::WallTime at, int i) {
  return observation(target, vantage, at,
                     i % 2 == 0 ? consensus::Outcome::Up : consensus::Outcome::Down);
}

consensus::Verdict verdict(const std::string& target, consensus::VerdictKind kind,
                           std::uint64_t generation, consensus::WallTime at) {
  consensus::Verdict result;
  result.target = target;
  result.kind = kind;
  result.generation = generation;
  result.since = at;
  result.evaluated_at = at;
  result.valid_until = at + 30s;
  result.reason_code = kind == consensus::VerdictKind::Disputed ? consensus::ReasonCode::Dispute
                                                                : consensus::ReasonCode::Quorum;
  result.reason = std::string(consensus::to_string(kind)) + " by quorum";
  if (!result.confirmed()) {
    result.held = consensus::VerdictKind::Healthy;
  }
  result.votes.up = 2;
  result.votes.down = kind == consensus::VerdictKind::Healthy ? 0 : 1;
  result.votes.down_quorum = 2;
  result.votes.up_quorum = 2;
  result.votes.known_domains = 3;
  result.votes.up_domains = {"quad9", "google"};
  if (result.votes.down > 0) {
    result.votes.down_domains = {"cloudflare"};
  }
  return result;
}

consensus::Event escalation(consensus::EventKind kind, const std::string& key,
                            const std::string& target, consensus::WallTime at) {
  consensus::Event event;
  event.kind = kind;
  event.key = key;
  event.at = consensus::Instant{consensus::MonoTime{at.time_since_epoch()}, at};
  event.target = target;
  event.reason = "cloudflare says down, quad9 and google say up";
  return event;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

void exec_sql(const std::filesystem::path& database, const std::string& sql) {
  const auto db = open_raw(database);
  char* error = nullptr;
  const int code = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  INFO(sql << ": " << message);
  REQUIRE(code == SQLITE_OK);
}

std::int64_t query_integer(const std::filesystem::path& database, const std::string& sql) {
  const auto db = open_raw(database);
  const auto row = first_row(db.get(), sql);
  return sqlite3_column_int64(row.get(), 0);
}

std::string query_text(const std::filesystem::path& database, const std::string& sql) {
  const auto db = open_raw(database);
  const auto row = first_row(db.get(), sql);
  const auto* text = sqlite3_column_text(row.get(), 0);
  return text == nullptr ? "" : std::string(reinterpret_cast<const char*>(text));
}

}  // namespace crosscheck::storage::testing
