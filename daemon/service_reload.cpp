// Service reload (SIGHUP): the new file is validated whole, then applied at
// once or not at all; a rejected file opens a config_rejected escalation
// that the next valid config resolves.
#include "api/server.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"
#include "daemon/logging.hpp"
#include "daemon/reload.hpp"
#include "daemon/service.hpp"
#include "escalation/sinks.hpp"
#include "peers/client.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

void Service::index_config() {
  target_index_.clear();
  for (std::size_t t = 0; t < config_->targets.size(); ++t) {
    target_index_.emplace(config_->targets[t].name, t);
  }
  vantage_names_.clear();
  for (const auto& vantage : config_->vantages) {
    vantage_names_.push_back(vantage.name);
  }
  pair_seen_.assign(config_->targets.size() * config_->vantages.size(), false);
  pairs_reported_ = 0;
}

void Service::reload_config() {
  boost::asio::post(io_, [this] { reload(); });
}

void Service::reload() {
  const auto path = options_.config_path.string();
  notifier_.reloading(clock_.monotonic());
  log_->info("reload: reading {}", path);
  auto loaded = config::load_config(options_.config_path);
  for (const auto& diagnostic : loaded.diagnostics) {
    const bool error = diagnostic.severity == config::Severity::Error;
    log_->log(error ? spdlog::level::err : spdlog::level::warn, "reload: {}",
              diagnostic.to_string());
  }
  storage::AuditEntry entry;
  entry.action = storage::AuditAction::Reload;
  entry.detail = "config=" + path;
  if (!loaded.ok()) {
    entry.outcome = storage::AuditOutcome::Refused;
    for (const auto& diagnostic : loaded.diagnostics) {
      if (diagnostic.severity == config::Severity::Error) {
        entry.why += (entry.why.empty() ? "" : "; ") + diagnostic.to_string();
      }
    }
    reject_config(path + " is invalid (errors logged above); the running config stays in force");
  } else {
    auto next = std::make_shared<const config::Config>(std::move(*loaded.config));
    auto next_cas = read_dot_cas(*next);
    const auto plan = plan_reload(*config_, *next, dot_cas_, next_cas);
    if (plan.applicable()) {
      dot_cas_ = std::move(next_cas);
      if (options_.on_reload_validated) {
        options_.on_reload_validated();
      }
      const auto applied = apply_config(std::move(next), plan);
      if (applied.kept.empty()) {
        entry.detail += " (tokens and peer keys re-read)";
        resolve_config_escalation("a later reload applied a valid config");
      } else {
        // Why not done: a file unusable since validation kept its previous
        // value in force, and the line said done (hostile review).
        entry.outcome = storage::AuditOutcome::Failed;
        entry.detail += " (applied in part)";
        for (const auto& kept : applied.kept) {
          entry.why += (entry.why.empty() ? "" : "; ") + kept;
        }
        reject_config(path + " applied in part: " + entry.why);
      }
      if (!applied.changed.empty()) {
        entry.detail += "; " + applied.changed;
      }
    } else {
      std::string changes;
      for (const auto& change : plan.needs_restart) {
        changes += (changes.empty() ? "" : "; ") + change;
      }
      entry.outcome = storage::AuditOutcome::Refused;
      entry.why = "changes settings that apply only on restart (" + changes + ")";
      reject_config(path + " changes settings that apply only on restart (" + changes +
                    "); nothing applied, the running config stays in force");
    }
  }
  written(audit(std::move(entry)));
  evaluate();
  notifier_.ready(status_line(*hub_.current()));
}

Service::ReloadApplied Service::apply_config(std::shared_ptr<const config::Config> next,
                                             const ReloadPlan& plan) {
  ReloadApplied applied;
  const auto done = engine_.reconfigure(make_policy(*next), plan.resets, clock_.now());
  const auto previous_escalation = config_->escalation;
  // Groups the reload removes: like removed targets below, their window
  // goes from storage too, or a restart would bring it back unseen.
  std::vector<std::string> groups_removed;
  std::vector<std::string> groups_added;
  for (const auto& group : config_->groups) {
    if (next->find_group(group.name) == nullptr) {
      groups_removed.push_back(cs::group_name(group.name));
    }
  }
  for (const auto& group : next->groups) {
    if (config_->find_group(group.name) == nullptr) {
      groups_added.push_back(cs::group_name(group.name));
    }
  }
  config_ = std::move(next);
  // At once: the indexes into config_ (on_report, fast_confirm) must never
  // describe the config before (a shorter target list read past its end).
  index_config();
  if (store_) {
    // A re-added target continues its generation; its history continues
    // with it (what it published before its removal, and the removal).
    for (const auto& target : done.targets_added) {
      load_history(target);
    }
    for (const auto& group : groups_added) {
      load_history(group);
    }
  }
  // A (re-)added target starts with no cooldown in the engine, but the
  // ledger may still hold one for it (recorded before its removal, or kept
  // from storage): without this its next gate would proceed.
  // Groups too: a reload may have added one, or changed whom it holds with.
  for (const auto& target : done.targets_added) {
    set_cooldown_from_ledger(target);
  }
  for (const auto& group : config_->groups) {
    set_cooldown_from_ledger(cs::group_name(group.name));
  }
  for (const auto& event : done.events) {
    handle_event(event);
  }
  start_prober();
  restart_rechecks();
  // A sink with a `tls:` block is rebuilt at every reload: its certificate
  // files may have been rotated in place, under the same names.
  const auto& configured = config_->escalation;
  const bool sink_tls = (configured.webhook && configured.webhook->tls) ||
                        (configured.alertmanager && configured.alertmanager->tls);
  if (!(config_->escalation == previous_escalation) || sink_tls) {
    // Built before the old one goes: sinks that cannot be set up (a secret
    // unreadable since validation) leave the running ones in place.
    try {
      auto sinks = escalation::make_sinks(*config_);  // reads the secrets; starts nothing
      escalation_.reset();  // joins its threads; the next one resumes from the state files
      escalation_ = escalation::make_dispatcher(std::move(sinks), clock_, log_);
    } catch (const std::exception& error) {
      log_->error("reload: escalation: {}; the previous sinks keep delivering", error.what());
      applied.kept.push_back(std::string("escalation: ") + error.what() + " (previous sinks kept)");
    }
  }
  for (const auto& group : groups_removed) {
    history_.erase(group);
    forget_window(group);
    if (store_) {
      written(store_->clear_maintenance(group));
    }
  }
  // A removed or reset target's confirmation episode ends with it: its
  // round and first-down time say nothing about what comes next (and the
  // episodes of targets gone would otherwise be kept forever).
  for (const auto* list : {&done.targets_removed, &done.targets_reset}) {
    for (const auto& target : *list) {
      fast_confirm_.forget(target);
      confirm_collect_.erase(target);
      last_recheck_report_.erase(target);
    }
  }
  for (const auto& target : done.targets_removed) {
    history_.erase(target);  // storage keeps it; the API lists current targets only
    forget_window(target);
    if (store_) {
      // The engine dropped its override and maintenance window with it;
      // storage must too, or a restart would bring them back unseen.
      written(store_->clear_override(target));
      written(store_->clear_maintenance(target));
    }
  }
  // Re-read on every reload, changed or not: rotating a token is writing
  // its file anew and sending SIGHUP.
  if (auto auth = read_api_auth(config_->api); api_ && auth) {
    api_->set_auth(std::move(*auth));
  } else if (api_) {
    log_->error("reload: {}; the API keeps its previous tokens", auth.error());
    applied.kept.push_back(auth.error() + " (previous tokens kept)");
  }
  if (auto signer = make_verdict_signer(*config_); api_ && signer) {
    api_->set_signer(std::move(*signer));
  } else if (api_) {
    log_->error("reload: {}; the API keeps signing with its previous key", signer.error());
    applied.kept.push_back(signer.error() + " (previous signing key kept)");
  }
  applied.changed = reload_api_tls(applied.kept);
  auto keys = peers::load_peer_keys(config_->peers);
  auto peer_tls = peers::load_peer_tls(config_->peers);
  if (keys && peer_tls) {
    start_peers(std::move(*keys), std::move(*peer_tls));
  } else {
    const std::string& error = keys ? peer_tls.error() : keys.error();
    log_->error("reload: {}; peers keep their previous keys and TLS settings", error);
    applied.kept.push_back(error + " (previous peer keys and TLS kept)");
  }
  if (store_) {
    store_->set_retention(config_->storage.retention, config_->storage.history_retention);
  }
  history_aged_at_.reset();  // the next evaluation applies history_retention in memory
  const auto names = [](const std::vector<std::string>& list) {
    std::string text;
    for (const auto& item : list) {
      text += (text.empty() ? "" : ",") + item;
    }
    return text.empty() ? std::string("none") : text;
  };
  notice_->info(
      "reload applied config={} targets={} vantages={} added={} removed={} reset={} "
      "vantages_added={} vantages_removed={} vantages_reset={}",
      options_.config_path.string(), config_->targets.size(), config_->vantages.size(),
      names(done.targets_added), names(done.targets_removed), names(done.targets_reset),
      names(done.vantages_added), names(done.vantages_removed), names(plan.resets.vantages));
  resolve_gone_peers();
  return applied;
}

void Service::reject_config(const std::string& why) {
  log_->error("reload: {}", why);
  const bool open = std::any_of(escalations_.begin(), escalations_.end(), [](const auto& view) {
    return view.kind == cs::EventKind::ConfigRejected;
  });
  if (open) {
    return;  // one escalation per episode; the log has this attempt
  }
  cs::Event event;
  event.kind = cs::EventKind::ConfigRejected;
  event.at = clock_.now();
  event.key = "config/" + cs::format_rfc3339(event.at.wall);
  event.reason = why;
  handle_event(event);
}

void Service::resolve_config_escalation(const std::string& why) {
  for (const auto& view : escalations_) {
    if (view.kind == cs::EventKind::ConfigRejected) {
      cs::Event event;
      event.kind = cs::EventKind::ConfigAccepted;
      event.at = clock_.now();
      event.key = view.key;
      event.reason = why;
      handle_event(event);
      return;
    }
  }
}

}  // namespace crosscheck::daemon
