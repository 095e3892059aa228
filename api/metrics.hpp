// GET /metrics: the Prometheus text exposition (format 0.0.4) of a Snapshot,
// the API server's counters and the process figures (docs/metrics.md lists
// every family). Pure: no I/O, no clock reads; every value is an argument.
#pragma once

#include "api/counters.hpp"
#include "api/router.hpp"
#include "snapshot/process_stats.hpp"
#include "snapshot/snapshot.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

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

// The exposition in parts, in order: every family with # HELP and # TYPE,
// samples of one family together, label values escaped, families in a fixed
// order. A part ends at a line's end: the oracle's own families at once, the
// per-target ones (api/metrics_targets.hpp) a target at a time, so a scrape
// holds about one part in memory however many targets there are. It keeps
// `snapshot` until it is destroyed.
class MetricsRender final : public BodySource {
 public:
  MetricsRender(snapshot::SnapshotPtr snapshot, const ApiCounters& api,
                const snapshot::ProcessStats& process)
      : owner_(std::move(snapshot)), snapshot_(*owner_), api_(api), process_(process) {}

  // About `size` bytes (at least 1), or more: every part but the last passes
  // it by at most one target's lines; the last holds the families after the
  // per-target ones (a few dozen KB).
  std::string next(std::size_t size) override;
  bool done() const { return stage_ == Stage::Done; }

 private:
  enum class Stage : std::uint8_t { Status, Targets, Rest, Done };

  snapshot::SnapshotPtr owner_;
  const snapshot::Snapshot& snapshot_;
  ApiCounters api_;
  snapshot::ProcessStats process_;
  Stage stage_ = Stage::Status;
  std::size_t family_ = 0;  // Targets: the per-target family being printed
  std::size_t target_ = 0;  // its next target
  bool header_ = false;     // its # HELP and # TYPE printed
};

// The whole exposition in one string (MetricsRender's parts joined).
std::string render_metrics(const snapshot::Snapshot& snapshot, const ApiCounters& api,
                           const snapshot::ProcessStats& process);

}  // namespace crosscheck::api
