// Service publication: snapshots go to the API, and escalation messages to
// the sinks, once storage has committed what they show. Storage's writer
// says "committed up to N" by posting to the service thread; nothing here
// waits on the disk, except once before the API starts and once at stop.
#include "api/metrics.hpp"
#include "daemon/service.hpp"
#include "escalation/sinks.hpp"
#include "probes/prober.hpp"
#include "snapshot/divergence.hpp"
#include "snapshot/process_stats.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// Start-up and stop wait at most this long for storage (the prober is not
// running then, so nothing is delayed but the start or the stop itself).
constexpr auto k_first_publish_wait = 1s;
constexpr auto k_last_flush_wait = 5s;
// How often glibc's free pages go back to the system (Service::trim_heap).
constexpr auto k_heap_trim_interval = 1min;
constexpr auto k_heap_trim_slow = 50ms;

std::string_view why_text(snapshot::Undurable why) {
  switch (why) {
    case snapshot::Undurable::Degraded:
      return "storage degraded";
    case snapshot::Undurable::Forced:
      return "stopping";
    case snapshot::Undurable::Refused:
      return "storage refused it";
    default:
      return "commit overdue";
  }
}

}  // namespace

const char* Service::version() {
  return CROSSCHECK_VERSION;
}

bool Service::storage_degraded() const {
  return !storage_lost_.empty() || (store_ && !store_->health().ok);
}

std::string Service::storage_reason() const {
  if (!storage_lost_.empty()) {
    return storage_lost_;
  }
  return store_ ? store_->health().reason : std::string();
}

void Service::publish(std::vector<snapshot::CommitGate::PendingAnswer> answers) {
  // Why the API waits for the commit: it must never show what a crash can
  // take back. Shown generation 7 but committed 6, a kill -9 restores 6 and
  // the next change hands out 7 again for another verdict (a fencing token
  // reused), and its escalation key and id with it; an ack answered 200 but
  // still queued is lost. The gate holds the snapshot instead of this
  // thread waiting, so a slow disk never delays a probe.
  const auto now = clock_.monotonic();
  const bool degraded = storage_degraded();
  if (degraded != storage_was_degraded_) {
    // Said once per change: /healthz and crosscheck_storage_ok say it all along.
    storage_was_degraded_ = degraded;
    if (degraded) {
      log_->warn(
          "storage degraded ({}): probing and judging go on; a verdict change not on disk is "
          "shown as the last durable verdict (not fresh) until storage recovers",
          storage_reason());
    } else {
      log_->info("storage recovered: writes resume, and what waited is shown once on disk");
    }
  }
  log_refused_summaries(now);
  apply(gate_.hold(build_snapshot(), needed_seq_, now, std::move(answers), degraded));
  apply(gate_.tick(now, degraded));
}

void Service::log_refused_summaries(consensus::MonoTime now) {
  // A period summary SQLite refused (a trigger, a constraint) costs only
  // itself, and storage stays ok: without this line only
  // crosscheck_storage_errors_total would say so. At most once a minute.
  const auto refused = store_ ? store_->health().summaries_refused : 0;
  if (refused <= summaries_refused_said_) {
    return;
  }
  if (!storage_log_limiter_.admit("summaries refused", now)) {
    return;
  }
  log_->warn(
      "storage refused {} period summaries (the latest: {}); their counts are lost, everything "
      "else is written",
      refused - summaries_refused_said_, store_->health().last_error);
  summaries_refused_said_ = refused;
}

void Service::publish_first() {
  // What start-up restored came from the disk: the durable base that a
  // snapshot going out before its commit is masked against.
  gate_.restored(build_snapshot());
  if (store_ && store_->flush(k_first_publish_wait)) {
    apply(gate_.committed(needed_seq_));
  }
  publish();
  apply(gate_.release_snapshots());
}

void Service::publish_last() {
  const bool flushed = !store_ || store_->flush(k_last_flush_wait);
  if (flushed) {
    apply(gate_.committed(needed_seq_));
  } else {
    log_->warn("storage did not flush within {}s", k_last_flush_wait.count());
  }
  apply(gate_.tick(clock_.monotonic(), storage_degraded()));
  apply(gate_.release_snapshots());
  if (gate_.pending_alerts() > 0) {
    log_->warn(
        "{} escalation messages not sent: storage did not commit them, and the next start "
        "judges their episodes again",
        gate_.pending_alerts());
  }
}

void Service::on_committed(std::uint64_t seq, const std::vector<std::uint64_t>& refused) {
  apply(gate_.committed(seq, refused));
}

void Service::apply(const snapshot::CommitGate::Release& release) {
  if (release.snapshot) {
    const bool late = release.snapshot_undurable == snapshot::Undurable::Overdue ||
                      release.snapshot_undurable == snapshot::Undurable::Forced;
    if (release.snapshot_undurable == snapshot::Undurable::Refused) {
      log_->warn(
          "storage refused to write a record ({}): a verdict change it held is shown as the last "
          "durable verdict (not fresh)",
          store_ ? store_->health().last_error : std::string());
    }
    if (late && !publish_late_) {
      log_->warn(
          "storage did not commit within {} ms; publishing the rest, with each verdict "
          "change that is not on disk yet shown as the last durable verdict (not fresh)",
          std::chrono::duration_cast<std::chrono::milliseconds>(snapshot::CommitPatience{}.snapshot)
              .count());
    }
    publish_late_ = release.snapshot_undurable != snapshot::Undurable::No;
    notifier_.status(status_line(*release.snapshot));
    const bool first_ready = release.snapshot->ready && !ready_announced_;
    hub_.publish(release.snapshot);
    if (first_ready) {
      ready_announced_ = true;
      notifier_.ready(status_line(*release.snapshot));
    }
  }
  for (const auto& [answer, why] : release.answers) {
    answer(why);
  }
  if (release.alerts.empty()) {
    return;
  }
  if (release.alerts_undurable != snapshot::Undurable::No) {
    log_->warn("sending {} escalation messages that storage has not committed ({})",
               release.alerts.size(), why_text(release.alerts_undurable));
  }
  if (escalation_) {
    for (const auto& alert : release.alerts) {
      escalation_->submit(alert);
    }
  }
}

void Service::trim_heap(const cs::Instant& now) {
  if (heap_trimmed_at_ && now.mono - *heap_trimmed_at_ < k_heap_trim_interval) {
    return;
  }
  heap_trimmed_at_ = now.mono;
  const auto started = clock_.monotonic();
  const auto released = snapshot::trim_malloc();
  if (!released) {
    return;  // not glibc's malloc: nothing to trim
  }
  const auto took = clock_.monotonic() - started;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  // The service thread (probing, evaluating) waits meanwhile: said when it shows.
  if (took >= k_heap_trim_slow) {
    log_->warn("malloc_trim held the service thread {} ms", micros / 1000);
  } else {
    log_->debug("malloc_trim: {} in {} us",
                *released ? "free pages given back" : "nothing given back", micros);
  }
}

std::shared_ptr<snapshot::Snapshot> Service::build_snapshot() {
  auto snapshot = std::make_shared<snapshot::Snapshot>();
  snapshot->revision = engine_.revision();
  snapshot->taken_at = clock_.system();
  snapshot->ready = ready_;
  snapshot->node = config_->node.name;
  snapshot->version = version();
  // Groups after the targets, as "group:NAME": read, gated and listed
  // like targets (docs/groups.md).
  const auto views = engine_.verdicts().size() + engine_.groups().size();
  snapshot->targets.reserve(views);
  divergence_memo_.resize(views);
  for (const auto* verdicts : {&engine_.verdicts(), &engine_.groups()}) {
    for (const auto& verdict : *verdicts) {
      snapshot::TargetView view;
      view.verdict = verdict;
      auto& memo = divergence_memo_[snapshot->targets.size()];
      if (!memo.evidence.same_list(verdict.evidence)) {
        memo = DivergenceMemo{verdict.evidence, snapshot::find_divergence(verdict.evidence)};
      }
      view.divergence = memo.divergence;
      if (const auto found = history_.find(verdict.target); found != history_.end()) {
        view.history = found->second;
      }
      snapshot->targets.push_back(std::move(view));
    }
  }
  // The same names in the same order as the last snapshot's (only a reload
  // changes them): the same index.
  if (!snapshot_index_ || !snapshot_index_->matches(snapshot->targets)) {
    std::vector<std::string> names;
    names.reserve(snapshot->targets.size());
    for (const auto& view : snapshot->targets) {
      names.push_back(view.verdict.target);
    }
    snapshot_index_ = std::make_shared<const snapshot::TargetIndex>(std::move(names));
  }
  snapshot->index = snapshot_index_;
  for (const auto& vantage : engine_.vantages()) {
    snapshot::VantageView view;
    view.name = vantage.name;
    view.node = vantage.node;
    view.domain = vantage.domain;
    if (const auto found = engine_.suspects().find(vantage.name);
        found != engine_.suspects().end()) {
      view.suspect = true;
      view.suspect_reason = found->second;
    }
    if (const auto seen = last_seen_.find(vantage.name); seen != last_seen_.end()) {
      view.last_seen = seen->second;
    }
    snapshot->vantages.push_back(std::move(view));
  }
  snapshot->escalations = escalations_;
  if (!actions_view_) {
    actions_view_ = std::make_shared<const std::vector<cs::RecordedAction>>(
        ledger_.list(k_actions_in_snapshot));
  }
  snapshot->actions = actions_view_;
  snapshot->windows = windows_view();
  snapshot->audit.assign(audit_.begin(), audit_.end());
  if (audit_.size() >= k_audit_in_memory) {
    // The override lines audit_ no longer holds (older than its oldest).
    std::vector<snapshot::AuditView> older;
    for (const auto& [target, lines] : override_audit_) {
      for (const auto& line : lines) {
        if (line.at < audit_.back().at) {
          older.push_back(line);
        }
      }
    }
    std::stable_sort(older.begin(), older.end(),
                     [](const auto& a, const auto& b) { return a.at > b.at; });
    snapshot->audit.insert(snapshot->audit.end(), older.begin(), older.end());
  }
  const auto health = store_ ? store_->health() : storage::Health{};
  snapshot->storage = storage_lost_.empty() ? snapshot::StorageView{health.ok, health.reason}
                                            : snapshot::StorageView{false, storage_lost_};
  snapshot->metrics = api::metrics_view(
      probe_stats_, prober_ ? prober_->counters() : probes::ScheduleCounters{}, health);
  if (escalation_) {
    snapshot->metrics.escalation_sinks = escalation_->counters();
  }
  snapshot->metrics.peer_replies_refused = peer_replies_refused_;
  snapshot->metrics.peer_pull_failures = peer_pull_failures_;
  snapshot->metrics.peer_votes_dropped = peer_votes_dropped_;
  snapshot->metrics.rechecks_refused = rechecks_refused_;
  snapshot->metrics.time_to_confirm = time_to_confirm_;
  snapshot->metrics.evaluation_judge = evaluation_judge_;
  snapshot->metrics.evaluation_publish = evaluation_publish_;
  snapshot->metrics.fast_confirm_rounds = fast_confirm_.rounds_started();
  snapshot->metrics.escalations_silenced = escalations_silenced_;
  snapshot->metrics.actions_recorded = actions_recorded_;
  snapshot->metrics.actions_refused = actions_refused_;
  snapshot->metrics.peer_action_acks_ignored = peer_action_acks_ignored_;
  snapshot->metrics.peer_windows_refused = peer_windows_refused_;
  return snapshot;
}

}  // namespace crosscheck::daemon
