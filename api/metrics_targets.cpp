// The per-target families of /metrics (api/metrics_targets.hpp). Every
// series that depends on a state (verdict, vote) is printed for every state
// with 0 or 1, so a PromQL alert can test `== 1` without the series
// vanishing when the state changes.
#include "api/metrics_targets.hpp"

#include <array>
#include <optional>

namespace crosscheck::api::detail {
namespace {

namespace cs = consensus;

using prom::Exposition;
using prom::Family;
using prom::number;
using snapshot::Snapshot;
using snapshot::TargetView;

constexpr std::array<cs::VerdictKind, 6> k_verdicts{
    cs::VerdictKind::Healthy, cs::VerdictKind::Unhealthy,   cs::VerdictKind::Disputed,
    cs::VerdictKind::Unknown, cs::VerdictKind::Unreachable, cs::VerdictKind::Degraded};
constexpr std::array<cs::VerdictKind, 3> k_held{
    cs::VerdictKind::Healthy, cs::VerdictKind::Unhealthy, cs::VerdictKind::Degraded};
constexpr std::array<cs::Vote, 4> k_votes{cs::Vote::Up, cs::Vote::Down, cs::Vote::Unknown,
                                          cs::Vote::Degraded};

void verdict_rows(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
                  const TargetView& view) {
  for (const auto kind : k_verdicts) {
    out.sample(family.name, {{"target", view.verdict.target}, {"verdict", cs::to_string(kind)}},
               number(view.verdict.kind == kind));
  }
}

void held_rows(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
               const TargetView& view) {
  for (const auto kind : k_held) {
    out.sample(family.name, {{"target", view.verdict.target}, {"verdict", cs::to_string(kind)}},
               number(view.verdict.held == kind));
  }
}

// One sample: `Value(verdict)` labelled with the target.
template <auto Value>
void value_row(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
               const TargetView& view) {
  out.sample(family.name, {{"target", view.verdict.target}}, number(Value(view.verdict)));
}

void vote_rows(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
               const TargetView& view) {
  const auto& votes = view.verdict.votes;
  for (const auto vote : k_votes) {
    const int count = vote == cs::Vote::Up         ? votes.up
                      : vote == cs::Vote::Down     ? votes.down
                      : vote == cs::Vote::Degraded ? votes.degraded
                                                   : votes.unknown;
    out.sample(family.name, {{"target", view.verdict.target}, {"vote", cs::to_string(vote)}},
               number(count));
  }
  // Not a vote a vantage casts (k_votes), but a domain's: neither up nor down.
  out.sample(family.name, {{"target", view.verdict.target}, {"vote", "split"}},
             number(votes.split));
}

void vantage_vote_rows(Exposition& out, const Family& family, const Snapshot& snapshot,
                       const TargetView& view) {
  for (const auto& evidence : view.verdict.evidence) {
    for (const auto vote : k_votes) {
      out.sample(family.name,
                 {{"target", view.verdict.target},
                  {"vantage", evidence.vantage},
                  {"node", series_node(snapshot, evidence.node)},
                  {"domain", evidence.domain},
                  {"vote", cs::to_string(vote)}},
                 number(evidence.vote == vote));
    }
  }
}

// One sample per local vantage that saw `Field`, in Unix time.
template <std::optional<cs::WallTime> cs::Evidence::*Field>
void expiry_rows(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
                 const TargetView& view) {
  for (const auto& evidence : view.verdict.evidence) {
    if (const auto& seen = evidence.*Field) {
      out.sample(family.name, {{"target", view.verdict.target}, {"vantage", evidence.vantage}},
                 number(unix_seconds(*seen)));
    }
  }
}

// dns.authoritative, per local vantage whose last check asked the zone's
// servers: `Measure` of its last observation, only when measured (two
// servers' AA SOA for the serials' skew, AA NS sets for drift).
template <auto Measure>
void authority_rows(Exposition& out, const Family& family, const Snapshot& /*snapshot*/,
                    const TargetView& view) {
  for (const auto& evidence : view.verdict.evidence) {
    if (!evidence.node.empty() || !evidence.last) {
      continue;
    }
    if (const std::optional<double> value = Measure(*evidence.last)) {
      out.sample(family.name, {{"target", view.verdict.target}, {"vantage", evidence.vantage}},
                 number(*value));
    }
  }
}

constexpr auto k_skew = [](const cs::Observation& last) -> std::optional<double> {
  if (!last.soa_serial_skew) {
    return std::nullopt;
  }
  return static_cast<double>(*last.soa_serial_skew);
};
constexpr auto k_drift = [](const cs::Observation& last) -> std::optional<double> {
  if (!last.ns_drift) {
    return std::nullopt;
  }
  return *last.ns_drift ? 1.0 : 0.0;
};

constexpr auto k_generation = [](const cs::Verdict& v) { return v.generation; };
constexpr auto k_maintenance = [](const cs::Verdict& v) { return v.maintenance.has_value(); };
constexpr auto k_cooldown = [](const cs::Verdict& v) { return v.cooldown.has_value(); };
constexpr auto k_fresh = [](const cs::Verdict& v) { return v.fresh; };
constexpr auto k_since = [](const cs::Verdict& v) { return unix_seconds(v.since); };
constexpr auto k_valid_until = [](const cs::Verdict& v) { return unix_seconds(v.valid_until); };
constexpr auto k_quorum_down = [](const cs::Verdict& v) { return v.votes.down_quorum; };
constexpr auto k_quorum_up = [](const cs::Verdict& v) { return v.votes.up_quorum; };

const std::array k_families{
    TargetFamily{{"crosscheck_verdict", "gauge",
                  "1 for the target's current verdict, 0 for the other states."},
                 verdict_rows},
    TargetFamily{{"crosscheck_verdict_held", "gauge",
                  "1 for the confirmed verdict held in force while disputed, unknown or "
                  "unreachable."},
                 held_rows},
    TargetFamily{{"crosscheck_verdict_generation", "gauge",
                  "Verdict generation: moves on every verdict change, survives restarts."},
                 value_row<k_generation>},
    TargetFamily{{"crosscheck_maintenance", "gauge",
                  "1 while the target is in a maintenance window: every gate holds."},
                 value_row<k_maintenance>},
    TargetFamily{
        {"crosscheck_cooldown", "gauge",
         "1 while a recorded action's cooldown holds the target's gates (until acknowledged)."},
        value_row<k_cooldown>},
    TargetFamily{{"crosscheck_verdict_fresh", "gauge",
                  "0 while a verdict restored after a restart awaits new evidence."},
                 value_row<k_fresh>},
    TargetFamily{{"crosscheck_verdict_since_timestamp_seconds", "gauge",
                  "When the current verdict began, Unix time."},
                 value_row<k_since>},
    TargetFamily{{"crosscheck_verdict_valid_until_timestamp_seconds", "gauge",
                  "Past this Unix time the verdict is stale and must not be acted on."},
                 value_row<k_valid_until>},
    TargetFamily{{"crosscheck_votes", "gauge",
                  "Distinct failure domains voting up, down, degraded or unknown, or split (their "
                  "own vantages disagree)."},
                 vote_rows},
    TargetFamily{
        {"crosscheck_quorum_down", "gauge", "Failure domains that must vote down for unhealthy."},
        value_row<k_quorum_down>},
    TargetFamily{
        {"crosscheck_quorum_up", "gauge", "Failure domains that must vote up for healthy."},
        value_row<k_quorum_up>},
    TargetFamily{{"crosscheck_vantage_vote", "gauge",
                  "1 for the vote a vantage counts for a target (after staleness and suspicion)."},
                 vantage_vote_rows},
    TargetFamily{{"crosscheck_tls_cert_expiry_seconds", "gauge",
                  "The notAfter (Unix time) of the certificate a local vantage last saw for a "
                  "target."},
                 expiry_rows<&cs::Evidence::cert_not_after>},
    TargetFamily{{"crosscheck_dns_rrsig_expiry_seconds", "gauge",
                  "The earliest expiration (Unix time) of the DNSSEC signatures over a target's "
                  "answer a local vantage last saw (dns.dnssec)."},
                 expiry_rows<&cs::Evidence::rrsig_expires>},
    TargetFamily{{"crosscheck_dns_soa_serial_skew", "gauge",
                  "How far apart the SOA serials of a target's zone servers were at a local "
                  "vantage's last check (dns.authoritative)."},
                 authority_rows<k_skew>},
    TargetFamily{{"crosscheck_dns_ns_drift", "gauge",
                  "1 when a server of a target's zone answered an NS set other than the "
                  "delegation's at a local vantage's last check (dns.authoritative)."},
                 authority_rows<k_drift>},
};

}  // namespace

std::span<const TargetFamily> target_families() {
  return k_families;
}

}  // namespace crosscheck::api::detail
