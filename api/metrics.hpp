// GET /metrics: the Prometheus text exposition (format 0.0.4) of a Snapshot,
// the API server's counters and the process figures (docs/metrics.md lists
// every family). Pure: no I/O, no clock reads; every value is an argument.
#pragma once

#include "api/counters.hpp"
#include "snapshot/process_stats.hpp"
#include "snapshot/snapshot.hpp"

#include <string>
#include <string_view>

namespace crosscheck::probes {
struct ScheduleCounters;
}

namespace crosscheck::storage {
struct Health;
}

namespace crosscheck::api {

constexpr std::string_view k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// What /metrics shows beyond the snapshot; the server fills it for that path.
struct MetricsSources {
  ApiCounters api;
  snapshot::ProcessStats process;
};

// The MetricsView the service publishes: copies of its live counters.
snapshot::MetricsView metrics_view(const snapshot::ProbeStats& probes,
                                   const probes::ScheduleCounters& schedule,
                                   const storage::Health& storage);

// The whole exposition: every family with # HELP and # TYPE, samples of one
// family together, label values escaped; families in a fixed order.
std::string render_metrics(const snapshot::Snapshot& snapshot, const ApiCounters& api,
                           const snapshot::ProcessStats& process);

}  // namespace crosscheck::api
