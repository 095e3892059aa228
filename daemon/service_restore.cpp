// Service at start-up: what storage hands back (verdicts, generations,
// overrides, maintenance windows, history, open escalations) and how a
// restart continues what was open. The engine continues its own episodes
// under the same key, the API keeps the same ids and acks, and nothing is
// sent to a sink for an episode that simply goes on; what can no longer go
// on is resolved.
#include "consensus/time_format.hpp"
#include "daemon/service.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <set>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

namespace {

// How often the history in memory is aged by storage.history_retention:
// as often as storage's own retention passes.
constexpr cs::Duration k_history_aging_interval = std::chrono::minutes(1);

// Who decides when an open escalation of this kind ends.
enum class Owner : std::uint8_t {
  Engine,   // the engine's episodes, continued through restore()/restore_episode()
  Service,  // config_rejected, peer_unreachable, peer_unauthenticated: the service resolves them
  Nobody,   // a kind this build does not open (a row from elsewhere): kept for a human
};

Owner owner_of(cs::EventKind kind) {
  switch (kind) {
    case cs::EventKind::DisputeOpened:
    case cs::EventKind::FlappingStarted:
    case cs::EventKind::BlastRadiusHeld:
    case cs::EventKind::VantageSuspect:
    case cs::EventKind::SplitOpened:
    case cs::EventKind::QuorumUnreachable:
    case cs::EventKind::CanaryDown:
    case cs::EventKind::CertExpiring:
    case cs::EventKind::RrsigExpiring:
      return Owner::Engine;
    case cs::EventKind::ConfigRejected:
    case cs::EventKind::PeerUnreachable:
    case cs::EventKind::PeerUnauthenticated:
      return Owner::Service;
    default:
      return Owner::Nobody;
  }
}

snapshot::EscalationView view_of(const storage::EscalationRecord& record) {
  snapshot::EscalationView view;
  view.id = record.id;
  view.key = record.key;
  view.kind = record.kind;
  view.target = record.target;
  view.vantage = record.vantage;
  view.reason = record.reason;
  view.opened_at = record.opened_at;
  view.acked_at = record.acked_at;
  view.acked_by = record.acked_by;
  view.silenced = record.silenced;
  return view;
}

}  // namespace

void Service::restore() {
  storage::Options store_options;
  store_options.data_dir = config_->node.data_dir;
  store_options.retention = config_->storage.retention;
  store_options.history_retention = config_->storage.history_retention;
  store_options.summary_period = config_->storage.summary_period;
  // The writer thread tells the service loop what it committed; the gate
  // then lets out what waited for it (service_publish.cpp).
  store_options.on_committed = [this](const storage::CommitReport& report) {
    boost::asio::post(io_, [this, report] { on_committed(report.through, report.refused); });
  };
  store_ = std::make_unique<storage::Store>(store_options, clock_);
  auto state = store_->restore();
  if (!state) {
    // Unreadable is not empty. Why this run never writes to it: generations
    // numbered from nothing would be written after the stored ones once the
    // disk came back (7, then 1: a fencing token going back), and the
    // escalation ids with them. Judging goes on from memory, shown masked
    // (unknown, generation 0) until a restart restores the stored state.
    storage_lost_ = "cannot restore the previous state (" + store_->health().reason +
                    "); this run writes nothing to storage so no generation can go back: fix "
                    "storage and restart crosscheck";
    log_->error("storage: {}", storage_lost_);
    storage_was_degraded_ = true;  // said here: publish() logs only later changes
    store_->close();
    gate_.storage_lost();
    return;
  }
  std::set<std::string> continued;  // episode keys the engine took with their verdict
  for (const auto& verdict : state->verdicts) {
    if (engine_.restore(verdict)) {
      log_->info("restored {}: {} (generation {}, since {})", verdict.target,
                 cs::to_string(verdict.kind), verdict.generation,
                 cs::format_rfc3339(verdict.since));
      if (!verdict.open_escalation_key.empty()) {
        continued.insert(verdict.open_escalation_key);
      }
    }
  }
  for (const auto& [target, value] : state->overrides) {
    if (!engine_.set_override(target, value) && config_->find_target(target) == nullptr) {
      // Removed while the daemon was stopped: the override went with it (as
      // a reload's removal clears it). Kept, a reload that adds the target
      // back shows none, and the next restart would bring it back unseen.
      written(store_->clear_override(target));
      log_->info("override of {} dropped: the target is no longer configured", target);
    }
  }
  for (const auto& [target, value] : state->maintenance) {
    if (engine_.set_maintenance(target, value)) {
      set_window_here(target, value);  // exported again; peers know it already
    } else if (!config_->names(target)) {
      // As with an override: a window whose target went away goes with it.
      written(store_->clear_maintenance(target));
      log_->info("maintenance window of {} dropped: the target is no longer configured", target);
    }
  }
  // A peer's window in force at the stop, as the verdict row kept it: held
  // again from the first evaluation, as if just pulled from that peer, not
  // ended then and started again at the first pull (a false
  // maintenance_ended that also unsilenced escalations; hostile review).
  // The peer's next export confirms, replaces or ends it by the usual
  // rules; unreachable, it holds until its expires_at (a hold only).
  const auto now = clock_.system();
  for (const auto& verdict : state->verdicts) {
    const auto& window = verdict.window;
    if (!window || window->source != cs::MaintenanceSource::Api || window->window != "api" ||
        window->node.empty() || window->node == config_->node.name || window->until <= now) {
      continue;  // none, a config window, inherited from a group, ours, or over
    }
    const cs::SharedWindow entry{verdict.target,
                                 cs::AdHocMaintenance{window->reason, window->by, window->since,
                                                      window->until, window->node},
                                 std::nullopt};
    if (windows_.merge(entry, window->node, now).changed) {
      apply_window(verdict.target);
    }
  }
  // The ledger before the first evaluation: a restart inside a cooldown
  // must not let a second failover through.
  merge_actions(k_from_storage, state->actions);
  // Entries older than a week are not loaded (and retention deletes them):
  // the stored high-water mark keeps the next id above every one given out.
  if (const auto mark = state->issued_sequences.find(config_->node.name);
      mark != state->issued_sequences.end()) {
    ledger_.continue_after(mark->second, clock_.system());
  }
  for (const auto& why : state->skipped) {
    log_->error("storage: {}", why);
  }
  for (const auto& record : state->open_escalations) {
    escalations_.push_back(view_of(record));
  }
  next_escalation_id_ = std::max(next_escalation_id_, state->max_escalation_id + 1);
  continue_episodes(state->open_escalations, continued);
  // A daemon only starts on a valid config: a rejected reload from before
  // the restart is over.
  resolve_config_escalation("started with a valid config");
  resolve_gone_peers();
  for (const auto& target : config_->targets) {
    load_history(target.name);
  }
  for (const auto& group : config_->groups) {
    load_history(cs::group_name(group.name));
  }
  load_audit();
  const auto health = store_->health();
  if (!health.ok) {
    log_->error("storage degraded: {}; serving from memory", health.reason);
    storage_was_degraded_ = true;  // said here: publish() logs only later changes
  }
}

void Service::load_history(const std::string& target) {
  auto history = std::make_shared<std::vector<snapshot::TransitionView>>();
  for (const auto& transition : store_->history(target, k_history_per_target)) {
    history->push_back(snapshot::TransitionView{transition.generation, transition.at,
                                                transition.kind, transition.held,
                                                transition.reason_code, transition.reason});
  }
  history_[target] = std::move(history);
}

void Service::age_history(const cs::Instant& now) {
  const auto& window = config_->storage.history_retention;
  if (!window || (history_aged_at_ && now.mono - *history_aged_at_ < k_history_aging_interval)) {
    return;
  }
  history_aged_at_ = now.mono;
  for (auto& entry : history_) {
    entry.second = snapshot::aged(entry.second, now.wall - *window);
  }
}

void Service::continue_episodes(const std::vector<storage::EscalationRecord>& open,
                                const std::set<std::string>& continued) {
  // Why hand them to the engine: an episode open at the stop is still open
  // after it. Left out, the engine would find the split (or the suspect
  // vantage, or the broken canary) again after `fall` probes and open it
  // under a new key: a second page for one problem, and the first one never
  // resolved. Taken back, it goes on under its key and id, with its ack; the
  // engine resolves it itself once the restore hold ends and the votes no
  // longer show it (so nothing the engine owns lingers).
  for (const auto& record : open) {
    if (continued.contains(record.key)) {
      continue;  // the verdict's own dispute, flapping or blast-radius episode
    }
    switch (owner_of(record.kind)) {
      case Owner::Engine:
        if (engine_.restore_episode(storage::episode_of(record))) {
          log_->info("continuing escalation id={} kind={} key={}", record.id,
                     cs::to_string(record.kind), record.key);
        } else {
          // The engine cannot continue it: its target is no longer
          // configured, or the target already has another open episode of
          // that kind. Nobody would ever close it: it ends now.
          const bool gone =
              !record.target.empty() && config_->find_target(record.target) == nullptr;
          resolve_restored(record, gone ? "target " + record.target + " is no longer configured"
                                        : "not continued after a restart: another " +
                                              std::string(cs::to_string(record.kind)) +
                                              " episode of " + record.target + " is open");
        }
        break;
      case Owner::Service:
        break;  // config_rejected: resolved below; peer_*: by the peer's next good answer
      case Owner::Nobody:
        log_->warn(
            "escalation id={} kind={} key={} was open at the last stop, but this build does not "
            "run that kind of episode: it stays open until acknowledged and resolved by hand",
            record.id, cs::to_string(record.kind), record.key);
        break;
    }
  }
}

void Service::resolve_restored(const storage::EscalationRecord& record, const std::string& why) {
  cs::Event event;
  event.kind = cs::resolution_of(record.kind);
  event.key = record.key;
  event.at = clock_.now();
  event.target = record.target;
  event.vantage = record.vantage;
  event.reason = why;
  // Its opening went to no sink (it began inside a maintenance window): its
  // end does not either.
  event.silenced = record.silenced;
  handle_event(event);
}

void Service::resolve_gone_peers() {
  // A peer_unreachable or peer_unauthenticated escalation closes on the
  // peer's next good answer; a peer removed from the config never answers again.
  std::set<std::string> gone;
  for (const auto& view : escalations_) {
    const bool configured =
        std::any_of(config_->peers.begin(), config_->peers.end(),
                    [&](const config::PeerConfig& peer) { return peer.name == view.vantage; });
    if (!configured && (view.kind == cs::EventKind::PeerUnreachable ||
                        view.kind == cs::EventKind::PeerUnauthenticated)) {
      gone.insert(view.vantage);
    }
  }
  for (const auto& node : gone) {
    for (const auto kind : {cs::EventKind::PeerUnreachable, cs::EventKind::PeerUnauthenticated}) {
      resolve_peer_escalations(node, kind, "peer " + node + " is no longer configured");
    }
  }
}

}  // namespace crosscheck::daemon
