// Service's action ledger (docs/gate.md "Cooldown"): the gate that records
// the action it lets proceed, an action recorded by hand, its ack, and the
// entries peers replicate. Every change sets the target's cooldown in the
// engine, is written to storage, and is answered once committed.
#include "api/router.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

namespace {

// The longest cooldown an entry may carry (config's bound): a peer's
// longer one is refused.
constexpr cs::Duration k_max_cooldown{30LL * 24 * 3'600'000};

std::string describe(const cs::ActionRequest& action) {
  return "expect=" + std::string(cs::to_string(action.expect)) +
         " for=" + std::string(cs::to_string(action.for_)) + " by=" + quote_field(action.by) +
         " what=" + quote_field(action.what);
}

}  // namespace

void Service::set_cooldown_from_ledger(const std::string& target) {
  apply_cooldowns(engine_, ledger_, *config_, target, clock_.system());
  actions_view_.reset();  // the next snapshot lists the ledger anew
}

void Service::record_in_ledger(cs::ActionRequest action, storage::AuditEntry entry,
                               std::optional<cs::GateDecision> gate, int status,
                               api::ActionCallback done) {
  const auto cooldown = config_->cooldown_of(action.target).value_or(config_->gate.cooldown);
  const auto& recorded = ledger_.record(std::move(action), clock_.system(), cooldown);
  set_cooldown_from_ledger(recorded.target);
  const auto seq = store_ ? store_->record_action(recorded, /*issued_here=*/true) : 0;
  written(seq);
  entry.detail = "id=" + recorded.id + " generation=" + std::to_string(recorded.generation) + " " +
                 entry.detail + " cooldown_until=" + cs::format_rfc3339(recorded.cooldown_until);
  written(audit(std::move(entry)));
  ++actions_recorded_;
  log_->warn("action recorded id={} target={} by={} what={} cooldown_until={}", recorded.id,
             recorded.target, quote_field(recorded.by), quote_field(recorded.what),
             cs::format_rfc3339(recorded.cooldown_until));
  auto answer = [done = std::move(done), gate = std::move(gate), recorded = recorded,
                 status](api::ActionResult result) {
    if (result.status == 200) {
      result.status = status;
    }
    result.gate = gate;
    result.action = recorded;
    done(std::move(result));
  };
  // 200 promises the action is on disk: a crash must not lift the cooldown
  // a script was told is in force (and let a second failover through).
  evaluate({durable_answer(std::move(answer), "the action is recorded", seq)});
}

void Service::gate_and_record(const api::Caller& caller, const api::GateAsk& ask,
                              cs::ActionRequest action, api::ActionCallback done) {
  boost::asio::post(
      io_, [this, caller, ask, action = std::move(action), done = std::move(done)]() mutable {
        const auto* verdict = engine_.verdict(action.target);
        if (verdict == nullptr || !config_->names(action.target)) {
          return done(result(404, "unknown_target", "no target '" + action.target + "'"));
        }
        // Decided here, on the service thread, on the verdict as published:
        // a second caller right behind this one already sees the cooldown.
        const auto gate = cs::decide_gate(*verdict, ask.expect, ask.generation, ask.stable_for,
                                          clock_.now(), ask.for_, ask.allow_degraded);
        if (gate.answer != cs::GateAnswer::Proceed) {
          // Nothing recorded, nothing audited: a hold is a read (a script may
          // poll it every second).
          auto answer = result(api::gate_status(gate));
          answer.gate = gate;
          return done(std::move(answer));
        }
        action.generation = verdict->generation;
        action.principal = caller.principal;
        auto entry = audit_entry(caller, storage::AuditAction::ActionRecorded, action.target,
                                 describe(action) + " gate=proceed");
        record_in_ledger(std::move(action), std::move(entry), gate, 200, std::move(done));
      });
}

void Service::record_action(const api::Caller& caller, cs::ActionRequest action,
                            api::ActionCallback done) {
  boost::asio::post(
      io_, [this, caller, action = std::move(action), done = std::move(done)]() mutable {
        auto entry = audit_entry(caller, storage::AuditAction::ActionRecorded, action.target,
                                 describe(action));
        if (!config_->names(action.target)) {
          entry.outcome = storage::AuditOutcome::Refused;
          entry.why = "no target '" + action.target + "'";
          audit(std::move(entry));
          return done(result(404, "unknown_target", "no target '" + action.target + "'"));
        }
        action.principal = caller.principal;
        record_in_ledger(std::move(action), std::move(entry), std::nullopt, 201, std::move(done));
      });
}

void Service::ack_action(const api::Caller& caller, const std::string& id, cs::ActionAck ack,
                         api::ActionCallback done) {
  boost::asio::post(
      io_, [this, caller, id, ack = std::move(ack), done = std::move(done)]() mutable {
        auto entry = audit_entry(
            caller, storage::AuditAction::ActionAcked, "",
            "id=" + id + " by=" + quote_field(ack.by) + " note=" + quote_field(ack.note));
        ack.at = clock_.system();
        ack.node = config_->node.name;
        const auto outcome = ledger_.ack(id, ack);
        const auto* action = ledger_.find(id);
        if (action != nullptr) {
          entry.target = action->target;
        }
        if (outcome != cs::AckOutcome::Acked) {
          auto answer = outcome == cs::AckOutcome::Unknown
                            ? result(404, "unknown_action", "no action with id '" + id + "'")
                            : result(409, "already_acknowledged",
                                     "action " + id + " was acknowledged by " + action->ack->by +
                                         " at " + cs::format_rfc3339(action->ack->at));
          entry.outcome = storage::AuditOutcome::Refused;
          entry.why = answer.detail;
          audit(std::move(entry));
          if (action != nullptr) {
            answer.action = *action;
          }
          return done(std::move(answer));
        }
        set_cooldown_from_ledger(action->target);
        const auto seq = store_ ? store_->ack_action(id, ack) : 0;
        written(seq);
        written(audit(std::move(entry)));
        log_->warn("action acknowledged id={} target={} by={}", id, action->target,
                   quote_field(ack.by));
        auto answer = [done = std::move(done), acked = *action](api::ActionResult result) {
          result.action = acked;
          done(std::move(result));
        };
        evaluate({durable_answer(std::move(answer), "the acknowledgement is recorded", seq)});
      });
}

std::size_t Service::merge_actions(std::string_view source,
                                   const std::vector<cs::RecordedAction>& entries) {
  std::size_t changed = 0;
  const auto now = clock_.system();
  const auto count = source == k_from_storage
                         ? entries.size()
                         : std::min(entries.size(), cs::ActionLedger::k_max_merge);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& entry = entries[i];
    if (source != k_from_storage && !config_->names(entry.target)) {
      continue;  // a target this node does not judge: nothing to hold
    }
    // From storage every entry comes back, configured target or not (as a
    // reload keeps them): a target re-added later is held again, and the
    // next id of ours follows every id already given out (a reused id would
    // take over the old row, ack included).
    const auto merged = ledger_.merge(entry, now, k_max_cooldown,
                                      source == k_from_storage ? cs::ActionLedger::Origin::Storage
                                                               : cs::ActionLedger::Origin::Peer,
                                      source);
    if (merged.ack_ignored) {
      // Counted at every pull that still carries it while the ack has not
      // come from its node or the entry's (then nothing is ignored any
      // more). Info, not warn: in a full mesh a relay may arrive first.
      ++peer_action_acks_ignored_[std::string(source)];
      if (const auto held =
              action_log_limiter_.admit(std::string(source) + " ack", clock_.monotonic())) {
        log_->info(
            "ack of action {} from {} ignored: made on {}, not by {} nor the entry's node "
            "{}{}",
            quote_field(entry.id), source, quote_field(entry.ack->node), source, entry.node,
            *held > 0 ? " (" + std::to_string(*held) + " more held back since)" : "");
      }
    }
    if (merged.refused) {
      ++actions_refused_;
      // One line a minute per peer: a lying peer cannot flood the journal.
      if (const auto held = action_log_limiter_.admit(source, clock_.monotonic())) {
        log_->warn("action {} from {} refused: {}{}", quote_field(entry.id), source,
                   *merged.refused,
                   *held > 0 ? " (" + std::to_string(*held) + " more refused since)" : "");
      }
      continue;
    }
    if (!merged.changed) {
      continue;
    }
    ++changed;
    const auto* kept = ledger_.find(entry.id);
    set_cooldown_from_ledger(kept->target);
    if (source == k_from_storage) {
      continue;  // already there
    }
    written(store_ ? store_->record_action(*kept) : 0);
    log_->info("action {} on {} from {}{}", kept->id, kept->target, source,
               kept->ack ? " (acknowledged by " + kept->ack->by + ")" : "");
  }
  return changed;
}

}  // namespace crosscheck::daemon
