#include "probes/authoritative.hpp"

#include "base/ascii.hpp"
#include "base/text.hpp"

#include "probes/dns_client.hpp"
#include "probes/stopwatch.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string_view>
#include <utility>

namespace crosscheck::probes {
namespace {

using config::RrType;

// "WWW.Example" -> "www.example."; "" stays "" (query_dns then reports the
// invalid name, as it does for any check).
std::string absolute(std::string_view name) {
  std::string text = ascii::lower(name);
  if (!text.empty() && text.back() != '.') {
    text += '.';
  }
  return text;
}

// `zone` is `name` or one of its ancestors, and not the root (unless the
// name is the root): "example." holds "www.example.", "b.test." does not
// hold "www.a.test." (a CNAME's target zone), "." holds nothing we ask.
bool holds(const std::string& zone, const std::string& name) {
  if (zone == name) {
    return true;
  }
  return zone != "." && name.size() > zone.size() + 1 && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

// An IPv4 address (its first two bytes) a zone server may have: not 0/8
// (this host), 169.254/16 (link-local), 224/4 and up (multicast, reserved,
// broadcast).
bool askable_v4(std::uint8_t first, std::uint8_t second) {
  return first != 0 && !(first == 169 && second == 254) && first < 224;
}

// An address a zone server may have: never unspecified, multicast,
// broadcast or link-local (a lying resolver must not aim our queries at
// this host's wildcard, a group, or a metadata service).
bool askable(const config::IpAddress& address) {
  const auto& b = address.bytes;
  if (address.family == config::IpAddress::Family::V4) {
    return askable_v4(b[0], b[1]);
  }
  // ::ffff:a.b.c.d is a.b.c.d to a dual-stack socket: judged as that
  // (::ffff:224.0.0.1 is a multicast group, ::ffff:0.0.0.0 this host).
  constexpr std::size_t k_mapped_prefix = 10;
  const bool mapped =
      std::all_of(b.begin(), b.begin() + k_mapped_prefix, [](std::uint8_t x) { return x == 0; }) &&
      b[k_mapped_prefix] == 0xff && b[k_mapped_prefix + 1] == 0xff;
  if (mapped) {
    return askable_v4(b[k_mapped_prefix + 2], b[k_mapped_prefix + 3]);
  }
  const bool unspecified = std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
  const bool multicast = b[0] == 0xff;
  const bool link_local = b[0] == 0xfe && (b[1] & 0xc0U) == 0x80;
  return !unspecified && !multicast && !link_local;
}

// The name one label up: "www.example." -> "example."; "example." -> ".";
// nullopt for ".". Escaped dots ("a\.b.example.") stay inside their label.
std::optional<std::string> parent_of(const std::string& name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\') {
      ++i;  // the escaped character (or the first of \DDD) is part of the label
    } else if (name[i] == '.') {
      if (i + 1 >= name.size()) {
        return name == "." ? std::nullopt : std::optional<std::string>(".");
      }
      return name.substr(i + 1);
    }
  }
  return std::nullopt;
}

// "dns: NOERROR, empty answer" -> "NOERROR, empty answer".
std::string without_layer(const std::string& detail) {
  constexpr std::string_view k_layer = "dns: ";
  return detail.starts_with(k_layer) ? detail.substr(k_layer.size()) : detail;
}

std::string plural(std::size_t count, std::string_view noun) {
  std::string text = std::to_string(count) + " " + std::string(noun);
  return count == 1 ? text : text + "s";
}

// "0.0.0.0, 224.0.0.1".
std::string listed(const std::vector<config::IpAddress>& addresses) {
  std::string text;
  for (const auto& address : addresses) {
    text += (text.empty() ? "" : ", ") + address.to_string();
  }
  return text;
}

// An accepted reply (any rcode), as opposed to a timeout or a local failure.
bool replied(const DnsResult& result) {
  return result.rcode >= 0;
}

// Why only these walk up: the resolver answered, just without an SOA (a
// resolver with minimal responses strips the authority section). A
// SERVFAIL, timeout or REFUSED says nothing about where the zone starts.
std::vector<std::string> sorted_names(const std::vector<DnsRecord>& records) {
  std::vector<std::string> names;
  for (const auto& record : records) {
    if (record.type == static_cast<std::uint16_t>(RrType::NS)) {
      names.push_back(absolute(record.data));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// "server ns2.example. (192.0.2.54)": a zone server, never "resolver".
std::string server_name(const AuthoritativeServer& server) {
  return "server " + server.ns + " (" + server.address.to_string() + ")";
}

// A before AAAA, then by bytes: the servers asked do not follow the order
// in which a resolver rotates its records.
bool address_order(const config::IpAddress& a, const config::IpAddress& b) {
  return a.family != b.family ? a.family == config::IpAddress::Family::V4 : a.bytes < b.bytes;
}

// The query for one NS name's addresses: its A and AAAA results.
struct NsName {
  std::string name;
  std::array<DnsResult, 2> lookups;  // A, AAAA
};

enum class ServerQuestion : std::uint8_t { Target, Soa, Ns };

class AuthoritativeRun : public std::enable_shared_from_this<AuthoritativeRun> {
 public:
  AuthoritativeRun(boost::asio::io_context& io, const consensus::Clock& clock,
                   AuthoritativeRequest request, AuthoritativeCallback done)
      : io_(io), clock_(clock), request_(std::move(request)), done_(std::move(done)) {}

  void start() {
    asking_ = absolute(request_.name);
    ask_zone(request_.budget);
  }

 private:
  // One question from this vantage's source to `server`, by the run's deadline.
  DnsRequest question(const config::Endpoint& server, const std::string& name, RrType type) const {
    DnsRequest out;
    out.server = server;
    out.source = request_.source;
    out.name = name;
    out.type = type;
    out.deadline = request_.deadline;
    return out;
  }

  // The resolver's questions end by lookups_until_ too: the NS-address
  // lookups may use only half of what is left, so the servers keep the rest.
  DnsRequest to_resolver(const std::string& name, RrType type,
                         std::optional<std::chrono::milliseconds> budget = std::nullopt) const {
    auto out = question(request_.resolver, name, type);
    // Over the vantage's own transport: a DoT vantage never sends its
    // resolver plain DNS (an interceptor of port 53 could answer it).
    out.tls = request_.tls;
    out.deadline = std::min(request_.deadline, lookups_until_);
    // Only the first query starts with the whole budget; later ones report
    // the time that was left when they started.
    out.budget = budget;
    return out;
  }

  // (a) The zone: the SOA owner in the resolver's reply to "name SOA?",
  // from the answer (the name is an apex) or the authority section (it is
  // not: the denial carries the apex's SOA). A CNAME's reply names the zone
  // of the CNAME's target; that is the zone taken.
  void ask_zone(std::optional<std::chrono::milliseconds> budget = std::nullopt) {
    query_dns(io_, clock_, to_resolver(asking_, RrType::SOA, budget),
              [self = shared_from_this()](DnsResult result) { self->on_zone(std::move(result)); });
  }

  void on_zone(DnsResult result) {
    // Only an answer or a denial names the zone, and only a zone that holds
    // the name: a REFUSED carrying some SOA, or the zone of a CNAME's target
    // (hostile review: www CNAME into a CDN asked the CDN's servers about
    // www), sends the walk one label up instead.
    const bool answered = result.status == DnsStatus::Answer ||
                          result.status == DnsStatus::EmptyAnswer ||
                          result.status == DnsStatus::NxDomain;
    if (answered && !result.zone.empty() && holds(result.zone, absolute(request_.name))) {
      report_.zone = result.zone;
      return ask_delegation();
    }
    if (!result.observer_error() && answered) {
      // Up one label, never to the root unless the root was asked: the
      // walk ends after as many queries as the name has labels.
      auto parent = parent_of(asking_);
      if (parent && *parent != ".") {
        asking_ = std::move(*parent);
        return ask_zone();
      }
    }
    fail(std::move(result), "no zone for " + absolute(request_.name));
  }

  // (b) The delegation as the resolver sees it.
  void ask_delegation() {
    query_dns(
        io_, clock_, to_resolver(report_.zone, RrType::NS),
        [self = shared_from_this()](DnsResult result) { self->on_delegation(std::move(result)); });
  }

  void on_delegation(DnsResult result) {
    if (result.up()) {
      report_.delegated_ns = sorted_names(result.answers);
    }
    if (report_.delegated_ns.empty()) {
      return fail(std::move(result), "no NS for " + report_.zone);
    }
    // (c) Every NS name's addresses, in parallel.
    const std::size_t count = std::min(report_.delegated_ns.size(), k_max_authoritative_names);
    if (count < report_.delegated_ns.size()) {
      capped_names_ = true;
    }
    names_.resize(count);
    pending_ = 2 * count;
    // The NS addresses get half of what is left: one NS name whose own zone
    // does not answer must not leave the servers found no time (hostile
    // review: every server then counted as silent, and the vote went down).
    const auto left = std::max(time_left(request_.deadline), std::chrono::milliseconds{0});
    lookups_until_ = request_.deadline - left + left / 2;
    for (std::size_t i = 0; i < count; ++i) {
      names_[i].name = report_.delegated_ns[i];
      for (std::size_t family = 0; family < 2; ++family) {
        const auto type = family == 0 ? RrType::A : RrType::AAAA;
        query_dns(io_, clock_, to_resolver(names_[i].name, type),
                  [self = shared_from_this(), i, family](DnsResult address) {
                    self->on_address(i, family, std::move(address));
                  });
      }
    }
  }

  void on_address(std::size_t index, std::size_t family, DnsResult result) {
    names_[index].lookups.at(family) = std::move(result);
    if (--pending_ == 0) {
      after_addresses();
    }
  }

  // A source address binds one family only: the other family's servers
  // cannot be asked from this vantage, which is no fault of theirs.
  bool usable(const config::IpAddress& address) const {
    return !request_.source || request_.source->family == address.family;
  }

  void after_addresses() {
    for (const auto& name : names_) {
      for (const auto& lookup : name.lookups) {
        if (lookup.observer_error()) {
          return fail(lookup, "");
        }
      }
    }
    // Each name's addresses, A before AAAA, sorted, each address once.
    std::vector<config::IpAddress> seen;
    std::vector<std::vector<config::IpAddress>> per_name(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
      std::vector<config::IpAddress> found;
      for (const auto& lookup : names_[i].lookups) {
        if (!lookup.up()) {
          continue;
        }
        for (const auto& address : lookup.addresses()) {
          if (!may_ask(address, request_.resolver.address)) {
            // A lying resolver's 0.0.0.0, 255.255.255.255, ff02::1 or (from
            // a resolver elsewhere) 127.0.0.1: named in the detail, never
            // sent a packet.
            if (std::find(never_asked_.begin(), never_asked_.end(), address) ==
                never_asked_.end()) {
              never_asked_.push_back(address);
            }
          } else if (usable(address)) {
            found.push_back(address);
          }
        }
      }
      std::sort(found.begin(), found.end(), address_order);
      for (const auto& address : found) {
        if (std::find(seen.begin(), seen.end(), address) == seen.end()) {
          seen.push_back(address);
          per_name[i].push_back(address);
        }
      }
      if (per_name[i].empty()) {
        report_.unresolved_ns.push_back(names_[i].name);
      }
    }
    // Round robin over the names, so that under the cap every name still
    // gets a server asked: 4 names x (2 A + 2 AAAA) keeps the first A of each.
    std::vector<std::pair<std::size_t, std::size_t>> picked;  // (name, address index)
    for (std::size_t round = 0; picked.size() < k_max_authoritative_addresses; ++round) {
      bool any = false;
      for (std::size_t i = 0; i < per_name.size(); ++i) {
        if (round < per_name[i].size()) {
          any = true;
          if (picked.size() < k_max_authoritative_addresses) {
            picked.emplace_back(i, round);
          }
        }
      }
      if (!any) {
        break;
      }
    }
    capped_addresses_ = picked.size() < seen.size();
    addresses_seen_ = seen.size();
    std::sort(picked.begin(), picked.end());
    for (const auto& [name, index] : picked) {
      AuthoritativeServer server;
      server.ns = names_[name].name;
      server.address = per_name[name][index];
      report_.servers.push_back(std::move(server));
    }
    if (report_.servers.empty()) {
      return fail_unresolvable();
    }
    ask_servers();
  }

  // No NS name has an address: report the first lookup of a usable family
  // that failed (the first name's A), or why there was nothing to ask (the
  // other family than the source, addresses never asked). Reported only:
  // no server was asked, so nothing was judged.
  void fail_unresolvable() {
    const std::string what = "no address for the NS names of " + report_.zone;
    for (const auto& name : names_) {
      for (std::size_t family = 0; family < name.lookups.size(); ++family) {
        const auto& lookup = name.lookups.at(family);
        const bool family_usable =
            !request_.source ||
            request_.source->family ==
                (family == 0 ? config::IpAddress::Family::V4 : config::IpAddress::Family::V6);
        if (family_usable && lookup.status != DnsStatus::Answer &&
            lookup.status != DnsStatus::EmptyAnswer) {
          return fail(lookup, what + " (" + name.name + ")");
        }
      }
    }
    DnsResult result;
    result.status = DnsStatus::ObserverError;
    result.resolver = request_.resolver.to_string();
    if (never_asked_.empty()) {
      result.detail = "dns: authoritative: " + what + " in the family of source " +
                      (request_.source ? request_.source->to_string() : std::string("?"));
    } else {
      // The resolver named only addresses no server has (hostile review: a
      // lying resolver could aim the queries anywhere).
      result.detail = "dns: authoritative: no address to ask for the NS names of " + report_.zone +
                      " (never asked: " + listed(never_asked_) + ")";
    }
    fail(std::move(result), "");
  }

  // (d) Every server, in parallel, RD clear: the target's question, then
  // the zone's SOA and NS. Plain DNS even from a DoT vantage (no `tls`):
  // authoritative servers do not speak DoT on port 853.
  DnsRequest to_server(std::size_t index, const std::string& name, RrType type) const {
    auto out =
        question(config::Endpoint{report_.servers[index].address, request_.port}, name, type);
    out.recursion_desired = false;
    return out;
  }

  void ask_servers() {
    pending_ = 3 * report_.servers.size();
    for (std::size_t i = 0; i < report_.servers.size(); ++i) {
      auto target = to_server(i, request_.name, request_.type);
      target.dnssec_ok = request_.dnssec_ok;
      ask_server(i, ServerQuestion::Target, target);
      ask_server(i, ServerQuestion::Soa, to_server(i, report_.zone, RrType::SOA));
      ask_server(i, ServerQuestion::Ns, to_server(i, report_.zone, RrType::NS));
    }
  }

  void ask_server(std::size_t index, ServerQuestion question, const DnsRequest& request) {
    query_dns(io_, clock_, request, [self = shared_from_this(), index, question](DnsResult result) {
      self->on_server_reply(index, question, std::move(result));
    });
  }

  void on_server_reply(std::size_t index, ServerQuestion question, DnsResult result) {
    auto& server = report_.servers[index];
    observer_errors_ += result.observer_error() ? 1 : 0;
    const bool authoritative_noerror =
        result.authoritative_answer &&
        (result.status == DnsStatus::Answer || result.status == DnsStatus::EmptyAnswer);
    switch (question) {
      case ServerQuestion::Target:
        // Lame for this question: it answered, but not as the zone's
        // authority. A referral (no AA, NS in the authority section) or an
        // open resolver's cached answer are both this; so is REFUSED ("not
        // my zone"). Its SOA and NS replies are weighed on their own: one
        // REFUSED SOA never discards an AA answer to the name (hostile
        // review).
        server.lame = replied(result) &&
                      (!result.authoritative_answer || result.status == DnsStatus::Refused);
        server.answer = std::move(result);
        break;
      case ServerQuestion::Soa:
        if (authoritative_noerror && result.soa_serial && result.zone == report_.zone) {
          server.serial = result.soa_serial;
        }
        break;
      case ServerQuestion::Ns:
        if (authoritative_noerror) {
          server.ns_answered = true;
          server.ns_set = sorted_names(result.answers);
        }
        break;
    }
    if (--pending_ == 0) {
      after_servers();
    }
  }

  void after_servers() {
    // Not one server could be asked from this host (no IPv6 route, no
    // sockets): that is the observer's failure, not the zone's.
    if (observer_errors_ == 3 * report_.servers.size()) {
      return fail(report_.servers.front().answer, "");
    }
    report_.detail = bounded(describe(), k_max_authoritative_detail);
    finish();
  }

  // "authoritative: 3 servers for example. (serials 2026120501..2026120503,
  // skew 2); server ns2.example. (127.0.53.2): NOERROR, empty answer". The
  // summary and the cap come first: the tail may be cut at the bound.
  std::string describe() const {
    std::string text =
        "authoritative: " + plural(report_.servers.size(), "server") + " for " + report_.zone;
    std::optional<std::uint32_t> low;
    std::optional<std::uint32_t> high;
    for (const auto& server : report_.servers) {
      if (server.serial) {
        low = std::min(low.value_or(*server.serial), *server.serial);
        high = std::max(high.value_or(*server.serial), *server.serial);
      }
    }
    if (!low) {
      text += " (no SOA serial)";
    } else if (*low == *high) {
      text += " (serial " + std::to_string(*low) + ")";
    } else {
      text += " (serials " + std::to_string(*low) + ".." + std::to_string(*high) + ", skew " +
              std::to_string(report_.serial_skew()) + ")";
    }
    if (capped_names_) {
      text += "; capped: " + std::to_string(names_.size()) + " of " +
              plural(report_.delegated_ns.size(), "NS name");
    }
    if (capped_addresses_) {
      text += "; capped: " + std::to_string(report_.servers.size()) + " of " +
              std::to_string(addresses_seen_) + " addresses";
    }
    for (const auto& server : report_.servers) {
      if (server.ns_answered && server.ns_set != report_.delegated_ns) {
        text += "; NS set differs at " + server_name(server);
      }
    }
    for (const auto& server : report_.servers) {
      if (server.lame) {
        text += "; lame: " + server_name(server);
      }
    }
    for (const auto& server : report_.servers) {
      if (!server.answer.up()) {
        text += "; " + server_name(server) + ": " + without_layer(server.answer.detail);
      }
    }
    for (const auto& name : report_.unresolved_ns) {
      text += "; " + name + " has no address";
    }
    if (!never_asked_.empty()) {
      text += "; never asked: " + listed(never_asked_);
    }
    return text;
  }

  // The resolver steps failed: the result that says why, its detail saying
  // which step ("dns: authoritative: no zone for www.example.: SERVFAIL").
  // An observer error keeps its own detail: it is about this host or, for a
  // DoT vantage, its session with the resolver ("dot: ... broke before a
  // complete reply").
  void fail(DnsResult result, const std::string& what) {
    if (!what.empty() && !result.observer_error()) {
      result.detail = "dns: authoritative: " + what + ": " + without_layer(result.detail);
    }
    // "dns: authoritative: no zone ..." -> "authoritative: no zone ...";
    // "dns: cannot bind ..." -> "authoritative: cannot bind ...".
    constexpr std::string_view k_mode = "authoritative: ";
    const std::string reason = without_layer(result.detail);
    report_.detail = bounded(reason.starts_with(k_mode) ? reason : std::string(k_mode) + reason,
                             k_max_authoritative_detail);
    report_.failure = std::move(result);
    finish();
  }

  void finish() {
    if (finished_) {
      return;
    }
    finished_ = true;
    report_.capped = capped_names_ || capped_addresses_;
    done_(std::move(report_));
  }

  boost::asio::io_context& io_;
  const consensus::Clock& clock_;
  AuthoritativeRequest request_;
  AuthoritativeCallback done_;
  std::string asking_;  // the name whose SOA is asked (step a walks it up)
  std::vector<NsName> names_;
  std::size_t pending_ = 0;
  std::size_t observer_errors_ = 0;  // among the servers' replies
  std::size_t addresses_seen_ = 0;
  std::vector<config::IpAddress> never_asked_;  // NS addresses no server has (0.0.0.0, ff02::1)
  // Until when the NS-address lookups may wait (the whole deadline before).
  std::chrono::steady_clock::time_point lookups_until_ =
      std::chrono::steady_clock::time_point::max();
  bool capped_names_ = false;
  bool capped_addresses_ = false;
  bool finished_ = false;
  AuthoritativeReport report_;
};

}  // namespace

bool may_ask(const config::IpAddress& server, const config::IpAddress& resolver) {
  // A loopback NS address is a lab's (its resolver is on loopback too) or
  // a lie aimed at this host's own services: a resolver at 192.0.2.53
  // naming ns1 127.0.0.1 would have us query our own port 53 with RD=0.
  return askable(server) && (!server.is_loopback() || resolver.is_loopback());
}

std::string bounded(std::string text, std::size_t limit) {
  return text::cut_end(std::move(text), limit);
}

bool zone_holds(std::string_view zone, std::string_view name) {
  return holds(absolute(zone), absolute(name));
}

std::uint32_t AuthoritativeReport::serial_skew() const {
  // Serials live on a circle (RFC 1982: 1 follows 4294967295): the skew is
  // the shortest arc holding them all, 2^32 minus the widest gap between
  // neighbours around the circle.
  std::vector<std::uint32_t> serials;
  for (const auto& server : servers) {
    if (server.serial) {
      serials.push_back(*server.serial);
    }
  }
  if (serials.size() < 2) {
    return 0;
  }
  std::sort(serials.begin(), serials.end());
  constexpr std::uint64_t k_circle = std::uint64_t{1} << 32U;
  std::uint64_t widest = serials.front() + k_circle - serials.back();  // around the wrap
  for (std::size_t i = 1; i < serials.size(); ++i) {
    widest = std::max<std::uint64_t>(widest, serials[i] - serials[i - 1]);
  }
  return static_cast<std::uint32_t>(k_circle - widest);
}

bool AuthoritativeReport::ns_drift() const {
  return std::any_of(servers.begin(), servers.end(), [&](const AuthoritativeServer& server) {
    return server.ns_answered && server.ns_set != delegated_ns;
  });
}

std::size_t authoritative_query_bound(std::string_view name) {
  // Labels below the root, counted by their dots ("www.example.com." has 3);
  // an escaped dot may count one too many, which only bounds higher.
  const std::string text = absolute(name);
  const auto labels = text == "."
                          ? std::size_t{1}
                          : static_cast<std::size_t>(std::count(text.begin(), text.end(), '.'));
  return labels + 1 + 2 * k_max_authoritative_names + 3 * k_max_authoritative_addresses;
}

void check_authoritative(boost::asio::io_context& io, const consensus::Clock& clock,
                         const AuthoritativeRequest& request, AuthoritativeCallback done) {
  std::make_shared<AuthoritativeRun>(io, clock, request, std::move(done))->start();
}

}  // namespace crosscheck::probes
