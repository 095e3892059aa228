// Service's fast confirmation (consensus/fast_confirm.hpp): the first down
// of an episode from a non-suspect vantage brings every local vantage's
// next probe of the target forward (jittered within a second) and asks
// every peer, signed, to re-probe it too; each vantage then takes its round
// turns about a second apart until it has seen `fall` downs or an up. The
// round moves scheduled turns forward (Scheduler::bring_forward) through
// the same in-flight cap and rate budget: it never adds a probe in flight.
#include "daemon/service.hpp"
#include "peers/client.hpp"
#include "probes/prober.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// A round's turns come about this far apart (jittered by a quarter either
// way), and the round's first turns within it of the first down.
constexpr auto k_round_spacing = 1000ms;
// The peers are asked once more this long after the round started (at
// most), for the votes their own rounds settled; inside the recheck
// spacing (5 s), so that second ask probes nothing on them.
constexpr auto k_peer_collect_cap = 4500ms;

}  // namespace

void Service::fast_confirm(const cs::Observation& observation) {
  // Why the index: this runs for every accepted observation, and a scan of
  // the targets by name cost O(targets) each (the top of a profile at 20k).
  const auto index = target_index_.find(observation.target);
  if (index == target_index_.end() || !prober_) {
    return;
  }
  const auto* target = &config_->targets[index->second];
  const auto& vantages = vantage_names_;
  const bool suspect = engine_.suspects().contains(observation.vantage);
  fast_confirm_.set_enabled(target->timing.fast_confirm);
  const auto now = clock_.monotonic();
  std::uniform_int_distribution<std::int64_t> first(0, k_round_spacing.count() - 1);
  std::uniform_int_distribution<std::int64_t> next(k_round_spacing.count() * 3 / 4,
                                                   k_round_spacing.count() * 5 / 4);
  if (!fast_confirm_.observe(observation, suspect, target->timing.fall, vantages)) {
    if (fast_confirm_.wants_turn(observation.target, observation.vantage)) {
      prober_->bring_forward(observation.target, observation.vantage,
                             now + cs::Duration{next(confirm_jitter_)});
    }
    return;
  }
  log_->info("fast confirmation: {} seen down by {} ({}); every domain re-probes it now",
             observation.target, observation.vantage, observation.detail);
  for (const auto& vantage : vantages) {
    if (fast_confirm_.wants_turn(observation.target, vantage)) {
      prober_->bring_forward(observation.target, vantage,
                             now + cs::Duration{first(confirm_jitter_)});
    }
  }
  if (!peer_client_ || config_->peers.empty()) {
    return;
  }
  // The peers re-probe at once (their own first down opens their own
  // round); their votes come back signed, and once more after the round.
  const auto ask = [this, name = observation.target] {
    peer_client_->recheck(name, k_round_spacing * 2, [this](peers::PeerRecheckAnswer answer) {
      boost::asio::post(io_, [this, answer = std::move(answer)]() mutable {
        on_peer_recheck(std::move(answer));
      });
    });
  };
  ask();
  const auto collect =
      std::clamp<cs::Duration>(k_round_spacing * target->timing.fall + target->timing.timeout,
                               k_round_spacing, k_peer_collect_cap);
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, collect);
  timer->async_wait(
      [this, ask, name = observation.target, self = timer.get()](boost::system::error_code ec) {
        if (const auto found = confirm_collect_.find(name);
            found != confirm_collect_.end() && found->second.get() == self) {
          confirm_collect_.erase(found);  // not a later round's timer
        }
        if (!ec && peer_client_) {
          ask();
        }
      });
  confirm_collect_[observation.target] = std::move(timer);  // one per target at most
}

void Service::time_confirmations(const cs::Instant& now) {
  for (const auto& target : config_->targets) {
    const auto* verdict = engine_.verdict(target.name);
    if (verdict == nullptr) {
      continue;
    }
    if (const auto took =
            fast_confirm_.published(target.name, *verdict, now.mono, target.timing.interval)) {
      time_to_confirm_.observe(*took);
      log_->info("{} confirmed unhealthy {} ms after its first down observation", target.name,
                 took->count());
    }
  }
}

}  // namespace crosscheck::daemon
