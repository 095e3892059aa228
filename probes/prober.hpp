// The probe engine's I/O driver: runs the scheduler on an io_context, starts
// a check chain for each due (target, vantage) pair, and hands every report
// to one sink, always on the io_context's thread (so whoever consumes them,
// the quorum engine included, is never called from two threads at once).
#pragma once

#include "base/string_map.hpp"
#include "config/config.hpp"
#include "consensus/clock.hpp"
#include "probes/chain.hpp"
#include "probes/last_known_good.hpp"
#include "probes/resolv_conf.hpp"
#include "probes/scheduler.hpp"
#include "probes/stall.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace crosscheck::probes {

using ReportSink = std::function<void(const ProbeReport&)>;

class Prober {
 public:
  // `memory` seeds the last-known-good addresses (a config reload hands
  // over the previous prober's, so a DNS failure right after a reload still
  // knows where the service was).
  Prober(boost::asio::io_context& io, std::shared_ptr<const config::Config> config,
         const consensus::Clock& clock, std::uint64_t seed, ReportSink sink,
         LastKnownGoodStore memory = {});
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;
  Prober(Prober&&) = delete;
  Prober& operator=(Prober&&) = delete;
  ~Prober();

  // Starts scheduling; probes begin at their random phases.
  void start();
  // Stops starting probes; those in flight still complete and report.
  void stop();
  // Brings `target`'s next turn forward to now from every vantage whose
  // probe is not already running or waiting (through the in-flight cap and
  // rate budget); returns how many were moved (0 for an unknown target).
  int recheck(std::string_view target);

  // Brings the next scheduled probe of (`target`, `vantage`) forward to
  // `due` (Scheduler::bring_forward); false when it did not move.
  bool bring_forward(std::string_view target, std::string_view vantage, consensus::MonoTime due);

  const ScheduleCounters& counters() const { return scheduler_.counters(); }
  const LastKnownGoodStore& last_known_good() const { return last_known_good_; }
  const config::Config& config() const { return *config_; }

 private:
  void arm();
  void tick();
  void launch(std::size_t pair);
  // Runs every StallLog::k_period while probing or probes are in flight:
  // the gaps between its runs are when the loop stood still.
  void arm_stall_ticker();

  std::shared_ptr<const config::Config> config_;
  // Each target's and vantage's place in config_ (so a pair is t * vantages
  // + v). Why: fast confirmation brings turns forward for every down
  // observation; a scan of the targets by name for each cost O(targets):
  // about 8 % of the daemon's CPU when one failure domain went silent at
  // 10,000 targets (the soak, row 8). Config names are unique (validated),
  // so the first place of a name is its only one.
  StringMap<std::size_t> target_places_;
  StringMap<std::size_t> vantage_places_;
  const consensus::Clock& clock_;
  ReportSink sink_;
  Scheduler scheduler_;
  LastKnownGoodStore last_known_good_;
  SystemResolvers system_resolvers_;
  // Per vantage (config order): its DoT settings, built once; null for plain DNS.
  std::vector<std::shared_ptr<const DotTransport>> dot_;
  ChainContext chain_context_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer stall_timer_;
  StallLog stalls_;
  std::shared_ptr<bool> alive_;  // guards callbacks that outlive the prober
  bool running_ = false;
};

}  // namespace crosscheck::probes
