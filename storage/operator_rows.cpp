#include "storage/operator_rows.hpp"

#include "storage/codec.hpp"

#include <string_view>
#include <utility>

namespace crosscheck::storage {
namespace {

using sqlite::Statement;

constexpr std::string_view k_set_override = R"sql(
INSERT INTO overrides (target, verdict, reason, set_by, set_at, expires_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (target) DO UPDATE SET
  verdict = excluded.verdict, reason = excluded.reason, set_by = excluded.set_by,
  set_at = excluded.set_at, expires_at = excluded.expires_at
)sql";

constexpr std::string_view k_set_maintenance = R"sql(
INSERT INTO maintenance (target, reason, set_by, set_at, expires_at)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (target) DO UPDATE SET
  reason = excluded.reason, set_by = excluded.set_by,
  set_at = excluded.set_at, expires_at = excluded.expires_at
)sql";

// Binds what an override and a maintenance window share (reason, by,
// set_at, expires_at) to parameters first..first+3.
template <typename Value>
Statement& bind_setting(Statement& statement, int first, const Value& value) {
  return statement.bind(first, value.reason)
      .bind(first + 1, value.by)
      .bind(first + 2, to_millis(value.set_at))
      .bind(first + 3, to_millis(value.expires_at));
}

}  // namespace

Status OperatorRows::prepare(sqlite::Connection& connection) {
  return sqlite::prepare_all(connection,
                             {
                                 {&set_override_, k_set_override},
                                 {&clear_override_, "DELETE FROM overrides WHERE target = ?1"},
                                 {&set_maintenance_, k_set_maintenance},
                                 {&clear_maintenance_, "DELETE FROM maintenance WHERE target = ?1"},
                             });
}

void OperatorRows::close() {
  sqlite::finalize_all({&set_override_, &clear_override_, &set_maintenance_, &clear_maintenance_});
}

Status OperatorRows::apply(const OverrideSet& change) {
  set_override_.bind(1, change.target).bind(2, consensus::to_string(change.value.verdict));
  return bind_setting(set_override_, 3, change.value).run();
}

Status OperatorRows::apply(const OverrideCleared& change) {
  return clear_override_.bind(1, change.target).run();
}

Status OperatorRows::apply(const MaintenanceSet& change) {
  set_maintenance_.bind(1, change.target);
  return bind_setting(set_maintenance_, 2, change.value).run();
}

Status OperatorRows::apply(const MaintenanceCleared& change) {
  return clear_maintenance_.bind(1, change.target).run();
}

}  // namespace crosscheck::storage
