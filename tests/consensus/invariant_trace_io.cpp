// to_jsonl(): the writing half of invariant_trace_io.hpp. Fields at their
// default are left out where the reader restores the same default.
#include "invariant_trace_io.hpp"

#include "consensus/time_format.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include <array>
#include <charconv>

namespace crosscheck::testing {
namespace {

namespace json = boost::json;

json::string text(std::string_view value) {
  return {value};
}

// Why the monotonic reading is usually left out: the generator starts both
// clocks at the same count (instant_at()), so only a hand-made wall clock
// step needs the object form.
json::value instant_value(const cs::Instant& at) {
  if (at.mono.time_since_epoch() == at.wall.time_since_epoch()) {
    return text(cs::format_rfc3339(at.wall));
  }
  return json::object{{"wall", text(cs::format_rfc3339(at.wall))},
                      {"mono_ms", at.mono.time_since_epoch().count()}};
}

// Why a string: Boost 1.81's JSON parser may round a number's last bit
// (0.21261453705003622 reads back as 0.21261453705003625), and a fraction
// one bit off can move a suspicion or blast-radius boundary.
json::string exact(double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.begin(), buffer.end(), value);
  return text(std::string_view(buffer.begin(), end));
}

json::value quorum_value(const cs::Quorum& quorum) {
  return quorum.count ? json::value(*quorum.count) : json::value(text(k_majority_quorum));
}

json::object vantage_value(const cs::VantagePolicy& vantage) {
  json::object out{{"name", text(vantage.name)}, {"domain", text(vantage.domain)}};
  if (!vantage.node.empty()) {
    out["node"] = text(vantage.node);
  }
  return out;
}

json::object target_value(const cs::TargetPolicy& target) {
  json::object out{{"name", text(target.name)},
                   {"canary", target.canary},
                   {"rise", target.rise},
                   {"fall", target.fall},
                   {"stale_after_ms", target.stale_after.count()},
                   {"dispute_grace_ms", target.dispute_grace.count()},
                   {"restore_hold_ms", target.restore_hold.count()},
                   {"down_quorum", quorum_value(target.down_quorum)},
                   {"up_quorum", quorum_value(target.up_quorum)}};
  if (!target.depends_on.empty()) {  // older traces have none: they read back as written
    out["depends_on"] = json::value_from(target.depends_on);
  }
  if (target.latency) {  // likewise
    out["latency"] = json::object{{"quantile", exact(target.latency->quantile)},
                                  {"threshold_ms", target.latency->threshold.count()},
                                  {"window_ms", target.latency->window.count()}};
  }
  if (target.cert_min_remaining) {  // likewise
    out["cert_min_remaining_ms"] = target.cert_min_remaining->count();
  }
  if (target.rrsig_min_remaining) {  // likewise
    out["rrsig_min_remaining_ms"] = target.rrsig_min_remaining->count();
  }
  return out;
}

json::object policy_value(const cs::Policy& policy) {
  json::array targets;
  for (const auto& target : policy.targets) {
    targets.emplace_back(target_value(target));
  }
  json::array vantages;
  for (const auto& vantage : policy.vantages) {
    vantages.emplace_back(vantage_value(vantage));
  }
  return json::object{{"targets", std::move(targets)},
                      {"vantages", std::move(vantages)},
                      {"peers", json::value_from(policy.peers)},
                      {"peer_domains", json::value_from(policy.peer_domains)},
                      {"suspect_fraction", exact(policy.suspect_fraction)},
                      {"suspicion_grace_ms", policy.suspicion_grace.count()},
                      {"flap_limit", policy.flap_limit},
                      {"flap_window_ms", policy.flap_window.count()},
                      {"max_unhealthy_fraction", exact(policy.max_unhealthy_fraction)},
                      {"blast_radius_min_targets", policy.blast_radius_min_targets}};
}

// Fields at their default are left out, so a line shows what happened.
json::object observation_value(const cs::Observation& observation) {
  json::object out{{"target", text(observation.target)},
                   {"vantage", text(observation.vantage)},
                   {"at", instant_value(observation.at)},
                   {"outcome", text(cs::to_string(observation.outcome))}};
  if (observation.layer != cs::Layer::None) {
    out["layer"] = text(cs::to_string(observation.layer));
  }
  if (observation.last_known_good != cs::LastKnownGood::NotTried) {
    out["last_known_good"] = text(cs::to_string(observation.last_known_good));
  }
  if (observation.latency_ms != 0) {
    out["latency_ms"] = exact(observation.latency_ms);
  }
  if (!observation.detail.empty()) {
    out["detail"] = text(observation.detail);
  }
  if (!observation.answers.empty()) {
    out["answers"] = json::value_from(observation.answers);
  }
  if (observation.cert_not_after) {
    out["cert_not_after_ms"] = observation.cert_not_after->time_since_epoch().count();
  }
  if (observation.rrsig_expires) {
    out["rrsig_expires_ms"] = observation.rrsig_expires->time_since_epoch().count();
  }
  return out;
}

json::object remote_value(const cs::RemoteVote& remote) {
  json::object out{{"target", text(remote.target)},
                   {"vantage", text(remote.vantage)},
                   {"vote", text(cs::to_string(remote.vote))}};
  if (remote.observed_at) {
    out["observed_at"] = instant_value(*remote.observed_at);
  }
  if (remote.last) {
    out["last"] = observation_value(*remote.last);
  }
  return out;
}

json::object override_value(const std::string& target, const cs::Override& value) {
  return json::object{{"target", text(target)},
                      {"verdict", text(cs::to_string(value.verdict))},
                      {"reason", text(value.reason)},
                      {"by", text(value.by)},
                      {"set_at", text(cs::format_rfc3339(value.set_at))},
                      {"expires_at", text(cs::format_rfc3339(value.expires_at))}};
}

json::object step_value(const Step& step) {
  json::object out{{"t", instant_value(step.at)}};
  switch (step.kind) {
    case Step::Kind::Observe:
      out["observe"] = observation_value(step.observation);
      break;
    case Step::Kind::Remote:
      out["remote"] = remote_value(step.remote);
      break;
    case Step::Kind::AddRemote:
      out["add_remote"] = vantage_value(step.vantage);
      break;
    case Step::Kind::SetOverride:
      out["set_override"] = override_value(step.target, step.override_value);
      break;
    case Step::Kind::ClearOverride:
      out["clear_override"] = text(step.target);
      break;
    case Step::Kind::Restart:
      out["restart"] = true;
      break;
    case Step::Kind::Evaluate:
      out["evaluate"] = true;
      break;
  }
  return out;
}

}  // namespace

std::string to_jsonl(const Trace& trace) {
  std::string out =
      json::serialize(json::object{{"seed", trace.seed}, {"policy", policy_value(trace.policy)}});
  out += '\n';
  for (const auto& step : trace.steps) {
    out += json::serialize(step_value(step));
    out += '\n';
  }
  return out;
}

}  // namespace crosscheck::testing
