#include "consensus/types.hpp"

#include <array>
#include <atomic>
#include <utility>

namespace crosscheck::consensus {
namespace {

// One table per enum: the single place its spelling lives.
template <typename Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Names<Outcome, 3> k_outcomes{
    {{Outcome::Up, "up"}, {Outcome::Down, "down"}, {Outcome::ObserverError, "observer_error"}}};
constexpr Names<Layer, 6> k_layers{{{Layer::None, "none"},
                                    {Layer::Dns, "dns"},
                                    {Layer::Connect, "connect"},
                                    {Layer::Tls, "tls"},
                                    {Layer::Http, "http"},
                                    {Layer::App, "app"}}};
constexpr Names<LastKnownGood, 3> k_last_known_good{{{LastKnownGood::NotTried, "not_tried"},
                                                     {LastKnownGood::Reachable, "reachable"},
                                                     {LastKnownGood::Unreachable, "unreachable"}}};
constexpr Names<Vote, 4> k_votes{{{Vote::Up, "up"},
                                  {Vote::Down, "down"},
                                  {Vote::Unknown, "unknown"},
                                  {Vote::Degraded, "degraded"}}};
constexpr Names<VerdictKind, 6> k_verdicts{{{VerdictKind::Healthy, "healthy"},
                                            {VerdictKind::Unhealthy, "unhealthy"},
                                            {VerdictKind::Disputed, "disputed"},
                                            {VerdictKind::Unknown, "unknown"},
                                            {VerdictKind::Unreachable, "unreachable"},
                                            {VerdictKind::Degraded, "degraded"}}};
constexpr Names<ReasonCode, 8> k_reasons{{{ReasonCode::Quorum, "quorum"},
                                          {ReasonCode::Dispute, "dispute"},
                                          {ReasonCode::Insufficient, "insufficient"},
                                          {ReasonCode::Flapping, "flapping"},
                                          {ReasonCode::BlastRadius, "blast_radius"},
                                          {ReasonCode::Override, "override"},
                                          {ReasonCode::Restored, "restored"},
                                          {ReasonCode::Dependency, "dependency"}}};
constexpr Names<FailureScope, 4> k_scopes{{{FailureScope::None, "none"},
                                           {FailureScope::Service, "service"},
                                           {FailureScope::Dns, "dns"},
                                           {FailureScope::Observer, "observer"}}};
constexpr Names<EventKind, 28> k_events{
    {{EventKind::VerdictChanged, "verdict_changed"},
     {EventKind::DisputeOpened, "dispute"},
     {EventKind::DisputeResolved, "dispute_resolved"},
     {EventKind::FlappingStarted, "flapping"},
     {EventKind::FlappingStopped, "flapping_stopped"},
     {EventKind::BlastRadiusHeld, "blast_radius"},
     {EventKind::BlastRadiusReleased, "blast_radius_released"},
     {EventKind::VantageSuspect, "vantage_suspect"},
     {EventKind::VantageCleared, "vantage_cleared"},
     {EventKind::OverrideExpired, "override_expired"},
     {EventKind::ConfigRejected, "config_rejected"},
     {EventKind::ConfigAccepted, "config_accepted"},
     {EventKind::PeerUnreachable, "peer_unreachable"},
     {EventKind::PeerReachable, "peer_reachable"},
     {EventKind::SplitOpened, "split"},
     {EventKind::SplitResolved, "split_resolved"},
     {EventKind::QuorumUnreachable, "quorum_unreachable"},
     {EventKind::QuorumReachable, "quorum_reachable"},
     {EventKind::CanaryDown, "canary_down"},
     {EventKind::CanaryRecovered, "canary_recovered"},
     {EventKind::PeerUnauthenticated, "peer_unauthenticated"},
     {EventKind::MaintenanceStarted, "maintenance_started"},
     {EventKind::MaintenanceEnded, "maintenance_ended"},
     {EventKind::PeerAuthenticated, "peer_authenticated"},
     {EventKind::CertExpiring, "cert_expiring"},
     {EventKind::CertExpiringResolved, "cert_expiring_resolved"},
     {EventKind::RrsigExpiring, "rrsig_expiring"},
     {EventKind::RrsigExpiringResolved, "rrsig_expiring_resolved"}}};

template <typename Enum, std::size_t N>
std::string_view name_of(const Names<Enum, N>& names, Enum value) {
  for (const auto& [item, name] : names) {
    if (item == value) {
      return name;
    }
  }
  return "invalid";
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(const Names<Enum, N>& names, std::string_view text) {
  for (const auto& [item, name] : names) {
    if (name == text) {
      return item;
    }
  }
  return std::nullopt;
}

}  // namespace

Instant operator+(const Instant& at, Duration d) {
  return Instant{at.mono + d, at.wall + d};
}

std::string_view to_string(Outcome value) {
  return name_of(k_outcomes, value);
}
std::string_view to_string(Layer value) {
  return name_of(k_layers, value);
}
std::string_view to_string(LastKnownGood value) {
  return name_of(k_last_known_good, value);
}
std::string_view to_string(Vote value) {
  return name_of(k_votes, value);
}
std::string_view to_string(VerdictKind value) {
  return name_of(k_verdicts, value);
}
std::string_view to_string(ReasonCode value) {
  return name_of(k_reasons, value);
}
std::string_view to_string(FailureScope value) {
  return name_of(k_scopes, value);
}
std::string_view to_string(EventKind kind) {
  return name_of(k_events, kind);
}

std::optional<Outcome> parse_outcome(std::string_view text) {
  return parse_name(k_outcomes, text);
}
std::optional<Layer> parse_layer(std::string_view text) {
  return parse_name(k_layers, text);
}
std::optional<Vote> parse_vote(std::string_view text) {
  return parse_name(k_votes, text);
}
std::optional<LastKnownGood> parse_last_known_good(std::string_view text) {
  return parse_name(k_last_known_good, text);
}
std::optional<VerdictKind> parse_verdict_kind(std::string_view text) {
  return parse_name(k_verdicts, text);
}
std::optional<FailureScope> parse_failure_scope(std::string_view text) {
  return parse_name(k_scopes, text);
}

std::string_view to_string(MaintenanceSource value) {
  return value == MaintenanceSource::Api ? "api" : "config";
}

bool Event::is_escalation() const {
  return kind != EventKind::VerdictChanged && kind != EventKind::OverrideExpired &&
         kind != EventKind::MaintenanceStarted && kind != EventKind::MaintenanceEnded;
}

EvidenceList::EvidenceList(std::vector<Evidence> items)
    : items_(items.empty() ? nullptr : std::make_shared<std::vector<Evidence>>(std::move(items))) {}

EvidenceList::EvidenceList(std::initializer_list<Evidence> items)
    : EvidenceList(std::vector<Evidence>(items)) {}

const std::vector<Evidence>& EvidenceList::items() const {
  static const std::vector<Evidence> k_none;
  return items_ ? *items_ : k_none;
}

std::vector<Evidence>& EvidenceList::edit() {
  // use_count() is exact when it says 1: no other EvidenceList holds the
  // list, and none can copy it meanwhile (it would need this object). The
  // fence orders this thread's writes after the reads of the thread that
  // let go of the last other copy (use_count() reads relaxed).
  if (!items_) {
    items_ = std::make_shared<std::vector<Evidence>>();
  } else if (items_.use_count() > 1) {
    items_ = std::make_shared<std::vector<Evidence>>(*items_);
  } else {
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *items_;
}

std::optional<SeenExpiry> earliest_expiry(const std::vector<Evidence>& evidence,
                                          std::optional<WallTime> Evidence::*field) {
  std::optional<SeenExpiry> earliest;
  for (const auto& item : evidence) {
    const auto& seen = item.*field;
    if (seen && (!earliest || *seen < earliest->at)) {
      earliest = SeenExpiry{*seen, item.vantage};
    }
  }
  return earliest;
}

bool Event::is_resolution() const {
  return kind == EventKind::DisputeResolved || kind == EventKind::FlappingStopped ||
         kind == EventKind::BlastRadiusReleased || kind == EventKind::VantageCleared ||
         kind == EventKind::ConfigAccepted || kind == EventKind::PeerReachable ||
         kind == EventKind::SplitResolved || kind == EventKind::QuorumReachable ||
         kind == EventKind::CanaryRecovered || kind == EventKind::PeerAuthenticated ||
         kind == EventKind::CertExpiringResolved || kind == EventKind::RrsigExpiringResolved;
}

}  // namespace crosscheck::consensus
