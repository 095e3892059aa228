// The audit log's enums as stored and served (storage/types.hpp).
#include "storage/types.hpp"

#include <array>

namespace crosscheck::storage {

namespace {

constexpr std::array<std::pair<AuditAction, std::string_view>, 11> k_actions{{
    {AuditAction::Recheck, "recheck"},
    {AuditAction::Acknowledge, "ack"},
    {AuditAction::OverrideSet, "override_set"},
    {AuditAction::OverrideCleared, "override_cleared"},
    {AuditAction::Reload, "reload"},
    {AuditAction::MaintenanceSet, "maintenance_set"},
    {AuditAction::MaintenanceCleared, "maintenance_cleared"},
    {AuditAction::MaintenanceStarted, "maintenance_started"},
    {AuditAction::MaintenanceEnded, "maintenance_ended"},
    {AuditAction::ActionRecorded, "action_recorded"},
    {AuditAction::ActionAcked, "action_acked"},
}};

constexpr std::array<std::pair<AuditOutcome, std::string_view>, 3> k_outcomes{{
    {AuditOutcome::Done, "done"},
    {AuditOutcome::Refused, "refused"},
    {AuditOutcome::Failed, "failed"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
  for (const auto& [key, name] : names) {
    if (key == value) {
      return name;
    }
  }
  return names.front().second;
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                             std::string_view text) {
  for (const auto& [key, name] : names) {
    if (name == text) {
      return key;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(AuditAction action) {
  return name_of(k_actions, action);
}

std::optional<AuditAction> parse_audit_action(std::string_view text) {
  return value_of(k_actions, text);
}

std::string_view to_string(AuditOutcome outcome) {
  return name_of(k_outcomes, outcome);
}

std::optional<AuditOutcome> parse_audit_outcome(std::string_view text) {
  return value_of(k_outcomes, text);
}

}  // namespace crosscheck::storage
