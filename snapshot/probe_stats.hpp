// What the local prober did, counted for GET /metrics: probe results by
// vantage, outcome and a small fixed class vocabulary, and latency histograms
// per check kind. Plain values the service updates on its own thread and
// copies into each Snapshot; no I/O, no clock reads.
#pragma once

#include "consensus/types.hpp"
#include "probes/histogram.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace crosscheck::config {
struct TargetConfig;
}

namespace crosscheck::probes {
enum class DnsStatus : std::uint8_t;
enum class IgnoredReply : std::uint8_t;
enum class ReachFailure : std::uint8_t;
struct ProbeReport;
}  // namespace crosscheck::probes

namespace crosscheck::snapshot {

// Why a probe ended as it did, in a fixed vocabulary (docs/metrics.md): the
// `class` label of crosscheck_probes_total. Free-text details would make one
// series per error message; these keep it bounded.
enum class ProbeClass : std::uint8_t {
  Ok,
  EmptyAnswer,
  NxDomain,
  ServFail,
  DnssecBogus,  // SERVFAIL because DNSSEC validation fails (dns.dnssec)
  Refused,
  DnsTimeout,
  DnsOther,
  Truncated,
  UnexpectedAnswer,
  ConnectRefused,
  ConnectTimeout,
  ConnectOther,
  Tls,           // a handshake that failed, or a certificate refused for another cause
  TlsUnknownCa,  // the certificate's chain leads to no trusted CA (or is self-signed)
  TlsExpired,    // the certificate has expired (or is not yet valid)
  TlsWrongName,  // the certificate does not name the host
  HttpStatus,
  HttpBody,
  HttpTimeout,
  HttpOther,
  AppRole,      // a protocol check: the server serves in another role
  AppReadOnly,  // ... refuses writes
  AppLag,       // ... is a replica too far behind, or not replicating
  AppError,     // ... answered an error (not ready, protocol error)
  AppTimeout,   // ... connected and did not answer in time
  Observer,
  ObserverStall,  // a failure this oracle's own stall may explain (probes/stall.hpp)
  Other,          // down without a layer: should not happen, counted all the same
};
constexpr std::size_t k_probe_class_count = 29;
std::string_view to_string(ProbeClass value);

// The class of one DNS query's outcome (Answer is Ok).
ProbeClass classify(probes::DnsStatus status);
// The class of one reach check's failure (None is Ok).
ProbeClass classify(probes::ReachFailure failure);
// The class of a whole probe: its outcome, the failing layer, and the status
// or failure that decided it (ProbeReport::dns_failure, ::reach_failure).
ProbeClass classify(const probes::ProbeReport& report);

// The `check` label of crosscheck_probe_duration_seconds.
// App: a protocol check (redis, postgres, mysql) on a target without http.
enum class CheckKind : std::uint8_t { Dns, Tcp, Http, App };
constexpr std::size_t k_check_kind_count = 4;
std::string_view to_string(CheckKind value);

// Upper bounds in seconds, as Prometheus' `le`; +Inf is implicit.
inline constexpr std::array<double, 13> k_latency_buckets{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

using LatencyHistogram = probes::FixedHistogram<k_latency_buckets>;

struct ProbeStats {
  // (vantage, outcome, class) -> probes; a map so /metrics prints in order.
  std::map<std::tuple<std::string, consensus::Outcome, ProbeClass>, std::uint64_t> results;
  std::array<LatencyHistogram, k_check_kind_count> latency{};  // by CheckKind
  // (vantage, kind) -> DNS replies ignored as not ours or unreadable; only
  // kinds that occurred have an entry. A rise means spoofing or a broken resolver.
  std::map<std::pair<std::string, probes::IgnoredReply>, std::uint64_t> ignored_dns_replies;

  // Counts one local probe of `target`: its class, each DNS query's latency
  // and ignored replies, and each reached address's latency under the
  // target's reach kind.
  void record(const probes::ProbeReport& report, const config::TargetConfig& target);
};

}  // namespace crosscheck::snapshot
