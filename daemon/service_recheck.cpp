// Service's recheck: POST /v1/verdicts/{t}/recheck probes the target now
// from every local vantage and, signed, through every peer (POST
// /v1/peer/recheck), and answers once every domain has a fresh observation
// or vote, or at the deadline, naming the domains that answered.
#include "consensus/time_format.hpp"
#include "daemon/service.hpp"
#include "peers/client.hpp"
#include "probes/prober.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <iterator>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// A target can be rechecked at most once in this period (a failover
// script's "are you sure, right now?", not a load generator). A peer's
// recheck counts too: three nodes asking at once probe once.
constexpr auto k_recheck_spacing = 5s;

// The domains a peer speaks for: its `domains:`, or its name (all of its
// votes count as one domain then).
std::vector<std::string> peer_domains(const config::PeerConfig& peer) {
  return peer.domains ? *peer.domains : std::vector<std::string>{peer.name};
}

}  // namespace

void Service::recheck(const api::Caller& caller, const std::string& target,
                      std::chrono::milliseconds deadline, api::ActionCallback done) {
  if (cs::is_group_name(target)) {
    return boost::asio::post(io_, [this, caller, target, deadline, done = std::move(done)] {
      recheck_group(caller, target, deadline, done);
    });
  }
  start_recheck(caller, target, deadline, std::move(done), false);
}

void Service::recheck_group(const api::Caller& caller, const std::string& name,
                            std::chrono::milliseconds deadline, const api::ActionCallback& done) {
  const auto* group = config_->find_group(std::string_view(name).substr(cs::k_group_prefix.size()));
  if (group == nullptr) {
    return start_recheck(caller, name, deadline, done, false);  // answers 404 and counts it
  }
  if (group->members.size() > k_max_group_recheck) {
    ++rechecks_refused_["group_too_large"];
    return done(result(409, "group_too_large",
                       name + " has " + std::to_string(group->members.size()) +
                           " members; a group recheck probes at most " +
                           std::to_string(k_max_group_recheck) + ": recheck members one by one"));
  }
  // Every member rechecked as if asked alone (spacing, peers, audit line
  // each); the group is judged from them at the evaluation that publishes
  // the last one, whose snapshot answers. A member rechecked less than 5 s
  // ago counts as answered: its votes are that fresh.
  struct Join {
    std::size_t left = 0;
    int status = 200;
    std::set<std::string> answered, missing, peers_answered, peers_missing;
    api::ActionCallback done;
  };
  auto join = std::make_shared<Join>();
  join->left = group->members.size();
  join->done = done;
  const auto merge = [this, join, name](api::ActionResult member) {
    if (member.status == 504) {
      join->status = 504;
    }
    if (member.recheck) {
      join->answered.insert(member.recheck->answered.begin(), member.recheck->answered.end());
      join->missing.insert(member.recheck->missing.begin(), member.recheck->missing.end());
      join->peers_answered.insert(member.recheck->peers_answered.begin(),
                                  member.recheck->peers_answered.end());
      join->peers_missing.insert(member.recheck->peers_missing.begin(),
                                 member.recheck->peers_missing.end());
    }
    if (--join->left > 0) {
      return;
    }
    if (config_->find_group(std::string_view(name).substr(cs::k_group_prefix.size())) == nullptr) {
      return join->done(result(404, "unknown_target",
                               name + " was removed by a config reload during its recheck"));
    }
    api::ActionResult answer = std::move(member);
    answer.status = join->status;
    answer.error = join->status == 504 ? "recheck_timeout" : "";
    answer.detail = join->status == 504 ? "not every domain answered for every member before the "
                                          "deadline; the verdict shown includes what did"
                                        : "";
    // A domain (or peer) is answered for the group when it answered for
    // every member.
    const auto split = [](const std::set<std::string>& seen, const std::set<std::string>& lacking,
                          std::vector<std::string>& answered, std::vector<std::string>& missing) {
      std::set_difference(seen.begin(), seen.end(), lacking.begin(), lacking.end(),
                          std::back_inserter(answered));
      missing.assign(lacking.begin(), lacking.end());
    };
    api::RecheckReport report;
    split(join->answered, join->missing, report.answered, report.missing);
    split(join->peers_answered, join->peers_missing, report.peers_answered, report.peers_missing);
    answer.recheck = std::move(report);
    join->done(std::move(answer));
  };
  for (const auto& member : group->members) {
    start_recheck(
        caller, member, deadline,
        [this, merge, member](api::ActionResult answer) {
          boost::asio::post(io_, [this, merge, member, answer = std::move(answer)]() mutable {
            if (answer.status == 429) {
              // Rechecked moments ago: fresh enough, and answered as that
              // recheck was (which domains and peers it reached).
              answer = result(200);
              if (const auto last = last_recheck_report_.find(member);
                  last != last_recheck_report_.end()) {
                answer.recheck = last->second;
              }
            }
            merge(std::move(answer));
          });
        },
        false);
  }
}

void Service::peer_recheck(const api::Caller& caller, const std::string& target,
                           std::chrono::milliseconds deadline, api::ActionCallback done) {
  start_recheck(caller, target, deadline, std::move(done), true);
}

void Service::start_recheck(const api::Caller& caller, const std::string& target,
                            std::chrono::milliseconds deadline, api::ActionCallback done,
                            bool from_peer) {
  boost::asio::post(
      io_, [this, caller, target, deadline, from_peer, done = std::move(done)]() mutable {
        auto entry = audit_entry(caller, storage::AuditAction::Recheck, target,
                                 "deadline=" + cs::format_duration(deadline));
        // Why tallied, not one line each: a refusal costs its caller nothing, and
        // a token looping on a 429 wrote ~2000 lines a second, kept for the
        // retention (hostile review). Every refusal is counted on /metrics.
        const auto refuse = [&](api::ActionResult answer) {
          entry.outcome = storage::AuditOutcome::Refused;
          entry.why = answer.detail;
          ++rechecks_refused_[answer.error];
          refused_rechecks_.refuse(std::move(entry), answer.error, clock_.monotonic());
          done(std::move(answer));
        };
        if (config_->find_target(target) == nullptr) {
          return refuse(result(404, "unknown_target", "no target '" + target + "'"));
        }
        const auto now = clock_.monotonic();
        auto& pending = rechecks_[target];
        if (!pending.vantages_awaiting.empty() || !pending.peers_awaiting.empty()) {
          // A recheck is already running: share its answer. A peer's asked no
          // peer; an operator joining it gets them asked now.
          entry.detail += " (joined the recheck already running)";
          pending.lines.push_back(std::move(entry));
          pending.callbacks.push_back(std::move(done));
          if (!from_peer) {
            ask_peers(target, pending, deadline);
          }
          return;
        }
        auto& spacing = from_peer ? last_peer_recheck_ : last_recheck_;
        const auto since_last = [&](const std::map<std::string, cs::MonoTime>& last) {
          const auto found = last.find(target);
          return found == last.end() ? cs::Duration::max() : now - found->second;
        };
        if (from_peer && std::min(since_last(last_recheck_), since_last(last_peer_recheck_)) <
                             k_recheck_spacing) {
          // Why not 429: the votes are at most the spacing old, and the asking
          // node waits for them; it gets them without a probe more.
          rechecks_.erase(target);
          return done(result(200));
        }
        if (!from_peer && since_last(last_recheck_) < k_recheck_spacing) {
          const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
              k_recheck_spacing - since_last(last_recheck_) + 999ms);
          rechecks_.erase(target);
          return refuse(result(429, "rate_limited",
                               "rechecked less than " + std::to_string(k_recheck_spacing.count()) +
                                   "s ago; retry in " + std::to_string(wait.count()) + "s"));
        }
        pending.lines.push_back(std::move(entry));  // written with the outcome
        spacing[target] = now;
        prober_->recheck(target);
        for (const auto& vantage : config_->vantages) {
          pending.vantages_awaiting.insert(vantage.name);
        }
        pending.callbacks.push_back(std::move(done));
        if (!from_peer) {
          ask_peers(target, pending, deadline);
        }
        pending.deadline = std::make_shared<boost::asio::steady_timer>(io_, deadline);
        pending.deadline->async_wait([this, target](boost::system::error_code ec) {
          if (!ec) {
            finish_recheck(target, 504);
          }
        });
      });
}

void Service::ask_peers(const std::string& target, PendingRecheck& pending,
                        std::chrono::milliseconds deadline) {
  if (pending.peers_asked || !peer_client_ || config_->peers.empty()) {
    return;
  }
  pending.peers_asked = true;
  for (const auto& peer : config_->peers) {
    pending.peers_awaiting.insert(peer.name);
  }
  // A little less than ours, so a peer's late answer still counts.
  peer_client_->recheck(target, deadline - deadline / 20, [this](peers::PeerRecheckAnswer answer) {
    boost::asio::post(
        io_, [this, answer = std::move(answer)]() mutable { on_peer_recheck(std::move(answer)); });
  });
}

void Service::on_peer_recheck(peers::PeerRecheckAnswer answer) {
  auto found = rechecks_.find(answer.target);
  if (auto* pull = std::get_if<peers::PeerPull>(&answer.answer)) {
    // Verified like a pull: its votes count whether or not a recheck waits,
    // but only the asked target's (the reply is documented to hold those
    // alone; other targets' votes come with the next pull).
    std::erase_if(pull->votes.votes,
                  [&](const auto& vote) { return vote.target != answer.target; });
    on_peer_pull(*pull, false);
    if (found != rechecks_.end() && found->second.peers_awaiting.erase(answer.peer) > 0) {
      found->second.peers_answered.insert(answer.peer);
      const auto peer_it = std::find_if(config_->peers.begin(), config_->peers.end(),
                                        [&](const auto& p) { return p.name == answer.peer; });
      const auto* peer = peer_it == config_->peers.end() ? nullptr : &*peer_it;
      for (const auto& vote : pull->votes.votes) {
        if (vote.target != answer.target || peer == nullptr) {
          continue;
        }
        if (!peer->domains) {
          found->second.domains_answered.insert(peer->name);
        } else if (std::find(peer->domains->begin(), peer->domains->end(), vote.domain) !=
                   peer->domains->end()) {
          found->second.domains_answered.insert(vote.domain);
        }
      }
    }
  } else if (const auto* refusal = std::get_if<peers::PeerRefusal>(&answer.answer)) {
    on_peer_refused(*refusal);
  } else {
    log_->warn("peer {}: recheck of {} failed: {}", answer.peer, answer.target,
               std::get<Error>(answer.answer).message);
  }
  if (found == rechecks_.end()) {
    return;
  }
  // Not answered (refused, failed): it stays missing; waiting longer for it
  // would only turn the answer into a 504.
  found->second.peers_awaiting.erase(answer.peer);
  if (found->second.vantages_awaiting.empty() && found->second.peers_awaiting.empty()) {
    finish_recheck(answer.target, 200);
  }
}

api::RecheckReport Service::recheck_report(const PendingRecheck& pending) const {
  api::RecheckReport report;
  std::set<std::string> known;
  for (const auto& vantage : config_->vantages) {
    known.insert(vantage.domain);
  }
  std::set<std::string> peers_missing;
  for (const auto& peer : config_->peers) {
    for (auto& domain : peer_domains(peer)) {
      known.insert(std::move(domain));
    }
    if (!pending.peers_answered.contains(peer.name)) {
      peers_missing.insert(peer.name);
    }
  }
  report.answered.assign(pending.domains_answered.begin(), pending.domains_answered.end());
  std::set_difference(known.begin(), known.end(), pending.domains_answered.begin(),
                      pending.domains_answered.end(), std::back_inserter(report.missing));
  report.peers_answered.assign(pending.peers_answered.begin(), pending.peers_answered.end());
  report.peers_missing.assign(peers_missing.begin(), peers_missing.end());
  return report;
}

void Service::restart_rechecks() {
  std::vector<std::string> gone;
  for (auto& [target, pending] : rechecks_) {
    if (pending.vantages_awaiting.empty()) {
      continue;  // only peers still to answer: a reload does not touch them
    }
    if (config_->find_target(target) == nullptr) {
      gone.push_back(target);
      continue;
    }
    prober_->recheck(target);
    pending.vantages_awaiting.clear();
    for (const auto& vantage : config_->vantages) {
      pending.vantages_awaiting.insert(vantage.name);
    }
  }
  for (const auto& target : gone) {
    finish_recheck(target, 404);
  }
}

void Service::finish_recheck(const std::string& target, int status) {
  auto found = rechecks_.find(target);
  if (found == rechecks_.end()) {
    return;
  }
  auto pending = std::move(found->second);
  rechecks_.erase(found);
  const auto report = recheck_report(pending);
  if (status != 404) {
    last_recheck_report_[target] = report;  // what a group recheck inside the spacing reports
  }
  if (pending.deadline) {
    pending.deadline->cancel();
  }
  for (auto& line : pending.lines) {
    line.outcome = status == 200   ? storage::AuditOutcome::Done
                   : status == 404 ? storage::AuditOutcome::Refused
                                   : storage::AuditOutcome::Failed;
    line.why = status == 200   ? ""
               : status == 404 ? "the target was removed by a config reload during its recheck"
                               : "not every domain answered before the deadline";
    written(audit(std::move(line)));  // the answer waits for its line
  }
  // Answered with the snapshot that shows the fresh verdict, once it is out.
  evaluate({snapshot::CommitGate::Answer(
      [this, target, status, report,
       callbacks = std::move(pending.callbacks)](snapshot::Undurable) {
        for (const auto& callback : callbacks) {
          if (status == 404) {
            callback(result(
                404, "unknown_target",
                "target '" + target + "' was removed by a config reload during its recheck"));
            continue;
          }
          auto answer = status == 200 ? result(200)
                                      : result(504, "recheck_timeout",
                                               "not every domain answered before the deadline; "
                                               "the verdict shown includes what did");
          answer.recheck = report;
          callback(std::move(answer));
        }
      })});
}

}  // namespace crosscheck::daemon
