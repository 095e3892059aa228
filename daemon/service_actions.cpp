// Service's API actions: acknowledge, override, maintenance (recheck:
// service_recheck.cpp). The API thread posts them to the service thread;
// each answers once the snapshot that shows its effect is published (an
// ack: 200 only once it is committed).
#include "consensus/time_format.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

api::ActionResult Service::result(int status, std::string error, std::string detail) {
  return api::ActionResult{status,       std::move(error), std::move(detail), hub_.current(),
                           std::nullopt, std::nullopt,     std::nullopt};
}

storage::AuditEntry Service::audit_entry(const api::Caller& caller, storage::AuditAction action,
                                         std::string target, std::string detail) {
  storage::AuditEntry entry;
  entry.action = action;
  entry.principal = caller.principal;
  entry.client = caller.client;
  entry.target = std::move(target);
  entry.detail = std::move(detail);
  return entry;
}

namespace {

snapshot::AuditView view_of(const storage::AuditEntry& entry) {
  return snapshot::AuditView{entry.at,        std::string(storage::to_string(entry.action)),
                             entry.principal, entry.client,
                             entry.target,    entry.escalation_id,
                             entry.detail,    std::string(storage::to_string(entry.outcome)),
                             entry.why};
}

bool is_override_line(storage::AuditAction action) {
  return action == storage::AuditAction::OverrideSet ||
         action == storage::AuditAction::OverrideCleared;
}

}  // namespace

std::uint64_t Service::audit(storage::AuditEntry entry) {
  entry.at = clock_.system();
  audit_.push_front(view_of(entry));
  if (audit_.size() > k_audit_in_memory) {
    audit_.pop_back();
  }
  if (is_override_line(entry.action)) {
    auto& lines = override_audit_[entry.target];
    lines.push_front(audit_.front());
    if (lines.size() > k_override_audit_per_target) {
      lines.pop_back();
    }
  }
  log_->info("audit action={} principal={} client={} target={} outcome={} why={}",
             storage::to_string(entry.action), quote_field(entry.principal),
             quote_field(entry.client), quote_field(entry.target),
             storage::to_string(entry.outcome), quote_field(entry.why));
  return store_ ? store_->record_audit(std::move(entry)) : 0;
}

void Service::load_audit() {
  if (!store_) {
    return;
  }
  for (const auto& entry : store_->audit(storage::AuditQuery{k_audit_in_memory, {}, {}})) {
    audit_.push_back(view_of(entry));
  }
  for (const auto& entry : store_->audit(storage::AuditQuery{k_audit_in_memory, {}, {}, true})) {
    if (auto& lines = override_audit_[entry.target]; lines.size() < k_override_audit_per_target) {
      lines.push_back(view_of(entry));
    }
  }
}

void Service::write_refused_rechecks(bool all) {
  for (auto& line : all ? refused_rechecks_.drain() : refused_rechecks_.due(clock_.monotonic())) {
    audit(std::move(line));
  }
}

snapshot::CommitGate::PendingAnswer Service::durable_answer(api::ActionCallback done,
                                                            std::string what, std::uint64_t seq) {
  auto answer = [this, done = std::move(done), what = std::move(what)](snapshot::Undurable why) {
    if (why == snapshot::Undurable::No) {
      return done(result(200));
    }
    const auto health = store_ ? store_->health() : storage::Health{};
    if (why == snapshot::Undurable::Refused) {
      return done(result(503, "storage_unavailable",
                         what + " in memory, but storage refused to write it (" +
                             health.last_error + "); it will not survive a restart: repeat it"));
    }
    done(result(503, "storage_unavailable",
                what + " in memory but not yet written to storage (" +
                    (storage_degraded() ? storage_reason() : std::string("commit overdue")) +
                    "); it is written when storage recovers: retry to confirm"));
  };
  return {std::move(answer), seq};
}

void Service::acknowledge(const api::Caller& caller, std::int64_t id, const std::string& by,
                          api::ActionCallback done) {
  boost::asio::post(io_, [this, caller, id, by, done = std::move(done)] {
    auto entry = audit_entry(caller, storage::AuditAction::Acknowledge, "", "by=" + by);
    entry.escalation_id = id;
    for (auto& view : escalations_) {
      if (view.id == id) {
        view.acked_at = clock_.system();
        view.acked_by = by;
        entry.target = view.target;
        const auto seq = store_ ? store_->acknowledge(id, by, *view.acked_at) : 0;
        written(seq);
        // The answer goes out with a snapshot that waits for the audit line
        // too (written after the ack); it is refused when the ack (`seq`) is.
        written(audit(std::move(entry)));
        log_->info("escalation acknowledged id={} key={} by={}", id, view.key, quote_field(by));
        // 200 promises the ack survives a crash: answered once it is
        // committed; 503 when the gate gives up waiting (degraded, overdue)
        // or storage refused it.
        return publish({durable_answer(done, "acknowledged", seq)});
      }
    }
    entry.outcome = storage::AuditOutcome::Refused;
    entry.why = "no open escalation with id " + std::to_string(id);
    audit(std::move(entry));
    done(result(404, "unknown_escalation", "no open escalation with id " + std::to_string(id)));
  });
}

void Service::set_override(const api::Caller& caller, const std::string& target,
                           const cs::Override& value, api::ActionCallback done) {
  boost::asio::post(io_, [this, caller, target, value, done = std::move(done)] {
    auto entry =
        audit_entry(caller, storage::AuditAction::OverrideSet, target,
                    "verdict=" + std::string(cs::to_string(value.verdict)) +
                        " ttl=" + cs::format_duration(value.expires_at - value.set_at) +
                        " by=" + quote_field(value.by) + " reason=" + quote_field(value.reason));
    if (cs::is_group_name(target) && config_->names(target)) {
      // A group's verdict follows its members: overriding it would let a
      // gate on the group act on what no member says.
      entry.outcome = storage::AuditOutcome::Refused;
      entry.why = "overrides apply to targets; " + target + " follows its members";
      audit(std::move(entry));
      return done(result(409, "group_not_overridable",
                         "overrides apply to targets; " + target + " follows its members"));
    }
    if (!engine_.set_override(target, value)) {
      entry.outcome = storage::AuditOutcome::Refused;
      entry.why = "no target '" + target + "'";
      audit(std::move(entry));
      return done(result(404, "unknown_target", "no target '" + target + "'"));
    }
    const auto seq = store_ ? store_->set_override(target, value) : 0;
    written(seq);
    written(audit(std::move(entry)));  // the answer waits for its line too
    // `by` quoted: "alice until=2099-01-01T00:00:00Z" was read as the until field.
    log_->warn("override target={} verdict={} by={} until={} reason={}", target,
               cs::to_string(value.verdict), quote_field(value.by),
               cs::format_rfc3339(value.expires_at), quote_field(value.reason));
    // Like an ack: a crash must not take back an override a script was told
    // is in force (before, 200 came before the commit).
    evaluate({durable_answer(done, "the override is in force", seq)});
  });
}

void Service::clear_setting(const api::Caller& caller, const std::string& target,
                            const ClearedSetting& what, api::ActionCallback done) {
  boost::asio::post(io_, [this, caller, target, what, done = std::move(done)] {
    auto entry = audit_entry(caller, what.action, target, "");
    const auto refuse = [&](api::ActionResult answer) {
      entry.outcome = storage::AuditOutcome::Refused;
      entry.why = answer.detail;
      audit(std::move(entry));
      done(std::move(answer));
    };
    if (!config_->names(target)) {
      return refuse(result(404, "unknown_target", "no target '" + target + "'"));
    }
    if (!what.clear_in_engine(target)) {
      return refuse(result(404, what.none_error, what.none_detail + " '" + target + "'"));
    }
    const auto seq = store_ ? what.clear_in_store(target) : 0;
    written(seq);
    written(audit(std::move(entry)));  // the answer waits for its line too
    log_->info("{} cleared target={}", what.noun, target);
    evaluate({durable_answer(done, "the " + what.noun + " is cleared", seq)});
  });
}

void Service::clear_override(const api::Caller& caller, const std::string& target,
                             api::ActionCallback done) {
  clear_setting(caller, target,
                ClearedSetting{storage::AuditAction::OverrideCleared, "override", "no_override",
                               "no override in force for",
                               [this](const std::string& t) { return engine_.clear_override(t); },
                               [this](const std::string& t) { return store_->clear_override(t); }},
                std::move(done));
}

void Service::set_maintenance(const api::Caller& caller, const std::string& target,
                              const cs::AdHocMaintenance& value, api::ActionCallback done) {
  boost::asio::post(io_, [this, caller, target, value, done = std::move(done)] {
    auto entry =
        audit_entry(caller, storage::AuditAction::MaintenanceSet, target,
                    "ttl=" + cs::format_duration(value.expires_at - value.set_at) +
                        " by=" + quote_field(value.by) + " reason=" + quote_field(value.reason));
    if (!engine_.set_maintenance(target, value)) {
      entry.outcome = storage::AuditOutcome::Refused;
      entry.why = "no target '" + target + "'";
      audit(std::move(entry));
      return done(result(404, "unknown_target", "no target '" + target + "'"));
    }
    set_window_here(target, value);  // and the peers' at their next pull
    const auto seq = store_ ? store_->set_maintenance(target, value) : 0;
    written(seq);
    written(audit(std::move(entry)));
    log_->warn("maintenance target={} by={} until={} reason={}", target, quote_field(value.by),
               cs::format_rfc3339(value.expires_at), quote_field(value.reason));
    // Like an override: 200 only once a crash cannot take the window back
    // (a restart inside it must not let a gate proceed or a page out).
    evaluate({durable_answer(done, "the maintenance window is in force", seq)});
  });
}

void Service::clear_maintenance(const api::Caller& caller, const std::string& target,
                                api::ActionCallback done) {
  clear_setting(
      caller, target,
      ClearedSetting{storage::AuditAction::MaintenanceCleared, "maintenance window",
                     "no_maintenance",
                     "no maintenance window set over this node's API (a config window ends only "
                     "with its schedule or a reload; a peer's window, on the node that set it) for",
                     [this](const std::string& t) { return clear_window_here(t); },
                     [this](const std::string& t) { return store_->clear_maintenance(t); }},
      std::move(done));
}

}  // namespace crosscheck::daemon
