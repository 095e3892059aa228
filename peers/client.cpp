#include "peers/client.hpp"

#include "config/secret_file.hpp"
#include "consensus/time_format.hpp"
#include "net/api_client.hpp"
#include "net/system_clock.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <sstream>

namespace crosscheck::daemon {
namespace {

namespace cs = crosscheck::consensus;
using std::chrono::milliseconds;

// The path the server sees for base + /v1/peer/votes (ApiClient joins them
// the same way), which is what gets signed.
std::string peer_votes_target(const config::Url& base) {
  std::string prefix = base.target;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  return prefix + std::string(k_peer_votes_path);
}

cs::Outcome outcome_of(cs::Vote vote) {
  switch (vote) {
    case cs::Vote::Up:
      return cs::Outcome::Up;
    case cs::Vote::Down:
      return cs::Outcome::Down;
    case cs::Vote::Unknown:
      return cs::Outcome::ObserverError;
  }
  return cs::Outcome::ObserverError;
}

cs::RemoteVote remote_vote(const std::string& node, const PeerVote& vote, milliseconds transfer,
                           const cs::Instant& now) {
  cs::RemoteVote out;
  out.target = vote.target;
  out.vantage = node + "/" + vote.vantage;
  out.vote = vote.vote;
  if (vote.age) {
    out.observed_at = now + (-(*vote.age + transfer));
  }
  cs::Observation last;
  last.target = vote.target;
  last.vantage = out.vantage;
  last.at = out.observed_at.value_or(now);
  last.outcome = outcome_of(vote.vote);
  last.layer = vote.layer;
  last.latency_ms = vote.latency_ms;
  last.detail = vote.detail;
  last.answers = vote.answers;
  out.last = std::move(last);
  return out;
}

// One signed GET; the decoded export or why not.
std::optional<PeerPull> pull_once(const PeerClientOptions& options, const config::PeerConfig& peer,
                                  const PeerKey& key, ApiClient& client, std::string& why) {
  const SystemClock clock;
  const std::string path = peer_votes_target(peer.url);
  const auto signature = sign_peer_request(options.node, key.key, "GET", path, clock.system());
  ClientRequest request;
  request.headers = {{std::string(k_peer_node_header), signature.node},
                     {std::string(k_peer_timestamp_header), signature.timestamp},
                     {std::string(k_peer_nonce_header), signature.nonce},
                     {std::string(k_peer_signature_header), signature.signature}};
  const auto started = std::chrono::steady_clock::now();
  const ApiResult result = client.send(k_peer_votes_path, request);
  const auto round_trip =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  if (!result.ok()) {
    why = result.error;
    return std::nullopt;
  }
  if (result.status != 200) {
    why = "answered " + std::to_string(result.status) + ": " + result.body.substr(0, 200);
    return std::nullopt;
  }
  auto votes = decode_export(result.body, peer.name, why);
  if (!votes) {
    why = "bad export: " + why;
    return std::nullopt;
  }
  return PeerPull{std::move(*votes), round_trip / 2};
}

}  // namespace

milliseconds backoff_delay(int failures, milliseconds base, milliseconds cap, double unit) {
  // Why the shift is bounded: past 2^20 intervals every base is over any cap.
  const int shift = std::clamp(failures, 0, 20);
  const auto ceiling = std::min(cap, base * (std::int64_t{1} << shift));
  const double fraction = std::clamp(unit, 0.0, 1.0);
  return milliseconds(static_cast<std::int64_t>(static_cast<double>(ceiling.count()) * fraction));
}

PeerHealth::PeerHealth(std::string peer, cs::Duration unreachable_after, const cs::Instant& start)
    : peer_(std::move(peer)), unreachable_after_(unreachable_after), last_answer_(start) {}

std::optional<PeerReachability> PeerHealth::record(bool answered, const cs::Instant& now,
                                                   const std::string& error) {
  if (answered) {
    const auto since = last_answer_.wall;
    last_answer_ = now;
    if (!unreachable_) {
      return std::nullopt;
    }
    unreachable_ = false;
    return PeerReachability{peer_, true, since, "peer " + peer_ + " answers again"};
  }
  // Why from the last answer: a peer down since start-up is as unreachable
  // as one that stopped answering, and both are escalated once.
  if (unreachable_ || now.mono - last_answer_.mono <= unreachable_after_) {
    return std::nullopt;
  }
  unreachable_ = true;
  return PeerReachability{peer_, false, last_answer_.wall,
                          "peer " + peer_ + " has not answered since " +
                              cs::format_rfc3339(last_answer_.wall) + ": " + error};
}

std::vector<std::string> import_pull(cs::Engine& engine, const PeerPull& pull,
                                     const cs::Instant& now) {
  std::vector<std::string> vantages;
  const std::string& node = pull.votes.node;
  for (const auto& vote : pull.votes.votes) {
    const std::string name = node + "/" + vote.vantage;
    if (!engine.add_remote_vantage(cs::VantagePolicy{name, node, vote.domain})) {
      continue;
    }
    if (engine.observe_remote(remote_vote(node, vote, pull.transfer, now)) ==
            cs::ObserveStatus::Accepted &&
        std::find(vantages.begin(), vantages.end(), name) == vantages.end()) {
      vantages.push_back(name);
    }
  }
  return vantages;
}

cs::Event reachability_event(const PeerReachability& change, const cs::Instant& now) {
  cs::Event event;
  event.kind = change.reachable ? cs::EventKind::PeerReachable : cs::EventKind::PeerUnreachable;
  // Both ends of one outage share the key: the peer and its last answer.
  event.key = "peer/" + change.peer + "/" + cs::format_rfc3339(change.since);
  event.at = now;
  event.vantage = change.peer;
  event.reason = change.reason;
  return event;
}

std::optional<std::vector<PeerKey>> load_peer_keys(const std::vector<config::PeerConfig>& peers,
                                                   std::string& why) {
  std::vector<PeerKey> keys;
  for (const auto& peer : peers) {
    auto key = config::read_secret_file("key_file", peer.key_file, config::SecretKind::Key);
    if (!key) {
      why = "peer " + peer.name + ": " + key.error();
      return std::nullopt;
    }
    keys.push_back(PeerKey{peer.name, std::move(*key)});
  }
  return keys;
}

PeerClient::PeerClient(PeerClientOptions options) : options_(std::move(options)) {}

PeerClient::~PeerClient() {
  stop();
}

void PeerClient::start() {
  for (std::size_t i = 0; i < options_.peers.size(); ++i) {
    threads_.emplace_back([this, i] { pull_loop(i); });
  }
}

void PeerClient::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
}

bool PeerClient::wait(milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void PeerClient::pull_loop(std::size_t index) {
  const auto& peer = options_.peers[index];
  const SystemClock clock;
  // The peer's body cap while reading, not after: a huge answer stops at 1 MiB.
  ApiClient client(peer.url, ApiClientOptions{options_.timeout, {}, false, k_peer_body_limit});
  PeerHealth health(peer.name, peer.unreachable_after, clock.now());
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int failures = 0;
  milliseconds delay{0};
  while (wait(delay)) {
    std::string why;
    auto pull = pull_once(options_, peer, options_.keys[index], client, why);
    if (auto change = health.record(pull.has_value(), clock.now(), why)) {
      options_.on_reachability(std::move(*change));
    }
    if (pull) {
      failures = 0;
      delay = options_.interval;
      options_.on_pull(std::move(*pull));
      continue;
    }
    options_.on_error(peer.name, why);
    delay = backoff_delay(++failures, options_.interval, k_peer_backoff_cap, unit(random));
  }
}

}  // namespace crosscheck::daemon
