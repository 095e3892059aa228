// Asynchronous DNS queries over Asio: UDP first, TCP when truncated, or TLS
// only for a DoT resolver. One query per call, bounded by a deadline,
// exactly one completion.
#pragma once

#include "config/types.hpp"
#include "consensus/clock.hpp"
#include "probes/dns_tls.hpp"
#include "probes/dns_types.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace crosscheck::probes {

struct DnsRequest {
  config::Endpoint server;                  // the vantage's resolver
  std::optional<config::IpAddress> source;  // bind to this local address
  std::string name;
  config::RrType type = config::RrType::A;
  std::chrono::steady_clock::time_point deadline;
  // The wait the caller granted, as the timeout detail reports it ("timeout
  // after 300ms"); without it, the deadline's distance when the query starts,
  // which a busy host may read a millisecond short.
  std::optional<std::chrono::milliseconds> budget;
  bool dnssec_ok = false;          // DO set (dns.dnssec)
  bool checking_disabled = false;  // CD set: the second look at a SERVFAIL
  bool recursion_desired = true;   // RD set; clear to ask an authoritative server itself
  // Set: DNS over TLS (`resolver: tls://`), every query over TCP+TLS and
  // never UDP, so nothing on the path can answer in the resolver's name.
  std::shared_ptr<const DotTransport> tls;
};

using DnsCallback = std::function<void(DnsResult)>;

// Sends one query with a random id from a fresh socket (random source port),
// ignores replies whose source, id or question do not match or that do not
// parse (counted by kind in DnsResult::ignored) and keeps waiting for its own,
// retries over TCP when the reply is truncated, and calls `done` exactly
// once, no later than the deadline (then Timeout, or Malformed when a reply
// with our id and question did not parse).
// Failures that are this host's own (cannot bind `source`, no route) are
// ObserverError; so is every TLS failure of a DoT resolver (handshake, name,
// CA, pin, a handshake the deadline cut short): the vantage cannot observe,
// which says nothing about the target. Never throws.
// `clock` measures the latency.
void query_dns(boost::asio::io_context& io, const consensus::Clock& clock,
               const DnsRequest& request, DnsCallback done);

}  // namespace crosscheck::probes
