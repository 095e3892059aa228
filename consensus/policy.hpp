// What the quorum engine needs to know about the world: targets with their
// rules, vantages with their failure domains, peers. Built by the daemon from
// the validated config; consensus/ never sees YAML.
#pragma once

#include "consensus/hysteresis.hpp"
#include "consensus/maintenance.hpp"
#include "consensus/types.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::consensus {

// "majority" (nullopt) or an explicit number of failure domains.
struct Quorum {
  std::optional<int> count;
  // Majority of the known domains, at least 2 where 2 or more exist:
  // 1 -> 1, 2 -> 2, 3 -> 2, 4 -> 3, 5 -> 3.
  int resolve(int known_domains) const;
};

struct TargetPolicy {
  std::string name;
  bool canary = false;  // must be up; a vantage failing it is suspect
  int rise = 2;         // consecutive ups before a vote turns up
  int fall = 3;         // consecutive downs before a vote turns down
  Duration stale_after{30'000};
  // The latency objective (config `latency:`); none: no degraded votes.
  std::optional<LatencyObjective> latency;
  // `tls: { min_days }` of a target with a TLS check: a certificate a local
  // vantage saw expire sooner than this opens cert_expiring. None: no episode.
  std::optional<Duration> cert_min_remaining{};
  // `dns: { dnssec: true, rrsig_min_remaining }`: RRSIGs over the answer a
  // local vantage saw expire sooner than this open rrsig_expiring.
  std::optional<Duration> rrsig_min_remaining{};
  // How long every local vantage must show a certificate (signatures) valid
  // past its threshold before cert_expiring (rrsig_expiring) resolves:
  // round-robin DNS, rolling renewals and resolvers' caches show the old one
  // now and then, and a restart starts with none seen (each would close and
  // reopen it, paging again).
  static constexpr Duration k_renewal_hold{3'600'000};
  Duration dispute_grace{10'000};
  // How long a verdict restored after a restart may stand unconfirmed:
  // fall x interval + timeout, the time a vantage needs to earn a down vote
  // again from empty hysteresis (DESIGN.md "A verdict restored..."); with a
  // latency objective at least 5 intervals + timeout, the time its window
  // needs for a latency vote.
  Duration restore_hold{32'000};
  Quorum down_quorum;
  Quorum up_quorum;
  // Targets this one depends on (names; config/ rejects unknown names and
  // cycles, the engine ignores both). While one of them is published
  // unhealthy and fresh, this target failing too is published unreachable.
  std::vector<std::string> depends_on;
  // When the blast-radius guard must choose among new confirmations, higher
  // priorities are admitted first (then parents before children, then
  // config order).
  int priority = 0;
  // The flap limit of the strictest group it belongs to, else the global one.
  std::optional<int> flap_limit;
  std::optional<Duration> flap_window;
};

// A named set of targets with a verdict of its own (config `groups:`), like
// a calculated health check: healthy while healthy_at_least members are
// healthy, unhealthy once the confirmed-unhealthy members alone leave fewer
// than that possible (docs/groups.md).
struct GroupPolicy {
  std::string name;  // without "group:"
  std::vector<std::string> members;
  int healthy_at_least = 1;
  // The blast-radius guard inside the group: a member's new confirmation
  // that would make more than this fraction of the members unhealthy is
  // held as disputed. Absent: only the global guard applies.
  std::optional<double> max_unhealthy_fraction;
  // The group verdict's own flap limit (the members' too).
  int flap_limit = 4;
  Duration flap_window{600'000};
};

struct VantagePolicy {
  std::string name;  // "NODE/VANTAGE" for a peer's vantage
  std::string node;  // empty for this node's own
  std::string domain;
};

struct Policy {
  std::vector<TargetPolicy> targets;
  std::vector<VantagePolicy> vantages;  // local vantages
  // Peer node names. Until a peer reports its vantages it counts as one
  // failure domain of its own (named after the peer).
  std::vector<std::string> peers;
  // The failure domains each peer may speak for (DESIGN.md: a peer's
  // `domains:`). A peer without an entry counts as at most one domain, named
  // after the peer, whatever domains its vantages claim.
  std::map<std::string, std::vector<std::string>> peer_domains;
  // The vantages each peer may report (a peer's `vantages:`, names as the
  // peer exports them, without "NODE/"). A peer without an entry may report
  // any; one with an entry has every other vantage's votes dropped.
  std::map<std::string, std::vector<std::string>> peer_vantages;
  double suspect_fraction = 0.5;
  // How long a vantage must meet a suspicion rule before it is suspect: at
  // the start of a real outage the domain that probes first is alone for a
  // moment (the global dispute_grace).
  Duration suspicion_grace{10'000};
  int flap_limit = 4;
  Duration flap_window{600'000};
  double max_unhealthy_fraction = 0.5;
  int blast_radius_min_targets = 4;
  // Recurring maintenance windows (config `maintenance:`); a window may
  // name "group:NAME", which covers the group and its members.
  std::vector<RecurringWindow> maintenance;
  std::vector<GroupPolicy> groups;
};

// The failure domain a peer's vantage reporting `domain` counts in
// (DESIGN.md): the reported one when `node` declared it in `domains:` (one
// equal to a local domain merges with it); `node` itself when the peer
// declared none (all its votes, at most one domain); nullopt when it declared
// others: that vote is dropped, never re-labelled.
std::optional<std::string> counted_peer_domain(const Policy& policy, std::string_view node,
                                               std::string_view domain);

// Whether `node` may report its vantage `vantage` (its own name for it, no
// "NODE/"): always without a `vantages:` list for it, else when listed.
bool listed_peer_vantage(const Policy& policy, std::string_view node, std::string_view vantage);

}  // namespace crosscheck::consensus
