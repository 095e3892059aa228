// Shared helpers for the storage tests: a temp directory that removes
// itself, builders for consensus values, polling with a deadline, and raw
// SQLite access to inspect or damage the file the way an operator could.
#pragma once

#include "consensus/clock.hpp"
#include "consensus/types.hpp"
#include "storage/store.hpp"
#include "support/child_process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace crosscheck::storage::testing {

using namespace std::chrono_literals;

// 2025-10-20T06:48:00Z: the ManualClock's start in every test.
inline const consensus::WallTime k_start{consensus::Duration{1'760'942'880'000}};

// The tests' temporary directory (removed with its contents), plus where
// the store keeps its database in it.
class TempDir : public crosscheck::testing::TempDir {
 public:
  std::filesystem::path database() const { return path() / k_database_file; }
};

// Options with short retry delays, so recovery tests finish quickly.
Options test_options(const std::filesystem::path& data_dir);

consensus::Observation observation(const std::string& target, const std::string& vantage,
                                   consensus::WallTime at,
                                   consensus::Outcome outcome = consensus::Outcome::Up);

// The `i`-th of a series whose outcome flips every time (up when even):
// each one is an outcome change, so storage keeps every one of them.
consensus::Observation flipping(const std::string& target, const std::string& vantage,
                                consensus::WallTime at, int i);

consensus::Verdict verdict(const std::string& target, consensus::VerdictKind kind,
                           std::uint64_t generation, consensus::WallTime at);

consensus::Event escalation(consensus::EventKind kind, const std::string& key,
                            const std::string& target, consensus::WallTime at);

// Polls `condition` until it holds or `timeout` passes; true when it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s);

// Holds the database's write lock from another connection, as a hung disk
// would: the store's writer commits nothing until release().
class WriteLock {
 public:
  explicit WriteLock(const std::filesystem::path& database);
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  WriteLock(WriteLock&&) = delete;
  WriteLock& operator=(WriteLock&&) = delete;
  ~WriteLock();
  void release();

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

// Runs `sql` on the file directly (creates it when missing).
void exec_sql(const std::filesystem::path& database, const std::string& sql);
// The first column of the first row of `sql`, as an integer (or text).
std::int64_t query_integer(const std::filesystem::path& database, const std::string& sql);
std::string query_text(const std::filesystem::path& database, const std::string& sql);

}  // namespace crosscheck::storage::testing
