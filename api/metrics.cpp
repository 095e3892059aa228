// Renders /metrics in parts (MetricsRender): the status families, the
// per-target ones (api/metrics_targets.cpp) a target at a time, then the
// vantages', probes', escalations', peers', storage's and the oracle's own.
// Every series that depends on a state is printed for every state with 0 or
// 1, so a PromQL alert can test `== 1` without the series vanishing.
#include "api/metrics.hpp"

#include "api/exposition.hpp"
#include "api/metrics_server.hpp"
#include "api/metrics_targets.hpp"

#include "probes/dns_types.hpp"
#include "probes/scheduler.hpp"
#include "storage/types.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace crosscheck::api {
namespace {

namespace cs = consensus;

using detail::series_node;
using detail::unix_seconds;
using prom::bound;
using prom::Exposition;
using prom::Family;
using prom::Label;
using prom::number;
using prom::Single;

// The escalation kinds that open an episode (their resolutions close it).
constexpr std::array<cs::EventKind, 12> k_escalations{
    cs::EventKind::DisputeOpened,   cs::EventKind::FlappingStarted,
    cs::EventKind::BlastRadiusHeld, cs::EventKind::VantageSuspect,
    cs::EventKind::ConfigRejected,  cs::EventKind::PeerUnreachable,
    cs::EventKind::SplitOpened,     cs::EventKind::QuorumUnreachable,
    cs::EventKind::CanaryDown,      cs::EventKind::PeerUnauthenticated,
    cs::EventKind::CertExpiring,    cs::EventKind::RrsigExpiring};

void status_families(Exposition& out, const snapshot::Snapshot& snapshot) {
  out.family({"crosscheck_build_info", "gauge", "Always 1; labels name the version and node."});
  out.sample("crosscheck_build_info", {{"version", snapshot.version}, {"node", snapshot.node}},
             "1");
  out.single({"crosscheck_ready", "gauge", "1 once the first full evaluation is done."},
             snapshot.ready);
  out.single({"crosscheck_snapshot_revision", "gauge",
              "Verdict revision of the published snapshot (moves on every verdict change)."},
             snapshot.revision);
  out.single({"crosscheck_last_evaluation_timestamp_seconds", "gauge",
              "When the published snapshot was evaluated, Unix time."},
             unix_seconds(snapshot.taken_at));
}

// The vantages' own families (their per-target ones: api/metrics_targets.hpp).
void vantage_families(Exposition& out, const snapshot::Snapshot& snapshot) {
  out.family({"crosscheck_vantage_suspect", "gauge",
              "1 while a vantage is suspect: its votes count as unknown."});
  for (const auto& vantage : snapshot.vantages) {
    out.sample("crosscheck_vantage_suspect",
               {{"vantage", vantage.name},
                {"domain", vantage.domain},
                {"node", series_node(snapshot, vantage.node)}},
               number(vantage.suspect));
  }
  out.family({"crosscheck_vantage_last_seen_timestamp_seconds", "gauge",
              "When a vantage last reported an observation, Unix time."});
  for (const auto& vantage : snapshot.vantages) {
    if (vantage.last_seen) {
      out.sample("crosscheck_vantage_last_seen_timestamp_seconds",
                 {{"vantage", vantage.name},
                  {"domain", vantage.domain},
                  {"node", series_node(snapshot, vantage.node)}},
                 number(unix_seconds(*vantage.last_seen)));
    }
  }
}

// One histogram series: cumulative `_bucket` lines (finite bounds, then
// +Inf), `_sum` and `_count`, each with `label` when there is one.
template <const auto& Bounds>
void histogram_series(Exposition& out, std::string_view name,
                      const probes::FixedHistogram<Bounds>& histogram,
                      const std::optional<Label>& label) {
  const auto bucket = std::string{name} + "_bucket";
  const auto sample = [&](std::string_view series, std::optional<Label> le,
                          const std::string& value) {
    if (label && le) {
      out.sample(series, {*label, *le}, value);
    } else if (label || le) {
      out.sample(series, {label ? *label : *le}, value);
    } else {
      out.sample(series, {}, value);
    }
  };
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Bounds.size(); ++i) {
    cumulative += histogram.buckets.at(i);
    sample(bucket, Label{"le", bound(Bounds.at(i))}, number(cumulative));
  }
  sample(bucket, Label{"le", "+Inf"}, number(histogram.count));
  sample(std::string{name} + "_sum", std::nullopt, number(histogram.sum_seconds));
  sample(std::string{name} + "_count", std::nullopt, number(histogram.count));
}

void histograms(Exposition& out, const snapshot::MetricsView& metrics) {
  constexpr std::string_view k_duration = "crosscheck_probe_duration_seconds";
  out.family({k_duration, "histogram",
              "Probe step latency: each DNS query, each reached address (tcp, http or app: redis, "
              "postgres, mysql)."});
  for (std::size_t kind = 0; kind < snapshot::k_check_kind_count; ++kind) {
    histogram_series(out, k_duration, metrics.probes.latency.at(kind),
                     Label{"check", to_string(static_cast<snapshot::CheckKind>(kind))});
  }
  constexpr std::string_view k_lateness = "crosscheck_probe_start_lateness_seconds";
  out.family(
      {k_lateness, "histogram", "Seconds between a probe's scheduled start and its actual start."});
  histogram_series(out, k_lateness, metrics.probe_start_lateness, std::nullopt);
  constexpr std::string_view k_confirm = "crosscheck_time_to_confirm_seconds";
  out.family({k_confirm, "histogram",
              "Seconds from an episode's first down observation (non-suspect vantage) to its "
              "first published fresh unhealthy verdict."});
  histogram_series(out, k_confirm, metrics.time_to_confirm, std::nullopt);
  constexpr std::string_view k_evaluation = "crosscheck_evaluation_duration_seconds";
  out.family({k_evaluation, "histogram",
              "Seconds of the service thread's evaluation passes, by phase: judge (the engine "
              "and its events), publish (the snapshot built and handed to the commit gate)."});
  histogram_series(out, k_evaluation, metrics.evaluation_judge, Label{"phase", "judge"});
  histogram_series(out, k_evaluation, metrics.evaluation_publish, Label{"phase", "publish"});
  out.single({"crosscheck_fast_confirm_rounds_total", "counter",
              "Fast confirmation rounds started (one per target per episode at most)."},
             metrics.fast_confirm_rounds);
}

void probe_families(Exposition& out, const snapshot::MetricsView& metrics) {
  out.family({"crosscheck_probes_total", "counter",
              "Local probe results by vantage, outcome and class (docs/metrics.md)."});
  for (const auto& [key, count] : metrics.probes.results) {
    const auto& [vantage, outcome, probe_class] = key;
    out.sample("crosscheck_probes_total",
               {{"vantage", vantage},
                {"outcome", cs::to_string(outcome)},
                {"class", to_string(probe_class)}},
               number(count));
  }
  out.family({"crosscheck_dns_replies_ignored_total", "counter",
              "DNS replies a probe ignored as not its own or unreadable, by vantage and reason."});
  for (const auto& [key, count] : metrics.probes.ignored_dns_replies) {
    const auto& [vantage, reason] = key;
    out.sample("crosscheck_dns_replies_ignored_total",
               {{"vantage", vantage}, {"reason", probes::to_string(reason)}}, number(count));
  }
  histograms(out, metrics);
  out.singles({
      {{"crosscheck_probes_started_total", "counter", "Probes started."},
       number(metrics.probes_started)},
      {{"crosscheck_probes_skipped_total", "counter",
        "Probe turns skipped because the previous probe of the pair still ran or waited."},
       number(metrics.probes_skipped)},
      {{"crosscheck_probes_deferred_total", "counter",
        "Probe turns that waited for the global in-flight cap or rate budget."},
       number(metrics.probes_deferred)},
      {{"crosscheck_probes_in_flight", "gauge", "Probes running now."},
       number(metrics.probes_in_flight)},
      {{"crosscheck_probes_in_flight_peak", "gauge", "Most probes ever running at once."},
       number(metrics.probes_in_flight_peak)},
  });
}

void escalation_families(Exposition& out, const snapshot::Snapshot& snapshot) {
  out.family({"crosscheck_escalations_open", "gauge", "Open escalations by kind."});
  std::uint64_t unacknowledged = 0;
  for (const auto kind : k_escalations) {
    std::uint64_t open = 0;
    for (const auto& escalation : snapshot.escalations) {
      open += escalation.kind == kind ? 1U : 0U;
      unacknowledged += escalation.kind == kind && !escalation.acked_at ? 1U : 0U;
    }
    out.sample("crosscheck_escalations_open", {{"kind", cs::to_string(kind)}}, number(open));
  }
  out.single({"crosscheck_escalations_unacknowledged", "gauge",
              "Open escalations nobody has acknowledged."},
             unacknowledged);
  out.single({"crosscheck_escalations_silenced_total", "counter",
              "Escalation events a maintenance window kept from the sinks (opened inside one, "
              "or their resolution)."},
             snapshot.metrics.escalations_silenced);
  const auto& sinks = snapshot.metrics.escalation_sinks;
  out.family({"crosscheck_escalation_deliveries_total", "counter",
              "Escalation messages sent to a sink, by result."});
  for (const auto& [sink, counters] : sinks) {
    out.sample("crosscheck_escalation_deliveries_total", {{"sink", sink}, {"result", "delivered"}},
               number(counters.delivered));
    out.sample("crosscheck_escalation_deliveries_total", {{"sink", sink}, {"result", "failed"}},
               number(counters.failed));
  }
  out.family({"crosscheck_escalation_delivery_failures_total", "counter",
              "Failed escalation deliveries by sink and reason (transport, status, exec, tls_*)."});
  for (const auto& [sink, counters] : sinks) {
    for (const auto& [reason, count] : counters.failed_by_reason) {
      out.sample("crosscheck_escalation_delivery_failures_total",
                 {{"sink", sink}, {"reason", reason}}, number(count));
    }
  }
  out.family({"crosscheck_escalation_dropped_total", "counter",
              "Escalations a sink refused because its queue was full."});
  for (const auto& [sink, counters] : sinks) {
    out.sample("crosscheck_escalation_dropped_total", {{"sink", sink}}, number(counters.dropped));
  }
}

void peer_families(Exposition& out, const snapshot::MetricsView& metrics) {
  out.family({"crosscheck_peer_replies_refused_total", "counter",
              "Peer replies refused unread because their signature did not verify, by reason."});
  for (const auto& [key, count] : metrics.peer_replies_refused) {
    out.sample("crosscheck_peer_replies_refused_total",
               {{"peer", key.first}, {"reason", key.second}}, number(count));
  }
  out.family({"crosscheck_peer_pull_failures_total", "counter",
              "Peer pulls that brought nothing usable, by reason (tls_* name a refused TLS "
              "handshake)."});
  for (const auto& [key, count] : metrics.peer_pull_failures) {
    out.sample("crosscheck_peer_pull_failures_total", {{"peer", key.first}, {"reason", key.second}},
               number(count));
  }
  out.family({"crosscheck_peer_votes_dropped_total", "counter",
              "Peer votes dropped for a failure domain or vantage the peer may not report, and "
              "entries of its export left out as malformed (the rest of it counts)."});
  for (const auto& [peer, count] : metrics.peer_votes_dropped) {
    out.sample("crosscheck_peer_votes_dropped_total", {{"peer", peer}}, number(count));
  }
}

void action_families(Exposition& out, const snapshot::MetricsView& metrics) {
  out.single({"crosscheck_actions_recorded_total", "counter",
              "Actions recorded on this node (gate --record, POST /v1/actions)."},
             metrics.actions_recorded);
  out.single({"crosscheck_peer_actions_refused_total", "counter",
              "Action ledger entries from peers refused (bad id, time, cooldown or size)."},
             metrics.actions_refused);
  out.family({"crosscheck_peer_action_acks_ignored_total", "counter",
              "Acks in peers' ledger entries ignored: made on a third node and relayed."});
  for (const auto& [peer, count] : metrics.peer_action_acks_ignored) {
    out.sample("crosscheck_peer_action_acks_ignored_total", {{"peer", peer}}, number(count));
  }
  out.family({"crosscheck_peer_windows_refused_total", "counter",
              "Maintenance windows in peers' replies refused: set on another node, set in "
              "the future or lasting longer than 7d."});
  for (const auto& [peer, count] : metrics.peer_windows_refused) {
    out.sample("crosscheck_peer_windows_refused_total", {{"peer", peer}}, number(count));
  }
}

void recheck_families(Exposition& out, const snapshot::MetricsView& metrics) {
  out.family({"crosscheck_api_rechecks_refused_total", "counter",
              "Rechecks refused by the service, by reason (the audit log tallies them)."});
  for (const auto& [reason, count] : metrics.rechecks_refused) {
    out.sample("crosscheck_api_rechecks_refused_total", {{"reason", reason}}, number(count));
  }
}

void storage_families(Exposition& out, const snapshot::Snapshot& snapshot) {
  const auto& m = snapshot.metrics;
  out.singles({
      {{"crosscheck_storage_ok", "gauge", "0 while storage is degraded (serving from memory)."},
       number(snapshot.storage.ok)},
      {{"crosscheck_storage_errors_total", "counter", "Failed SQLite operations."},
       number(m.storage_errors)},
      {{"crosscheck_storage_writes_dropped_total", "counter",
        "Records lost: queue full, refused by SQLite, or left at close."},
       number(m.storage_dropped)},
      {{"crosscheck_storage_writes_committed_total", "counter", "Records durably written."},
       number(m.storage_committed)},
      {{"crosscheck_storage_queue_depth", "gauge", "Records waiting for the writer."},
       number(m.storage_queued)},
      {{"crosscheck_storage_retention_deleted_rows_total", "counter",
        "Rows removed by retention (observation changes, summaries, audit lines, action ledger "
        "entries; with storage.history_retention verdict changes and resolved escalations)."},
       number(m.storage_retention_deleted)},
  });
}

}  // namespace

snapshot::MetricsView metrics_view(const snapshot::ProbeStats& probes,
                                   const probes::ScheduleCounters& schedule,
                                   const storage::Health& storage) {
  snapshot::MetricsView view;
  view.probes = probes;
  view.probes_started = schedule.started;
  view.probes_skipped = schedule.skipped;
  view.probes_deferred = schedule.deferred;
  view.probes_in_flight = schedule.in_flight;
  view.probes_in_flight_peak = schedule.peak_in_flight;
  view.probe_start_lateness = schedule.start_lateness;
  view.storage_errors = storage.errors;
  view.storage_dropped = storage.dropped;
  view.storage_committed = storage.committed;
  view.storage_queued = storage.queued;
  view.storage_retention_deleted = storage.retention_deleted;
  return view;
}

std::string MetricsRender::next(std::size_t size) {
  if (stage_ == Stage::Done) {
    return {};
  }
  size = std::max<std::size_t>(size, 1);  // an empty part would say the body is complete
  Exposition out(size + size / 8);
  if (stage_ == Stage::Status) {
    status_families(out, snapshot_);
    stage_ = Stage::Targets;
  }
  const auto families = detail::target_families();
  const auto& targets = snapshot_.targets;
  while (stage_ == Stage::Targets && out.size() < size) {
    if (family_ == families.size()) {
      stage_ = Stage::Rest;
      break;
    }
    const auto& family = families[family_];
    if (!header_) {
      out.family(family.family);
      header_ = true;
    }
    while (target_ < targets.size() && out.size() < size) {
      family.rows(out, family.family, snapshot_, targets[target_++]);
    }
    if (target_ == targets.size()) {
      ++family_;
      target_ = 0;
      header_ = false;
    }
  }
  if (stage_ == Stage::Rest && out.size() < size) {
    vantage_families(out, snapshot_);
    probe_families(out, snapshot_.metrics);
    escalation_families(out, snapshot_);
    peer_families(out, snapshot_.metrics);
    recheck_families(out, snapshot_.metrics);
    action_families(out, snapshot_.metrics);
    storage_families(out, snapshot_);
    detail::api_families(out, api_);
    detail::process_families(out, process_);
    stage_ = Stage::Done;
  }
  return out.take();
}

std::string render_metrics(const snapshot::Snapshot& snapshot, const ApiCounters& api,
                           const snapshot::ProcessStats& process) {
  // Not owned: the caller's snapshot outlives this call.
  MetricsRender render(snapshot::SnapshotPtr(snapshot::SnapshotPtr(), &snapshot), api, process);
  std::string text;
  while (!render.done()) {
    text += render.next(std::size_t{1} << 20);
  }
  return text;
}

}  // namespace crosscheck::api
