// One probe of one target from one vantage: resolve the target's host name
// through the vantage's own resolver, reach the addresses that resolved
// (TCP connect and/or HTTP(S)), then judge. When DNS fails the vantage still
// tries the addresses it last resolved (last-known-good) and says whether
// they answer: "DNS is broken, the service is fine" versus "it is down".
// A host given as an IP address (tcp.host 127.0.2.5, http://[::1]:8080/) has
// no DNS step: the chain starts at connect, with the same deadline and source.
#pragma once

#include "config/config.hpp"
#include "consensus/clock.hpp"
#include "consensus/types.hpp"
#include "probes/dns_tls.hpp"
#include "probes/dns_types.hpp"
#include "probes/last_known_good.hpp"
#include "probes/reach_result.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::probes {

// A vantage with its resolver settled ("system" already looked up).
struct VantageEndpoint {
  std::string name;
  std::string domain;
  std::optional<config::Endpoint> resolver;  // nullopt: no usable resolver (observer error)
  std::optional<config::IpAddress> source;
  std::shared_ptr<const DotTransport> tls{};  // set: DNS over TLS to `resolver`
};

// The reach step's result for one address.
struct AddressResult {
  config::IpAddress address;
  ReachResult reach;  // every configured check on it merged: the first failure wins
};

// An observation's detail is at most this long, cut at its end (its start
// names the failing layer and what failed): the bound the peer protocol puts
// on a vote's detail (peers/protocol.hpp k_peer_max_detail_bytes), so what
// this node shows is what its peers see.
inline constexpr std::size_t k_max_observation_detail = 1024;

// One line of `crosscheck probe`'s step-by-step trace.
struct TraceLine {
  std::string step;  // "dns", "tcp", "http", "last-known-good", "result"
  std::string text;
};

struct ProbeReport {
  consensus::Observation observation;
  // What decided a down observation, typed, so that nothing downstream reads
  // its detail: the failing DNS query's status (layer Dns, last-known-good
  // tried or not) or the failing address's reach failure (Connect, Tls, Http).
  std::optional<DnsStatus> dns_failure;
  ReachFailure reach_failure = ReachFailure::None;
  std::vector<DnsResult> dns;            // every query made, in plan order
  std::vector<AddressResult> addresses;  // reach results (current or last-known-good)
  bool used_last_known_good = false;
  std::vector<TraceLine> trace;  // only when ChainContext::trace is set
  // When the chain started on its loop (the clock's monotonic reading): its
  // timeout counts from here, not from when its start was queued.
  consensus::MonoTime started{};
  // Its last deadline on that clock: started + timeout, or later when the
  // last-known-good fallback gave the reach step a budget of its own.
  consensus::MonoTime deadline{};
  // How long this oracle stood still while the probe ran, when that made
  // its failure an observer error (stall.hpp); zero otherwise.
  consensus::Duration stalled{0};
};

// What every chain shares: the event loop, TLS settings, the last-known-good
// memory and the clock that stamps observations.
struct ChainContext {
  boost::asio::io_context& io;
  std::shared_ptr<boost::asio::ssl::context> tls;
  LastKnownGoodStore& last_known_good;
  consensus::Duration last_known_good_max_age{3'600'000};
  const consensus::Clock& clock;
  bool trace = false;  // fill ProbeReport::trace (crosscheck probe); off in the daemon
};

using ReportCallback = std::function<void(ProbeReport)>;

// Runs the check chain once within the target's timeout (a last-known-good
// retry after a DNS failure gets at least half a timeout more) and calls
// `done` exactly once. Never throws. `target` (never null) is kept alive
// until the run ends (the daemon shares its config's ownership: an alias of
// the config).
void run_chain(ChainContext& context, std::shared_ptr<const config::TargetConfig> target,
               const VantageEndpoint& vantage, ReportCallback done);
// The same on a copy of `target` (crosscheck probe, tests).
void run_chain(ChainContext& context, const config::TargetConfig& target,
               const VantageEndpoint& vantage, ReportCallback done);

}  // namespace crosscheck::probes
