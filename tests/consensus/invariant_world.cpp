#include "invariant_world.hpp"

#include "consensus/gate.hpp"
#include "consensus/time_format.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace crosscheck::testing {
namespace {

using cs::Duration;
using cs::EventKind;
using cs::Outcome;
using cs::VerdictKind;
using cs::Vote;

const cs::WallTime k_start = *cs::parse_rfc3339("2025-10-20T06:00:00Z");

cs::Instant instant_at(Duration since_start) {
  return cs::Instant{cs::MonoTime{k_start.time_since_epoch()} + since_start, k_start + since_start};
}

// ---------------------------------------------------------------- generator

enum class Behaviour : std::uint8_t { Honest, Liar, Congested, Flappy, Silent };

// How one kind of expiry is drawn, in whole `unit`s (each range inclusive).
struct ExpiryShape {
  Duration unit;
  std::pair<int, int> first;      // the one in force at the start
  std::pair<int, int> threshold;  // the target's minimum remaining
  std::pair<int, int> renewal;    // how much later a renewed one ends
  std::pair<int, int> older;      // how much earlier an older one still served ends
  double shown = 0.7;             // a target's checks show one (in a world with any)
  double with_threshold = 0.6;    // such a target has a threshold
  double renewed = 0.003;         // a check finds it renewed
  double served_older = 0.1;      // a check is shown an older one
};

// Certificates (docs/checks.md "Certificates"): days to weeks, tls.min_days
// of 1-30 days, renewed for months; an address behind round-robin DNS still
// serving an older one.
constexpr ExpiryShape k_certificate{
    Duration{std::chrono::days{1}}, {-2, 40}, {1, 30}, {20, 90}, {1, 60}};

// DNSSEC signatures over the answer (docs/checks.md "DNSSEC"): hours to a
// week left, dns.rrsig_min_remaining of hours to a few days, re-signed more
// often than certificates are renewed, for days to two weeks more; a
// resolver's cache still serving an older one now and then.
constexpr ExpiryShape k_signatures{Duration{std::chrono::hours{1}},
                                   {1, 24 * 7},
                                   {2, 24 * 3},
                                   {24, 24 * 14},
                                   {1, 24 * 2},
                                   0.7,
                                   0.6,
                                   0.01,
                                   0.02};

// Something a target's checks show that runs out (a certificate, the DNSSEC
// signatures over its answer), in some worlds. Drawn from a generator of its
// own, so a world without it is the world it was before it existed, and a
// seed draws the same certificates as before signatures existed.
class Expiry {
 public:
  Expiry(std::uint64_t seed, ExpiryShape shape) : rng_(seed), shape_(std::move(shape)) {}

  // Which targets' checks show one, and thresholds (`field`) for some.
  void add(std::vector<cs::TargetPolicy>& targets,
           std::optional<Duration> cs::TargetPolicy::*field) {
    const bool any = chance(0.5);
    for (auto& target : targets) {
      shows_.push_back(any && chance(shape_.shown));
      current_.push_back(k_start + units(shape_.first));
      if (shows_.back() && chance(shape_.with_threshold)) {
        target.*field = units(shape_.threshold);
      }
    }
  }

  // What a check of target t was shown, if anything: mostly the target's
  // current one, sometimes an older one; a failed check mostly none. Now
  // and then the target renews.
  std::optional<cs::WallTime> shown(std::size_t t, Outcome outcome) {
    if (!shows_[t] || (outcome == Outcome::Down && chance(0.7))) {
      return std::nullopt;
    }
    if (chance(shape_.renewed)) {
      current_[t] += units(shape_.renewal);
    }
    return chance(shape_.served_older) ? current_[t] - units(shape_.older) : current_[t];
  }

 private:
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  Duration units(std::pair<int, int> range) {
    return shape_.unit * std::uniform_int_distribution<int>(range.first, range.second)(rng_);
  }

  std::mt19937_64 rng_;
  ExpiryShape shape_;
  std::vector<bool> shows_;            // [target]: its checks show one
  std::vector<cs::WallTime> current_;  // [target]: the one it serves now
};

class Generator {
 public:
  Generator(std::uint64_t seed, int evaluations)
      : rng_(seed),
        dependency_rng_(seed ^ 0x9e3779b97f4a7c15ULL),
        latency_rng_(seed ^ 0x5851f42d4c957f2dULL),
        certificates_(seed ^ 0x2545f4914f6cdd1dULL, k_certificate),
        signatures_(seed ^ 0x1d8e4e27c47d124fULL, k_signatures),
        peer_rng_(seed ^ 0x4cf5ad432745937fULL),
        budget_(evaluations) {
    trace_.seed = seed;
  }

  // The world's rules; call before run().
  const cs::Policy& make_world() {
    make_policy();
    return trace_.policy;
  }

  // Hands every step to `emit` as it is made (a trace of a million
  // evaluations is never held in memory).
  void run(const std::function<void(const Step&)>& emit) {
    emit_ = &emit;
    for (const auto& vantage : remote_) {
      if (chance(0.7)) {
        register_remote(vantage);
      }
    }
    while (evaluations_ < budget_) {
      tick();
    }
  }

  Trace trace() {
    make_world();
    run([this](const Step& step) { trace_.steps.push_back(step); });
    return std::move(trace_);
  }

 private:
  int uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  Duration ms(int low, int high) { return Duration{uniform(low, high)}; }
  // A uniform index into a non-empty list of `size` items.
  std::size_t pick(std::size_t size) {
    return static_cast<std::size_t>(uniform(0, static_cast<int>(size) - 1));
  }

  void make_policy() {
    auto& policy = trace_.policy;
    const int domains = uniform(2, 7);
    for (int d = 0; d < domains; ++d) {
      const int count = uniform(1, 3);
      for (int v = 0; v < count; ++v) {
        const auto name = "d" + std::to_string(d) + "v" + std::to_string(v);
        policy.vantages.push_back(cs::VantagePolicy{name, "", "d" + std::to_string(d)});
      }
    }
    // Peers: their vantages report a domain of the peer's own, a local one,
    // or one invented per vantage (a lying peer making a quorum of its
    // own); some peers declare the domain they own (a local one at times,
    // which merges with it), sometimes with a local one besides: their
    // votes for any other domain are dropped.
    const int peers = uniform(0, 2);
    for (int p = 0; p < peers; ++p) {
      const auto node = "peer" + std::to_string(p);
      policy.peers.push_back(node);
      const auto own =
          chance(0.3) ? "d" + std::to_string(uniform(0, domains - 1)) : "pd" + std::to_string(p);
      if (chance(0.5)) {
        policy.peer_domains[node] = {own};
        const auto local = "d" + std::to_string(uniform(0, domains - 1));
        if (chance(0.3) && local != own) {
          policy.peer_domains[node].push_back(local);
        }
      }
      for (int v = 0; v < uniform(1, 3); ++v) {
        const auto domain = chance(0.7)   ? own
                            : chance(0.5) ? "d" + std::to_string(uniform(0, domains - 1))
                                          : node + "x" + std::to_string(v);
        remote_.push_back(cs::VantagePolicy{node + "/v" + std::to_string(v), node, domain});
      }
    }
    interval_ = ms(1'000, 10'000);
    const int targets = chance(0.85) ? uniform(1, 6) : uniform(7, 20);
    for (int t = 0; t < targets; ++t) {
      cs::TargetPolicy target;
      target.name = "t" + std::to_string(t);
      target.canary = t > 0 && chance(0.15);
      target.rise = uniform(1, 3);
      target.fall = uniform(1, 4);
      target.stale_after = interval_ * uniform(1, 3) + ms(0, 3'000);
      target.dispute_grace = chance(0.2) ? Duration{0} : interval_ * uniform(1, 2);
      target.restore_hold = interval_ * target.fall + ms(0, 2'000);
      if (chance(0.25)) {
        target.down_quorum.count = uniform(1, domains + 2);
      }
      if (chance(0.15)) {
        target.up_quorum.count = uniform(1, domains + 1);
      }
      policy.targets.push_back(target);
      truth_.push_back(!target.canary || chance(0.9));
      plane_.push_back(random_plane());
    }
    add_dependencies();
    add_latency();
    certificates_.add(policy.targets, &cs::TargetPolicy::cert_min_remaining);
    signatures_.add(policy.targets, &cs::TargetPolicy::rrsig_min_remaining);
    policy.suspect_fraction = std::uniform_real_distribution<double>(0.2, 0.7)(rng_);
    policy.suspicion_grace = chance(0.2) ? Duration{0} : interval_ * uniform(1, 2);
    policy.flap_limit = uniform(2, 6);
    policy.flap_window = interval_ * uniform(5, 60);
    policy.max_unhealthy_fraction = std::uniform_real_distribution<double>(0.2, 0.8)(rng_);
    policy.blast_radius_min_targets = uniform(2, 6);
    for (std::size_t v = 0; v < policy.vantages.size() + remote_.size(); ++v) {
      behaviour_.push_back(random_behaviour());
      next_due_.emplace_back(policy.targets.size(), ms(0, static_cast<int>(interval_.count())));
      lied_.emplace_back();
      for (std::size_t t = 0; t < policy.targets.size(); ++t) {
        lied_.back().push_back(chance(0.5));
      }
    }
    last_.resize(policy.targets.size() * policy.vantages.size());
    for (std::size_t v = 0; v < behaviour_.size(); ++v) {
      slow_observer_.push_back(latency_chance(0.15));
    }
  }

  bool latency_chance(double p) { return std::bernoulli_distribution(p)(latency_rng_); }

  // Latency objectives in some worlds (docs/degraded.md), drawn from a
  // generator of their own like dependencies: a world without them is the
  // world it was before they existed.
  void add_latency() {
    auto& targets = trace_.policy.targets;
    const bool any = latency_chance(0.5);
    for (auto& target : targets) {
      slow_.push_back(latency_chance(0.3));
      if (!any || target.canary || !latency_chance(0.6)) {
        continue;
      }
      constexpr std::array<double, 3> k_quantiles{0.5, 0.9, 0.99};
      cs::LatencyObjective objective;
      objective.quantile =
          k_quantiles[std::uniform_int_distribution<std::size_t>(0, 2)(latency_rng_)];
      objective.threshold = Duration{std::uniform_int_distribution<int>(50, 400)(latency_rng_)};
      objective.window = interval_ * std::uniform_int_distribution<int>(5, 8)(latency_rng_);
      target.latency = objective;
    }
  }

  // A passing check's latency: slow targets and slow observers (the 2021
  // case: the observer's own network congested) above the threshold.
  double latency_for(std::size_t v, std::size_t t) {
    const auto& target = trace_.policy.targets[t];
    const double threshold =
        target.latency ? static_cast<double>(target.latency->threshold.count()) : 200.0;
    const bool slow = slow_[t] || slow_observer_[v];
    return slow ? std::uniform_real_distribution<double>(threshold * 0.8,
                                                         threshold * 3)(latency_rng_)
                : std::uniform_real_distribution<double>(1, threshold * 0.7)(latency_rng_);
  }

  Behaviour random_behaviour() {
    const int roll = uniform(0, 99);
    if (roll < 55) {
      return Behaviour::Honest;
    }
    if (roll < 70) {
      return Behaviour::Liar;
    }
    if (roll < 80) {
      return Behaviour::Congested;
    }
    if (roll < 90) {
      return Behaviour::Flappy;
    }
    return Behaviour::Silent;
  }

  void register_remote(const cs::VantagePolicy& vantage) {
    if (std::find(registered_.begin(), registered_.end(), vantage.name) != registered_.end()) {
      return;
    }
    registered_.push_back(vantage.name);
    Step step;
    step.kind = Step::Kind::AddRemote;
    step.at = instant_at(now_);
    step.vantage = vantage;
    (*emit_)(step);
  }

  // A peer says a registered vantage of its own is in another of the
  // domains it declared now: its evidence must show the new one at once
  // (and count it there), though none of its votes changed.
  void move_remote(cs::VantagePolicy& vantage) {
    const auto declared = trace_.policy.peer_domains.find(vantage.node);
    if (std::find(registered_.begin(), registered_.end(), vantage.name) == registered_.end() ||
        declared == trace_.policy.peer_domains.end() || declared->second.size() < 2) {
      return;
    }
    vantage.domain = declared->second[pick(declared->second.size())];
    Step step;
    step.kind = Step::Kind::AddRemote;
    step.at = instant_at(now_);
    step.vantage = vantage;
    (*emit_)(step);
  }

  // Where a failing check fails: a layer and, for DNS, what the
  // last-known-good addresses did.
  // depends_on in some worlds: a non-canary target on 1-2 earlier ones (no
  // cycles, as config/ guarantees). Drawn from a generator of its own, so a
  // world without dependencies is the world it was before they existed.
  void add_dependencies() {
    auto& targets = trace_.policy.targets;
    if (!std::bernoulli_distribution(0.4)(dependency_rng_)) {
      return;
    }
    for (std::size_t t = 1; t < targets.size(); ++t) {
      if (targets[t].canary || !std::bernoulli_distribution(0.5)(dependency_rng_)) {
        continue;
      }
      for (int n = 0; n < 2; ++n) {
        const auto parent = std::uniform_int_distribution<std::size_t>(0, t - 1)(dependency_rng_);
        const auto& name = targets[parent].name;
        if (!targets[parent].canary &&
            std::find(targets[t].depends_on.begin(), targets[t].depends_on.end(), name) ==
                targets[t].depends_on.end()) {
          targets[t].depends_on.push_back(name);
        }
      }
    }
  }

  // A child whose parent is down goes down too, failing the same way, most
  // of the time: what depends_on is for.
  void follow_parents() {
    const auto& targets = trace_.policy.targets;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      for (const auto& name : targets[t].depends_on) {
        const auto parent = static_cast<std::size_t>(std::stoi(name.substr(1)));
        if (!truth_[parent] && truth_[t] && std::bernoulli_distribution(0.3)(dependency_rng_)) {
          truth_[t] = false;
          plane_[t] = plane_[parent];
        }
      }
    }
  }

  std::pair<cs::Layer, cs::LastKnownGood> random_plane() {
    constexpr std::array<cs::Layer, 4> k_layers{cs::Layer::Dns, cs::Layer::Connect, cs::Layer::Tls,
                                                cs::Layer::Http};
    constexpr std::array<cs::LastKnownGood, 3> k_lkg{
        cs::LastKnownGood::NotTried, cs::LastKnownGood::Reachable, cs::LastKnownGood::Unreachable};
    const auto layer = k_layers[static_cast<std::size_t>(uniform(0, 3))];
    return {layer, layer == cs::Layer::Dns ? k_lkg[static_cast<std::size_t>(uniform(0, 2))]
                                           : cs::LastKnownGood::NotTried};
  }

  Outcome outcome_for(std::size_t v, std::size_t t) {
    const bool up = truth_[t];
    switch (behaviour_[v]) {
      case Behaviour::Honest:
        return chance(0.01) ? Outcome::ObserverError : (up ? Outcome::Up : Outcome::Down);
      case Behaviour::Liar:
        return lied_[v][t] ? Outcome::Down : (up ? Outcome::Up : Outcome::Down);
      case Behaviour::Congested:
        return chance(0.5) ? Outcome::ObserverError : Outcome::Down;
      case Behaviour::Flappy:
        return chance(0.5) ? Outcome::Up : Outcome::Down;
      case Behaviour::Silent:
        break;
    }
    return Outcome::Up;
  }

  void observe_local(std::size_t v, std::size_t t) {
    const auto& policy = trace_.policy;
    auto& last = last_[t * policy.vantages.size() + v];
    Step step;
    step.kind = Step::Kind::Observe;
    step.at = instant_at(now_);
    if (last && chance(0.04)) {
      step.observation = *last;  // delivered again (at-least-once)
      (*emit_)(step);
      return;
    }
    cs::Observation observation;
    observation.target = policy.targets[t].name;
    observation.vantage = policy.vantages[v].name;
    // Late or reordered deliveries: the observation is older than now.
    const Duration late = chance(0.05) ? ms(0, static_cast<int>(interval_.count())) : ms(0, 200);
    observation.at = instant_at(std::max(Duration{0}, now_ - late));
    observation.outcome = outcome_for(v, t);
    observation.latency_ms = latency_for(v, t);
    observation.cert_not_after = certificates_.shown(t, observation.outcome);
    observation.rrsig_expires = signatures_.shown(t, observation.outcome);
    if (observation.outcome == Outcome::Down) {
      // Honest vantages mostly agree on where the target fails; liars and
      // the rest do not.
      const bool agree = behaviour_[v] == Behaviour::Honest && chance(0.9);
      std::tie(observation.layer, observation.last_known_good) = agree ? plane_[t] : random_plane();
    }
    step.observation = observation;
    last = observation;
    (*emit_)(step);
  }

  void observe_remote(std::size_t r, std::size_t t) {
    const auto& vantage = remote_[r];
    if (std::find(registered_.begin(), registered_.end(), vantage.name) == registered_.end()) {
      return;
    }
    const std::size_t v = trace_.policy.vantages.size() + r;
    Step step;
    step.kind = Step::Kind::Remote;
    step.at = instant_at(now_);
    step.remote.target = trace_.policy.targets[t].name;
    step.remote.vantage = vantage.name;
    const auto outcome = outcome_for(v, t);
    step.remote.vote = outcome == Outcome::Up     ? Vote::Up
                       : outcome == Outcome::Down ? Vote::Down
                                                  : Vote::Unknown;
    // A version 2 peer's settled vote may be degraded (its own objective).
    if (step.remote.vote == Vote::Up && (slow_[t] || slow_observer_[v]) && latency_chance(0.8)) {
      step.remote.vote = Vote::Degraded;
    }
    if (!chance(0.05)) {
      const Duration age =
          ms(0, static_cast<int>(trace_.policy.targets[t].stale_after.count()) * 3 / 2);
      step.remote.observed_at = instant_at(std::max(Duration{0}, now_ - age));
    }
    add_peer_expiries(step.remote);
    (*emit_)(step);
  }

  // A passing peer vote now and then comes with its last observation, which
  // shows a certificate and signatures about to run out: the engine counts
  // neither (only local vantages' are watched). A generator of its own, so
  // the world is otherwise the one it was.
  void add_peer_expiries(cs::RemoteVote& remote) {
    if (remote.vote == Vote::Down || remote.vote == Vote::Unknown ||
        !std::bernoulli_distribution(0.2)(peer_rng_)) {
      return;  // a down vote's last observation would move the failing layer
    }
    const auto soon = [&] {
      return k_start + std::chrono::hours{std::uniform_int_distribution<int>(-2, 48)(peer_rng_)};
    };
    cs::Observation last;
    last.target = remote.target;
    last.vantage = remote.vantage;
    last.at = remote.observed_at.value_or(instant_at(now_));
    last.outcome = Outcome::Up;
    last.cert_not_after = soon();
    last.rrsig_expires = soon();
    remote.last = last;
  }

  void tick() {
    const auto& policy = trace_.policy;
    now_ += ms(50, static_cast<int>(interval_.count()));
    // The world changes: outages start and end, vantages change behaviour.
    for (std::size_t t = 0; t < truth_.size(); ++t) {
      if (chance(policy.targets[t].canary ? 0.002 : 0.01)) {
        truth_[t] = !truth_[t];
        plane_[t] = random_plane();
      }
    }
    follow_parents();
    for (std::size_t t = 0; t < slow_.size(); ++t) {
      if (latency_chance(0.01)) {
        slow_[t] = !slow_[t];
      }
    }
    for (auto& behaviour : behaviour_) {
      if (chance(0.005)) {
        behaviour = random_behaviour();
      }
    }
    const std::size_t locals = policy.vantages.size();
    for (std::size_t v = 0; v < behaviour_.size(); ++v) {
      for (std::size_t t = 0; t < policy.targets.size(); ++t) {
        auto& due = next_due_[v][t];
        if (due > now_) {
          continue;
        }
        due =
            now_ + interval_ +
            ms(-static_cast<int>(interval_.count()) / 10, static_cast<int>(interval_.count()) / 10);
        if (behaviour_[v] == Behaviour::Silent) {
          continue;
        }
        if (v < locals) {
          observe_local(v, t);
        } else {
          observe_remote(v - locals, t);
        }
      }
    }
    if (!remote_.empty() && chance(0.01)) {
      register_remote(remote_[pick(remote_.size())]);
    }
    if (!remote_.empty() && chance(0.003)) {
      move_remote(remote_[pick(remote_.size())]);
    }
    if (chance(0.004)) {
      Step step;
      step.kind = Step::Kind::SetOverride;
      step.at = instant_at(now_);
      step.target = policy.targets[pick(policy.targets.size())].name;
      step.override_value.verdict = chance(0.5) ? VerdictKind::Healthy : VerdictKind::Unhealthy;
      step.override_value.reason = "drill";
      step.override_value.by = "test";
      step.override_value.set_at = step.at.wall;
      step.override_value.expires_at = step.at.wall + interval_ * uniform(1, 10);
      (*emit_)(step);
    }
    if (chance(0.002)) {
      Step step;
      step.kind = Step::Kind::ClearOverride;
      step.at = instant_at(now_);
      step.target = policy.targets[pick(policy.targets.size())].name;
      (*emit_)(step);
    }
    if (chance(0.004)) {
      Step step;
      step.kind = Step::Kind::Restart;
      step.at = instant_at(now_);
      (*emit_)(step);
    }
    Step evaluate;
    evaluate.kind = Step::Kind::Evaluate;
    evaluate.at = instant_at(now_);
    (*emit_)(evaluate);
    ++evaluations_;
  }

  std::mt19937_64 rng_;
  std::mt19937_64 dependency_rng_;
  std::mt19937_64 latency_rng_;
  Expiry certificates_;
  Expiry signatures_;
  std::mt19937_64 peer_rng_;
  int budget_;
  int evaluations_ = 0;
  Trace trace_;
  const std::function<void(const Step&)>* emit_ = nullptr;
  Duration now_{0};
  Duration interval_{10'000};
  std::vector<bool> truth_;
  std::vector<std::pair<cs::Layer, cs::LastKnownGood>> plane_;  // where each target fails
  std::vector<Behaviour> behaviour_;                            // locals, then remotes
  std::vector<bool> slow_;                                      // [target]: answers slowly
  std::vector<bool> slow_observer_;                             // [vantage]: sees everything slowly
  std::vector<std::vector<Duration>> next_due_;                 // [vantage][target]
  std::vector<std::vector<bool>> lied_;               // [vantage][target]: a liar's targets
  std::vector<std::optional<cs::Observation>> last_;  // [target * locals + vantage]
  std::vector<cs::VantagePolicy> remote_;
  std::vector<std::string> registered_;
};

// ------------------------------------------------------------ reference model

// An independent statement of DESIGN.md's vote rules (hysteresis, staleness,
// idempotence), written apart from consensus/hysteresis.cpp on purpose.
struct ReferenceVote {
  Vote settled = Vote::Unknown;
  int ups = 0;
  int downs = 0;
  std::optional<cs::MonoTime> last_counted;  // last up or down
  std::optional<cs::MonoTime> last_any;      // last accepted observation of any outcome
  std::optional<cs::Observation> newest;     // that observation (a peer's: its last)
  // Passing checks' (time, latency) since the vote last went stale.
  std::vector<std::pair<cs::MonoTime, double>> samples{};
  // What a local vantage was last shown that runs out, kept through failed
  // checks and staleness; a peer's vote carries neither.
  std::optional<cs::WallTime> cert_not_after{};
  std::optional<cs::WallTime> rrsig_expires{};

  bool stale(cs::MonoTime now, Duration stale_after) const {
    return !last_counted || now - *last_counted > stale_after;
  }
  // Returns false when the observation must be refused (duplicate or older).
  bool observe(const cs::Observation& observation, const cs::TargetPolicy& rules) {
    const auto at = observation.at.mono;
    if (last_any && at <= *last_any) {
      return false;
    }
    last_any = at;
    newest = observation;
    if (observation.cert_not_after) {
      cert_not_after = observation.cert_not_after;
    }
    // Signatures: an answer that got through DNS says what they are now,
    // none included; a check failed at DNS keeps the last ones.
    if (observation.rrsig_expires || observation.outcome == Outcome::Up ||
        (observation.outcome == Outcome::Down && observation.layer != cs::Layer::Dns)) {
      rrsig_expires = observation.rrsig_expires;
    }
    if (observation.outcome == Outcome::ObserverError) {
      return true;
    }
    if (stale(at, rules.stale_after)) {
      *this = ReferenceVote{Vote::Unknown, 0, 0, std::nullopt, at, observation, {}, cert_not_after,
                            rrsig_expires};
    }
    last_counted = at;
    if (observation.outcome == Outcome::Up) {
      samples.emplace_back(at, observation.latency_ms);
      downs = 0;
      if (++ups >= rules.rise) {
        settled = Vote::Up;
      }
    } else {
      ups = 0;
      if (++downs >= rules.fall) {
        settled = Vote::Down;
      }
    }
    return true;
  }
  // docs/degraded.md: the quantile (nearest rank) of the passing checks in
  // the objective's window ending now, when they number at least 5.
  std::optional<double> quantile(cs::MonoTime now, const cs::TargetPolicy& rules) const {
    if (!rules.latency) {
      return std::nullopt;
    }
    std::vector<double> inside;
    for (const auto& [at, latency] : samples) {
      if (at >= now - rules.latency->window && at <= now) {
        inside.push_back(latency);
      }
    }
    if (inside.size() < 5) {
      return std::nullopt;
    }
    std::sort(inside.begin(), inside.end());
    const auto rank = static_cast<std::size_t>(
        std::ceil(rules.latency->quantile * static_cast<double>(inside.size())));
    return inside[std::max<std::size_t>(rank, 1) - 1];
  }
  // DESIGN.md plus docs/degraded.md: an up vote whose quantile exceeds the
  // objective's threshold is degraded.
  Vote at(cs::MonoTime now, const cs::TargetPolicy& rules) const {
    if (stale(now, rules.stale_after)) {
      return Vote::Unknown;
    }
    if (settled != Vote::Up || !rules.latency) {
      return settled;
    }
    const auto seen = quantile(now, rules);
    return seen && *seen > static_cast<double>(rules.latency->threshold.count()) ? Vote::Degraded
                                                                                 : Vote::Up;
  }
};

// The expiries the engine watches alike (docs/checks.md "Certificates",
// "DNSSEC"), stated apart from consensus/engine_episodes.cpp: an episode
// opens when the earliest one the local vantages were shown is closer than
// the target's threshold, and resolves, as its own kind, once that has been
// past the threshold for TargetPolicy::k_renewal_hold.
struct WatchedExpiry {
  EventKind opens;
  EventKind resolves;
  std::optional<Duration> cs::TargetPolicy::*threshold;
  std::optional<cs::WallTime> ReferenceVote::*shown;
  std::optional<cs::WallTime> cs::Evidence::*evidence;
  std::optional<cs::WallTime> cs::Verdict::*earliest;
  std::string_view what;     // "a certificate"
  std::string_view setting;  // "tls.min_days"
};

const std::array<WatchedExpiry, 2> k_watched{{
    {EventKind::CertExpiring, EventKind::CertExpiringResolved,
     &cs::TargetPolicy::cert_min_remaining, &ReferenceVote::cert_not_after,
     &cs::Evidence::cert_not_after, &cs::Verdict::cert_not_after, "a certificate", "tls.min_days"},
    {EventKind::RrsigExpiring, EventKind::RrsigExpiringResolved,
     &cs::TargetPolicy::rrsig_min_remaining, &ReferenceVote::rrsig_expires,
     &cs::Evidence::rrsig_expires, &cs::Verdict::rrsig_expires, "DNSSEC signatures",
     "dns.rrsig_min_remaining"},
}};

const WatchedExpiry* watched(EventKind opens) {
  for (const auto& watch : k_watched) {
    if (watch.opens == opens) {
      return &watch;
    }
  }
  return nullptr;
}

struct OpenEpisode {
  EventKind kind;
  std::string subject;  // target or vantage
  std::string reason;
  bool vantage = false;
};

bool is_opening(EventKind kind) {
  cs::Event probe;
  probe.kind = kind;
  return probe.is_escalation() && !probe.is_resolution();
}

std::string subject_of(const cs::Event& event) {
  return event.target.empty() ? "vantage " + event.vantage : event.target;
}

class Runner {
 public:
  explicit Runner(const cs::Policy& policy, const RunOptions& options = {})
      : policy_(policy), options_(options), engine_(std::make_unique<cs::Engine>(policy)) {
    for (const auto& vantage : policy.vantages) {
      domain_of_[vantage.name] = vantage.domain;
    }
    for (const auto& target : policy.targets) {
      published_[target.name] = Published{};
    }
  }

  // Applies one step; false once an invariant is broken (see result()).
  bool apply(const Step& step) {
    if (violation_) {
      return false;
    }
    this->step(step);
    if (step.kind == Step::Kind::Evaluate) {
      ++result_.evaluations;
    }
    if (violation_) {
      result_.violation = "step " + std::to_string(steps_) + ": " + *violation_;
      result_.failed_step = steps_;
      return false;
    }
    ++steps_;
    return true;
  }

  const RunResult& result() const { return result_; }

 private:
  struct Published {
    VerdictKind kind = VerdictKind::Unknown;
    std::uint64_t generation = 0;
    // What storage's verdict row holds: the code as of the last change
    // (a row is written on a change only, and a restored code keeps the old).
    cs::ReasonCode stored_code = cs::ReasonCode::Insufficient;
  };

  void fail(const std::string& what) {
    if (!violation_) {
      violation_ = what;
    }
  }

  const cs::TargetPolicy& policy_of(const std::string& target) const {
    for (const auto& item : policy_.targets) {
      if (item.name == target) {
        return item;
      }
    }
    return policy_.targets.front();
  }

  void step(const Step& step) {
    switch (step.kind) {
      case Step::Kind::Observe: {
        const auto& o = step.observation;
        auto& reference = votes_[o.target][o.vantage];
        const bool fresh = reference.observe(o, policy_of(o.target));
        const auto status = engine_->observe(o);
        const bool accepted = status == cs::ObserveStatus::Accepted;
        if (accepted != fresh) {
          fail("observation " + o.target + "/" + o.vantage + " at " +
               cs::format_rfc3339(o.at.wall) + ": engine said '" +
               std::string(cs::to_string(status)) + "', a " +
               (fresh ? "new one must count" : "duplicate or older one must change nothing"));
        }
        break;
      }
      case Step::Kind::Remote: {
        const auto& r = step.remote;
        if (engine_->observe_remote(r) == cs::ObserveStatus::Accepted) {
          auto& reference = votes_[r.target][r.vantage];
          reference =
              ReferenceVote{r.vote,
                            0,
                            0,
                            r.observed_at ? std::optional{r.observed_at->mono} : std::nullopt,
                            std::nullopt,
                            r.last};
        }
        break;
      }
      case Step::Kind::AddRemote: {
        // DESIGN.md: a peer without `domains:` counts as one domain of its
        // own (named after it); one with them only in those, and a vote
        // claiming any other is dropped, never re-labelled.
        auto counted = step.vantage;
        const auto declared = policy_.peer_domains.find(counted.node);
        const bool allowed = declared == policy_.peer_domains.end() ||
                             std::find(declared->second.begin(), declared->second.end(),
                                       counted.domain) != declared->second.end();
        if (declared == policy_.peer_domains.end()) {
          counted.domain = counted.node;
        }
        const bool registered = engine_->add_remote_vantage(step.vantage);
        if (registered != allowed) {
          fail("peer vantage " + counted.name + " claiming domain " + step.vantage.domain +
               ": the engine " + (registered ? "registered" : "refused") + " it, DESIGN.md " +
               (allowed ? "counts" : "drops") + " it");
        } else if (registered) {
          remotes_[counted.name] = counted;
          domain_of_[counted.name] = counted.domain;
          known_.reset();
        }
        break;
      }
      case Step::Kind::SetOverride:
        if (engine_->set_override(step.target, step.override_value)) {
          overrides_[step.target] = step.override_value;
        }
        break;
      case Step::Kind::ClearOverride:
        if (engine_->clear_override(step.target)) {
          overrides_.erase(step.target);
        }
        break;
      case Step::Kind::Restart:
        restart();
        ++result_.restarts;
        break;
      case Step::Kind::Evaluate:
        evaluate(step.at);
        break;
    }
  }

  // What storage would hand a new process: verdicts, generations, open
  // episodes with their keys, overrides. Hysteresis starts empty.
  void restart() {
    auto engine = std::make_unique<cs::Engine>(policy_);
    for (const auto& [name, vantage] : remotes_) {
      engine->add_remote_vantage(vantage);
    }
    for (const auto& verdict : engine_->verdicts()) {
      cs::RestoredVerdict restored;
      restored.target = verdict.target;
      restored.kind = verdict.kind;
      restored.held = verdict.held;
      restored.generation = verdict.generation;
      restored.since = verdict.since;
      restored.reason_code = published_[verdict.target].stored_code;
      for (const auto& [key, episode] : open_) {
        if (!episode.vantage && episode.subject == verdict.target &&
            (episode.kind == EventKind::DisputeOpened ||
             episode.kind == EventKind::FlappingStarted ||
             episode.kind == EventKind::BlastRadiusHeld)) {
          restored.open_escalation_key = key;
          if (options_.restore_escalation_kind) {
            restored.open_escalation_kind = episode.kind;  // storage joins the escalation's row
          }
        }
      }
      for (const auto& key : keys_) {
        if (key.find("/" + verdict.target + "/") != std::string::npos) {
          restored.used_keys.push_back(key);
        }
      }
      if (const auto found = overrides_.find(verdict.target); found != overrides_.end()) {
        restored.override_in_force = found->second;
      }
      engine->restore(restored);
    }
    for (const auto& [key, episode] : open_) {
      cs::RestoredEpisode restored{episode.kind, key, episode.vantage ? "" : episode.subject,
                                   episode.vantage ? episode.subject : "", episode.reason};
      if (restored.kind == EventKind::DisputeOpened ||
          restored.kind == EventKind::FlappingStarted ||
          restored.kind == EventKind::BlastRadiusHeld) {
        continue;  // came with the verdict
      }
      if (!engine->restore_episode(restored)) {
        fail("restore_episode refused the open episode " + key);
      }
    }
    for (const auto& verdict : engine->verdicts()) {
      if (verdict.fresh && verdict.generation > 0) {
        fail("restored verdict of " + verdict.target + " is served fresh before any evaluation");
      }
    }
    engine_ = std::move(engine);
    votes_.clear();
    renewed_since_.clear();
  }

  bool override_in_force(const std::string& target, VerdictKind kind, cs::WallTime now) const {
    const auto found = overrides_.find(target);
    return found != overrides_.end() && now < found->second.expires_at &&
           found->second.verdict == kind;
  }

  void evaluate(const cs::Instant& now) {
    std::erase_if(overrides_, [&](const auto& item) { return now.wall >= item.second.expires_at; });
    const auto evaluation = engine_->evaluate(now);
    check_events(evaluation.events, now);
    check_peer_domains();
    if (!known_) {
      known_ = known_domains();
    }
    // verdicts() is parallel to the policy's targets.
    const auto& verdicts = engine_->verdicts();
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
      check_verdict(verdicts[i], policy_.targets[i], now, *known_);
    }
  }

  // One node never carries more than its declared domains (or one, named
  // after it, when it declares none) into the quorum.
  void check_peer_domains() {
    for (const auto& vantage : engine_->vantages()) {
      if (vantage.node.empty()) {
        continue;
      }
      const auto declared = policy_.peer_domains.find(vantage.node);
      const bool may = declared == policy_.peer_domains.end()
                           ? vantage.domain == vantage.node
                           : std::find(declared->second.begin(), declared->second.end(),
                                       vantage.domain) != declared->second.end();
      if (!may) {
        fail("peer " + vantage.node + "'s vantage " + vantage.name + " counts in domain " +
             vantage.domain + ", which that peer may not speak for");
      }
    }
  }

  // The failure domains DESIGN.md counts: local, reported by peers, and one
  // placeholder per peer that has reported nothing.
  std::vector<std::string> known_domains() const {
    std::vector<std::string> known;
    std::set<std::string> seen;
    std::set<std::string> reporting;
    for (const auto& vantage : policy_.vantages) {
      if (seen.insert(vantage.domain).second) {
        known.push_back(vantage.domain);
      }
    }
    for (const auto& [name, vantage] : remotes_) {
      reporting.insert(vantage.node);
      if (seen.insert(vantage.domain).second) {
        known.push_back(vantage.domain);
      }
    }
    for (const auto& peer : policy_.peers) {
      if (!reporting.contains(peer) && seen.insert(peer).second) {
        known.push_back(peer);
      }
    }
    return known;
  }

  void check_verdict(const cs::Verdict& verdict, const cs::TargetPolicy& target,
                     const cs::Instant& now, const std::vector<std::string>& known) {
    const auto& name = verdict.target;
    auto& previous = published_[name];
    // Evidence: every vote is the reference model's, suspects count unknown.
    struct DomainVote {
      bool up = false;
      bool down = false;
      bool degraded = false;
    };
    std::map<std::string_view, DomainVote> domains;
    const auto& target_votes = votes_[name];
    const auto& suspects = engine_->suspects();
    for (const auto& item : verdict.evidence) {
      // Its vantage's domain as registered now (a peer's may move), and
      // its node ("NODE/NAME" for a peer's, none for a local one).
      const auto registered = domain_of_.find(item.vantage);
      const auto slash = item.vantage.find('/');
      const std::string node = slash == std::string::npos ? "" : item.vantage.substr(0, slash);
      if (registered == domain_of_.end() || item.domain != registered->second ||
          item.node != node) {
        fail(name + "/" + item.vantage + ": its evidence says domain '" + item.domain +
             "' and node '" + item.node + "', the vantage is registered otherwise");
      }
      const auto found = target_votes.find(item.vantage);
      const Vote expected =
          found == target_votes.end() ? Vote::Unknown : found->second.at(now.mono, target);
      if (item.raw_vote != expected) {
        fail(name + "/" + item.vantage + ": vote " + std::string(cs::to_string(item.raw_vote)) +
             ", the rules say " + std::string(cs::to_string(expected)));
      }
      // What the vote rests on, as of now (a list kept from an earlier
      // pass must still say it: consensus/engine.cpp raw_evidence).
      const ReferenceVote* reference = found == target_votes.end() ? nullptr : &found->second;
      const bool stale = reference == nullptr || reference->stale(now.mono, target.stale_after);
      std::optional<cs::MonoTime> counted;
      if (reference != nullptr) {
        counted = reference->last_counted;
      }
      std::optional<cs::MonoTime> seen;
      if (item.last_observed) {
        seen = item.last_observed->mono;
      }
      const bool newest_shown = reference == nullptr || !reference->newest
                                    ? item.last == nullptr
                                    : item.last != nullptr &&
                                          item.last->at == reference->newest->at &&
                                          item.last->detail == reference->newest->detail;
      const auto latency =
          reference == nullptr ? std::nullopt : reference->quantile(now.mono, target);
      if (item.stale != stale || seen != counted || !newest_shown ||
          item.window_latency_ms != latency) {
        fail(name + "/" + item.vantage + ": its evidence is not what it last observed (stale " +
             std::to_string(static_cast<int>(item.stale)) + ", the rules say " +
             std::to_string(static_cast<int>(stale)) + ")");
      }
      if (item.suspect != (!suspects.empty() && suspects.contains(item.vantage)) ||
          item.vote != (item.suspect ? Vote::Unknown : expected)) {
        fail(name + "/" + item.vantage + ": a suspect vantage's vote must count as unknown");
      }
      if (item.vote != Vote::Unknown) {
        auto& domain = domains[domain_of_.at(item.vantage)];
        domain.up = domain.up || item.vote == Vote::Up;
        domain.down = domain.down || item.vote == Vote::Down;
        domain.degraded = domain.degraded || item.vote == Vote::Degraded;
      }
    }
    // A domain: up with no down or degraded vantage; degraded with a
    // degraded one and no up; down with down ones only; else split.
    int up = 0;
    int down = 0;
    int degraded = 0;
    for (const auto& [domain, vote] : domains) {
      up += vote.up && !vote.down && !vote.degraded ? 1 : 0;
      down += vote.down && !vote.up && !vote.degraded ? 1 : 0;
      degraded += vote.degraded && !vote.up ? 1 : 0;
    }
    const int domain_count = static_cast<int>(known.size());
    const int majority = std::max(domain_count / 2 + 1, std::min(2, domain_count));
    const int down_quorum = target.down_quorum.count.value_or(majority);
    const int up_quorum = target.up_quorum.count.value_or(majority);
    // Built only when something failed: it costs more than the checks.
    const auto where = [&] {
      return name + " at " + cs::format_rfc3339(now.wall) + " (" + std::to_string(down) +
             " down, " + std::to_string(degraded) + " degraded, " + std::to_string(up) + " up of " +
             std::to_string(domain_count) + ", quorum " + std::to_string(down_quorum) + "/" +
             std::to_string(up_quorum) + "): " + verdict.reason;
    };
    // The invariant (DESIGN.md): fresh verdicts only as the votes say now.
    if (verdict.fresh && verdict.kind == VerdictKind::Unhealthy && down < down_quorum &&
        !override_in_force(name, VerdictKind::Unhealthy, now.wall)) {
      fail("published fresh unhealthy without a down quorum: " + where());
    }
    if (verdict.fresh && verdict.kind == VerdictKind::Healthy &&
        (down != 0 || degraded != 0 || up < up_quorum) &&
        !override_in_force(name, VerdictKind::Healthy, now.wall)) {
      fail("published fresh healthy without an up quorum and no domain down or degraded: " +
           where());
    }
    // degraded (docs/degraded.md): D < down_quorum <= D + G now; no
    // override, grace or hold publishes it fresh otherwise.
    if (verdict.fresh && verdict.kind == VerdictKind::Degraded &&
        (down >= down_quorum || down + degraded < down_quorum)) {
      fail("published fresh degraded without D < down_quorum <= D + G: " + where());
    }
    // Its gate: expect healthy never proceeds; expect unhealthy proceeds
    // only with allow_degraded.
    if (verdict.kind == VerdictKind::Degraded) {
      for (const auto for_ : {cs::GateFor::Service, cs::GateFor::Any}) {
        if (cs::decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, Duration{0}, now, for_)
                    .answer == cs::GateAnswer::Proceed ||
            cs::decide_gate(verdict, VerdictKind::Healthy, std::nullopt, Duration{0}, now, for_)
                    .answer == cs::GateAnswer::Proceed) {
          fail("a gate proceeded on a degraded verdict without allow_degraded: " + where());
        }
      }
    }
    // With allow_degraded, a service failover proceeds only on a fresh
    // unhealthy (the scope rules below) or a fresh degraded that the votes
    // back now.
    if (cs::decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, Duration{0}, now,
                        cs::GateFor::Service, true)
                .answer == cs::GateAnswer::Proceed &&
        verdict.kind == VerdictKind::Degraded &&
        !(verdict.fresh && down < down_quorum && down + degraded >= down_quorum)) {
      fail("an allow_degraded gate proceeded on a degraded verdict the votes do not back: " +
           where());
    }
    for (const auto kind : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
      if (override_in_force(name, kind, now.wall) && verdict.kind != kind) {
        fail("an override in force did not win: " + where());
      }
    }
    if (verdict.confirmed() && verdict.held) {
      fail("a confirmed verdict holds nothing: " + where());
    }
    check_scope(verdict, target_votes, down_quorum, now, where);
    check_expiry_evidence(verdict, target_votes, where);
    check_dependency(verdict, target, down + degraded, previous.kind, now, where);
    if (verdict.valid_until < verdict.evaluated_at || verdict.evaluated_at != now.wall) {
      fail("valid_until before evaluated_at: " + where());
    }
    const bool changed = verdict.kind != previous.kind;
    if (verdict.generation != previous.generation + (changed ? 1 : 0)) {
      fail("generation moved from " + std::to_string(previous.generation) + " to " +
           std::to_string(verdict.generation) +
           (changed ? " on a change: " : " without a change: ") + where());
    }
    const bool announced = changes_.contains(name);
    if (announced != changed) {
      fail(std::string(changed ? "a change without" : "no change but") +
           " a verdict_changed event: " + where());
    }
    previous.kind = verdict.kind;
    previous.generation = verdict.generation;
    if (changed && verdict.reason_code != cs::ReasonCode::Restored) {
      previous.stored_code = verdict.reason_code;
    }
  }

  // depends_on (docs/verdicts.md): while a parent is published unhealthy and
  // fresh (or unreachable itself), a child with a domain down (`down`
  // counts degraded domains too: slow behind a failed parent is the
  // parent's trouble) is never published unhealthy or degraded unless an
  // override says so (it is unreachable, a
  // hold); and unreachable is published only then, or kept: through the
  // child's own dispute_grace, or while it was unreachable, still has a
  // domain down and a parent is kept failing (unhealthy through its grace:
  // not fresh, not restored; or unreachable).
  template <typename Where>
  void check_dependency(const cs::Verdict& verdict, const cs::TargetPolicy& target, int down,
                        VerdictKind previous, const cs::Instant& now, const Where& where) {
    bool covered = false;
    bool parent_kept = false;
    for (const auto& name : target.depends_on) {
      const auto* parent = engine_->verdict(name);
      covered =
          covered ||
          (parent != nullptr &&
           ((parent->kind == VerdictKind::Unhealthy && parent->fresh) ||
            (parent->kind == VerdictKind::Unreachable && parent->reason.starts_with("parent "))));
      parent_kept = parent_kept || (parent != nullptr &&
                                    ((parent->kind == VerdictKind::Unhealthy && !parent->fresh &&
                                      parent->reason_code == cs::ReasonCode::Quorum) ||
                                     parent->kind == VerdictKind::Unreachable));
    }
    if (covered && down > 0 &&
        (verdict.kind == VerdictKind::Unhealthy || verdict.kind == VerdictKind::Degraded) &&
        verdict.reason_code != cs::ReasonCode::Restored &&
        !override_in_force(verdict.target, VerdictKind::Unhealthy, now.wall)) {
      fail(
          "published unhealthy or degraded for a failing child while a parent is confirmed "
          "unhealthy: " +
          where());
    }
    if (verdict.reason_code == cs::ReasonCode::Restored) {
      return;  // a restored unreachable stands, never fresh, until evidence decides
    }
    // Kept through dispute_grace like any published verdict, saying so.
    const bool kept = ((verdict.reason.starts_with("behind ") ||
                        verdict.reason.starts_with("no longer behind a parent")) &&
                       verdict.reason.find("within dispute_grace") != std::string::npos) ||
                      (verdict.reason.starts_with("behind ") && parent_kept &&
                       previous == VerdictKind::Unreachable && down > 0);
    if (verdict.kind == VerdictKind::Unreachable && !kept && !(covered && down > 0)) {
      fail("published unreachable without a confirmed unhealthy parent and a domain down: " +
           where());
    }
    if (verdict.kind == VerdictKind::Unreachable &&
        (verdict.reason_code != cs::ReasonCode::Dependency ||
         !(verdict.reason.starts_with("parent ") || kept))) {
      fail("an unreachable verdict must name its parent: " + where());
    }
    if (verdict.kind == VerdictKind::Unreachable) {
      for (const auto expect : {VerdictKind::Healthy, VerdictKind::Unhealthy}) {
        if (cs::decide_gate(verdict, expect, std::nullopt, Duration{0}, now, cs::GateFor::Any)
                .answer != cs::GateAnswer::Hold) {
          fail("a gate did not hold on an unreachable verdict: " + where());
        }
      }
    }
  }

  // Scope (DESIGN.md "Layers"), stated apart from consensus/verdict_detail:
  // a domain is down when a counted vote is down and none is up; it sees the
  // service fail when every counted down vote's newest observation failed
  // at connect, tls or http (or DNS with last-known-good unreachable), and
  // DNS fail when every one failed at DNS. A failover gate proceeds for
  // service only when down_quorum domains see the service fail, for dns only
  // when they see DNS fail and not the service; and a fresh unhealthy
  // confirmed by quorum that the service fails in down_quorum domains does
  // proceed for service (scope is not simply always none).
  template <typename Where>
  void check_scope(const cs::Verdict& verdict,
                   const std::map<std::string, ReferenceVote>& target_votes, int down_quorum,
                   const cs::Instant& now, const Where& where) {
    struct Planes {
      bool up = false;
      bool down = false;
      bool degraded = false;  // a degraded domain is not down
      bool service = true;
      bool dns = true;
    };
    std::map<std::string, Planes> domains;
    for (const auto& item : verdict.evidence) {
      if (item.vote == Vote::Unknown) {
        continue;
      }
      auto& domain = domains[domain_of_.at(item.vantage)];
      if (item.vote == Vote::Up) {
        domain.up = true;
        continue;
      }
      if (item.vote == Vote::Degraded) {
        domain.degraded = true;
        continue;
      }
      domain.down = true;
      const auto found = target_votes.find(item.vantage);
      const cs::Observation* newest =
          found != target_votes.end() && found->second.newest ? &*found->second.newest : nullptr;
      const bool failed = newest != nullptr && newest->outcome == Outcome::Down;
      const bool service =
          failed && (newest->layer == cs::Layer::Connect || newest->layer == cs::Layer::Tls ||
                     newest->layer == cs::Layer::Http ||
                     (newest->layer == cs::Layer::Dns &&
                      newest->last_known_good == cs::LastKnownGood::Unreachable));
      domain.service = domain.service && service;
      domain.dns = domain.dns && failed && newest->layer == cs::Layer::Dns;
    }
    int service = 0;
    int dns = 0;
    for (const auto& [name, domain] : domains) {
      if (domain.down && !domain.up && !domain.degraded) {
        service += domain.service ? 1 : 0;
        dns += domain.dns ? 1 : 0;
      }
    }
    const int quorum = std::max(down_quorum, 1);
    if (override_in_force(verdict.target, VerdictKind::Unhealthy, now.wall)) {
      return;  // the operator's word: scope service, whatever the votes say
    }
    const auto gate = [&](cs::GateFor for_) {
      return cs::decide_gate(verdict, VerdictKind::Unhealthy, std::nullopt, Duration{0}, now, for_)
          .answer;
    };
    if (gate(cs::GateFor::Service) == cs::GateAnswer::Proceed && service < quorum) {
      fail("a service failover gate proceeds with " + std::to_string(service) +
           " domains seeing the service fail: " + where());
    }
    if (gate(cs::GateFor::Dns) == cs::GateAnswer::Proceed && (dns < quorum || service >= quorum)) {
      fail("a dns failover gate proceeds with " + std::to_string(dns) +
           " domains seeing DNS fail, " + std::to_string(service) + " the service: " + where());
    }
    if (verdict.kind == VerdictKind::Unhealthy && verdict.fresh &&
        verdict.reason_code == cs::ReasonCode::Quorum && service >= quorum &&
        gate(cs::GateFor::Service) != cs::GateAnswer::Proceed) {
      fail("a fresh unhealthy with the service failing in " + std::to_string(service) +
           " domains holds a service failover (scope " + std::string(cs::to_string(verdict.scope)) +
           "): " + where());
    }
  }

  // The earliest expiry of `watch`'s kind that the target's local vantages
  // were shown, as the reference model kept it.
  std::optional<cs::WallTime> earliest_local(const WatchedExpiry& watch,
                                             const std::string& target) const {
    std::optional<cs::WallTime> earliest;
    const auto votes = votes_.find(target);
    for (const auto& vantage : policy_.vantages) {
      if (votes == votes_.end()) {
        break;
      }
      const auto vote = votes->second.find(vantage.name);
      const auto& shown = vote != votes->second.end() ? vote->second.*watch.shown : std::nullopt;
      if (shown && (!earliest || *shown < *earliest)) {
        earliest = shown;
      }
    }
    return earliest;
  }

  // Under the target's threshold now: what opens (and keeps open) an episode.
  bool expiring(const WatchedExpiry& watch, const cs::TargetPolicy& target,
                const cs::Instant& now) const {
    const auto earliest = earliest_local(watch, target.name);
    const auto& threshold = target.*watch.threshold;
    return threshold && earliest && *earliest - now.wall < *threshold;
  }

  // Every evaluation: each local vantage's evidence shows what it was last
  // shown, a peer's never shows any (the engine watches local vantages
  // only), and the verdict shows the earliest local one.
  template <typename Where>
  void check_expiry_evidence(const cs::Verdict& verdict,
                             const std::map<std::string, ReferenceVote>& target_votes,
                             const Where& where) {
    for (const auto& watch : k_watched) {
      for (const auto& item : verdict.evidence) {
        const auto found = target_votes.find(item.vantage);
        const auto expected = item.node.empty() && found != target_votes.end()
                                  ? found->second.*watch.shown
                                  : std::nullopt;
        if (item.*watch.evidence != expected) {
          fail(item.node.empty() ? item.vantage + "'s evidence does not show " +
                                       std::string(watch.what) + " it was last shown: " + where()
                                 : "a peer's evidence carries " + std::string(watch.what) + ": " +
                                       item.vantage + ": " + where());
        }
      }
      if (verdict.*watch.earliest != earliest_local(watch, verdict.target)) {
        fail("the verdict does not show the earliest local " + std::string(watch.what) + ": " +
             where());
      }
    }
  }

  // An expiry episode opens only for a target with the threshold whose
  // earliest local expiry is under it.
  void check_expiry_opened(const WatchedExpiry& watch, const cs::Event& event,
                           const cs::Instant& now) {
    if (!expiring(watch, policy_of(event.target), now)) {
      fail(std::string(cs::to_string(event.kind)) + " opened for " + event.target + " without " +
           std::string(watch.what) + " under its " + std::string(watch.setting) + ": " +
           event.reason);
    }
  }

  // It resolves only as its own kind, and only after every local vantage
  // has shown one past the threshold for k_renewal_hold (or without a
  // threshold).
  void check_expiry_resolved(const WatchedExpiry& watch, const OpenEpisode& episode,
                             const cs::Event& event, const cs::Instant& now) {
    if (event.kind != watch.resolves) {
      fail("episode " + event.key + " resolved by " + std::string(cs::to_string(event.kind)));
    }
    const auto renewed = renewed_since_.find({watch.opens, episode.subject});
    if ((policy_of(episode.subject).*watch.threshold).has_value() &&
        (renewed == renewed_since_.end() ||
         now.mono - renewed->second < cs::TargetPolicy::k_renewal_hold)) {
      fail(std::string(cs::to_string(event.kind)) + " for " + episode.subject +
           " before every local vantage showed " + std::string(watch.what) + " past " +
           std::string(watch.setting) + " for " +
           cs::format_duration(cs::TargetPolicy::k_renewal_hold) + ": " + event.reason);
    }
  }

  // A local vantage of `target` whose newest observation passed and whose
  // vote is fresh: it answers now.
  bool answering_locally(const std::string& target, const cs::Instant& now) const {
    const auto votes = votes_.find(target);
    if (votes == votes_.end()) {
      return false;
    }
    const auto& rules = policy_of(target);
    return std::any_of(votes->second.begin(), votes->second.end(), [&](const auto& entry) {
      const auto& vote = entry.second;
      return entry.first.find('/') == std::string::npos &&
             !vote.stale(now.mono, rules.stale_after) && vote.newest &&
             vote.newest->outcome == Outcome::Up;
    });
  }

  // Since when each open expiry episode's target has shown only renewed
  // ones locally (one under the threshold starts it over; none shown counts
  // as renewed only while a local vantage answers without one).
  void track_renewals(const cs::Instant& now) {
    for (const auto& [key, episode] : open_) {
      const auto* watch = watched(episode.kind);
      if (watch == nullptr) {
        continue;
      }
      const std::pair subject{episode.kind, episode.subject};
      const bool shown = earliest_local(*watch, episode.subject).has_value();
      if ((shown && !expiring(*watch, policy_of(episode.subject), now)) ||
          (!shown && answering_locally(episode.subject, now))) {
        renewed_since_.try_emplace(subject, now.mono);
      } else {
        renewed_since_.erase(subject);
      }
    }
  }

  // After the events: a target with an expiry under its threshold has its
  // episode open, unless its verdict is still the one restored after a
  // restart (its episodes wait for evidence to decide it, like the rest).
  void check_expiry_open(const cs::Instant& now) {
    for (const auto& target : policy_.targets) {
      const auto* verdict = engine_->verdict(target.name);
      if (verdict == nullptr || verdict->reason_code == cs::ReasonCode::Restored) {
        continue;
      }
      for (const auto& watch : k_watched) {
        if (!expiring(watch, target, now)) {
          continue;
        }
        if (std::none_of(open_.begin(), open_.end(), [&](const auto& item) {
              return item.second.kind == watch.opens && item.second.subject == target.name;
            })) {
          fail(std::string(watch.what) + " under " + target.name + "'s " +
               std::string(watch.setting) + " without an open " +
               std::string(cs::to_string(watch.opens)) + " episode");
        }
      }
    }
  }

  void check_events(const std::vector<cs::Event>& events, const cs::Instant& now) {
    changes_.clear();
    track_renewals(now);
    std::set<std::pair<EventKind, std::string>> closed_now;
    for (const auto& event : events) {
      ++result_.events[event.kind];
      if (event.kind == EventKind::VerdictChanged) {
        changes_.insert(event.target);
        continue;
      }
      if (event.is_resolution()) {
        const auto found = open_.find(event.key);
        if (found == open_.end()) {
          fail("resolution of an episode that is not open: " + event.key);
          continue;
        }
        if (cs::resolution_of(found->second.kind) != event.kind) {
          fail("episode " + event.key + " resolved by the wrong kind");
        }
        if (const auto* watch = watched(found->second.kind)) {
          check_expiry_resolved(*watch, found->second, event, now);
        }
        closed_now.insert({found->second.kind, found->second.subject});
        open_.erase(found);
        continue;
      }
      if (!is_opening(event.kind)) {
        continue;
      }
      const auto subject = event.target.empty() ? event.vantage : event.target;
      if (!keys_.insert(event.key).second) {
        fail("escalation key reused: " + event.key + " (" + subject_of(event) + ")");
      }
      for (const auto& [key, episode] : open_) {
        if (episode.kind == event.kind && episode.subject == subject) {
          fail("a second open " + std::string(cs::to_string(event.kind)) + " episode for " +
               subject + ": " + key + " and " + event.key);
        }
      }
      if (const auto* watch = watched(event.kind)) {
        check_expiry_opened(*watch, event, now);
      }
      if (closed_now.contains({event.kind, subject})) {
        fail("episode " + std::string(cs::to_string(event.kind)) + " for " + subject +
             " closed and reopened in one evaluation");
      }
      open_[event.key] = OpenEpisode{event.kind, subject, event.reason, event.target.empty()};
    }
    check_expiry_open(now);
  }

  cs::Policy policy_;
  RunOptions options_;
  std::unique_ptr<cs::Engine> engine_;
  RunResult result_;
  std::size_t steps_ = 0;
  std::map<std::string, std::map<std::string, ReferenceVote>> votes_;  // target -> vantage
  std::map<std::string, std::string> domain_of_;
  std::map<std::string, cs::VantagePolicy> remotes_;
  std::map<std::string, cs::Override> overrides_;
  std::map<std::string, Published> published_;
  std::map<std::string, OpenEpisode> open_;  // key -> episode
  std::set<std::string> keys_;               // every key ever opened
  // (expiry kind, target) -> since when only renewed ones were shown.
  std::map<std::pair<EventKind, std::string>, cs::MonoTime> renewed_since_;
  std::set<std::string> changes_;                  // targets with a verdict_changed event now
  std::optional<std::vector<std::string>> known_;  // cached known_domains()
  std::optional<std::string> violation_;
};

}  // namespace

int Trace::evaluations() const {
  return static_cast<int>(std::count_if(steps.begin(), steps.end(), [](const Step& step) {
    return step.kind == Step::Kind::Evaluate;
  }));
}

Trace generate_trace(std::uint64_t seed, int evaluations) {
  return Generator(seed, evaluations).trace();
}

RunResult run_trace(const Trace& trace, const RunOptions& options) {
  Runner runner(trace.policy, options);
  for (const auto& step : trace.steps) {
    if (!runner.apply(step)) {
      break;
    }
  }
  return runner.result();
}

RunResult run_world(std::uint64_t seed, int evaluations) {
  Generator generator(seed, evaluations);
  Runner runner(generator.make_world());
  generator.run([&](const Step& step) { runner.apply(step); });
  return runner.result();
}

Trace shrink(const Trace& failing) {
  // Delta debugging, simplified: drop chunks of steps (halves, then
  // quarters, ... down to single steps) while the trace still fails.
  Trace best = failing;
  const auto first = run_trace(best);
  if (!first.violation) {
    return best;
  }
  best.steps.resize(first.failed_step + 1);
  for (std::size_t chunk = best.steps.size() / 2; chunk >= 1; chunk /= 2) {
    bool removed = true;
    while (removed) {
      removed = false;
      for (std::size_t begin = 0; begin + 1 < best.steps.size(); begin += chunk) {
        Trace candidate = best;
        const auto end = std::min(begin + chunk, candidate.steps.size() - 1);  // keep the last
        candidate.steps.erase(candidate.steps.begin() + static_cast<std::ptrdiff_t>(begin),
                              candidate.steps.begin() + static_cast<std::ptrdiff_t>(end));
        if (const auto result = run_trace(candidate); result.violation) {
          candidate.steps.resize(result.failed_step + 1);
          best = std::move(candidate);
          removed = true;
          break;
        }
      }
    }
    if (chunk == 1) {
      break;
    }
  }
  return best;
}

}  // namespace crosscheck::testing
