// The database's shape and how a file gets there: pragmas (WAL,
// synchronous=NORMAL, busy_timeout, foreign keys) and versioned migrations
// kept in PRAGMA user_version. Never opens a file written by a newer schema.
#pragma once

#include "storage/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace crosscheck::storage {

// The schema version this build writes; the number of migrations.
int schema_version();
// The SQL of migration `version` (1-based), which takes a file from
// `version - 1` to `version`: tests build files of older versions with it.
std::string_view migration_sql(int version);

// What to open: the file, how long to wait for a lock, and an optional cap
// on the file's size in pages (PRAGMA max_page_count; 0 means none).
struct OpenSpec {
  std::filesystem::path path;
  std::chrono::milliseconds busy_timeout{5'000};
  std::uint32_t page_limit = 0;
};

// Opens the writer's connection: creates the directory and the file when
// missing, switches to WAL and applies pending migrations, each in its own
// transaction. Refuses (an error) a file from a newer schema version.
Expected<sqlite::Connection> open_for_writing(const OpenSpec& spec);

// Opens a read-only connection; refuses a file whose schema is not exactly
// this build's (missing, older and not yet migrated, or newer).
Expected<sqlite::Connection> open_for_reading(const OpenSpec& spec);

// Applies PRAGMA max_page_count (0 lifts the cap) on an open connection.
Status apply_page_limit(sqlite::Connection& connection, std::uint32_t pages);

}  // namespace crosscheck::storage
