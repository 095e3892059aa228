#include "api/metrics.hpp"
#include "api/exposition.hpp"
#include "api/router.hpp"
#include "snapshot/probe_stats.hpp"
#include "snapshot/process_stats.hpp"

#include "config/config.hpp"
#include "consensus/time_format.hpp"
#include "probes/chain.hpp"
#include "probes/scheduler.hpp"
#include "storage/types.hpp"
#include "support/promtool.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::snapshot;
namespace cs = crosscheck::consensus;
namespace probes = crosscheck::probes;
using probes::DnsStatus;
using probes::ReachFailure;

const std::string k_odd_target = "db \"primary\" \\ east";

cs::WallTime at(std::string_view text) {
  return cs::parse_rfc3339(text).value_or(cs::WallTime{});
}

cs::Evidence evidence(std::string vantage, std::string node, std::string domain, cs::Vote vote) {
  cs::Evidence out;
  out.vantage = std::move(vantage);
  out.node = std::move(node);
  out.domain = std::move(domain);
  out.vote = vote;
  return out;
}

TargetView target(std::string name, cs::VerdictKind kind, std::optional<cs::VerdictKind> held) {
  TargetView view;
  auto& v = view.verdict;
  v.target = std::move(name);
  v.kind = kind;
  v.held = held;
  v.generation = 7;
  v.since = at("2025-10-20T06:00:00.250Z");
  v.valid_until = at("2025-10-20T06:01:10Z");
  v.votes = cs::VoteCounts{1, 1, 1, 2, 2, 4, {}, {}, {"aws"}, 1};
  v.evidence = {evidence("quad9", "", "quad9", cs::Vote::Up),
                evidence("oracle-b/cloudflare", "oracle-b", "cloudflare", cs::Vote::Down)};
  v.evidence.edit().front().cert_not_after = at("2026-01-01T00:00:00Z");
  return view;
}

ProbeStats probe_stats() {
  ProbeStats stats;
  stats.results[{"quad9", cs::Outcome::Up, ProbeClass::Ok}] = 12;
  stats.results[{"quad9", cs::Outcome::Down, ProbeClass::EmptyAnswer}] = 3;
  for (const double seconds : {0.0004, 0.003, 0.003, 0.2, 11.0}) {
    stats.latency.at(static_cast<std::size_t>(CheckKind::Dns)).observe(seconds);
  }
  stats.latency.at(static_cast<std::size_t>(CheckKind::Http)).observe(0.05);
  stats.ignored_dns_replies[{"quad9", probes::IgnoredReply::WrongQuestion}] = 2;
  return stats;
}

// Starts 0, 30, 30 and 200 ms late, and one 11 s late (past the last bucket).
probes::ScheduleCounters schedule_counters() {
  probes::ScheduleCounters counters;
  for (const auto late : {0, 30, 30, 200, 11'000}) {
    counters.start_lateness.observe(cs::Duration{late});
  }
  counters.started = 5;
  return counters;
}

Snapshot snapshot() {
  Snapshot s;
  s.revision = 42;
  s.taken_at = at("2025-10-20T06:00:40Z");
  s.ready = true;
  s.node = "oracle-a";
  s.version = "0.1.0";
  s.targets = {target("web", cs::VerdictKind::Healthy, std::nullopt),
               target(k_odd_target, cs::VerdictKind::Disputed, cs::VerdictKind::Healthy)};
  s.vantages = {
      VantageView{"quad9", "", "quad9", false, "", at("2025-10-20T06:00:39Z")},
      VantageView{"oracle-b/cloudflare", "oracle-b", "cloudflare", true, "canary", std::nullopt}};
  EscalationView dispute;
  dispute.kind = cs::EventKind::DisputeOpened;
  dispute.target = k_odd_target;
  EscalationView suspect;
  suspect.kind = cs::EventKind::VantageSuspect;
  suspect.acked_at = at("2025-10-20T06:00:30Z");
  EscalationView split;
  split.kind = cs::EventKind::SplitOpened;
  split.target = "web";
  split.acked_at = at("2025-10-20T06:00:35Z");
  s.escalations = {dispute, suspect, split};
  s.storage = StorageView{false, "disk full"};
  s.metrics.probes = probe_stats();
  s.metrics.probes_skipped = 4;
  s.metrics.probe_start_lateness = schedule_counters().start_lateness;
  s.metrics.storage_errors = 2;
  s.metrics.peer_replies_refused = {{{"oracle-b", "bad_signature"}, 3},
                                    {{"oracle-b", "missing"}, 0}};
  s.metrics.peer_votes_dropped = {{"oracle-b", 5}};
  s.metrics.rechecks_refused = {{"rate_limited", 1873}, {"unknown_target", 0}};
  return s;
}

ProcessStats process_stats() {
  return ProcessStats{48'000'000, 1.25, 17, 1'760'940'000.5, 31'000'000, 9'500'000};
}

std::string rendered() {
  ApiCounters api;
  api.connections_accepted = 9;
  api.responses_4xx = 2;
  api.tls_refusals.at(static_cast<std::size_t>(crosscheck::api::TlsRefusal::Expired)) = 3;
  api.tls_certificate_not_after = 1'830'297'600;
  return render_metrics(snapshot(), api, process_stats());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The values of the lines that start with `prefix`, in order.
std::vector<double> values_after(const std::string& text, const std::string& prefix) {
  std::vector<double> values;
  for (const auto& line : lines_of(text)) {
    if (line.starts_with(prefix)) {
      values.push_back(std::stod(line.substr(line.rfind(' ') + 1)));
    }
  }
  return values;
}

probes::ProbeReport down_report(cs::Layer layer, std::string detail) {
  probes::ProbeReport report;
  report.observation.vantage = "quad9";
  report.observation.outcome = cs::Outcome::Down;
  report.observation.layer = layer;
  report.observation.detail = std::move(detail);
  return report;
}

probes::DnsResult dns_result(DnsStatus status, std::string detail, double latency_ms) {
  probes::DnsResult result;
  result.status = status;
  result.detail = std::move(detail);
  result.latency_ms = latency_ms;
  return result;
}

TEST_CASE("the verdict is one series per state, 1 for the current one") {
  const auto text = rendered();
  CHECK(has_line(text, R"(crosscheck_verdict{target="web",verdict="healthy"} 1)"));
  CHECK(has_line(text, R"(crosscheck_verdict{target="web",verdict="unhealthy"} 0)"));
  CHECK(has_line(text, R"(crosscheck_verdict{target="web",verdict="disputed"} 0)"));
  CHECK(has_line(text, R"(crosscheck_verdict{target="web",verdict="unknown"} 0)"));
  CHECK(has_line(text, R"(crosscheck_verdict{target="web",verdict="unreachable"} 0)"));
  CHECK(has_line(text, R"(crosscheck_verdict_held{target="web",verdict="healthy"} 0)"));
  CHECK(has_line(text, R"(crosscheck_verdict_generation{target="web"} 7)"));
  CHECK(
      has_line(text, R"(crosscheck_verdict_since_timestamp_seconds{target="web"} 1760940000.25)"));
  CHECK(has_line(text, R"(crosscheck_votes{target="web",vote="down"} 1)"));
  CHECK(has_line(text, R"(crosscheck_votes{target="web",vote="split"} 1)"));
  CHECK(has_line(text, R"(crosscheck_quorum_down{target="web"} 2)"));
}

TEST_CASE("a target name with quotes and backslashes is escaped in every label") {
  const auto text = rendered();
  CHECK(has_line(text,
                 R"(crosscheck_verdict{target="db \"primary\" \\ east",verdict="disputed"} 1)"));
  CHECK(has_line(
      text, R"(crosscheck_verdict_held{target="db \"primary\" \\ east",verdict="healthy"} 1)"));
  CHECK(has_line(
      text, R"(crosscheck_verdict_held{target="db \"primary\" \\ east",verdict="unhealthy"} 0)"));
  CHECK(prom::escape_label_value("a\nb") == R"(a\nb)");
}

TEST_CASE("each vantage vote is three series, local ones named by this node") {
  const auto text = rendered();
  const std::string local =
      R"(crosscheck_vantage_vote{target="web",vantage="quad9",node="oracle-a",domain="quad9",vote=)";
  CHECK(has_line(text, local + R"("up"} 1)"));
  CHECK(has_line(text, local + R"("down"} 0)"));
  CHECK(has_line(text, local + R"("unknown"} 0)"));
  CHECK(has_line(
      text,
      R"(crosscheck_vantage_vote{target="web",vantage="oracle-b/cloudflare",node="oracle-b",domain="cloudflare",vote="down"} 1)"));
  CHECK(has_line(
      text,
      R"(crosscheck_vantage_suspect{vantage="oracle-b/cloudflare",domain="cloudflare",node="oracle-b"} 1)"));
  CHECK(has_line(
      text,
      R"(crosscheck_vantage_last_seen_timestamp_seconds{vantage="quad9",domain="quad9",node="oracle-a"} 1760940039)"));
}

TEST_CASE("the certificate a local vantage saw is its notAfter in Unix time, per target") {
  const auto text = rendered();
  CHECK(has_line(text,
                 R"(crosscheck_tls_cert_expiry_seconds{target="web",vantage="quad9"} 1767225600)"));
  // A vantage that saw no certificate has no series.
  CHECK(text.find(R"(crosscheck_tls_cert_expiry_seconds{target="web",vantage="oracle-b)") ==
        std::string::npos);
}

TEST_CASE("the DNSSEC signatures a vantage saw over the answer expire at a Unix time, per target") {
  auto taken = snapshot();
  taken.targets.front().verdict.evidence.edit().front().rrsig_expires = at("2025-10-27T00:00:00Z");
  const auto text = render_metrics(taken, ApiCounters{}, process_stats());
  CHECK(has_line(
      text, R"(crosscheck_dns_rrsig_expiry_seconds{target="web",vantage="quad9"} 1761523200)"));
  CHECK(has_line(text, "# TYPE crosscheck_dns_rrsig_expiry_seconds gauge"));
  CHECK(text.find(R"(crosscheck_dns_rrsig_expiry_seconds{target="web",vantage="oracle-b)") ==
        std::string::npos);
}

TEST_CASE("probe, escalation, storage, api and process counters are exposed") {
  const auto text = rendered();
  CHECK(has_line(text, R"(crosscheck_probes_total{vantage="quad9",outcome="up",class="ok"} 12)"));
  CHECK(has_line(
      text, R"(crosscheck_probes_total{vantage="quad9",outcome="down",class="empty_answer"} 3)"));
  CHECK(has_line(
      text, R"(crosscheck_dns_replies_ignored_total{vantage="quad9",reason="wrong_question"} 2)"));
  CHECK(has_line(text, "crosscheck_probes_skipped_total 4"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="dispute"} 1)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="vantage_suspect"} 1)"));
  // Every kind that opens an episode has its series, open or not.
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="split"} 1)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="quorum_unreachable"} 0)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="canary_down"} 0)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="cert_expiring"} 0)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="rrsig_expiring"} 0)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="peer_unreachable"} 0)"));
  CHECK(has_line(text, R"(crosscheck_escalations_open{kind="peer_unauthenticated"} 0)"));
  CHECK(has_line(
      text, R"(crosscheck_peer_replies_refused_total{peer="oracle-b",reason="bad_signature"} 3)"));
  CHECK(has_line(text,
                 R"(crosscheck_peer_replies_refused_total{peer="oracle-b",reason="missing"} 0)"));
  CHECK(has_line(text, R"(crosscheck_peer_votes_dropped_total{peer="oracle-b"} 5)"));
  CHECK(has_line(text, R"(crosscheck_api_rechecks_refused_total{reason="rate_limited"} 1873)"));
  CHECK(has_line(text, R"(crosscheck_api_rechecks_refused_total{reason="unknown_target"} 0)"));
  CHECK(has_line(text, "crosscheck_escalations_unacknowledged 1"));
  CHECK(has_line(text, "crosscheck_storage_ok 0"));
  CHECK(has_line(text, "crosscheck_storage_errors_total 2"));
  CHECK(has_line(text, R"(crosscheck_api_connections_total{result="accepted"} 9)"));
  CHECK(has_line(text, R"(crosscheck_api_responses_total{code="4xx"} 2)"));
  CHECK(has_line(text, R"(crosscheck_build_info{version="0.1.0",node="oracle-a"} 1)"));
  CHECK(has_line(text, "process_open_fds 17"));
  CHECK(has_line(text, "process_start_time_seconds 1760940000.5"));
}

TEST_CASE("histogram buckets are cumulative and +Inf equals the count") {
  const auto text = rendered();
  const auto buckets =
      values_after(text, R"(crosscheck_probe_duration_seconds_bucket{check="dns",)");
  REQUIRE(buckets.size() == k_latency_buckets.size() + 1);
  CHECK(std::is_sorted(buckets.begin(), buckets.end()));
  CHECK(buckets.front() == 1);                           // 0.4 ms
  CHECK(buckets.at(2) == 3);                             // le=0.005: and the two 3 ms
  CHECK(buckets.at(k_latency_buckets.size() - 1) == 4);  // le=10: all but the 11 s one
  CHECK(has_line(text, R"(crosscheck_probe_duration_seconds_bucket{check="dns",le="+Inf"} 5)"));
  CHECK(has_line(text, R"(crosscheck_probe_duration_seconds_count{check="dns"} 5)"));
  CHECK(has_line(text, R"(crosscheck_probe_duration_seconds_count{check="http"} 1)"));
  CHECK(has_line(text, R"(crosscheck_probe_duration_seconds_bucket{check="tcp",le="+Inf"} 0)"));
}

TEST_CASE("probe start lateness is a histogram with cumulative buckets, _sum and _count") {
  const auto text = rendered();
  CHECK(has_line(text,
                 "# HELP crosscheck_probe_start_lateness_seconds Seconds between a "
                 "probe's scheduled start and its actual start."));
  CHECK(has_line(text, "# TYPE crosscheck_probe_start_lateness_seconds histogram"));
  const auto buckets = values_after(text, "crosscheck_probe_start_lateness_seconds_bucket{");
  REQUIRE(buckets.size() == probes::k_lateness_buckets.size() + 1);
  CHECK(std::is_sorted(buckets.begin(), buckets.end()));
  const std::string bucket = "crosscheck_probe_start_lateness_seconds_bucket";
  CHECK(has_line(text, bucket + R"({le="0.0005"} 1)"));  // on time
  CHECK(has_line(text, bucket + R"({le="0.025"} 1)"));
  CHECK(has_line(text, bucket + R"({le="0.05"} 3)"));  // and the two 30 ms
  CHECK(has_line(text, bucket + R"({le="0.1"} 3)"));
  CHECK(has_line(text, bucket + R"({le="0.25"} 4)"));  // and the 200 ms
  CHECK(has_line(text, bucket + R"({le="10"} 4)"));    // all but the 11 s one
  CHECK(has_line(text, bucket + R"({le="+Inf"} 5)"));
  const auto sum = values_after(text, "crosscheck_probe_start_lateness_seconds_sum ");
  REQUIRE(sum.size() == 1);
  CHECK(sum.front() == Approx(11.26));
  CHECK(has_line(text, "crosscheck_probe_start_lateness_seconds_count 5"));
}

TEST_CASE("evaluation passes are one histogram by phase: judge and publish") {
  Snapshot timed = snapshot();
  timed.metrics.evaluation_judge.observe(std::chrono::microseconds(800));  // le=0.001
  timed.metrics.evaluation_judge.observe(std::chrono::milliseconds(40));   // le=0.05
  timed.metrics.evaluation_publish.observe(std::chrono::seconds(3));       // past 2.5: +Inf only
  const auto text = render_metrics(timed, ApiCounters{}, process_stats());
  CHECK(has_line(text, "# TYPE crosscheck_evaluation_duration_seconds histogram"));
  const std::string bucket = "crosscheck_evaluation_duration_seconds_bucket";
  CHECK(has_line(text, bucket + R"({phase="judge",le="0.0005"} 0)"));
  CHECK(has_line(text, bucket + R"({phase="judge",le="0.001"} 1)"));
  CHECK(has_line(text, bucket + R"({phase="judge",le="0.025"} 1)"));
  CHECK(has_line(text, bucket + R"({phase="judge",le="0.05"} 2)"));
  CHECK(has_line(text, bucket + R"({phase="judge",le="+Inf"} 2)"));
  CHECK(has_line(text, R"(crosscheck_evaluation_duration_seconds_count{phase="judge"} 2)"));
  const auto judged =
      values_after(text, R"(crosscheck_evaluation_duration_seconds_sum{phase="judge"})");
  REQUIRE(judged.size() == 1);
  CHECK(judged.front() == Approx(0.0408));
  CHECK(has_line(text, bucket + R"({phase="publish",le="2.5"} 0)"));
  CHECK(has_line(text, bucket + R"({phase="publish",le="+Inf"} 1)"));
  CHECK(has_line(text, R"(crosscheck_evaluation_duration_seconds_count{phase="publish"} 1)"));
  const auto buckets = values_after(text, bucket + "{");
  CHECK(buckets.size() == 2 * (crosscheck::snapshot::k_evaluation_buckets.size() + 1));
}

TEST_CASE("the metrics view carries the scheduler's start lateness") {
  const auto view = metrics_view(ProbeStats{}, schedule_counters(), crosscheck::storage::Health{});
  CHECK(view.probes_started == 5);
  CHECK(view.probe_start_lateness.count == 5);
  CHECK(view.probe_start_lateness.buckets.at(6) == 2);  // le=0.05
  CHECK(view.probe_start_lateness.sum_seconds == Approx(11.26));
}

TEST_CASE("a latency on a bucket bound counts in that bucket, just above it in the next") {
  const auto [seconds, bucket] = GENERATE(table<double, std::size_t>(
      {{0.0, 0}, {0.001, 0}, {0.0011, 1}, {0.0025, 1}, {1.0, 9}, {10.0, 12}}));
  LatencyHistogram histogram;
  histogram.observe(seconds);
  CHECK(histogram.buckets.at(bucket) == 1);
  CHECK(histogram.count == 1);
}

TEST_CASE("every DNS status maps to its class") {
  const auto [status, expected] = GENERATE(table<DnsStatus, std::string_view>({
      {DnsStatus::Answer, "ok"},
      {DnsStatus::EmptyAnswer, "empty_answer"},
      {DnsStatus::NxDomain, "nxdomain"},
      {DnsStatus::ServFail, "servfail"},
      {DnsStatus::Refused, "refused"},
      {DnsStatus::OtherRcode, "dns_other"},
      {DnsStatus::Timeout, "dns_timeout"},
      {DnsStatus::Malformed, "dns_other"},
      {DnsStatus::Truncated, "truncated"},
      {DnsStatus::TooFewAnswers, "unexpected_answer"},
      {DnsStatus::UnexpectedAddress, "unexpected_answer"},
      {DnsStatus::NetworkError, "dns_other"},
      {DnsStatus::DnssecBogus, "dnssec_bogus"},
      {DnsStatus::ObserverError, "observer"},
  }));
  CAPTURE(probes::to_string(status));
  CHECK(to_string(classify(status)) == expected);
}

TEST_CASE("every reach failure maps to its class") {
  const auto [failure, expected] = GENERATE(table<ReachFailure, std::string_view>({
      {ReachFailure::None, "ok"},
      {ReachFailure::ConnectRefused, "connect_refused"},
      {ReachFailure::ConnectTimeout, "connect_timeout"},
      {ReachFailure::ConnectOther, "connect_other"},
      {ReachFailure::TlsSetup, "tls"},
      {ReachFailure::TlsHandshake, "tls"},
      {ReachFailure::TlsCertificate, "tls"},
      {ReachFailure::TlsUnknownCa, "tls_unknown_ca"},
      {ReachFailure::TlsExpired, "tls_expired"},
      {ReachFailure::TlsWrongName, "tls_wrong_name"},
      {ReachFailure::HttpStatus, "http_status"},
      {ReachFailure::HttpRedirect, "http_status"},
      {ReachFailure::HttpBody, "http_body"},
      {ReachFailure::HttpTimeout, "http_timeout"},
      {ReachFailure::HttpOther, "http_other"},
      {ReachFailure::Observer, "observer"},
      {ReachFailure::ObserverBodyCheck, "observer"},
      {ReachFailure::AppRole, "app_role"},
      {ReachFailure::AppReadOnly, "app_read_only"},
      {ReachFailure::AppLag, "app_lag"},
      {ReachFailure::AppError, "app_error"},
      {ReachFailure::AppTimeout, "app_timeout"},
      {ReachFailure::ObserverAuth, "observer"},  // our credentials: never the service's class
  }));
  CHECK(to_string(classify(failure)) == expected);
}

TEST_CASE("a probe's class comes from its outcome, layer and the failure that decided it") {
  const auto [layer, failure, expected] =
      GENERATE(table<cs::Layer, ReachFailure, std::string_view>({
          {cs::Layer::Connect, ReachFailure::ConnectTimeout, "connect_timeout"},
          {cs::Layer::Connect, ReachFailure::ConnectRefused, "connect_refused"},
          {cs::Layer::Tls, ReachFailure::TlsCertificate, "tls"},
          {cs::Layer::Tls, ReachFailure::TlsExpired, "tls_expired"},
          {cs::Layer::Http, ReachFailure::HttpBody, "http_body"},
          {cs::Layer::App, ReachFailure::AppReadOnly, "app_read_only"},
          {cs::Layer::App, ReachFailure::AppRole, "app_role"},
          {cs::Layer::Http, ReachFailure::None, "other"},
          {cs::Layer::None, ReachFailure::None, "other"},
      }));
  // The detail says something else on purpose: classes never read it.
  auto report = down_report(layer, "http: 200 OK, body does not contain 'timed out, refused'");
  report.reach_failure = failure;
  CHECK(to_string(classify(report)) == expected);
}

TEST_CASE("a DNS failure takes the class of the query that decided the probe") {
  auto report = down_report(cs::Layer::Dns,
                            "dns: NOERROR, empty answer; last-known-good addresses still answer");
  report.dns = {dns_result(DnsStatus::ServFail, "dns: SERVFAIL", 3),
                dns_result(DnsStatus::EmptyAnswer, "dns: NOERROR, empty answer", 2)};
  report.dns_failure = DnsStatus::EmptyAnswer;
  CHECK(to_string(classify(report)) == "empty_answer");
  report.dns_failure.reset();
  CHECK(to_string(classify(report)) == "dns_other");
  report.observation.outcome = cs::Outcome::ObserverError;
  CHECK(to_string(classify(report)) == "observer");
  report.stalled = std::chrono::milliseconds(1800);  // discounted for this oracle's stall
  CHECK(to_string(classify(report)) == "observer_stall");
  report.observation.outcome = cs::Outcome::Up;
  CHECK(to_string(classify(report)) == "ok");
}

TEST_CASE("recording a probe counts its class and each step's latency by check kind") {
  auto report = down_report(cs::Layer::Http, "http: 500 Internal Server Error, expected 200");
  report.reach_failure = ReachFailure::HttpStatus;
  report.dns = {dns_result(DnsStatus::Answer, "dns: NOERROR", 4),
                dns_result(DnsStatus::ObserverError, "observer: cannot send", 0)};
  report.addresses.resize(2);
  report.addresses[0].reach.latency_ms = 30;
  report.addresses[1].reach.latency_ms = 1;
  report.addresses[1].reach.failure = ReachFailure::Observer;
  crosscheck::config::TargetConfig http_target;
  http_target.http.emplace();
  ProbeStats stats;
  stats.record(report, http_target);
  stats.record(report, crosscheck::config::TargetConfig{});
  CHECK(stats.results.at({"quad9", cs::Outcome::Down, ProbeClass::HttpStatus}) == 2);
  CHECK(stats.latency.at(static_cast<std::size_t>(CheckKind::Dns)).count == 2);
  CHECK(stats.latency.at(static_cast<std::size_t>(CheckKind::Dns)).sum_seconds == Approx(0.008));
  CHECK(stats.latency.at(static_cast<std::size_t>(CheckKind::Http)).count == 1);
  CHECK(stats.latency.at(static_cast<std::size_t>(CheckKind::Tcp)).count == 1);
}

TEST_CASE("recording a probe counts each DNS query's ignored replies by vantage and reason") {
  auto report = down_report(cs::Layer::Dns, "dns: timeout after 300ms");
  report.dns = {dns_result(DnsStatus::Timeout, "dns: timeout after 300ms", 300),
                dns_result(DnsStatus::Answer, "dns: NOERROR, 1 answer", 4)};
  report.dns[0].ignored.add(probes::IgnoredReply::WrongId, "id 1, expected 2");
  report.dns[0].ignored.add(probes::IgnoredReply::Malformed, "answer section incomplete");
  report.dns[1].ignored.add(probes::IgnoredReply::WrongId, "id 3, expected 4");
  ProbeStats stats;
  stats.record(report, crosscheck::config::TargetConfig{});
  CHECK(stats.ignored_dns_replies.at({"quad9", probes::IgnoredReply::WrongId}) == 2);
  CHECK(stats.ignored_dns_replies.at({"quad9", probes::IgnoredReply::Malformed}) == 1);
  CHECK(stats.ignored_dns_replies.size() == 2);  // reasons that never occurred have no series
}

TEST_CASE("GET /metrics answers the exposition as text and other methods get 405 with Allow") {
  const MetricsSources sources{ApiCounters{}, process_stats()};
  ApiRequest request;
  request.method = "GET";
  request.target = "/metrics";
  request.metrics = [&sources] { return sources; };
  const auto now = cs::Instant{{}, at("2025-10-20T06:00:45Z")};
  const Snapshot unowned = snapshot();
  const std::string whole = render_metrics(unowned, ApiCounters{}, process_stats());
  // Without an owned snapshot the body is made whole at once.
  const auto at_once = std::get<ApiResponse>(handle_request(request, unowned, now));
  CHECK(at_once.status == 200);
  CHECK(at_once.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_FALSE(at_once.source);
  CHECK(at_once.body == whole);
  CHECK(has_line(at_once.body, "process_open_fds 17"));
  // With one (as the server routes) it is made in parts as it is sent, from
  // the snapshot it owns, whatever happens to the caller's.
  request.snapshot = std::make_shared<const Snapshot>(snapshot());
  const auto outcome = handle_request(request, *request.snapshot, now);
  request.snapshot.reset();
  const auto& response = std::get<ApiResponse>(outcome);
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  REQUIRE(response.source);
  std::string body;
  for (std::string part = response.source->next(64); !part.empty();
       part = response.source->next(64)) {
    body += part;
  }
  CHECK(body == whole);
  request.method = "POST";
  const auto refused = std::get<ApiResponse>(
      handle_request(request, snapshot(), cs::Instant{{}, at("2025-10-20T06:00:45Z")}));
  CHECK(refused.status == 405);
  CHECK(refused.header("Allow") == "GET");
}

TEST_CASE("the allocator's bytes in use and held free show when the allocator says") {
  const auto text = rendered();
  CHECK(has_line(text, R"(crosscheck_malloc_bytes{state="in_use"} 31000000)"));
  CHECK(has_line(text, R"(crosscheck_malloc_bytes{state="free"} 9500000)"));
  ProcessStats unknown = process_stats();
  unknown.malloc_in_use_bytes.reset();
  unknown.malloc_free_bytes.reset();
  const auto without = render_metrics(snapshot(), ApiCounters{}, unknown);
  CHECK(without.find("crosscheck_malloc_bytes") == std::string::npos);
  CHECK(has_line(without, "process_open_fds 17"));
}

TEST_CASE("the allocator's figures count a live block in use and not once it is freed") {
  const auto before = crosscheck::snapshot::read_malloc_figures();
  if (!before) {
    WARN("not glibc's malloc here (a sanitizer's): no figures to read");
    return;
  }
  // 64 MiB: past glibc's largest mmap threshold (32 MiB), so the block is
  // always mapped on its own, whatever the thresholds are by now. Slack of
  // half a block for whatever else the process allocates meanwhile.
  constexpr std::uint64_t k_block = std::uint64_t{64} << 20;
  auto block = std::make_unique<char[]>(k_block);
  std::fill_n(block.get(), k_block, 'x');
  const auto holding = crosscheck::snapshot::read_malloc_figures();
  REQUIRE(holding);
  CHECK(holding->in_use_bytes >= before->in_use_bytes + k_block / 2);
  CHECK(block[k_block - 1] == 'x');  // the block is used: no compiler may drop it
  block.reset();
  const auto after = crosscheck::snapshot::read_malloc_figures();
  REQUIRE(after);
  CHECK(after->in_use_bytes + k_block / 2 <= holding->in_use_bytes);
}

TEST_CASE("refused TLS handshakes show by reason, and the serving certificate's expiry with TLS") {
  const auto text = rendered();
  CHECK(has_line(text, R"(crosscheck_api_tls_handshake_failures_total{reason="expired"} 3)"));
  CHECK(has_line(text, R"(crosscheck_api_tls_handshake_failures_total{reason="not_tls"} 0)"));
  CHECK(has_line(text, "crosscheck_api_tls_certificate_expiry_seconds 1830297600"));
  // Without api.tls the gauge is absent (no certificate), the counters stay.
  const auto plain = render_metrics(snapshot(), ApiCounters{}, process_stats());
  CHECK(plain.find("crosscheck_api_tls_certificate_expiry_seconds") == std::string::npos);
  CHECK(has_line(plain, R"(crosscheck_api_tls_handshake_failures_total{reason="handshake"} 0)"));
}

TEST_CASE("promtool accepts the exposition with no lint problem") {
  const auto result = crosscheck::testing::promtool_check_metrics(rendered());
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(result.output.empty());
}

TEST_CASE("promtool as used here does reject a counter without _total") {
  // The check above could pass vacuously if promtool read nothing.
  const auto result = crosscheck::testing::promtool_check_metrics(
      "# HELP crosscheck_bad A counter.\n# TYPE crosscheck_bad counter\ncrosscheck_bad 1\n");
  INFO(result.output);
  CHECK(result.exit_status != 0);
  CHECK_FALSE(result.output.empty());
}

}  // namespace

namespace {

// `count` targets seen by two vantages each, one with a certificate.
Snapshot fleet(std::size_t count) {
  Snapshot s = snapshot();
  s.targets.clear();
  for (std::size_t i = 0; i < count; ++i) {
    TargetView view;
    view.verdict.target = "svc-" + std::to_string(i);
    view.verdict.kind = i % 3 == 0 ? cs::VerdictKind::Unhealthy : cs::VerdictKind::Healthy;
    for (const char* vantage : {"alpha", "beta"}) {
      cs::Evidence evidence;
      evidence.vantage = vantage;
      evidence.domain = vantage;
      evidence.cert_not_after = at("2026-01-01T00:00:00Z");
      view.verdict.evidence.push_back(evidence);
    }
    s.targets.push_back(std::move(view));
  }
  return s;
}

}  // namespace

TEST_CASE("the exposition's parts end at a line, are about the size asked and join into it") {
  const auto served = std::make_shared<const Snapshot>(fleet(400));
  const std::string whole = render_metrics(*served, ApiCounters{}, process_stats());
  // A part but the last passes the size asked by at most one target's
  // lines (twice one short name's: the names here grow to seven
  // characters); the last holds the families after the per-target ones.
  const std::size_t one = render_metrics(fleet(1), ApiCounters{}, process_stats()).size();
  const std::size_t rows = render_metrics(fleet(2), ApiCounters{}, process_stats()).size() - one;
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100},
                                 std::size_t{4096}, std::size_t{65'536}, whole.size() * 2}) {
    CAPTURE(size);
    MetricsRender render(served, ApiCounters{}, process_stats());
    std::vector<std::string> parts;
    while (!render.done()) {
      parts.push_back(render.next(size));
    }
    CHECK(render.next(size).empty());  // and stays done
    std::string joined;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      CAPTURE(i);
      REQUIRE_FALSE(parts[i].empty());
      CHECK(parts[i].back() == '\n');
      if (i + 1 < parts.size()) {
        CHECK(parts[i].size() >= size);
        CHECK(parts[i].size() < size + 2 * rows);
      } else {
        CHECK(parts[i].size() < size + one);
      }
      joined += parts[i];
    }
    CHECK(joined == whole);
    CHECK(parts.size() >= whole.size() / (size + 2 * rows));
    if (size >= whole.size()) {
      CHECK(parts.size() == 1);
    }
  }
  // Every family's header once, however many parts its samples span.
  const std::string small = render_metrics(fleet(1), ApiCounters{}, process_stats());
  CHECK(std::count(whole.begin(), whole.end(), '#') == std::count(small.begin(), small.end(), '#'));
  const auto checked = crosscheck::testing::promtool_check_metrics(whole);
  INFO(checked.output);
  CHECK(checked.exit_status == 0);
}
