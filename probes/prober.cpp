#include "probes/prober.hpp"

#include "net/tls_client.hpp"
#include "probes/authoritative.hpp"
#include "probes/http_client.hpp"

#include <algorithm>

namespace crosscheck::probes {
namespace {

std::vector<consensus::Duration> pair_intervals(const config::Config& config) {
  std::vector<consensus::Duration> intervals;
  intervals.reserve(config.targets.size() * config.vantages.size());
  for (const auto& target : config.targets) {
    for (std::size_t v = 0; v < config.vantages.size(); ++v) {
      intervals.push_back(target.timing.interval);
    }
  }
  return intervals;
}

// The rate-budget tokens one probe of each pair takes: 1, and for an
// authoritative DNS check 1 more per query its zone-server run may send
// (24 for www.example.com), so max_per_second bounds those too.
std::vector<int> pair_costs(const config::Config& config) {
  std::vector<int> costs;
  costs.reserve(config.targets.size() * config.vantages.size());
  for (const auto& target : config.targets) {
    int cost = 1;
    if (target.dns && target.dns->authoritative) {
      cost += static_cast<int>(authoritative_query_bound(target.dns->name));
    }
    costs.insert(costs.end(), config.vantages.size(), cost);
  }
  return costs;
}

// The CA file of a tls_ca is read once per configuration, not per query.
std::vector<std::shared_ptr<const DotTransport>> dot_transports(const config::Config& config) {
  std::vector<std::shared_ptr<const DotTransport>> out;
  for (const auto& vantage : config.vantages) {
    out.push_back(vantage.tls ? make_dot_transport(*vantage.tls) : nullptr);
  }
  return out;
}

consensus::Duration longest_timeout(const config::Config& config) {
  consensus::Duration longest{0};
  for (const auto& target : config.targets) {
    longest = std::max(longest, target.timing.timeout);
  }
  return longest;
}

template <typename Named>
StringMap<std::size_t> places_of(const std::vector<Named>& named) {
  StringMap<std::size_t> places;
  places.reserve(named.size());
  for (std::size_t i = 0; i < named.size(); ++i) {
    places.emplace(named[i].name, i);
  }
  return places;
}

ScheduleLimits limits_of(const config::Config& config) {
  return ScheduleLimits{config.probing.max_in_flight, config.probing.max_per_second};
}

}  // namespace

Prober::Prober(boost::asio::io_context& io, std::shared_ptr<const config::Config> config,
               const consensus::Clock& clock, std::uint64_t seed, ReportSink sink,
               LastKnownGoodStore memory)
    : config_(std::move(config)),
      target_places_(places_of(config_->targets)),
      vantage_places_(places_of(config_->vantages)),
      clock_(clock),
      sink_(std::move(sink)),
      scheduler_(pair_intervals(*config_), limits_of(*config_), seed, clock.monotonic(),
                 pair_costs(*config_)),
      last_known_good_(std::move(memory)),
      dot_(dot_transports(*config_)),
      chain_context_{io, net::make_client_tls_context(), last_known_good_,
                     config_->probing.last_known_good_max_age, clock},
      timer_(io),
      stall_timer_(io),
      stalls_(2 * longest_timeout(*config_)),
      alive_(std::make_shared<bool>(true)) {}

Prober::~Prober() {
  *alive_ = false;
}

void Prober::start() {
  running_ = true;
  stalls_.tick(clock_.monotonic());
  arm();
  arm_stall_ticker();
}

void Prober::arm_stall_ticker() {
  stall_timer_.expires_after(StallLog::k_period);
  stall_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) {
      return;
    }
    stalls_.tick(clock_.monotonic());
    // Why on after stop(): the probes still in flight are judged by it.
    if (running_ || scheduler_.counters().in_flight > 0) {
      arm_stall_ticker();
    }
  });
}

void Prober::stop() {
  running_ = false;
  timer_.cancel();
}

void Prober::arm() {
  if (!running_) {
    return;
  }
  const auto now = clock_.monotonic();
  const auto wait = scheduler_.next_wakeup(now) - now;
  timer_.expires_after(wait);
  timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!ec && *alive) {
      tick();
    }
  });
}

void Prober::tick() {
  for (const auto pair : scheduler_.take_due(clock_.monotonic())) {
    launch(pair);
  }
  arm();
}

void Prober::launch(std::size_t pair) {
  const auto vantages = config_->vantages.size();
  const auto& vantage = config_->vantages[pair % vantages];
  // An alias of the config: the run keeps it alive, whatever a reload does.
  std::shared_ptr<const config::TargetConfig> target(config_, &config_->targets[pair / vantages]);
  const auto timeout = target->timing.timeout;
  run_chain(chain_context_, std::move(target),
            settle_vantage(vantage, system_resolvers_, dot_[pair % vantages]),
            [this, pair, timeout, alive = alive_](ProbeReport report) {
              if (!*alive) {
                return;
              }
              // A failure while this loop stood still is no vote (stall.hpp):
              // from the chain's start (a wait in the loop's queue before it took
              // nothing from its time) to its last deadline.
              discount_stall(
                  report,
                  stalls_.seen(report.started, std::max(report.deadline, report.started + timeout),
                               clock_.monotonic()),
                  timeout);
              scheduler_.finish(pair);
              sink_(report);
              if (running_) {
                // Capacity freed: a waiting pair may start now.
                for (const auto next : scheduler_.take_due(clock_.monotonic())) {
                  launch(next);
                }
              }
            });
}

int Prober::recheck(std::string_view target) {
  const auto found = target_places_.find(target);
  if (found == target_places_.end()) {
    return 0;
  }
  // Brought forward, not started outside the schedule: a recheck goes
  // through the in-flight cap and the rate budget like any turn (a pair
  // already in flight or waiting answers with the turn it is on).
  const auto vantages = config_->vantages.size();
  const auto now = clock_.monotonic();
  int started = 0;
  for (std::size_t v = 0; v < vantages; ++v) {
    started += scheduler_.bring_forward(found->second * vantages + v, now) ? 1 : 0;
  }
  if (started > 0) {
    arm();
  }
  return started;
}

bool Prober::bring_forward(std::string_view target, std::string_view vantage,
                           consensus::MonoTime due) {
  const auto t = target_places_.find(target);
  const auto v = vantage_places_.find(vantage);
  if (t == target_places_.end() || v == vantage_places_.end() ||
      !scheduler_.bring_forward(t->second * config_->vantages.size() + v->second, due)) {
    return false;
  }
  arm();  // the timer may be set for a later turn
  return true;
}

}  // namespace crosscheck::probes
