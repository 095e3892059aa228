// Service's peer wiring: the pullers run on their own thread (one io_context
// for all of them) and post what they receive to the service thread, where
// it feeds the engine and the escalation list like any other evidence or
// event.
#include "daemon/service.hpp"
#include "peers/client.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;

void Service::start_peers(std::vector<peers::PeerKey> keys) {
  peer_verifier_->set_keys(keys);
  peer_client_.reset();  // stops the previous pullers and joins their thread
  if (config_->peers.empty()) {
    return;
  }
  peers::PeerClientOptions options;
  options.node = config_->node.name;
  options.interval = config_->defaults.interval;
  options.timeout = config_->defaults.timeout;
  options.peers = config_->peers;
  options.keys = std::move(keys);
  options.on_pull = [this](peers::PeerPull pull) {
    boost::asio::post(io_, [this, pull = std::move(pull)] { on_peer_pull(pull); });
  };
  options.on_reachability = [this](peers::PeerReachability change) {
    boost::asio::post(io_, [this, change = std::move(change)] {
      handle_event(peers::reachability_event(change, clock_.now()));
    });
  };
  options.on_error = [log = log_](const std::string& peer, const std::string& why) {
    log->warn("peer {}: pull failed: {}", peer, why);
  };
  peer_client_ = std::make_unique<peers::PeerClient>(std::move(options));
  peer_client_->start();
}

void Service::on_peer_pull(const peers::PeerPull& pull) {
  const auto now = clock_.now();
  for (const auto& vantage : peers::import_pull(engine_, pull, now)) {
    last_seen_[vantage] = now.wall;
  }
  // An outage escalated before a restart has no puller that remembers it:
  // the first answer after it closes it.
  const auto open = escalations_;
  for (const auto& view : open) {
    if (view.kind == cs::EventKind::PeerUnreachable && view.vantage == pull.votes.node) {
      auto event = peers::reachability_event(
          peers::PeerReachability{view.vantage, true, view.opened_at,
                                  "peer " + view.vantage + " answers again"},
          now);
      event.key = view.key;
      handle_event(event);
    }
  }
}

}  // namespace crosscheck::daemon
