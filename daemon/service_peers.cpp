// Service's peer wiring: the pullers run on their own thread (one io_context
// for all of them) and post what they receive to the service thread, where
// it feeds the engine and the escalation list like any other evidence or
// event.
#include "consensus/time_format.hpp"
#include "daemon/service.hpp"
#include "peers/client.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

namespace {
// Three pulls (30 s at the default interval) of nothing but verified replies.
constexpr int k_peer_verified_to_resolve = 3;

// The names listed joined with ", ", and "and N more" for those that were
// only counted ("" when none).
std::string joined_names(const std::vector<std::string>& listed, std::size_t more) {
  std::string joined;
  for (const auto& name : listed) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  if (more > 0) {
    joined += " and " + std::to_string(more) + " more";
  }
  return joined;
}

}  // namespace

// Why limited per peer and kind: said when the set (or the first reason)
// changes, a peer alternating between two bad pulls, or moving the bad
// entry, wrote a warning per pull (a hostile review). Held back, the line
// is not said: a later pull says the state it is in then.
bool Service::say_peer_change(const std::string& node, std::string_view kind) {
  const auto key = node + " " + std::string(kind);
  return peer_log_limiter_.admit(key, clock_.monotonic()).has_value();
}

namespace {

// The names `now` (with `more` counted) when they differ from `said` and
// `say` lets them be said; `said` then becomes them. Nullopt otherwise.
template <typename Say>
std::optional<std::string> changed_names(NamesSaid& said, const std::vector<std::string>& now,
                                         std::size_t more, Say say) {
  if (now == said.listed && more == said.more) {
    return std::nullopt;
  }
  if (!say()) {
    return std::nullopt;
  }
  said.listed = now;
  said.more = more;
  return joined_names(now, more);
}

}  // namespace

void Service::start_peers(std::vector<peers::PeerKey> keys, peers::PeerTlsContexts tls) {
  peer_verifier_->set_keys(keys);
  // Why carried: the new pullers would count unanswered time afresh, so a
  // peer down while config management reloads more often than its
  // unreachable_after was never escalated (hostile review).
  peers::PeerHealthStates carried;
  if (peer_client_) {
    peer_client_->stop();  // stops the previous pullers and joins their thread
    carried = peer_client_->health();
  }
  peer_client_.reset();
  std::erase_if(peer_verified_run_, [this](const auto& entry) {
    return std::none_of(config_->peers.begin(), config_->peers.end(),
                        [&](const auto& peer) { return peer.name == entry.first; });
  });
  if (config_->peers.empty()) {
    return;
  }
  // Every reason of every peer from 0, so a rate() sees the first refusal.
  for (const auto& peer : config_->peers) {
    for (const auto status : {peers::PeerReplyStatus::Missing, peers::PeerReplyStatus::Malformed,
                              peers::PeerReplyStatus::BadSignature}) {
      peer_replies_refused_.try_emplace({peer.name, std::string(to_string(status))}, 0);
    }
    peer_votes_dropped_.try_emplace(peer.name, 0);
    peer_action_acks_ignored_.try_emplace(peer.name, 0);
    peer_windows_refused_.try_emplace(peer.name, 0);
    for (const auto reason : peers::k_pull_failure_reasons) {
      peer_pull_failures_.try_emplace({peer.name, std::string(reason)}, 0);
    }
  }
  peers::PeerClientOptions options;
  options.node = config_->node.name;
  options.interval = config_->defaults.interval;
  options.timeout = config_->defaults.timeout;
  options.peers = config_->peers;
  options.keys = std::move(keys);
  options.tls = std::move(tls);
  options.carried = std::move(carried);
  options.on_pull = [this](peers::PeerPull pull) {
    boost::asio::post(io_, [this, pull = std::move(pull)] { on_peer_pull(pull); });
  };
  options.on_reachability = [this](peers::PeerReachability change) {
    boost::asio::post(io_, [this, change = std::move(change)] {
      // Why: a reload rebuilds the pullers, whose count of unanswered time
      // starts again; a peer down across a SIGHUP opened a second
      // peer_unreachable (a second page) for one outage (hostile review).
      // The answer that ends it is resolved by on_peer_pull() whatever its key.
      const auto event = peers::reachability_event(change, clock_.now());
      const bool open =
          std::any_of(escalations_.begin(), escalations_.end(), [&](const auto& view) {
            return view.kind == cs::EventKind::PeerUnreachable && view.vantage == change.peer &&
                   (!change.reachable || view.key == event.key);
          });
      if (change.reachable != open) {
        return;  // unreachable while one is open, or an answer ending none
      }
      handle_event(event);
    });
  };
  options.on_error = [this](const peers::PullFailure& failure) {
    log_->warn("peer {}: pull failed ({}): {}", failure.peer, failure.reason, failure.why);
    boost::asio::post(io_, [this, key = std::pair(failure.peer, std::string(failure.reason))] {
      ++peer_pull_failures_[key];
    });
  };
  options.on_refused = [this](peers::PeerRefusal refusal) {
    boost::asio::post(io_, [this, refusal = std::move(refusal)] { on_peer_refused(refusal); });
  };
  peer_client_ = std::make_unique<peers::PeerClient>(std::move(options));
  peer_client_->start();
}

void Service::on_peer_pull(const peers::PeerPull& pull, bool full) {
  const auto now = clock_.now();
  const auto imported = peers::import_pull(engine_, pull, now);
  for (const auto& vantage : imported.vantages) {
    last_seen_[vantage] = now.wall;
  }
  const auto& node = pull.votes.node;
  // Votes the engine did not take, and entries the decoder left out as
  // malformed (the rest of the export counts: one bad entry costs itself).
  peer_votes_dropped_[node] += imported.dropped + pull.votes.malformed;
  if (full) {
    log_malformed(node, pull.votes);
  }
  // Signed like the votes (the reply's signature covers its body): every
  // oracle enforces the cooldowns recorded on any of them.
  // And the maintenance windows set on it: every oracle holds every window.
  const auto windows = merge_windows(node, pull.votes.windows);
  if (merge_actions(node, pull.votes.actions) + windows > 0) {
    evaluate();  // the verdicts show the cooldown or window now, not at the next tick
  }
  // Said when the set changes, not at every pull: the counter keeps count.
  if (const auto domains = changed_names(peer_undeclared_domains_[node], imported.undeclared,
                                         imported.undeclared_more,
                                         [&] { return say_peer_change(node, "domains"); })) {
    if (!domains->empty()) {
      log_->warn(
          "peer {}: dropped {} votes claiming failure domains its domains: does not list "
          "({}); none of them count",
          node, imported.dropped, *domains);
    } else {
      log_->info("peer {}: every vote claims a failure domain it may speak for again", node);
    }
  }
  if (const auto vantages =
          changed_names(peer_unlisted_vantages_[node], imported.unlisted, imported.unlisted_more,
                        [&] { return say_peer_change(node, "vantages"); })) {
    if (!vantages->empty()) {
      log_->warn(
          "peer {}: dropped the votes of vantages its vantages: does not list ({}); none "
          "of them count",
          node, *vantages);
    } else {
      log_->info("peer {}: every vote comes from a vantage it lists again", node);
    }
  }
  // An outage escalated before a restart has no puller that remembers it:
  // the first answer after it closes it. A run of refused replies ends only
  // after several verified ones in a row (a forger on the path may let
  // every other genuine reply through).
  resolve_peer_escalations(node, cs::EventKind::PeerUnreachable, "peer " + node + " answers again");
  auto& verified = peer_verified_run_[node];
  verified = std::min(verified + 1, k_peer_verified_to_resolve);
  if (verified == k_peer_verified_to_resolve) {
    resolve_peer_escalations(node, cs::EventKind::PeerUnauthenticated,
                             "peer " + node + " answered " +
                                 std::to_string(k_peer_verified_to_resolve) +
                                 " pulls in a row with a verified reply signature");
  }
}

void Service::log_malformed(const std::string& node, const peers::PeerExport& votes) {
  // Said when the first reason changes, not at every pull (a peer sending
  // the same bad entry every 10 s), at most once a minute: the counter
  // keeps count.
  auto& said = peer_malformed_said_[node];
  if (votes.first_malformed == said || !say_peer_change(node, "malformed")) {
    return;
  }
  said = votes.first_malformed;
  if (votes.malformed > 0) {
    log_->warn(
        "peer {}: left out {} malformed entries of its export, the rest counts; the first: {}",
        node, votes.malformed, votes.first_malformed);
  } else {
    log_->info("peer {}: every entry of its export is well-formed again", node);
  }
}

void Service::on_peer_refused(const peers::PeerRefusal& refusal) {
  const auto now = clock_.now();
  ++peer_replies_refused_[{refusal.peer, std::string(to_string(refusal.status))}];
  peer_verified_run_[refusal.peer] = 0;
  const auto why = "peer " + refusal.peer + ": " + describe(refusal);
  log_->warn("{}", why);
  const bool open = std::any_of(escalations_.begin(), escalations_.end(), [&](const auto& view) {
    return view.kind == cs::EventKind::PeerUnauthenticated && view.vantage == refusal.peer;
  });
  if (open) {
    return;  // one episode per run of refused replies, however many
  }
  cs::Event event;
  event.kind = cs::EventKind::PeerUnauthenticated;
  event.key = "peer-auth/" + refusal.peer + "/" + cs::format_rfc3339(now.wall);
  event.at = now;
  event.vantage = refusal.peer;
  event.reason = why;
  handle_event(event);
}

void Service::resolve_peer_escalations(const std::string& node, cs::EventKind kind,
                                       const std::string& why) {
  const auto open = escalations_;  // handle_event() erases from escalations_
  for (const auto& view : open) {
    if (view.kind != kind || view.vantage != node) {
      continue;
    }
    cs::Event event;
    event.kind = cs::resolution_of(kind);
    event.key = view.key;
    event.at = clock_.now();
    event.vantage = node;
    event.reason = why;
    handle_event(event);
  }
}

}  // namespace crosscheck::daemon
