// Service publication: snapshots go to the API, and escalation messages to
// the sinks, once storage has committed what they show. Storage's writer
// says "committed up to N" by posting to the service thread; nothing here
// waits on the disk, except once before the API starts and once at stop.
#include "api/metrics.hpp"
#include "daemon/service.hpp"
#include "escalation/sinks.hpp"
#include "probes/prober.hpp"
#include "snapshot/divergence.hpp"
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

std::string_view why_text(Undurable why) {
  switch (why) {
    case Undurable::Degraded:
      return "storage degraded";
    case Undurable::Forced:
      return "stopping";
    default:
      return "commit overdue";
  }
}

}  // namespace

const char* Service::version() {
  return CROSSCHECK_VERSION;
}

bool Service::storage_degraded() const {
  return store_ && !store_->health().ok;
}

void Service::publish(std::vector<CommitGate::Answer> answers) {
  // Why the API waits for the commit: it must never show what a crash can
  // take back. Shown generation 7 but committed 6, a kill -9 restores 6 and
  // the next change hands out 7 again for another verdict (a fencing token
  // reused), and its escalation key and id with it; an ack answered 200 but
  // still queued is lost. The gate holds the snapshot instead of this
  // thread waiting, so a slow disk never delays a probe.
  const auto now = clock_.monotonic();
  apply(gate_.hold(build_snapshot(), needed_seq_, now, std::move(answers)));
  apply(gate_.tick(now, storage_degraded()));
}

void Service::publish_first() {
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

void Service::on_committed(std::uint64_t seq) {
  apply(gate_.committed(seq));
}

void Service::apply(const CommitGate::Release& release) {
  if (release.snapshot) {
    const bool late = release.snapshot_undurable == Undurable::Overdue ||
                      release.snapshot_undurable == Undurable::Forced;
    if (late && !publish_late_) {
      log_->warn(
          "storage did not commit within {} ms; publishing what is not yet durable",
          std::chrono::duration_cast<std::chrono::milliseconds>(CommitPatience{}.snapshot).count());
    }
    publish_late_ = release.snapshot_undurable != Undurable::No;
    notifier_.status(status_line(*release.snapshot));
    const bool first_ready = release.snapshot->ready && !ready_announced_;
    hub_.publish(release.snapshot);
    if (first_ready) {
      ready_announced_ = true;
      notifier_.ready(status_line(*release.snapshot));
    }
  }
  for (const auto& [answer, durable] : release.answers) {
    answer(durable);
  }
  if (release.alerts.empty()) {
    return;
  }
  if (release.alerts_undurable != Undurable::No) {
    log_->warn("sending {} escalation messages that storage has not committed ({})",
               release.alerts.size(), why_text(release.alerts_undurable));
  }
  if (escalation_) {
    for (const auto& alert : release.alerts) {
      escalation_->submit(alert);
    }
  }
}

std::shared_ptr<Snapshot> Service::build_snapshot() {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = engine_.revision();
  snapshot->taken_at = clock_.system();
  snapshot->ready = ready_;
  snapshot->node = config_->node.name;
  snapshot->version = version();
  for (const auto& verdict : engine_.verdicts()) {
    TargetView view;
    view.verdict = verdict;
    view.divergence = find_divergence(verdict.evidence);
    if (const auto found = history_.find(verdict.target); found != history_.end()) {
      view.history.assign(found->second.begin(), found->second.end());
    }
    snapshot->targets.push_back(std::move(view));
  }
  for (const auto& vantage : engine_.vantages()) {
    VantageView view;
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
  const auto health = store_ ? store_->health() : storage::Health{};
  snapshot->storage = StorageView{health.ok, health.reason};
  snapshot->metrics = metrics_view(
      probe_stats_, prober_ ? prober_->counters() : probes::ScheduleCounters{}, health);
  if (escalation_) {
    snapshot->metrics.escalation_sinks = escalation_->counters();
  }
  snapshot->metrics.peer_replies_refused = peer_replies_refused_;
  snapshot->metrics.peer_votes_dropped = peer_votes_dropped_;
  return snapshot;
}

}  // namespace crosscheck::daemon
