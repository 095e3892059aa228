// Summaries a verdict carries beside its kind: which layer of the check
// chain fails, and whether last-known-good addresses still answer. Pure.
#pragma once

#include "consensus/types.hpp"

#include <optional>
#include <vector>

namespace crosscheck::consensus {

struct FailingLayer {
  std::optional<Layer> layer;  // nullopt when no counted vote is down
  LastKnownGood last_known_good = LastKnownGood::NotTried;
  // For a DNS failure: every counted down vote at DNS is a resolver refusing
  // the answer for DNSSEC (Observation::dnssec_failure); a plain outage
  // beside it says nothing of DNSSEC.
  bool dnssec = false;
};

// The layer reported by most counted down votes (ties go to the earlier step
// of the chain: dns, connect, tls, http). For a DNS failure, last-known-good
// is Reachable only when every down vote that tried its old addresses reached
// them; one Unreachable makes it Unreachable.
// Example: quad9 down at dns (lkg reachable), google down at dns (lkg
// reachable) -> {Dns, Reachable}: "DNS is failing, the service still answers".
FailingLayer summarize_failing_layer(const std::vector<Evidence>& evidence);

// The plane `down_quorum` domains confirm failing (FailureScope). A domain
// counts as down as in the quorum (a counted down vote, no counted up); its
// planes are what every one of its counted down votes last observed: all at
// connect/tls/http, or at DNS with last-known-good unreachable -> service;
// all at DNS -> dns. A down vote whose newest observation is up again says
// nothing. Service wins when both planes reach the quorum (DNS and the old
// addresses both fail: only a service failover helps). Without a quorum on
// either plane: Observer when a suspect vantage's own vote is down, else None.
// Example, down_quorum 2: quad9 down at connect, google down at http ->
// Service; quad9 and google down at dns, lkg reachable -> Dns; quad9 at dns
// (lkg unreachable), google at dns (lkg reachable) -> Dns (one domain sees
// the service fail); quad9 at dns (lkg reachable), google at connect -> None.
FailureScope summarize_scope(const std::vector<Evidence>& evidence, int down_quorum);

}  // namespace crosscheck::consensus
